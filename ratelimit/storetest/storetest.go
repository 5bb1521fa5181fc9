// Package storetest is the conformance suite every ratelimit.Store passes:
// the in-memory store of package ratelimit, and any other backend (Redis
// ...) in its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) ratelimit.Store {
//			s := mystore.New(...)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite checks what the limiter relies on: a bucket admits its burst
// and then refuses with the exact wait until it would admit, refills at its
// rate, never admits a cost above its burst; a Reserve of several takes
// charges all or nothing; Adjust charges beyond the limit and refunds never
// beyond the burst; a window holds its burst until its end; Peek reports
// without changing anything; keys are independent and may hold any bytes;
// concurrent Reserves never admit more than the limit; costs as large as an
// int64 holds leave a counter deep in debt, never wrapped round to one
// with plenty left.
//
// Time is passed to the store, never read from a clock: the suite works at
// instants it chooses, so it is exact and fast, and a store must compute
// with the instant it is given (a Redis store passes it to its script).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/ratelimit"
)

// Run runs the suite, one subtest per property. newStore is called once per
// subtest, with the subtest's t, and returns a store ready for use; it
// registers with t.Cleanup whatever must be released. Subtests use keys no
// other run uses, so newStore may return stores that share one backend.
func Run(t *testing.T, newStore func(t *testing.T) ratelimit.Store) {
	t.Helper()
	prefix := "storetest:" + randomHex(8) + ":"
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s ratelimit.Store, key func(string) string)
	}{
		{"BucketBurst", testBucketBurst},
		{"BucketRefill", testBucketRefill},
		{"BucketFractionalRate", testBucketFractionalRate},
		{"CostAboveBurst", testCostAboveBurst},
		{"ZeroCost", testZeroCost},
		{"AllOrNothing", testAllOrNothing},
		{"AdjustCharges", testAdjustCharges},
		{"AdjustRefundsUpToBurst", testAdjustRefunds},
		{"Window", testWindow},
		{"WindowAdjust", testWindowAdjust},
		{"PeekAbsent", testPeekAbsent},
		{"PeekChangesNothing", testPeekChangesNothing},
		{"DistinctKeys", testDistinctKeys},
		{"AnyKeyBytes", testAnyKeyBytes},
		{"Concurrent", testConcurrent},
		{"CancelledContext", testCancelledContext},
		{"Saturates", testSaturates},
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

// t0 is the suite's starting instant: any instant works.
var t0 = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// tenPerSecond refills one unit every 100ms and holds ten.
var tenPerSecond = ratelimit.Limit{Rate: 10, Per: time.Second, Burst: 10}

func reserve(t *testing.T, s ratelimit.Store, now time.Time, takes ...ratelimit.Take) (bool, []ratelimit.Verdict) {
	t.Helper()
	v := make([]ratelimit.Verdict, len(takes))
	ok, err := s.Reserve(context.Background(), now, takes, v)
	require.NoError(t, err)
	return ok, v
}

func peek(t *testing.T, s ratelimit.Store, now time.Time, key string, l ratelimit.Limit) ratelimit.State {
	t.Helper()
	st, err := s.Peek(context.Background(), now, key, l)
	require.NoError(t, err)
	return st
}

func adjust(t *testing.T, s ratelimit.Store, now time.Time, takes ...ratelimit.Take) {
	t.Helper()
	require.NoError(t, s.Adjust(context.Background(), now, takes))
}

func testBucketBurst(t *testing.T, s ratelimit.Store, key func(string) string) {
	k := key("b")
	for i := range 10 {
		ok, v := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 1})
		require.True(t, ok, "take %d of the burst", i)
		assert.Equal(t, ratelimit.Verdict{Remaining: int64(9 - i)}, v[0])
	}
	ok, v := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 1})
	assert.False(t, ok, "the burst is spent")
	assert.Equal(t, 100*time.Millisecond, v[0].Wait, "one unit refills in 100ms")
	assert.Equal(t, int64(0), v[0].Remaining)
	ok, v = reserve(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 3})
	assert.False(t, ok)
	assert.Equal(t, 300*time.Millisecond, v[0].Wait, "three units refill in 300ms")
}

