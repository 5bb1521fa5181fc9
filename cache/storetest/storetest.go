// Package storetest is the conformance suite every cache.Store passes: the
// in-memory store of package cache, and any other backend (Redis ...) in its
// own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) cache.Store {
//			s := mystore.New(...)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite checks what the cache relies on: a value comes back exactly as
// it was stored (any bytes, empty, large), an absent or expired key is
// (nil, nil), Set replaces, Delete removes, expiry happens eventually and not
// before its time, concurrent use is safe, and a cancelled context neither
// hangs nor panics.
//
// It does not check that a store copies the slice given to Set: the Store
// contract lets a store keep it, and the cache never modifies it after.
//
// Timing: expiry is checked with real short TTLs and generous polling, never
// with an upper bound on how fast a store must be, so a slow or loaded
// machine does not fail the suite; the whole suite takes well under a second
// on a fast one.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/cache"
)

// Timings of the expiry tests. ShortTTL must pass well before Patience runs
// out on any machine; LongTTL must not pass during the suite.
const (
	ShortTTL = 100 * time.Millisecond
	LongTTL  = time.Hour
	Patience = 10 * time.Second
	poll     = 10 * time.Millisecond
)

// LargeValueSize is the size of the value the suite stores to check large
// entries: a store under test must be able to hold a few of them.
const LargeValueSize = 1 << 20

// Run runs the suite, one subtest per property. newStore is called once per
// subtest, with the subtest's t, and returns a store ready for use; it
// registers with t.Cleanup whatever must be released. Subtests run one after
// the other and use keys that no other run uses, so newStore may return
// stores that share one backend (one Redis database) and need not empty it.
// When the store implements io.Closer, the Close subtest closes it: a store
// value shared between calls to newStore must not be one.
func Run(t *testing.T, newStore func(t *testing.T) cache.Store) {
	t.Helper()
	prefix := "storetest:" + randomHex(8) + ":"
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s cache.Store, key func(string) string)
	}{
		{"RoundTrip", testRoundTrip},
		{"Absent", testAbsent},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"DistinctKeys", testDistinctKeys},
		{"BinaryValues", testBinaryValues},
		{"EmptyValue", testEmptyValue},
		{"LongKey", testLongKey},
		{"LargeValue", testLargeValue},
		{"ManyKeys", testManyKeys},
		{"RepeatedGets", testRepeatedGets},
		{"Expiry", testExpiry},
		{"NoEarlyExpiry", testNoEarlyExpiry},
		{"SetResetsTTL", testSetResetsTTL},
		{"Concurrent", testConcurrent},
		{"CancelledContext", testCancelledContext},
		{"Stats", testStats},
		{"Close", testClose},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			require.NotNil(t, s, "newStore returned nil")
			sub := prefix + tc.name + ":"
			tc.fn(t, s, func(k string) string { return sub + k })
		})
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// mustGet reads key and fails the test on an error.
func mustGet(t *testing.T, s cache.Store, key string) []byte {
	t.Helper()
	v, err := s.Get(context.Background(), key)
	require.NoError(t, err, "Get(%q)", key)
	return v
}

func mustSet(t *testing.T, s cache.Store, key string, value []byte, ttl time.Duration) {
	t.Helper()
	require.NoError(t, s.Set(context.Background(), key, value, ttl), "Set(%q)", key)
}

// assertAbsent checks the (nil, nil) answer for a missing key: a nil slice,
// not an empty one, since an empty value is a present value.
func assertAbsent(t *testing.T, s cache.Store, key string) {
	t.Helper()
	v, err := s.Get(context.Background(), key)
	require.NoError(t, err, "Get(%q)", key)
	assert.Nil(t, v, "Get(%q) of an absent key", key)
}

func testRoundTrip(t *testing.T, s cache.Store, key func(string) string) {
	mustSet(t, s, key("k"), []byte("hello, world"), LongTTL)
	assert.Equal(t, []byte("hello, world"), mustGet(t, s, key("k")))
}

