package cache

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/llmtest"
)

// remoteMemory is a memory store behind another type: the cache treats it
// as remote and stores through its queue.
type remoteMemory struct{ *MemoryStore }

// Over a remote store, queueing a miss's store costs the call three
// allocations more than storing inline in the memory store: the context
// that outlives the request's, and here, where Flush empties the queue
// after every call, a worker's start and Flush's wait. The fill stores
// itself (no closure): with one, four.
func TestQueuedStoreAllocatesNoClosure(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items at random: allocation counts vary")
	}
	fake := llmtest.NewTransport()
	remote, local := New(Config{Store: remoteMemory{NewMemoryStore(0)}}), New(Config{})
	t.Cleanup(func() { remote.Close(); local.Close() })
	queued, inline := mustNew(t, fake, remote), mustNew(t, fake, local)
	n := 0
	call := func(rt http.RoundTripper, c *Cache) func() {
		return func() {
			n++ // a new request each time: a miss
			body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi ` + strconv.Itoa(n) + `"}]}`)
			req, _ := http.NewRequest(http.MethodPost, chatURL, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer sk-tenant-a")
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			require.NoError(t, c.Flush(context.Background()))
		}
	}
	extra := testing.AllocsPerRun(100, call(queued, remote)) - testing.AllocsPerRun(100, call(inline, local))
	t.Logf("a queued store costs %.0f allocations more", extra)
	assert.LessOrEqual(t, extra, 3.0)
	assert.Equal(t, remote.Stats().Misses, local.Stats().Misses)
}
