package ratelimit

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var perSecond = Limit{Rate: 10, Per: time.Second, Burst: 10}

func take(t *testing.T, s *MemoryStore, now time.Time, key string, cost int64) bool {
	t.Helper()
	ok, err := s.Reserve(context.Background(), now, []Take{{Key: key, Limit: perSecond, Cost: cost}}, make([]Verdict, 1))
	require.NoError(t, err)
	return ok
}

// Busy counters beyond maxKeys evict the least recently used: memory stays
// bounded, and the loss is counted.
func TestMemoryStoreBounded(t *testing.T) {
	s := NewMemoryStore(10)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		require.True(t, take(t, s, now, "k"+strconv.Itoa(i), 5))
		assert.LessOrEqual(t, s.Len(), 10)
	}
	assert.Equal(t, 10, s.Len())
	assert.Equal(t, int64(90), s.Evictions())
	st, err := s.Peek(context.Background(), now, "k99", perSecond)
	require.NoError(t, err)
	assert.Equal(t, int64(5), st.Remaining, "recent counters are kept")
	st, err = s.Peek(context.Background(), now, "k0", perSecond)
	require.NoError(t, err)
	assert.Equal(t, int64(10), st.Remaining, "an evicted counter starts over")
}

// Counters back at their initial state are dropped as the store is used,
// without counting as evictions.
func TestMemoryStoreDropsIdleCounters(t *testing.T) {
	s := NewMemoryStore(0)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 50 {
		require.True(t, take(t, s, now, "k"+strconv.Itoa(i), 5))
	}
	assert.Equal(t, 50, s.Len())
	later := now.Add(time.Second) // every bucket is full again
	for range 10 {
		require.True(t, take(t, s, later, "busy", 0))
	}
	assert.Equal(t, 30, s.Len(), "each operation drops up to two idle counters; a cost of 0 on a full bucket stores nothing")
	for range 15 {
		take(t, s, later, "busy", 0)
	}
	assert.Equal(t, 0, s.Len())
	assert.Zero(t, s.Evictions())

	// A refund back to full drops the counter at once.
	require.True(t, take(t, s, later, "r", 4))
	require.NoError(t, s.Adjust(context.Background(), later, []Take{{Key: "r", Limit: perSecond, Cost: -4}}))
	assert.Equal(t, 0, s.Len())
	// So do windows that have ended.
	w := Limit{Rate: 5, Burst: 5, Until: later.Add(time.Minute)}
	ok, err := s.Reserve(context.Background(), later, []Take{{Key: "w", Limit: w, Cost: 1}}, make([]Verdict, 1))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, 1, s.Len())
	take(t, s, later.Add(time.Hour), "busy", 0)
	assert.Equal(t, 0, s.Len())
}

func TestMemoryStoreShortVerdicts(t *testing.T) {
	_, err := NewMemoryStore(0).Reserve(context.Background(), time.Now(), []Take{{Key: "a", Limit: perSecond, Cost: 1}}, nil)
	assert.Error(t, err)
}

// A rule's store key for a caller it has seen costs no allocation, and the
// keys it remembers are bounded.
func TestInternedKeys(t *testing.T) {
	r := compile(Rule{Name: "r", Key: "metadata:user", Requests: 1, Per: 1}, 0)
	vals := []string{"u-42"}
	first := r.storeKey(vals, time.Time{}, time.UTC)
	assert.Equal(t, keyPrefix+"1:r:req:4:u-42", first)
	allocs := testing.AllocsPerRun(100, func() { r.storeKey(vals, time.Time{}, time.UTC) })
	assert.Zero(t, allocs)
	for i := range internedKeys + 10 {
		r.storeKey([]string{strconv.Itoa(i)}, time.Time{}, time.UTC)
		require.LessOrEqual(t, len(r.keys), internedKeys)
	}
	assert.Equal(t, first, r.storeKey(vals, time.Time{}, time.UTC))
}

// A counter that holds something outlives counters that hold nothing,
// however long ago it was used: a budget spent early in the month is not
// the one dropped to make room when idle buckets are there to drop.
func TestMemoryStoreDropsIdleBeforeBusy(t *testing.T) {
	s := NewMemoryStore(3)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	month := Limit{Rate: 100, Burst: 100, Until: now.Add(31 * 24 * time.Hour)}
	ok, err := s.Reserve(context.Background(), now, []Take{{Key: "budget", Limit: month, Cost: 100}}, make([]Verdict, 1))
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, take(t, s, now, "a", 5))
	require.True(t, take(t, s, now, "b", 5))

	later := now.Add(time.Second) // a and b are full again; the budget is spent, and the least recently used
	require.True(t, take(t, s, later, "c", 5))
	st, err := s.Peek(context.Background(), later, "budget", month)
	require.NoError(t, err)
	assert.Equal(t, int64(0), st.Remaining, "the spent budget is kept")
	assert.Zero(t, s.Evictions())
}

// When every counter holds something, the one dropped is the one that
// would soonest hold nothing (the least lost), never the least recently
// used one that is deep in debt.
func TestMemoryStoreEvictsSoonestIdle(t *testing.T) {
	s := NewMemoryStore(2)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, s.Adjust(context.Background(), now, []Take{{Key: "debt", Limit: perSecond, Cost: 100}}))
	require.True(t, take(t, s, now, "light", 1))
	require.True(t, take(t, s, now, "new", 1))
	assert.Equal(t, int64(1), s.Evictions())
	assert.Equal(t, 2, s.Len())
	st, err := s.Peek(context.Background(), now, "debt", perSecond)
	require.NoError(t, err)
	assert.Equal(t, int64(-90), st.Remaining, "the counter in debt is kept")
	st, err = s.Peek(context.Background(), now, "light", perSecond)
	require.NoError(t, err)
	assert.Equal(t, int64(10), st.Remaining, "the one a unit from full was dropped")
}