func testBucketRefill(t *testing.T, s ratelimit.Store, key func(string) string) {
	k := key("b")
	ok, _ := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 10})
	require.True(t, ok)
	ok, _ = reserve(t, s, t0.Add(99*time.Millisecond), ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 1})
	assert.False(t, ok, "not yet refilled")
	ok, v := reserve(t, s, t0.Add(100*time.Millisecond), ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 1})
	assert.True(t, ok, "refilled at the wait the store gave")
	assert.Equal(t, int64(0), v[0].Remaining)
	st := peek(t, s, t0.Add(time.Second), k, tenPerSecond)
	assert.Equal(t, int64(9), st.Remaining)
	assert.Equal(t, 100*time.Millisecond, st.Reset)
	st = peek(t, s, t0.Add(time.Hour), k, tenPerSecond)
	assert.Equal(t, ratelimit.State{Remaining: 10}, st, "never more than the burst")
}

func testBucketFractionalRate(t *testing.T, s ratelimit.Store, key func(string) string) {
	// 3 per 10s: one unit every 3.333...s.
	l := ratelimit.Limit{Rate: 3, Per: 10 * time.Second, Burst: 3}
	k := key("b")
	for range 3 {
		ok, _ := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: l, Cost: 1})
		require.True(t, ok)
	}
	ok, v := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: l, Cost: 1})
	require.False(t, ok)
	assert.InDelta(t, float64(10*time.Second/3), float64(v[0].Wait), float64(time.Microsecond))
	ok, _ = reserve(t, s, t0.Add(v[0].Wait), ratelimit.Take{Key: k, Limit: l, Cost: 1})
	assert.True(t, ok, "admitted after the wait given")
}

func testCostAboveBurst(t *testing.T, s ratelimit.Store, key func(string) string) {
	ok, v := reserve(t, s, t0, ratelimit.Take{Key: key("b"), Limit: tenPerSecond, Cost: 11})
	assert.False(t, ok)
	assert.Equal(t, ratelimit.Never, v[0].Wait)
	w := ratelimit.Limit{Burst: 10, Until: t0.Add(time.Hour)}
	ok, v = reserve(t, s, t0, ratelimit.Take{Key: key("w"), Limit: w, Cost: 11})
	assert.False(t, ok)
	assert.Equal(t, ratelimit.Never, v[0].Wait)
}

func testZeroCost(t *testing.T, s ratelimit.Store, key func(string) string) {
	k := key("b")
	ok, _ := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 10})
	require.True(t, ok)
	ok, _ = reserve(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 0})
	assert.True(t, ok, "an empty bucket admits a cost of 0")
	adjust(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 5})
	ok, v := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 0})
	assert.False(t, ok, "a bucket in debt refuses even a cost of 0")
	assert.Equal(t, 500*time.Millisecond, v[0].Wait)
}

func testAllOrNothing(t *testing.T, s ratelimit.Store, key func(string) string) {
	a, b := key("a"), key("b")
	ok, _ := reserve(t, s, t0, ratelimit.Take{Key: b, Limit: tenPerSecond, Cost: 9})
	require.True(t, ok)
	ok, v := reserve(t, s, t0,
		ratelimit.Take{Key: a, Limit: tenPerSecond, Cost: 4},
		ratelimit.Take{Key: b, Limit: tenPerSecond, Cost: 2})
	assert.False(t, ok)
	assert.Equal(t, time.Duration(0), v[0].Wait, "a alone admits")
	assert.Equal(t, 100*time.Millisecond, v[1].Wait, "b refuses")
	assert.Equal(t, int64(10), peek(t, s, t0, a, tenPerSecond).Remaining, "a was not charged")
	assert.Equal(t, int64(1), peek(t, s, t0, b, tenPerSecond).Remaining, "nor b")
	ok, v = reserve(t, s, t0,
		ratelimit.Take{Key: a, Limit: tenPerSecond, Cost: 4},
		ratelimit.Take{Key: b, Limit: tenPerSecond, Cost: 1})
	assert.True(t, ok)
	assert.Equal(t, []ratelimit.Verdict{{Remaining: 6}, {Remaining: 0}}, v)
}

func testAdjustCharges(t *testing.T, s ratelimit.Store, key func(string) string) {
	k := key("b")
	ok, _ := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 4})
	require.True(t, ok)
	adjust(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 10})
	st := peek(t, s, t0, k, tenPerSecond)
	assert.Equal(t, int64(-4), st.Remaining, "charged beyond the limit: in debt")
	assert.Equal(t, 1400*time.Millisecond, st.Reset)
	ok, v := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 1})
	assert.False(t, ok)
	assert.Equal(t, 500*time.Millisecond, v[0].Wait, "the debt and the unit refill first")
	adjust(t, s, t0, ratelimit.Take{Key: key("absent"), Limit: tenPerSecond, Cost: 3})
	assert.Equal(t, int64(7), peek(t, s, t0, key("absent"), tenPerSecond).Remaining, "an adjustment creates the counter")
}

