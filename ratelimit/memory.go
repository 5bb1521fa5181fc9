package ratelimit

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// DefaultMaxKeys is how many counters NewMemoryStore keeps for maxKeys <= 0.
const DefaultMaxKeys = 100_000

var errShortVerdicts = errors.New("ratelimit: fewer verdicts than takes")

// MemoryStore is a Store in process memory. Its counters start from zero
// when the process does, and each process has its own: replicas that must
// share limits need a shared store.
//
// It is bounded by the number of counters. A counter that is back to its
// initial state (a full bucket, a window that has ended) holds no
// information and is dropped at no cost: each operation drops up to two
// such counters among the least recently used, so idle keys do not pile
// up, and nothing runs in the background. When more than maxKeys counters
// are busy at once, the least recently used one is evicted and starts over
// (full) if its key comes back: Evictions counts those.
//
// A MemoryStore never blocks on anything but its mutex, so it ignores its
// context arguments. It is safe for concurrent use.
type MemoryStore struct {
	mu        sync.Mutex
	lru       *simplelru.LRU[string, *counter]
	evictions int64
}

// counter is one key's state: a bucket's TAT, or a window's count.
type counter struct {
	tat   int64 // bucket: theoretical arrival time, unix nanoseconds
	used  int64 // window: units taken
	until int64 // window: its end, unix nanoseconds; 0 for a bucket
}

// idle reports whether c holds nothing at now: dropping it loses nothing.
func (c *counter) idle(now int64) bool {
	if c.until != 0 {
		return now >= c.until || c.used <= 0
	}
	return c.tat <= now
}

// NewMemoryStore returns an empty store of at most maxKeys counters
// (maxKeys <= 0: DefaultMaxKeys).
func NewMemoryStore(maxKeys int) *MemoryStore {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	s := &MemoryStore{}
	s.lru, _ = simplelru.NewLRU[string, *counter](maxKeys, nil) // fails only for a size <= 0
	return s
}

// Len is the number of counters held.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lru.Len()
}

// Evictions is how many busy counters were dropped to stay within maxKeys.
func (s *MemoryStore) Evictions() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.evictions
}

// Reserve implements Store.
func (s *MemoryStore) Reserve(_ context.Context, now time.Time, takes []Take, verdicts []Verdict) (bool, error) {
	if len(verdicts) < len(takes) {
		return false, errShortVerdicts
	}
	n := now.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(n)
	ok := true
	for i, t := range takes {
		var v Verdict
		if t.Limit.Until.IsZero() {
			c, _ := s.lru.Peek(t.Key)
			var tat int64
			if c != nil {
				tat = c.tat
			}
			_, v = newBucket(t.Limit).take(tat, n, t.Cost, t.Limit.Burst)
		} else {
			v = s.window(t, n).take(t.Cost, t.Limit.Burst, n)
		}
		verdicts[i] = v
		ok = ok && v.Wait == 0
	}
	if !ok {
		return false, nil
	}
	for i, t := range takes {
		if t.Limit.Until.IsZero() {
			c, _ := s.lru.Get(t.Key)
			var tat int64
			if c != nil {
				tat = c.tat
			}
			tat, verdicts[i] = newBucket(t.Limit).take(tat, n, t.Cost, t.Limit.Burst)
			if tat <= n {
				continue // a cost of 0 on a full bucket: still full
			}
			if c == nil {
				c = s.get(t.Key, n)
			}
			c.tat = tat
		} else if w := s.window(t, n); w.until > n {
			c := s.get(t.Key, n)
			c.until = w.until
			c.used = sat(w.used, t.Cost)
		}
	}
	return true, nil
}

// Adjust implements Store.
func (s *MemoryStore) Adjust(_ context.Context, now time.Time, takes []Take) error {
	n := now.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(n)
	for _, t := range takes {
		if t.Limit.Until.IsZero() {
			c, ok := s.lru.Get(t.Key)
			tat := int64(math.MinInt64)
			if ok {
				tat = c.tat
			}
			tat = newBucket(t.Limit).adjust(tat, n, t.Cost)
			if tat <= n {
				if ok {
					s.lru.Remove(t.Key) // full again
				}
				continue
			}
			if !ok {
				c = s.get(t.Key, n)
			}
			c.tat = tat
			continue
		}
		w := s.window(t, n)
		if w.until <= n {
			continue // the window is over: nothing to settle against
		}
		used := max(sat(w.used, t.Cost), 0)
		if used == 0 {
			s.lru.Remove(t.Key)
			continue
		}
		c := s.get(t.Key, n)
		c.until, c.used = w.until, used
	}
	return nil
}

// Peek implements Store.
func (s *MemoryStore) Peek(_ context.Context, now time.Time, key string, limit Limit) (State, error) {
	n := now.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, _ := s.lru.Peek(key)
	if limit.Until.IsZero() {
		var tat int64
		if c != nil {
			tat = c.tat
		}
		return newBucket(limit).state(tat, n), nil
	}
	w := s.window(Take{Key: key, Limit: limit}, n)
	st := State{Remaining: limit.Burst - w.used}
	if w.used > 0 && w.until > n {
		st.Reset = time.Duration(w.until - n)
	}
	return st, nil
}

// windowState is a window counter as read at some instant.
type windowState struct{ used, until int64 }

// window reads t's window at now: a stored count from an earlier window
// of the same key (which the limiter never makes) counts as empty.
func (s *MemoryStore) window(t Take, now int64) windowState {
	until := t.Limit.Until.UnixNano()
	if c, ok := s.lru.Peek(t.Key); ok && c.until == until && now < until {
		return windowState{used: c.used, until: until}
	}
	return windowState{until: until}
}

func (w windowState) take(cost, burst, now int64) Verdict {
	remaining := burst - w.used
	switch {
	case cost > burst:
		return Verdict{Wait: Never, Remaining: remaining}
	case now >= w.until:
		return Verdict{Remaining: burst - cost} // the window is over: nothing is kept
	case sat(w.used, cost) > burst:
		return Verdict{Wait: time.Duration(w.until - now), Remaining: remaining}
	}
	return Verdict{Remaining: remaining - cost}
}

// get returns key's counter, adding a fresh one (most recently used).
func (s *MemoryStore) get(key string, now int64) *counter {
	if c, ok := s.lru.Get(key); ok {
		return c
	}
	c := &counter{}
	if s.lru.Add(key, c) {
		s.evictions++
	}
	return c
}

// sweep drops up to two idle counters among the least recently used.
func (s *MemoryStore) sweep(now int64) {
	for range 2 {
		_, c, ok := s.lru.GetOldest()
		if !ok || !c.idle(now) {
			return
		}
		s.lru.RemoveOldest()
	}
}