func testAbsent(t *testing.T, s cache.Store, key func(string) string) {
	assertAbsent(t, s, key("never-set"))
}

func testOverwrite(t *testing.T, s cache.Store, key func(string) string) {
	mustSet(t, s, key("k"), []byte("first, and longer than the second"), LongTTL)
	mustSet(t, s, key("k"), []byte("second"), LongTTL)
	assert.Equal(t, []byte("second"), mustGet(t, s, key("k")))
	mustSet(t, s, key("k"), []byte("third, longer again than the second"), LongTTL)
	assert.Equal(t, []byte("third, longer again than the second"), mustGet(t, s, key("k")))
}

func testDelete(t *testing.T, s cache.Store, key func(string) string) {
	ctx := context.Background()
	mustSet(t, s, key("k"), []byte("v"), LongTTL)
	mustSet(t, s, key("other"), []byte("w"), LongTTL)
	require.NoError(t, s.Delete(ctx, key("k")))
	assertAbsent(t, s, key("k"))
	assert.Equal(t, []byte("w"), mustGet(t, s, key("other")), "Delete removed another key")
	assert.NoError(t, s.Delete(ctx, key("k")), "deleting a deleted key")
	assert.NoError(t, s.Delete(ctx, key("never-set")), "deleting an absent key")
	mustSet(t, s, key("k"), []byte("again"), LongTTL)
	assert.Equal(t, []byte("again"), mustGet(t, s, key("k")), "Set after Delete")
}

// testDistinctKeys uses keys that are prefixes of one another, differ only in
// case, or hold separators and non-ASCII text: a store that truncates,
// folds or re-encodes keys mixes them up.
func testDistinctKeys(t *testing.T, s cache.Store, key func(string) string) {
	names := []string{"a", "ab", "abc", "A", "a b", "a:b", "a/b", "a\x00b", "é", "e\u0301", "日本", ""}
	for i, n := range names {
		mustSet(t, s, key(n), []byte(fmt.Sprintf("value %d", i)), LongTTL)
	}
	for i, n := range names {
		assert.Equal(t, []byte(fmt.Sprintf("value %d", i)), mustGet(t, s, key(n)), "key %q", n)
	}
}

func testBinaryValues(t *testing.T, s cache.Store, key func(string) string) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	mustSet(t, s, key("all-bytes"), all, LongTTL)
	assert.Equal(t, all, mustGet(t, s, key("all-bytes")))

	invalidUTF8 := []byte{0xff, 0xfe, 0x00, 0xc3, 0x28, 0xed, 0xa0, 0x80, '\r', '\n', 0}
	mustSet(t, s, key("invalid-utf8"), invalidUTF8, LongTTL)
	assert.Equal(t, invalidUTF8, mustGet(t, s, key("invalid-utf8")))
}

// testEmptyValue: an empty value is present, so Get returns a non-nil empty
// slice for it, whether it was stored from an empty or a nil slice.
func testEmptyValue(t *testing.T, s cache.Store, key func(string) string) {
	for name, v := range map[string][]byte{"empty": {}, "nil": nil} {
		mustSet(t, s, key(name), v, LongTTL)
		got := mustGet(t, s, key(name))
		assert.NotNil(t, got, "Get of a value stored from a %s slice must be present", name)
		assert.Empty(t, got)
	}
}

func testLongKey(t *testing.T, s cache.Store, key func(string) string) {
	long := key(strings.Repeat("k", 4096))
	mustSet(t, s, long, []byte("long"), LongTTL)
	assert.Equal(t, []byte("long"), mustGet(t, s, long))
	assertAbsent(t, s, long[:len(long)-1])
}

func testLargeValue(t *testing.T, s cache.Store, key func(string) string) {
	v := randomBytes(LargeValueSize)
	mustSet(t, s, key("large"), v, LongTTL)
	got := mustGet(t, s, key("large"))
	require.Len(t, got, len(v))
	assert.True(t, bytes.Equal(v, got), "large value changed")
}