func testAdjustRefunds(t *testing.T, s ratelimit.Store, key func(string) string) {
	k := key("b")
	ok, _ := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 8})
	require.True(t, ok)
	adjust(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: -5})
	assert.Equal(t, int64(7), peek(t, s, t0, k, tenPerSecond).Remaining)
	adjust(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: -100})
	assert.Equal(t, ratelimit.State{Remaining: 10}, peek(t, s, t0, k, tenPerSecond), "never more than the burst")
	for range 10 {
		ok, _ := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 1})
		require.True(t, ok)
	}
	ok, _ = reserve(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 1})
	assert.False(t, ok, "the refund gave back no more than was taken")
}

func testWindow(t *testing.T, s ratelimit.Store, key func(string) string) {
	k := key("w")
	w := ratelimit.Limit{Rate: 100, Burst: 100, Until: t0.Add(time.Hour)}
	ok, v := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: w, Cost: 60})
	require.True(t, ok)
	assert.Equal(t, int64(40), v[0].Remaining)
	ok, v = reserve(t, s, t0.Add(59*time.Minute), ratelimit.Take{Key: k, Limit: w, Cost: 41})
	assert.False(t, ok, "a window does not refill")
	assert.Equal(t, time.Minute, v[0].Wait, "it waits for the window's end")
	ok, _ = reserve(t, s, t0.Add(59*time.Minute), ratelimit.Take{Key: k, Limit: w, Cost: 40})
	assert.True(t, ok)
	st := peek(t, s, t0.Add(59*time.Minute), k, w)
	assert.Equal(t, ratelimit.State{Remaining: 0, Reset: time.Minute}, st)
	next := ratelimit.Limit{Rate: 100, Burst: 100, Until: t0.Add(2 * time.Hour)}
	assert.Equal(t, ratelimit.State{Remaining: 100}, peek(t, s, t0.Add(time.Hour), key("w2"), next), "the next window's counter is fresh")
}

func testWindowAdjust(t *testing.T, s ratelimit.Store, key func(string) string) {
	k := key("w")
	w := ratelimit.Limit{Rate: 100, Burst: 100, Until: t0.Add(time.Hour)}
	ok, _ := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: w, Cost: 30})
	require.True(t, ok)
	adjust(t, s, t0, ratelimit.Take{Key: k, Limit: w, Cost: 90})
	assert.Equal(t, int64(-20), peek(t, s, t0, k, w).Remaining, "charged beyond the budget")
	ok, v := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: w, Cost: 0})
	assert.False(t, ok, "a spent budget refuses even a cost of 0")
	assert.Equal(t, time.Hour, v[0].Wait)
	adjust(t, s, t0, ratelimit.Take{Key: k, Limit: w, Cost: -500})
	assert.Equal(t, int64(100), peek(t, s, t0, k, w).Remaining, "never below zero used")
}

func testPeekAbsent(t *testing.T, s ratelimit.Store, key func(string) string) {
	assert.Equal(t, ratelimit.State{Remaining: 10}, peek(t, s, t0, key("none"), tenPerSecond))
	w := ratelimit.Limit{Rate: 5, Burst: 5, Until: t0.Add(time.Hour)}
	assert.Equal(t, ratelimit.State{Remaining: 5}, peek(t, s, t0, key("none-w"), w))
}

func testPeekChangesNothing(t *testing.T, s ratelimit.Store, key func(string) string) {
	k := key("b")
	ok, _ := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 5})
	require.True(t, ok)
	for range 3 {
		assert.Equal(t, int64(5), peek(t, s, t0, k, tenPerSecond).Remaining)
	}
}

func testDistinctKeys(t *testing.T, s ratelimit.Store, key func(string) string) {
	ok, _ := reserve(t, s, t0, ratelimit.Take{Key: key("a"), Limit: tenPerSecond, Cost: 10})
	require.True(t, ok)
	for _, k := range []string{key("b"), key("a "), key("A"), key("a") + "\x00"} {
		assert.Equal(t, int64(10), peek(t, s, t0, k, tenPerSecond).Remaining, "%q is its own counter", k)
	}
}

