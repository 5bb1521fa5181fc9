package cache

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/provider"
)

func decodedTestEntry(body string) []byte {
	e := &entry{status: http.StatusOK, created: time.Unix(1_700_000_000, 0), usageKnown: true,
		usage:  provider.Usage{InputTokens: 3, OutputTokens: 4},
		header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req_1"}, "Multi": {"a", "b"}},
		body:   []byte(body), model: "gpt-4o-mini", provider: "openai"}
	return e.encode()
}

// The first look-up of an entry decodes it and keeps it with the entry,
// counted in the store's bytes; later look-ups get that same entry. A new
// value under the key, or its removal, drops it.
func TestMemoryStoreKeepsTheDecodedEntry(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore(0)
	v := decodedTestEntry("first")
	require.NoError(t, s.Set(ctx, "k", v, 0))

	e, shared, err := s.getEntry([]byte("k"))
	require.NoError(t, err)
	require.True(t, shared)
	assert.Equal(t, "first", string(e.body))
	assert.Equal(t, entrySize("k", v)+e.decodedSize(), s.Bytes(), "the decoded form counts")

	again, shared, err := s.getEntry([]byte("k"))
	require.NoError(t, err)
	assert.True(t, shared)
	assert.Same(t, e, again, "the second look-up decodes nothing")
	assert.Zero(t, testing.AllocsPerRun(100, func() { s.getEntry([]byte("k")) }))

	v2 := decodedTestEntry("second")
	require.NoError(t, s.Set(ctx, "k", v2, 0))
	assert.Equal(t, entrySize("k", v2), s.Bytes(), "the old decoded form is gone with its value")
	e2, _, err := s.getEntry([]byte("k"))
	require.NoError(t, err)
	assert.NotSame(t, e, e2)
	assert.Equal(t, "second", string(e2.body))

	require.NoError(t, s.Delete(ctx, "k"))
	assert.Zero(t, s.Bytes())
	e, _, err = s.getEntry([]byte("k"))
	assert.NoError(t, err)
	assert.Nil(t, e)
}

// Keeping a decoded entry never takes the store over its budget: it
// evicts the least recently used entries, and an entry that fits only
// without its decoded form is decoded anew each time, not shared.
func TestDecodedEntriesKeepTheBudget(t *testing.T) {
	ctx := context.Background()
	v := decodedTestEntry(strings.Repeat("x", 500))
	probe := NewMemoryStore(0)
	require.NoError(t, probe.Set(ctx, "a", v, 0))
	e, _, err := probe.getEntry([]byte("a"))
	require.NoError(t, err)
	decoded := e.decodedSize()

	// Room for a, b and b's decoded form, not for a's as well.
	s := NewMemoryStore(2*entrySize("a", v) + decoded)
	require.NoError(t, s.Set(ctx, "a", v, 0))
	require.NoError(t, s.Set(ctx, "b", v, 0))
	_, shared, err := s.getEntry([]byte("b"))
	require.NoError(t, err)
	assert.True(t, shared)
	assert.Equal(t, 2, s.Len())
	_, shared, err = s.getEntry([]byte("a")) // b is evicted for a's decoded form
	require.NoError(t, err)
	assert.True(t, shared)
	assert.Equal(t, 1, s.Len())
	assert.LessOrEqual(t, s.Bytes(), s.MaxBytes())
	got, err := s.Get(ctx, "b")
	assert.NoError(t, err)
	assert.Nil(t, got)

	// Room for the entry alone.
	tight := NewMemoryStore(entrySize("a", v))
	require.NoError(t, tight.Set(ctx, "a", v, 0))
	e1, shared, err := tight.getEntry([]byte("a"))
	require.NoError(t, err)
	assert.False(t, shared)
	e2, _, err := tight.getEntry([]byte("a"))
	require.NoError(t, err)
	assert.NotSame(t, e1, e2)
	assert.Equal(t, entrySize("a", v), tight.Bytes())
}

// Hits share one decoded entry: what a caller does to its response's
// header, even to a value in place, reaches neither the entry nor the
// next hit.
func TestAHitsHeaderIsItsOwn(t *testing.T) {
	_, _, gw := newStack(t, Config{})
	miss := do(t, gw, chatURL, chatBody)
	require.Equal(t, "MISS", miss.header.Get(aigateway.HeaderCache))

	first := do(t, gw, chatURL, chatBody)
	require.Equal(t, "HIT", first.header.Get(aigateway.HeaderCache))
	want := first.header.Clone()
	first.header["Content-Type"][0] = "text/plain"
	first.header.Add("Content-Type", "more")
	first.header["X-Request-Id"] = append(first.header["X-Request-Id"][:0], "changed")
	first.header.Del(aigateway.HeaderCache)
	first.header.Set("X-Added", "1")

	second := do(t, gw, chatURL, chatBody)
	assert.Equal(t, want, second.header)
}

// replayHeader copies every value of the header it is given, whatever
// count it is told: a short count costs allocations, never values.
func TestReplayHeaderCopiesEveryValue(t *testing.T) {
	e, err := decodeEntry(decodedTestEntry("x"))
	require.NoError(t, err)
	assert.Equal(t, 4, e.values)
	for _, n := range []int{e.values, 0, 1} {
		h := replayHeader(e.header, n)
		assert.Equal(t, e.header, h, "n = %d", n)
		h["Multi"][0] = "changed"
		assert.Equal(t, "a", e.header["Multi"][0])
	}
}
