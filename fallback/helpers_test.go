package fallback

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	primaryURL = "http://primary.test"
	backupURL  = "http://backup.test"
	chatPath   = "/v1/chat/completions"
	chatBody   = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}`
	streamBody = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello"}]}`
	claudeBody = `{"model":"claude-haiku-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Say hello"}]}`
	callerKey  = "sk-caller"
	backupKey  = "sk-backup"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// hosts sends each request to the fake of its host; an unknown host is
// refused like a closed port.
type hosts map[string]http.RoundTripper

var errRefused = errors.New("dial tcp: connection refused")

func (h hosts) RoundTrip(r *http.Request) (*http.Response, error) {
	if rt, ok := h[r.URL.Host]; ok {
		return rt.RoundTrip(r)
	}
	if r.Body != nil {
		r.Body.Close()
	}
	return nil, errRefused
}

// sleeps records the router's waits instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// rig is a primary and a backup fake behind a Router.
type rig struct {
	primary, backup *llmtest.Transport
	router          *Router
	rt              http.RoundTripper
	sleeps          *sleeps
	clock           *clock
}

// backupTarget re-addresses the call to the backup fake with its own key
// and model.
var backupTarget = Target{Name: "backup", Provider: provider.OpenAI, BaseURL: backupURL + "/v1", APIKey: backupKey, Model: "gpt-backup", Priority: 1}

// newRig builds a rig; a Config without targets gets primary (the request
// as sent) then backup. With gateway the router sits in an aigateway.New
// stack, else it is used alone.
func newRig(t *testing.T, cfg Config, gateway bool) *rig {
	t.Helper()
	g := &rig{
		primary: llmtest.NewTransport(llmtest.WithAPIKey(callerKey)),
		backup:  llmtest.NewTransport(llmtest.WithAPIKey(backupKey)),
		sleeps:  &sleeps{},
		clock:   newClock(),
	}
	if cfg.Targets == nil {
		cfg.Targets = []Target{{Name: "primary"}, backupTarget}
	}
	if cfg.Sleep == nil {
		cfg.Sleep = g.sleeps.sleep
	}
	if cfg.Now == nil {
		cfg.Now = g.clock.now
	}
	g.router = New(cfg)
	base := hosts{"primary.test": g.primary, "backup.test": g.backup}
	if gateway {
		gw := mustNew(t, base, g.router)
		t.Cleanup(func() { assert.NoError(t, gw.Close()) })
		g.rt = gw
	} else {
		g.rt = g.router.Wrap(base)
	}
	t.Cleanup(func() {
		g.primary.Close()
		g.backup.Close()
		assert.Zero(t, g.primary.OpenBodies(), "every primary body closed")
		assert.Zero(t, g.backup.OpenBodies(), "every backup body closed")
	})
	return g
}

// result is what a caller saw.
type result struct {
	status int
	header http.Header
	body   string
	err    error // of reading the body
	call   *aigateway.Call
}

func (g *rig) do(t *testing.T, ctx context.Context, body string) result {
	t.Helper()
	resp, call, err := g.send(ctx, body, nil)
	require.NoError(t, err)
	b, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	return result{status: resp.StatusCode, header: resp.Header, body: string(b), err: rerr, call: call}
}

func (g *rig) send(ctx context.Context, body string, header http.Header) (*http.Response, *aigateway.Call, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, tr := aigateway.Track(ctx)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, primaryURL+chatPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+callerKey)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := g.rt.RoundTrip(req)
	var call *aigateway.Call
	if calls := tr.Calls(); len(calls) > 0 {
		call = calls[0]
	}
	return resp, call, err
}

// targets lists the targets of a call's attempts.
func targets(c *aigateway.Call) []string {
	var out []string
	for _, a := range c.Result().AttemptLog {
		out = append(out, a.Target)
	}
	return out
}

// mustNew builds a Gateway, failing the test on a configuration error.
func mustNew(tb testing.TB, base http.RoundTripper, layers ...aigateway.Middleware) *aigateway.Gateway {
	tb.Helper()
	g, err := aigateway.New(base, layers...)
	require.NoError(tb, err)
	return g
}
