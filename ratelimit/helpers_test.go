package ratelimit

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

const (
	chatURL     = llmtest.TransportURL + "/v1/chat/completions"
	messagesURL = llmtest.TransportURL + "/v1/messages"
	geminiURL   = llmtest.TransportURL + "/v1beta/models/gemini-2.0-flash:generateContent"

	chatBody     = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}`
	messagesBody = `{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{"role":"user","content":"Say hello"}]}`
	geminiBody   = `{"contents":[{"role":"user","parts":[{"text":"Say hello"}]}]}`
)

// promptEstimate is the Call's estimate of body's input tokens.
func promptEstimate(body string) int64 { return int64(len(body)+3) / 4 }

// clock is a fake time: Now reads it, Sleep advances it at once and
// records the wait.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	return nil
}

func (c *clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// withClock puts the clock in cfg.
func withClock(cfg Config, c *clock) Config {
	cfg.Now, cfg.Sleep = c.Now, c.Sleep
	return cfg
}

type result struct {
	status int
	header http.Header
	body   string
	call   aigateway.Result
}

// request is one call to send.
type request struct {
	url, body string
	ctx       context.Context
	header    []string // name, value pairs
	meta      []string // metadata key, value pairs
}

func chat(meta ...string) request { return request{url: chatURL, body: chatBody, meta: meta} }

// do sends r through rt and reads the whole answer.
func do(t *testing.T, rt http.RoundTripper, r request) result {
	t.Helper()
	ctx := r.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	for i := 0; i+1 < len(r.meta); i += 2 {
		ctx = aigateway.WithMetadata(ctx, r.meta[i], r.meta[i+1])
	}
	ctx, tr := aigateway.Track(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, strings.NewReader(r.body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-tenant-a")
	req.Header.Set("anthropic-version", "2023-06-01")
	for i := 0; i+1 < len(r.header); i += 2 {
		req.Header.Set(r.header[i], r.header[i+1])
	}
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	call := tr.Last()
	require.NotNil(t, call)
	<-call.Done()
	return result{status: resp.StatusCode, header: resp.Header, body: string(b), call: call.Result()}
}

// stack is a fake upstream behind a Gateway with one limiter.
func stack(t *testing.T, cfg Config, opts ...llmtest.Option) (*Limiter, *llmtest.Transport, *aigateway.Gateway) {
	t.Helper()
	fake := llmtest.NewTransport(opts...)
	l := New(cfg)
	gw := mustNew(t, fake, l)
	t.Cleanup(func() {
		assert.NoError(t, gw.Close())
		assert.Zero(t, fake.OpenBodies(), "every upstream body is closed")
	})
	return l, fake, gw
}

// status reads a rule's Status, failing the test on an error.
func status(t *testing.T, l *Limiter, rule string, key ...string) Status {
	t.Helper()
	s, err := l.Status(context.Background(), rule, key...)
	require.NoError(t, err)
	return s
}

// assertRefused checks a limiter's 429.
func assertRefused(t *testing.T, r result, rule, retryAfter string) {
	t.Helper()
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "false", r.header.Get("X-Should-Retry"))
	assert.Equal(t, retryAfter, r.header.Get("Retry-After"))
	assert.Equal(t, rule, r.header.Get(HeaderRule))
	assert.Contains(t, r.body, `rate limit \"`+rule+`\"`)
	assert.Zero(t, r.call.Attempts, "nothing went upstream")
	assert.Equal(t, http.StatusTooManyRequests, r.call.Status)
	assert.ErrorIs(t, r.call.Err, ErrLimited)
	var pe *provider.Error
	if assert.ErrorAs(t, r.call.Err, &pe) {
		assert.Contains(t, pe.Message, `rate limit "`+rule+`"`)
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// mustNew builds a Gateway, failing the test on a configuration error.
func mustNew(tb testing.TB, base http.RoundTripper, layers ...aigateway.Middleware) *aigateway.Gateway {
	tb.Helper()
	g, err := aigateway.New(base, layers...)
	require.NoError(tb, err)
	return g
}
