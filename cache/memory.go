package cache

import (
	"context"
	"errors"
	"io"
	"math"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// DefaultMemoryBytes is the budget NewMemoryStore uses for maxBytes <= 0.
const DefaultMemoryBytes = 64 << 20

// MemoryEntryOverhead is what a MemoryStore counts for each entry on top of
// len(key) + len(value): an estimate, on 64-bit platforms, of the LRU list
// element (128 bytes with its size class) and the map slot that points to it
// (with the map's growth slack). It keeps a store full of tiny entries from
// holding far more memory than its budget says.
const MemoryEntryOverhead = 192

// ErrValueTooLarge is returned by MemoryStore.Set for an entry that is larger
// than the store's whole budget on its own. Such an entry is not stored, and
// an older entry under the same key is removed, so a later Get never returns
// the value the caller meant to replace.
var ErrValueTooLarge = errors.New("cache: value larger than the memory store's budget")

// ErrStoreClosed is returned by every MemoryStore call made after Close.
var ErrStoreClosed = errors.New("cache: memory store closed")

// MemoryStore is a Store that keeps entries in process memory, bounded by
// bytes: it evicts least-recently-used entries to make room, so its own
// accounting (see Bytes and MemoryEntryOverhead) never goes above its budget,
// not even for a moment.
//
// Expiry is a per-entry deadline checked on Get: an expired entry is removed
// when it is read, or evicted like any other when room is needed. Nothing
// runs in the background. The store never blocks, so it ignores its context
// arguments.
//
// Set keeps the caller's slice without copying and Get returns that same
// slice: neither side may modify it afterwards (see Store). Since the budget
// counts len(value), a caller holding a small window on a large array should
// copy it before Set.
//
// A MemoryStore is safe for concurrent use.
type MemoryStore struct {
	// Clock replaces time.Now when set, for tests. Set it before the store
	// is first used.
	Clock func() time.Time

	maxBytes int64

	mu     sync.Mutex
	lru    *simplelru.LRU[string, memoryEntry]
	bytes  int64
	closed bool
}

type memoryEntry struct {
	value   []byte
	expires time.Time // zero: never
}

// NewMemoryStore returns an empty store holding at most maxBytes by its own
// accounting (maxBytes <= 0: DefaultMemoryBytes).
func NewMemoryStore(maxBytes int64) *MemoryStore {
	if maxBytes <= 0 {
		maxBytes = DefaultMemoryBytes
	}
	// The LRU's own count bound is never reached: the byte budget evicts
	// first. NewLRU fails only for a size <= 0.
	lru, _ := simplelru.NewLRU[string, memoryEntry](math.MaxInt, nil)
	return &MemoryStore{maxBytes: maxBytes, lru: lru}
}

func (s *MemoryStore) now() time.Time {
	if s.Clock != nil {
		return s.Clock()
	}
	return time.Now()
}

func entrySize(key string, value []byte) int64 {
	return int64(len(key)) + int64(len(value)) + MemoryEntryOverhead
}

// Get returns the value stored under key and marks it recently used, or
// (nil, nil) when there is none or it has expired (an expired entry is
// removed). An entry stored with an empty value is returned as a non-nil
// empty slice. After Close it returns ErrStoreClosed.
func (s *MemoryStore) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrStoreClosed
	}
	e, ok := s.lru.Get(key)
	if !ok {
		return nil, nil
	}
	if !e.expires.IsZero() && !s.now().Before(e.expires) {
		s.remove(key)
		return nil, nil
	}
	return e.value, nil
}

// Set stores value under key for ttl (ttl <= 0: until evicted), evicting
// least-recently-used entries until it fits. An entry larger than the whole
// budget is not stored and Set returns ErrValueTooLarge. After Close it
// returns ErrStoreClosed.
func (s *MemoryStore) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if value == nil {
		value = []byte{} // present, empty: Get must not answer (nil, nil)
	}
	e := memoryEntry{value: value}
	if ttl > 0 {
		e.expires = s.now().Add(ttl)
	}
	size := entrySize(key, value)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	if size > s.maxBytes {
		s.remove(key)
		return ErrValueTooLarge
	}
	// Add first (in place for an existing key, so an overwrite allocates
	// nothing), then evict from the old end: the new entry, at the front
	// and within the budget on its own, is never among the evicted. Nobody
	// sees the moment in between, under the lock.
	if old, ok := s.lru.Peek(key); ok {
		s.bytes -= entrySize(key, old.value)
	}
	s.lru.Add(key, e)
	s.bytes += size
	for s.bytes > s.maxBytes {
		k, old, _ := s.lru.RemoveOldest()
		s.bytes -= entrySize(k, old.value)
	}
	return nil
}

// Delete removes key; deleting an absent key is not an error. After Close
// it returns ErrStoreClosed.
func (s *MemoryStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	s.remove(key)
	return nil
}

// remove drops key and its bytes; s.mu is held.
func (s *MemoryStore) remove(key string) {
	if old, ok := s.lru.Peek(key); ok {
		s.lru.Remove(key)
		s.bytes -= entrySize(key, old.value)
	}
}

// Len returns the number of entries held, expired ones not yet removed
// included.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0
	}
	return s.lru.Len()
}

// Bytes returns the sum of len(key) + len(value) + MemoryEntryOverhead over
// the entries held: never above the budget.
func (s *MemoryStore) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// MaxBytes returns the store's budget.
func (s *MemoryStore) MaxBytes() int64 { return s.maxBytes }

// Close drops every entry. Later Get, Set and Delete calls return
// ErrStoreClosed; Len and Bytes report 0. Close is idempotent and always
// returns nil.
func (s *MemoryStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		// Dropping the LRU rather than purging it also frees its map,
		// which never shrinks.
		s.closed, s.lru, s.bytes = true, nil, 0
	}
	return nil
}

var (
	_ Store      = (*MemoryStore)(nil)
	_ StoreStats = (*MemoryStore)(nil)
	_ io.Closer  = (*MemoryStore)(nil)
)
