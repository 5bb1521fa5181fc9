package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aigateway-go/aigateway/cache"
)

// DefaultMaxValueBytes bounds a cache value when Options.MaxValueBytes is
// zero: room for every entry the cache layer makes with its own default
// bound (cache.DefaultMaxEntryBytes of body, plus the entry's kept headers
// and trailer, well under the extra MiB), and not much more. Redis runs
// commands one at a time, so a value of many MiB holds up every replica's
// commands while it is copied, and at 1 Gbit/s 5 MiB take some 40 ms to
// send, close to DefaultTimeout; Redis itself would take up to 512 MB
// (proto-max-bulk-len).
const DefaultMaxValueBytes = cache.DefaultMaxEntryBytes + 1<<20

// ErrValueTooLarge is returned by Cache.Set for a value longer than
// Options.MaxValueBytes. The value is not sent; an entry already stored
// under the key is deleted, so a later Get misses instead of returning the
// answer the caller meant to replace.
var ErrValueTooLarge = errors.New("redisstore: cache value larger than Options.MaxValueBytes")

// errNoTTL: the cache.Store contract asks for ttl > 0, and an entry with no
// expiry would stay in a shared Redis for good.
var errNoTTL = errors.New("redisstore: a cache entry needs a positive TTL")

// Cache is a cache.Store in Redis, shared by every replica that uses the
// same server and Options.Prefix: an answer one replica stored is a hit on
// the others. Make one with NewCache and give it to cache.Config.Store.
//
// Each Get, Set and Delete is one command, one round trip: GET, SET with PX
// (the TTL rounded up to a whole millisecond, so never 0), DEL. The key is
// Options.Prefix followed by the key the cache layer gives, which is
// already a SHA-256 digest of the request and of the caller's credentials
// (hashed with it, never in clear); the store adds nothing else to it. Values
// are stored as the cache layer encodes them, byte for byte; one longer
// than Options.MaxValueBytes is refused with ErrValueTooLarge before it is
// sent. Every entry expires with its TTL; under Redis's maxmemory, its
// eviction policy decides what else goes (a Redis that also holds the
// limiter's counters should not evict those: give the cache its own
// database or server if memory is tight).
//
// Every operation is bounded by Options.Timeout, whatever the client's own
// settings. A client built with ContextTimeoutEnabled stops at the bound by
// itself, and the store runs its commands on the caller's goroutine: build
// it so (redis.Options, ClusterOptions, RingOptions, UniversalOptions). Any
// other client leaves a command's socket reads to its own ReadTimeout (3 s
// by default, or none), so the store runs each command on a goroutine of
// its own and stops waiting for it when the bound passes; the goroutine
// ends when Redis answers or the client gives up. That costs a round trip
// about twice its time on loopback (a goroutine to start and one more to
// wake).
//
// A failed operation returns ErrTimeout, ErrUnavailable or an error
// wrapping ErrRedis, never go-redis's own error (which names the address),
// and counts in Stats; when the caller's context ended, the error also
// wraps the context's error. The store logs nothing
// (go-redis's own logger, which redis.SetLogger replaces, does print dial
// failures with the address). The cache layer takes any error as a miss,
// or an answer left unstored, and the store recovers by itself when the
// client reconnects. A Redis that is slow costs a call at most
// Options.Timeout per operation: a miss is two look-ups (the cache layer
// looks once more when it starts the upstream call) and, once the answer
// is complete, a store; a hit is one look-up.
//
// Coalescing is per process only: the cache layer makes identical calls
// in flight in one process wait for one upstream call, but replicas that
// miss the same key at the same moment each go upstream, and the last
// answer stored wins (each a complete answer to the same request).
//
// Cache does not implement cache.StoreStats: an entry count and a size in
// bytes would need a SCAN of the whole keyspace (DBSIZE counts every key in
// the database, not only the cache's) on each cache.Stats call, with no
// context to bound it. Redis reports them itself (INFO keyspace, MEMORY
// USAGE). Nor does it implement io.Closer: the client is the caller's to
// close.
//
// Under Redis Cluster, every command names one key, so entries spread over
// the slots; a Prefix holding a {hash tag} would put them all on one node.
//
// A Cache is safe for concurrent use.
type Cache struct {
	c        *conn
	maxValue int
}

// NewCache returns a cache.Store keeping its entries in Redis through
// client (a single node, Sentinel or Cluster client), configured by opts.
func NewCache(client redis.UniversalClient, opts Options) *Cache {
	maxValue := opts.MaxValueBytes
	if maxValue <= 0 {
		maxValue = DefaultMaxValueBytes
	}
	return &Cache{c: newConn(client, opts), maxValue: maxValue}
}

// Stats returns the store's counters: every failed Get, Set and Delete is
// an error (a value refused as too large, or a TTL that is not positive,
// too), those that ran out of Options.Timeout are also timeouts.
func (s *Cache) Stats() Stats { return s.c.stats() }

// Get returns the value stored under key, or (nil, nil) when there is none
// or it has expired. An empty value comes back as a non-nil empty slice.
func (s *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	k := s.c.prefix + key
	var val []byte
	err := s.run(ctx, func(ctx context.Context) error {
		v, err := s.c.rdb.Get(ctx, k).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		val = v
		return err
	})
	if err != nil {
		return nil, err
	}
	return val, nil
}

// Set stores value under key for ttl (SET PX, ttl rounded up to a whole
// millisecond). A value longer than Options.MaxValueBytes is not sent:
// Set deletes the key instead and returns ErrValueTooLarge. A ttl that is
// not positive is an error: an entry in Redis must expire.
func (s *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		s.c.errors.Add(1)
		return errNoTTL
	}
	if len(value) > s.maxValue {
		s.c.errors.Add(1)
		// The caller meant to replace what the key holds: do not let a
		// later Get return the old answer (the memory store does the
		// same). Delete counts its own failure.
		_ = s.Delete(ctx, key)
		return ErrValueTooLarge
	}
	ms := int64(ttl / time.Millisecond)
	if ttl%time.Millisecond != 0 {
		ms++
	}
	k := s.c.prefix + key
	return s.run(ctx, func(ctx context.Context) error {
		cmd := redis.NewStatusCmd(ctx, "set", k, value, "px", ms)
		_ = s.c.rdb.Process(ctx, cmd)
		return cmd.Err()
	})
}

// Delete removes key; deleting an absent key is not an error.
func (s *Cache) Delete(ctx context.Context, key string) error {
	k := s.c.prefix + key
	return s.run(ctx, func(ctx context.Context) error {
		return s.c.rdb.Del(ctx, k).Err()
	})
}

// run runs op with a context bounded by Options.Timeout, and returns when
// op does or when the bound passes, whichever comes first (see conn.await).
// A context that has already ended makes no round trip.
func (s *Cache) run(ctx context.Context, op func(context.Context) error) error {
	bctx, cancel := s.c.opts.bounded(ctx)
	defer cancel()
	if err := s.c.await(bctx, func() error { return op(bctx) }); err != nil {
		return s.c.failed(ctx, err)
	}
	return nil
}

var _ cache.Store = (*Cache)(nil)
