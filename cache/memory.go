package cache

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// DefaultMemoryBytes is the budget NewMemoryStore uses for maxBytes <= 0.
const DefaultMemoryBytes = 64 << 20

// MemoryEntryOverhead is what a MemoryStore counts for each entry on top of
// len(key) + len(value): an estimate, on 64-bit platforms, of its list
// node (96 bytes) and the map slot that points to it (with the map's
// growth slack), rounded up. It keeps a store full of tiny entries from
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
// A Cache over a MemoryStore keeps, with each entry it has read, the entry
// as it decoded it, so its next hits on that entry do not decode it again;
// the store counts that in its bytes too.
//
// A MemoryStore is safe for concurrent use.
type MemoryStore struct {
	// Clock replaces time.Now when set, for tests. Set it before the store
	// is first used.
	Clock func() time.Time

	maxBytes int64

	mu     sync.Mutex
	items  map[string]*memoryNode
	order  memoryNode  // the list's ends: order.next is the most recently used, order.prev the least
	spare  *memoryNode // an evicted node, for the next new key: a full store's Set allocates no node
	bytes  int64
	closed bool
}

// memoryNode is one entry, in the list of entries by use.
type memoryNode struct {
	key     string
	value   []byte
	expires time.Time // zero: never
	// decoded is value as the cache reads it, kept by the cache's first
	// look-up of it (see getEntry); decodedSize is what it adds to the
	// store's bytes.
	decoded     *entry
	decodedSize int64
	prev, next  *memoryNode
}

// NewMemoryStore returns an empty store holding at most maxBytes by its own
// accounting (maxBytes <= 0: DefaultMemoryBytes).
func NewMemoryStore(maxBytes int64) *MemoryStore {
	if maxBytes <= 0 {
		maxBytes = DefaultMemoryBytes
	}
	s := &MemoryStore{maxBytes: maxBytes, items: make(map[string]*memoryNode)}
	s.order.prev, s.order.next = &s.order, &s.order
	return s
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
	return s.use(s.items[key]), nil
}

// getEntry is the cache's look-up: the entry stored under key (given as
// bytes: no key string is made), decoded. The first look-up of an entry
// decodes it, under the lock, and keeps what it decoded with it, counted
// in the store's bytes (see entry.decodedSize), evicting others as Set
// does; the later ones return that same entry, shared: nobody may modify
// it (a replay copies its header). An entry that would not fit the budget
// with its decoded form is decoded for each look-up, and not shared.
func (s *MemoryStore) getEntry(key []byte) (e *entry, shared bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false, ErrStoreClosed
	}
	n := s.items[string(key)]
	data := s.use(n)
	if data == nil {
		return nil, false, nil
	}
	if n.decoded != nil {
		return n.decoded, true, nil
	}
	if e, err = decodeEntry(data); err != nil {
		return nil, false, err
	}
	size := e.decodedSize()
	if entrySize(n.key, n.value)+size > s.maxBytes {
		return e, false, nil
	}
	n.decoded, n.decodedSize = e, size
	s.bytes += size
	for s.bytes > s.maxBytes { // n, the most recently used, fits on its own: it stays
		s.remove(s.order.prev)
	}
	return e, true, nil
}

// use returns n's value and marks it recently used, or nil for no entry or
// an expired one (removed); s.mu is held.
func (s *MemoryStore) use(n *memoryNode) []byte {
	if n == nil {
		return nil
	}
	if !n.expires.IsZero() && !s.now().Before(n.expires) {
		s.remove(n)
		return nil
	}
	n.unlink()
	s.pushFront(n)
	return n.value
}

// Set stores value under key for ttl (ttl <= 0: until evicted), evicting
// least-recently-used entries until it fits. An entry larger than the whole
// budget is not stored and Set returns ErrValueTooLarge. After Close it
// returns ErrStoreClosed.
func (s *MemoryStore) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if value == nil {
		value = []byte{} // present, empty: Get must not answer (nil, nil)
	}
	var expires time.Time
	if ttl > 0 {
		expires = s.now().Add(ttl)
	}
	size := entrySize(key, value)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	n := s.items[key]
	if size > s.maxBytes {
		if n != nil {
			s.remove(n)
		}
		return ErrValueTooLarge
	}
	// Add first (in place for an existing key, so an overwrite allocates
	// nothing), then evict from the old end: the new entry, at the front
	// and within the budget on its own, is never among the evicted. Nobody
	// sees the moment in between, under the lock.
	if n != nil {
		s.bytes -= entrySize(key, n.value) + n.decodedSize
		n.decoded, n.decodedSize = nil, 0
		n.unlink()
	} else {
		n, s.spare = s.spare, nil
		if n == nil {
			n = new(memoryNode)
		}
		n.key = key
		s.items[key] = n
	}
	n.value, n.expires = value, expires
	s.pushFront(n)
	s.bytes += size
	for s.bytes > s.maxBytes {
		s.remove(s.order.prev)
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
	if n := s.items[key]; n != nil {
		s.remove(n)
	}
	return nil
}

// remove drops n and its bytes, and keeps the node for the next new key;
// s.mu is held.
func (s *MemoryStore) remove(n *memoryNode) {
	delete(s.items, n.key)
	n.unlink()
	s.bytes -= entrySize(n.key, n.value) + n.decodedSize
	*n = memoryNode{} // nor does it keep the value alive
	s.spare = n
}

// pushFront makes n the most recently used; s.mu is held.
func (s *MemoryStore) pushFront(n *memoryNode) {
	n.prev, n.next = &s.order, s.order.next
	n.next.prev = n
	s.order.next = n
}

func (n *memoryNode) unlink() {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
}

// Len returns the number of entries held, expired ones not yet removed
// included.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// Bytes returns the sum of len(key) + len(value) + MemoryEntryOverhead over
// the entries held, plus an estimate of the decoded form kept with each
// entry a Cache has read (see Cache): never above the budget.
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
		// Dropping the map rather than emptying it also frees its
		// buckets, which never shrink.
		s.closed, s.items, s.spare, s.bytes = true, nil, nil, 0
		s.order.prev, s.order.next = &s.order, &s.order
	}
	return nil
}

var (
	_ Store      = (*MemoryStore)(nil)
	_ StoreStats = (*MemoryStore)(nil)
	_ io.Closer  = (*MemoryStore)(nil)
)
