package cache

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
)

// gatedStore is a memory store behind another type (so the cache treats it
// as remote) whose Set waits until the test lets it through.
type gatedStore struct {
	*MemoryStore
	gate chan struct{}
	sets atomic.Int32
}

func (s *gatedStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	<-s.gate
	s.sets.Add(1)
	return s.MemoryStore.Set(ctx, key, value, ttl)
}

// Over a remote store, the caller's last Read returns before the entry is
// stored; Flush waits for it, and the next call is a hit.
func TestEntryIsStoredAfterTheCallersLastRead(t *testing.T) {
	store := &gatedStore{MemoryStore: NewMemoryStore(1 << 20), gate: make(chan struct{})}
	c, fake, gw := newStack(t, Config{Store: store})
	r := do(t, gw, chatURL, chatBody) // reads the body to its end: would block on the gate inline
	assert.Equal(t, "MISS", r.header.Get(aigateway.HeaderCache))
	assert.Equal(t, int64(1), c.Stats().Storing, "the entry waits in the queue")
	assert.Equal(t, int32(0), store.sets.Load())

	close(store.gate)
	require.NoError(t, c.Flush(context.Background()))
	assert.Equal(t, int64(0), c.Stats().Storing)
	hit := do(t, gw, chatURL, chatBody)
	assert.Equal(t, "HIT", hit.header.Get(aigateway.HeaderCache))
	assert.Equal(t, r.body, hit.body)
	assert.Equal(t, 1, fake.Count())
}

// A caller coalesced onto a call in flight still gets its answer when the
// entry is stored from the queue, and the Gateway's Close waits for the
// entries still queued.
func TestQueuedStoreWakesFollowersAndCloseDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &gatedStore{MemoryStore: NewMemoryStore(1 << 20), gate: make(chan struct{})}
		fake := llmtest.NewTransport()
		c := New(Config{Store: store})
		gw, err := aigateway.New(fake, c)
		require.NoError(t, err)

		leader := do(t, gw, chatURL, chatBody) // completed; its entry is queued
		follower := make(chan result, 1)
		go func() { follower <- do(t, gw, chatURL, chatBody) }()
		synctest.Wait()
		assert.Equal(t, int64(1), c.Stats().Waiting, "the second call waits for the first one's entry")

		closed := make(chan error, 1)
		go func() { closed <- gw.Close() }()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned with an entry still queued")
		default:
		}
		close(store.gate)
		require.NoError(t, <-closed)
		f := <-follower
		assert.Equal(t, "COALESCED", f.header.Get(aigateway.HeaderCache))
		assert.Equal(t, leader.body, f.body)
		assert.Equal(t, 1, fake.Count())
		assert.Equal(t, int32(1), store.sets.Load())
	})
}

// Entries beyond the queue's byte bound are stored inline: the queue never
// holds more than StoreQueueBytes of answers, and none is lost.
func TestEntriesBeyondTheQueuesBytesAreStoredInline(t *testing.T) {
	store := &gatedStore{MemoryStore: NewMemoryStore(1 << 20), gate: make(chan struct{}, 1)}
	c, _, gw := newStack(t, Config{Store: store})
	c.queued.Store(StoreQueueBytes) // as if the queue were full of large answers
	store.gate <- struct{}{}        // this one Set may pass at once
	do(t, gw, chatURL, chatBody)
	assert.Equal(t, int32(1), store.sets.Load(), "stored before the caller's Read returned")
	assert.Equal(t, int64(1), c.Stats().StoredInline)
	assert.Equal(t, int64(StoreQueueBytes), c.queued.Load(), "the inline entry took no room in the queue")
	close(store.gate)
}