func testManyKeys(t *testing.T, s cache.Store, key func(string) string) {
	const n = 500
	for i := range n {
		mustSet(t, s, key(fmt.Sprint(i)), []byte(fmt.Sprintf("v%d", i)), LongTTL)
	}
	for i := range n {
		require.Equal(t, []byte(fmt.Sprintf("v%d", i)), mustGet(t, s, key(fmt.Sprint(i))), "key %d", i)
	}
}

// testRepeatedGets: reading twice gives the same bytes, so a store that
// reuses one buffer across Gets, or hands out data it later modifies, fails.
func testRepeatedGets(t *testing.T, s cache.Store, key func(string) string) {
	a, b := randomBytes(1024), randomBytes(1024)
	mustSet(t, s, key("a"), a, LongTTL)
	mustSet(t, s, key("b"), b, LongTTL)
	first := mustGet(t, s, key("a"))
	mustGet(t, s, key("b"))
	second := mustGet(t, s, key("a"))
	assert.Equal(t, a, first)
	assert.Equal(t, first, second)
	mustSet(t, s, key("a"), b, LongTTL) // a Set must not rewrite what an earlier Get returned
	assert.Equal(t, a, first, "a Get's result changed after a later Set")
}

func testExpiry(t *testing.T, s cache.Store, key func(string) string) {
	mustSet(t, s, key("short"), []byte("v"), ShortTTL)
	require.Eventually(t, func() bool {
		v, err := s.Get(context.Background(), key("short"))
		return err == nil && v == nil
	}, Patience, poll, "an entry stored for %v was still there after %v", ShortTTL, Patience)
	assertAbsent(t, s, key("short"))
}

// testNoEarlyExpiry: an entry stored for LongTTL outlives one stored for
// ShortTTL after it, however slow the machine.
func testNoEarlyExpiry(t *testing.T, s cache.Store, key func(string) string) {
	mustSet(t, s, key("long"), []byte("kept"), LongTTL)
	mustSet(t, s, key("short"), []byte("v"), ShortTTL)
	require.Eventually(t, func() bool {
		v, err := s.Get(context.Background(), key("short"))
		return err == nil && v == nil
	}, Patience, poll)
	assert.Equal(t, []byte("kept"), mustGet(t, s, key("long")))
}

// testSetResetsTTL: overwriting an entry gives it the new TTL.
func testSetResetsTTL(t *testing.T, s cache.Store, key func(string) string) {
	mustSet(t, s, key("k"), []byte("old"), ShortTTL)
	mustSet(t, s, key("k"), []byte("new"), LongTTL)
	mustSet(t, s, key("marker"), []byte("v"), ShortTTL)
	require.Eventually(t, func() bool {
		v, err := s.Get(context.Background(), key("marker"))
		return err == nil && v == nil
	}, Patience, poll)
	assert.Equal(t, []byte("new"), mustGet(t, s, key("k")))

	// And the other way round: a long-lived entry overwritten with a short
	// TTL expires.
	mustSet(t, s, key("k"), []byte("short now"), ShortTTL)
	require.Eventually(t, func() bool {
		v, err := s.Get(context.Background(), key("k"))
		return err == nil && v == nil
	}, Patience, poll)
}

