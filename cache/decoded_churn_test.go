package cache

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

	"github.com/aigateway-go/aigateway"
)

// checkMemoryInvariants holds s to its accounting: the bytes are the sum
// over the nodes of the entry and its decoded form, within the budget,
// and every decoded form is what its value decodes to now.
func checkMemoryInvariants(t *testing.T, s *MemoryStore) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum int64
	n := 0
	for p := s.order.next; p != &s.order; p = p.next {
		n++
		sum += entrySize(p.key, p.value) + p.decodedSize
		require.Same(t, p, s.items[p.key], "a listed node is the key's")
		if p.decoded != nil {
			fresh, err := decodeEntry(p.value)
			require.NoError(t, err)
			require.Equal(t, fresh.body, p.decoded.body, "the decoded form is the value's")
			require.Equal(t, fresh.header, p.decoded.header)
			require.Equal(t, fresh.decodedSize(), p.decodedSize)
		} else {
			require.Zero(t, p.decodedSize)
		}
	}
	require.Equal(t, len(s.items), n)
	require.Equal(t, sum, s.bytes)
	require.LessOrEqual(t, s.bytes, s.maxBytes)
	require.GreaterOrEqual(t, s.bytes, int64(0))
	if s.spare != nil {
		require.Nil(t, s.spare.decoded, "a spare node keeps nothing alive")
		require.Nil(t, s.spare.value)
	}
}

// Mixed Set, Get, getEntry, Delete and expiry, one at a time: after each,
// the bytes are exactly the entries and their decoded forms, in budget,
// and a look-up returns what the key holds now.
func TestDecodedFormsKeepTheAccountingUnderMixedOps(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			now := time.Unix(1_700_000_000, 0)
			values := make([][]byte, 8)
			for i := range values {
				values[i] = decodedTestEntry(strings.Repeat(string(rune('a'+i)), r.IntN(2000)))
			}
			one := entrySize("k-00", values[0])
			s := NewMemoryStore(one*int64(1+r.IntN(6)) + int64(r.IntN(3000)))
			s.Clock = func() time.Time { return now }
			held := map[string][]byte{} // what each key was last set to
			for range 3000 {
				k := fmt.Sprintf("k-%02d", r.IntN(12))
				switch op := r.IntN(10); {
				case op < 3:
					v := values[r.IntN(len(values))]
					err := s.Set(ctx, k, v, time.Duration(r.IntN(3))*time.Second)
					if err == nil {
						held[k] = v
					} else {
						require.ErrorIs(t, err, ErrValueTooLarge)
						delete(held, k)
					}
				case op < 7:
					e, _, err := s.getEntry([]byte(k))
					require.NoError(t, err)
					if e != nil {
						want, derr := decodeEntry(held[k])
						require.NoError(t, derr)
						require.Equal(t, want.body, e.body, "a look-up returns the key's current value")
					}
				case op < 8:
					_, err := s.Get(ctx, k)
					require.NoError(t, err)
				case op < 9:
					require.NoError(t, s.Delete(ctx, k))
					delete(held, k)
				default:
					now = now.Add(time.Duration(r.IntN(1500)) * time.Millisecond)
				}
				checkMemoryInvariants(t, s)
			}
			require.NoError(t, s.Close())
			assert.Zero(t, s.Bytes())
		})
	}
}

// Goroutines sharing decoded entries replay them and change their copies
// while others overwrite and delete the keys: run with -race.
func TestSharedDecodedEntriesUnderConcurrentChurn(t *testing.T) {
	ctx := context.Background()
	v := decodedTestEntry("body")
	s := NewMemoryStore(6 * (entrySize("k-0", v) + 1500))
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 3))
			for range 3000 {
				k := fmt.Sprintf("k-%d", r.IntN(8))
				switch r.IntN(6) {
				case 0:
					assert.NoError(t, s.Set(ctx, k, v, 0))
				case 1:
					assert.NoError(t, s.Delete(ctx, k))
				default:
					e, shared, err := s.getEntry([]byte(k))
					assert.NoError(t, err)
					if e == nil {
						continue
					}
					h := e.header
					if shared {
						h = replayHeader(h, e.values)
					}
					h["Multi"][0] = "changed"
					h.Set("Age", "1")
					h.Add("Content-Type", "x")
				}
				if b := s.Bytes(); b > s.MaxBytes() || b < 0 {
					t.Errorf("Bytes() = %d", b)
					return
				}
			}
		})
	}
	wg.Wait()
	checkMemoryInvariants(t, s)
}

// Hits, coalesced calls and refreshes on one key at once, each caller
// changing its own header: run with -race.
func TestConcurrentHitsAndRefreshesKeepEachHeaderOwn(t *testing.T) {
	_, _, gw := newStack(t, Config{})
	do(t, gw, chatURL, chatBody)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 40 {
				var res result
				if (w+i)%9 == 0 {
					res = do(t, gw, chatURL, chatBody, aigateway.HeaderRefreshCache, "true")
				} else {
					res = do(t, gw, chatURL, chatBody)
				}
				for k, vs := range res.header {
					for j := range vs {
						vs[j] = "changed"
					}
					res.header[k] = append(vs, "more")
				}
				res.header.Set("X-Added", "1")
			}
		})
	}
	wg.Wait()
	res := do(t, gw, chatURL, chatBody)
	assert.Equal(t, "HIT", res.header.Get(aigateway.HeaderCache))
	assert.NotContains(t, res.header, "X-Added")
	assert.Equal(t, []string{"application/json"}, res.header["Content-Type"])
}
