package ratelimit

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"time"
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
// of them, and a new counter takes the place of one, so idle keys do not
// pile up, and nothing runs in the background. Only when all maxKeys
// counters hold something does a new one push one out: the one that would
// soonest be back to its initial state (the least is lost, and never a
// counter deeper in debt than another), which starts over if its key
// comes back. Evictions counts those.
//
// A MemoryStore never blocks on anything but its mutex, so it ignores its
// context arguments. It is safe for concurrent use.
type MemoryStore struct {
	mu        sync.Mutex
	max       int
	counters  map[string]*counter
	byIdle    idleHeap // every counter, the soonest idle first
	evictions int64
}

var _ Store = (*MemoryStore)(nil)

// counter is one key's state: a bucket's TAT, or a window's count.
type counter struct {
	key   string
	tat   int64 // bucket: theoretical arrival time, unix nanoseconds
	used  int64 // window: units taken
	until int64 // window: its end, unix nanoseconds; 0 for a bucket
	index int   // in byIdle
}

// idleAt is when c holds nothing any more: dropping it then loses nothing.
func (c *counter) idleAt() int64 {
	if c.until != 0 {
		return c.until
	}
	return c.tat
}

// idleHeap orders counters by idleAt (container/heap).
type idleHeap []*counter

func (h idleHeap) Len() int           { return len(h) }
func (h idleHeap) Less(i, j int) bool { return h[i].idleAt() < h[j].idleAt() }
func (h idleHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *idleHeap) Push(x any) {
	c := x.(*counter)
	c.index = len(*h)
	*h = append(*h, c)
}
func (h *idleHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return c
}

// NewMemoryStore returns an empty store of at most maxKeys counters
// (maxKeys <= 0: DefaultMaxKeys).
func NewMemoryStore(maxKeys int) *MemoryStore {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	return &MemoryStore{max: maxKeys, counters: make(map[string]*counter)}
}

// Len is the number of counters held.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.counters)
}

// Evictions is how many counters that still held something were dropped
// to stay within maxKeys.
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
		if t.Limit.Until.IsZero() {
			_, verdicts[i] = NewBucket(t.Limit).Take(s.tat(t.Key), n, t.Cost, t.Limit.Burst)
		} else {
			verdicts[i] = s.window(t, n).Take(t.Cost, t.Limit.Burst, n)
		}
		ok = ok && verdicts[i].Wait == 0
	}
	if !ok {
		return false, nil
	}
	for _, t := range takes {
		if t.Limit.Until.IsZero() {
			tat, _ := NewBucket(t.Limit).Take(s.tat(t.Key), n, t.Cost, t.Limit.Burst)
			s.set(t.Key, tat, 0, 0, n)
		} else if w := s.window(t, n); w.Until > n {
			s.set(t.Key, 0, sat(w.Used, t.Cost), w.Until, n)
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
			s.set(t.Key, NewBucket(t.Limit).Adjust(s.tat(t.Key), n, t.Cost), 0, 0, n)
			continue
		}
		if w := s.window(t, n); w.Until > n { // else the window is over: nothing to settle against
			s.set(t.Key, 0, max(sat(w.Used, t.Cost), 0), w.Until, n)
		}
	}
	return nil
}

// Peek implements Store.
func (s *MemoryStore) Peek(_ context.Context, now time.Time, key string, limit Limit) (State, error) {
	n := now.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit.Until.IsZero() {
		return NewBucket(limit).State(s.tat(key), n), nil
	}
	w := s.window(Take{Key: key, Limit: limit}, n)
	st := State{Remaining: limit.Burst - w.Used}
	if w.Used > 0 && w.Until > n {
		st.Reset = time.Duration(w.Until - n)
	}
	return st, nil
}

// Window is a fixed window's counter as read at some instant: the units
// Used in it and its end (Until, unix nanoseconds). Take is what every
// Store computes for a take of it.
type Window struct{ Used, Until int64 }

// window reads t's window at now: a stored count from an earlier window
// of the same key (which the limiter never makes) counts as empty.
func (s *MemoryStore) window(t Take, now int64) Window {
	until := t.Limit.Until.UnixNano()
	if c := s.counters[t.Key]; c != nil && c.until == until && now < until {
		return Window{Used: c.used, Until: until}
	}
	return Window{Until: until}
}

// Take is the verdict on a take of cost units from the window at now
// (nothing is kept of a window that has ended).
func (w Window) Take(cost, burst, now int64) Verdict {
	remaining := burst - w.Used
	switch {
	case cost > burst:
		return Verdict{Wait: Never, Remaining: remaining}
	case now >= w.Until:
		return Verdict{Remaining: burst - cost} // the window is over: nothing is kept
	case sat(w.Used, cost) > burst:
		return Verdict{Wait: time.Duration(w.Until - now), Remaining: remaining}
	}
	return Verdict{Remaining: remaining - cost}
}

// tat is key's bucket TAT (zero when absent: full).
func (s *MemoryStore) tat(key string) int64 {
	if c := s.counters[key]; c != nil && c.until == 0 {
		return c.tat
	}
	return 0
}

// set stores key's state at now: a bucket's TAT (until 0), or a window's
// count. A state that holds nothing (a full bucket, an empty window) is
// not kept.
func (s *MemoryStore) set(key string, tat, used, until, now int64) {
	c := s.counters[key]
	if until == 0 && tat <= now || until != 0 && (used <= 0 || until <= now) {
		if c != nil {
			s.remove(c)
		}
		return
	}
	if c == nil {
		if len(s.counters) >= s.max {
			if s.byIdle[0].idleAt() > now {
				s.evictions++
			}
			s.remove(s.byIdle[0])
		}
		c = &counter{key: key}
		s.counters[key] = c
		c.tat, c.used, c.until = tat, used, until
		heap.Push(&s.byIdle, c)
		return
	}
	c.tat, c.used, c.until = tat, used, until
	heap.Fix(&s.byIdle, c.index)
}

func (s *MemoryStore) remove(c *counter) {
	heap.Remove(&s.byIdle, c.index)
	delete(s.counters, c.key)
}

// sweep drops up to two counters that hold nothing at now.
func (s *MemoryStore) sweep(now int64) {
	for range 2 {
		if len(s.byIdle) == 0 || s.byIdle[0].idleAt() > now {
			return
		}
		s.remove(s.byIdle[0])
	}
}
