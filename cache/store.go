package cache

import (
	"context"
	"time"
)

// Store keeps encoded cache entries. Implementations must be safe for
// concurrent use. The cache treats every Store error as a miss (the call
// goes upstream) and counts it in Stats; a Store never sees a secret.
//
// NewMemoryStore is the in-process implementation; every implementation
// passes the conformance suite in package storetest.
type Store interface {
	// Get returns the value stored under key, or (nil, nil) when there is
	// none or it has expired. The returned slice must not be modified by
	// the caller, and the store must not modify it after returning it.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl (ttl > 0). The store may keep
	// value without copying it: the caller does not modify it after.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}

// StoreStats is implemented by stores that can report their size.
type StoreStats interface {
	// Len is the number of entries held (expired ones not yet evicted
	// included).
	Len() int
	// Bytes is the memory the entries take by the store's own accounting:
	// never above its budget.
	Bytes() int64
}
