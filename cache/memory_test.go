package cache_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/cache/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cache.Store {
		s := cache.NewMemoryStore(0)
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// fakeClock is a settable clock for MemoryStore.Clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// size is what the store counts for one entry.
func size(key string, value []byte) int64 {
	return int64(len(key)+len(value)) + cache.MemoryEntryOverhead
}

func TestNewMemoryStoreDefaultBudget(t *testing.T) {
	for _, n := range []int64{0, -1} {
		assert.EqualValues(t, cache.DefaultMemoryBytes, cache.NewMemoryStore(n).MaxBytes())
	}
	assert.EqualValues(t, 12345, cache.NewMemoryStore(12345).MaxBytes())
}

func TestMemoryStoreAccounting(t *testing.T) {
	ctx := context.Background()
	s := cache.NewMemoryStore(1 << 20)
	require.NoError(t, s.Set(ctx, "a", []byte("12345"), time.Hour))
	require.NoError(t, s.Set(ctx, "bb", make([]byte, 100), time.Hour))
	assert.Equal(t, 2, s.Len())
	assert.Equal(t, size("a", make([]byte, 5))+size("bb", make([]byte, 100)), s.Bytes())

	require.NoError(t, s.Set(ctx, "bb", make([]byte, 10), time.Hour)) // overwrite: old size released
	assert.Equal(t, 2, s.Len())
	assert.Equal(t, size("a", make([]byte, 5))+size("bb", make([]byte, 10)), s.Bytes())

	require.NoError(t, s.Delete(ctx, "a"))
	require.NoError(t, s.Delete(ctx, "a"))
	assert.Equal(t, 1, s.Len())
	assert.Equal(t, size("bb", make([]byte, 10)), s.Bytes())
}

func TestMemoryStoreLRUOrder(t *testing.T) {
	ctx := context.Background()
	v := make([]byte, 100)
	s := cache.NewMemoryStore(3 * size("k0", v)) // room for exactly three entries
	for _, k := range []string{"k0", "k1", "k2"} {
		require.NoError(t, s.Set(ctx, k, v, time.Hour))
	}
	got, err := s.Get(ctx, "k0") // k0 is now the most recently used, k1 the least
	require.NoError(t, err)
	require.NotNil(t, got)

	require.NoError(t, s.Set(ctx, "k3", v, time.Hour))
	present := func(k string) bool {
		got, err := s.Get(ctx, k)
		require.NoError(t, err)
		return got != nil
	}
	assert.False(t, present("k1"), "the least recently used entry is evicted first")
	assert.True(t, present("k0"))
	assert.True(t, present("k2"))
	assert.True(t, present("k3"))
	assert.Equal(t, 3*size("k0", v), s.Bytes())

	// The reads above left k0 least recently used. Overwriting counts as a
	// use, so an entry that needs two slots then evicts k2 and k3.
	require.NoError(t, s.Set(ctx, "k0", v, time.Hour))
	require.NoError(t, s.Set(ctx, "big", make([]byte, 2*len(v)+cache.MemoryEntryOverhead), time.Hour))
	assert.False(t, present("k2"))
	assert.False(t, present("k3"))
	assert.True(t, present("k0"))
	assert.True(t, present("big"))
	assert.LessOrEqual(t, s.Bytes(), s.MaxBytes())
}

func TestMemoryStoreOversizedValue(t *testing.T) {
	ctx := context.Background()
	s := cache.NewMemoryStore(1000)
	require.NoError(t, s.Set(ctx, "keep", []byte("kept"), time.Hour))
	require.NoError(t, s.Set(ctx, "k", []byte("old"), time.Hour))

	err := s.Set(ctx, "k", make([]byte, 1000), time.Hour)
	require.ErrorIs(t, err, cache.ErrValueTooLarge)
	got, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Nil(t, got, "an oversized Set removes the value it replaces")
	got, err = s.Get(ctx, "keep")
	require.NoError(t, err)
	assert.Equal(t, []byte("kept"), got, "an oversized Set evicts nothing else")

	// An entry of exactly the budget fits, alone.
	exact := make([]byte, 1000-len("x")-cache.MemoryEntryOverhead)
	require.NoError(t, s.Set(ctx, "x", exact, time.Hour))
	assert.Equal(t, 1, s.Len())
	assert.EqualValues(t, 1000, s.Bytes())
}

func TestMemoryStoreExpiryWithClock(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := cache.NewMemoryStore(0)
	s.Clock = clock.Now
	require.NoError(t, s.Set(ctx, "short", []byte("s"), time.Minute))
	require.NoError(t, s.Set(ctx, "long", []byte("l"), time.Hour))
	require.NoError(t, s.Set(ctx, "forever", []byte("f"), 0))

	get := func(k string) []byte {
		v, err := s.Get(ctx, k)
		require.NoError(t, err)
		return v
	}
	clock.Advance(time.Minute - time.Nanosecond)
	assert.Equal(t, []byte("s"), get("short"))

	clock.Advance(time.Nanosecond) // the deadline itself is expired
	assert.Equal(t, 3, s.Len(), "expiry is checked on read, not in the background")
	assert.Nil(t, get("short"))
	assert.Equal(t, 2, s.Len(), "an expired entry is removed when read")
	assert.Equal(t, size("long", []byte("l"))+size("forever", []byte("f")), s.Bytes())
	assert.Equal(t, []byte("l"), get("long"))

	clock.Advance(time.Hour)
	assert.Nil(t, get("long"))
	assert.Equal(t, []byte("f"), get("forever"), "ttl <= 0 never expires")

	// Set again after expiry starts a new lifetime.
	require.NoError(t, s.Set(ctx, "short", []byte("s2"), time.Minute))
	clock.Advance(30 * time.Second)
	assert.Equal(t, []byte("s2"), get("short"))
}

// TestMemoryStoreBudgetUnderChurn checks the budget after every operation
// while many goroutines write entries of random sizes, then that the
// accounting returns to zero once everything is deleted.
func TestMemoryStoreBudgetUnderChurn(t *testing.T) {
	const (
		budget  = 64 << 10
		workers = 8
		ops     = 2000
		keys    = 200
	)
	ctx := context.Background()
	s := cache.NewMemoryStore(budget)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range ops {
				k := fmt.Sprintf("key-%d-%s", r.IntN(keys), strings.Repeat("k", r.IntN(64)))
				switch r.IntN(10) {
				case 0:
					assert.NoError(t, s.Delete(ctx, k))
				case 1, 2, 3:
					_, err := s.Get(ctx, k)
					assert.NoError(t, err)
				default:
					n := r.IntN(budget / 8)
					if r.IntN(50) == 0 {
						n = budget // now and then, one that cannot fit
					}
					err := s.Set(ctx, k, make([]byte, n), time.Duration(1+r.IntN(1000))*time.Millisecond)
					if size(k, make([]byte, n)) > budget {
						assert.ErrorIs(t, err, cache.ErrValueTooLarge)
					} else {
						assert.NoError(t, err)
					}
				}
				if b := s.Bytes(); b > budget || b < 0 {
					t.Errorf("Bytes() = %d, budget %d", b, budget)
					return
				}
			}
		})
	}
	wg.Wait()
	for i := range keys {
		for n := range 64 {
			require.NoError(t, s.Delete(ctx, fmt.Sprintf("key-%d-%s", i, strings.Repeat("k", n))))
		}
	}
	assert.Zero(t, s.Len())
	assert.Zero(t, s.Bytes())
}