// testConcurrent runs Set, Get and Delete from many goroutines over a few
// shared keys (run it with -race). Every value names its key, so a store that
// mixes entries up, or returns a torn value, is caught.
func testConcurrent(t *testing.T, s cache.Store, key func(string) string) {
	const (
		workers = 16
		ops     = 300
		keys    = 8
	)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range ops {
				k := key(fmt.Sprint((w + i) % keys))
				switch i % 4 {
				case 0, 1:
					v := []byte(fmt.Sprintf("%s|%d|%d|%s", k, w, i, strings.Repeat("x", i)))
					if err := s.Set(ctx, k, v, LongTTL); err != nil {
						errs <- fmt.Errorf("Set(%q): %w", k, err)
						return
					}
				case 2:
					v, err := s.Get(ctx, k)
					if err != nil {
						errs <- fmt.Errorf("Get(%q): %w", k, err)
						return
					}
					if v != nil && !validConcurrentValue(k, v) {
						errs <- fmt.Errorf("Get(%q) returned %q", k, v)
						return
					}
				case 3:
					if i%8 == 3 {
						if err := s.Delete(ctx, k); err != nil {
							errs <- fmt.Errorf("Delete(%q): %w", k, err)
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range keys {
		k := key(fmt.Sprint(i))
		if v := mustGet(t, s, k); v != nil {
			assert.True(t, validConcurrentValue(k, v), "Get(%q) returned %q", k, v)
		}
	}
}

// validConcurrentValue checks a value written by testConcurrent: its key,
// writer, op number, and as many x as the op number.
func validConcurrentValue(key string, v []byte) bool {
	rest, ok := strings.CutPrefix(string(v), key+"|")
	if !ok {
		return false
	}
	parts := strings.Split(rest, "|")
	if len(parts) != 3 {
		return false
	}
	i, err := strconv.Atoi(parts[1])
	return err == nil && parts[2] == strings.Repeat("x", i)
}

// testCancelledContext: with a context cancelled before the call, a store
// either does the work or returns the context's error; it never hangs,
// panics or returns another error.
func testCancelledContext(t *testing.T, s cache.Store, key func(string) string) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	deadlineCtx, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	mustSet(t, s, key("present"), []byte("v"), LongTTL)
	for name, ctx := range map[string]context.Context{"cancelled": ctx, "past deadline": deadlineCtx} {
		ok := func(err error) bool {
			return err == nil || errors.Is(err, ctx.Err())
		}
		within(t, name+" Set", func() {
			err := s.Set(ctx, key("k"), []byte("v"), LongTTL)
			assert.True(t, ok(err), "Set with a %s context: %v", name, err)
		})
		within(t, name+" Get", func() {
			v, err := s.Get(ctx, key("present"))
			assert.True(t, ok(err), "Get with a %s context: %v", name, err)
			if err == nil {
				assert.Equal(t, []byte("v"), v)
			}
		})
		within(t, name+" Delete", func() {
			err := s.Delete(ctx, key("k"))
			assert.True(t, ok(err), "Delete with a %s context: %v", name, err)
		})
	}
	// The store still works with a live context.
	assert.Equal(t, []byte("v"), mustGet(t, s, key("present")))
}

// within runs fn and fails the test if it has not returned after Patience;
// a panic in fn fails the test (and the binary) as usual.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(Patience):
		t.Fatalf("%s did not return within %v", what, Patience)
	}
}

// testStats checks a store that implements cache.StoreStats: it counts what
// it holds.
func testStats(t *testing.T, s cache.Store, key func(string) string) {
	st, ok := s.(cache.StoreStats)
	if !ok {
		t.Skip("store does not implement cache.StoreStats")
	}
	mustSet(t, s, key("a"), []byte("some value"), LongTTL)
	mustSet(t, s, key("b"), []byte("another value"), LongTTL)
	assert.GreaterOrEqual(t, st.Len(), 2)
	assert.Greater(t, st.Bytes(), int64(0))
}

// testClose checks a store that implements io.Closer: calls after Close
// return (with an error or not) instead of hanging or panicking, and a second
// Close does not panic.
func testClose(t *testing.T, s cache.Store, key func(string) string) {
	c, ok := s.(io.Closer)
	if !ok {
		t.Skip("store does not implement io.Closer")
	}
	mustSet(t, s, key("k"), []byte("v"), LongTTL)
	require.NoError(t, c.Close())
	ctx := context.Background()
	within(t, "Get after Close", func() { _, _ = s.Get(ctx, key("k")) })
	within(t, "Set after Close", func() { _ = s.Set(ctx, key("k"), []byte("v"), LongTTL) })
	within(t, "Delete after Close", func() { _ = s.Delete(ctx, key("k")) })
	within(t, "second Close", func() { _ = c.Close() })
}
