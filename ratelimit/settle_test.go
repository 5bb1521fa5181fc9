package ratelimit

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
)

// remoteStore is a memory store behind another type (so the limiter treats
// it as remote), whose Adjust waits until the test lets it through and
// records the instant it was given.
type remoteStore struct {
	*MemoryStore
	gate chan struct{} // each Adjust waits for a value or the close of it

	mu  sync.Mutex
	ats []time.Time
}

func (s *remoteStore) Adjust(ctx context.Context, now time.Time, takes []Take) error {
	<-s.gate
	s.mu.Lock()
	s.ats = append(s.ats, now)
	s.mu.Unlock()
	return s.MemoryStore.Adjust(ctx, now, takes)
}

// Over a remote store, a stream's last Read returns before the settlement
// reaches the store; the settlement then lands stamped with the instant
// the call completed, so the counter ends as an inline settlement leaves
// it. Flush waits for it.
func TestSettlementRunsAfterTheCallersLastRead(t *testing.T) {
	clk := newClock()
	store := &remoteStore{MemoryStore: NewMemoryStore(0), gate: make(chan struct{})}
	rules := []Rule{{Name: "t", Tokens: 1000, Per: time.Hour}}
	l, fake, gw := stack(t, withClock(Config{Store: store, Rules: rules}, clk),
		llmtest.WithUsage(llmtest.Usage{InputTokens: 40, OutputTokens: 10}))

	req, err := http.NewRequest(http.MethodPost, chatURL, strings.NewReader(`{"model":"gpt-4o-mini","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	require.NoError(t, err)
	resp, err := gw.RoundTrip(req)
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body) // would block on the gate if settlement ran inline
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, 1, fake.Count())
	completed := clk.Now()

	assert.Equal(t, int64(1), l.Stats().Settling, "the settlement waits in the queue")
	reserved := status(t, l, "t").Remaining
	assert.Less(t, reserved, int64(950), "before settling, the counter holds the reservation (input estimate plus max_tokens)")

	clk.Advance(time.Minute) // the worker runs later than the call completed
	close(store.gate)
	require.NoError(t, l.Flush(context.Background()))
	assert.Equal(t, Stats{Admitted: 1}, l.Stats())
	store.mu.Lock()
	assert.Equal(t, []time.Time{completed}, store.ats, "stamped when the call completed, not when the queue ran it")
	store.mu.Unlock()

	// The same call settled inline on a memory store at the same instants
	// leaves the same counter.
	inline := NewMemoryStore(0)
	clk2 := newClock()
	require.Equal(t, completed, clk2.Now())
	l2, _, gw2 := stack(t, withClock(Config{Store: inline, Rules: rules}, clk2),
		llmtest.WithUsage(llmtest.Usage{InputTokens: 40, OutputTokens: 10}))
	do(t, gw2, request{url: chatURL, body: `{"model":"gpt-4o-mini","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}`})
	clk2.Advance(time.Minute)
	assert.Equal(t, status(t, l2, "t"), status(t, l, "t"))
	assert.Equal(t, int64(950+16), status(t, l, "t").Remaining,
		"charged what the call used (40 in, 10 out), then a minute's refill at 1000 an hour")
}

// A Gateway's Close waits for the settlements still queued: a service
// that shuts down does not lose what its last calls used.
func TestGatewayCloseDrainsSettlements(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &remoteStore{MemoryStore: NewMemoryStore(0), gate: make(chan struct{})}
		fake := llmtest.NewTransport(llmtest.WithUsage(llmtest.Usage{InputTokens: 40, OutputTokens: 10}))
		l := New(Config{Store: store, Rules: []Rule{{Name: "t", Tokens: 1000, Per: time.Hour}}})
		gw, err := aigateway.New(fake, l)
		require.NoError(t, err)
		do(t, gw, chat())
		closed := make(chan error, 1)
		go func() { closed <- gw.Close() }()
		synctest.Wait() // Close and the settlement are both blocked now
		select {
		case <-closed:
			t.Fatal("Close returned with a settlement still queued")
		default:
		}
		close(store.gate)
		require.NoError(t, <-closed)
		assert.Equal(t, int64(0), l.Stats().Settling)
		assert.Equal(t, int64(950), status(t, l, "t").Remaining)
	})
}

// Over a remote store, queueing a call's settlement costs it three
// allocations more than settling inline on the memory store: the context
// that outlives the request's, and here, where Flush empties the queue
// after every call, a worker's start and Flush's wait. The admission
// settles itself (no closure) from its own takes (no copy): with those,
// five.
func TestQueuedSettlementAllocatesNoClosureNorCopy(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items at random: allocation counts vary")
	}
	rules := []Rule{{Name: "t", Tokens: 1 << 50, Per: time.Hour}}
	remote := &remoteStore{MemoryStore: NewMemoryStore(0), gate: make(chan struct{})}
	close(remote.gate)
	usage := llmtest.WithUsage(llmtest.Usage{InputTokens: 40, OutputTokens: 10})
	lr, _, queued := stack(t, Config{Store: remote, Rules: rules}, usage)
	li, _, inline := stack(t, Config{Rules: rules}, usage)
	body := []byte(`{"model":"gpt-4o-mini","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`)
	call := func(rt http.RoundTripper, l *Limiter) func() {
		return func() {
			req, _ := http.NewRequest(http.MethodPost, chatURL, bytes.NewReader(body))
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err := l.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	extra := testing.AllocsPerRun(100, call(queued, lr)) - testing.AllocsPerRun(100, call(inline, li))
	t.Logf("a queued settlement costs %.0f allocations more", extra)
	assert.LessOrEqual(t, extra, 3.0)
}