func TestMemoryStoreClose(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx := context.Background()
	s := cache.NewMemoryStore(0)
	require.NoError(t, s.Set(ctx, "k", []byte("v"), time.Millisecond))
	require.NoError(t, s.Close())
	assert.Zero(t, s.Len())
	assert.Zero(t, s.Bytes())

	_, err := s.Get(ctx, "k")
	assert.ErrorIs(t, err, cache.ErrStoreClosed)
	assert.ErrorIs(t, s.Set(ctx, "k", []byte("v"), time.Hour), cache.ErrStoreClosed)
	assert.ErrorIs(t, s.Delete(ctx, "k"), cache.ErrStoreClosed)
	assert.NoError(t, s.Close(), "Close is idempotent")
	assert.Zero(t, s.Len())
}

func BenchmarkMemoryStore(b *testing.B) {
	ctx := context.Background()
	value := make([]byte, 1024)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("aigw:v1:%064x", i) // the shape of a hex SHA-256 key
	}
	b.Run("Get", func(b *testing.B) {
		s := cache.NewMemoryStore(0)
		for _, k := range keys {
			_ = s.Set(ctx, k, value, time.Hour)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if v, _ := s.Get(ctx, keys[i%len(keys)]); v == nil {
				b.Fatal("miss")
			}
			i++
		}
	})
	b.Run("Set", func(b *testing.B) {
		s := cache.NewMemoryStore(0)
		b.ReportAllocs()
		b.SetBytes(int64(len(value)))
		i := 0
		for b.Loop() {
			_ = s.Set(ctx, keys[i%len(keys)], value, time.Hour)
			i++
		}
	})
	b.Run("SetEvicting", func(b *testing.B) {
		s := cache.NewMemoryStore(64 * size(keys[0], value)) // every Set past the 64th evicts
		b.ReportAllocs()
		b.SetBytes(int64(len(value)))
		i := 0
		for b.Loop() {
			_ = s.Set(ctx, keys[i%len(keys)], value, time.Hour)
			i++
		}
	})
	b.Run("GetParallel", func(b *testing.B) {
		s := cache.NewMemoryStore(0)
		for _, k := range keys {
			_ = s.Set(ctx, k, value, time.Hour)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				_, _ = s.Get(ctx, keys[i%len(keys)])
				i++
			}
		})
	})
}