func testAnyKeyBytes(t *testing.T, s ratelimit.Store, key func(string) string) {
	for _, k := range []string{key(""), key("\x00\xff\n:{}*?"), key(strings.Repeat("long", 256)), key("ünïcødé")} {
		ok, _ := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: tenPerSecond, Cost: 7})
		require.True(t, ok)
		assert.Equal(t, int64(3), peek(t, s, t0, k, tenPerSecond).Remaining, "key %q", k)
	}
}

func testConcurrent(t *testing.T, s ratelimit.Store, key func(string) string) {
	a, b := key("a"), key("b")
	la := ratelimit.Limit{Rate: 100, Per: time.Hour, Burst: 100}
	lb := ratelimit.Limit{Rate: 60, Burst: 60, Until: t0.Add(time.Hour)}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			v := make([]ratelimit.Verdict, 2)
			for range 20 {
				ok, err := s.Reserve(context.Background(), t0, []ratelimit.Take{{Key: a, Limit: la, Cost: 1}, {Key: b, Limit: lb, Cost: 1}}, v)
				if !assert.NoError(t, err) {
					return
				}
				if ok {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(60), admitted.Load(), "exactly the tighter limit")
	assert.Equal(t, int64(40), peek(t, s, t0, a, la).Remaining, "a charged only with b")
}

func testCancelledContext(t *testing.T, s ratelimit.Store, key func(string) string) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A store may honour the context (an error) or ignore it: either way
	// it returns, and a refused or failed call charges nothing it reports.
	v := make([]ratelimit.Verdict, 1)
	_, _ = s.Reserve(ctx, t0, []ratelimit.Take{{Key: key("b"), Limit: tenPerSecond, Cost: 1}}, v)
	_ = s.Adjust(ctx, t0, []ratelimit.Take{{Key: key("b"), Limit: tenPerSecond, Cost: 1}})
	_, _ = s.Peek(ctx, t0, key("b"), tenPerSecond)
}

// testSaturates charges costs no real call makes (the limiter's own sums
// saturate at the int64 bounds): a counter stays in debt, whatever is
// added, and a refund after that leaves it in debt.
func testSaturates(t *testing.T, s ratelimit.Store, key func(string) string) {
	const huge = math.MaxInt64
	slow := ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 1} // the slowest bucket: a unit is an hour
	k := key("b")
	ok, v := reserve(t, s, t0, ratelimit.Take{Key: k, Limit: slow, Cost: huge})
	assert.False(t, ok)
	assert.Equal(t, ratelimit.Never, v[0].Wait)
	ok, _ = reserve(t, s, t0, ratelimit.Take{Key: k, Limit: slow, Cost: 1})
	require.True(t, ok)
	for i := range 3 {
		adjust(t, s, t0, ratelimit.Take{Key: k, Limit: slow, Cost: huge})
		st := peek(t, s, t0, k, slow)
		assert.Negative(t, st.Remaining, "in debt after %d huge charges", i+1)
		assert.Positive(t, st.Reset)
	}
	adjust(t, s, t0, ratelimit.Take{Key: k, Limit: slow, Cost: -1000})
	assert.Negative(t, peek(t, s, t0, k, slow).Remaining, "a refund does not undo a saturated debt")
	later := t0.Add(10 * 365 * 24 * time.Hour)
	ok, v = reserve(t, s, later, ratelimit.Take{Key: k, Limit: slow, Cost: 1})
	assert.False(t, ok, "still in debt ten years later")
	assert.Positive(t, v[0].Wait)

	w := ratelimit.Limit{Rate: 1e18, Burst: 1e18, Until: t0.Add(31 * 24 * time.Hour)} // the largest budget, in nano-USD
	kw := key("w")
	ok, v = reserve(t, s, t0, ratelimit.Take{Key: kw, Limit: w, Cost: huge})
	assert.False(t, ok)
	assert.Equal(t, ratelimit.Never, v[0].Wait)
	ok, _ = reserve(t, s, t0, ratelimit.Take{Key: kw, Limit: w, Cost: 1e18})
	require.True(t, ok)
	for i := range 3 {
		adjust(t, s, t0, ratelimit.Take{Key: kw, Limit: w, Cost: huge})
		assert.Negative(t, peek(t, s, t0, kw, w).Remaining, "in debt after %d huge charges", i+1)
	}
	ok, v = reserve(t, s, t0, ratelimit.Take{Key: kw, Limit: w, Cost: 0})
	assert.False(t, ok)
	assert.Equal(t, 31*24*time.Hour, v[0].Wait)
}
