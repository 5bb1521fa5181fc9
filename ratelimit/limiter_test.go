package ratelimit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

func TestRequestsRule(t *testing.T) {
	clk := newClock()
	l, fake, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "rpm", Requests: 3, Per: time.Minute}}}, clk))

	for i := range 3 {
		r := do(t, gw, chat())
		require.Equal(t, http.StatusOK, r.status, "call %d", i)
		assert.Equal(t, int64(2-i), status(t, l, "rpm").Remaining)
	}
	r := do(t, gw, chat())
	assertRefused(t, r, "rpm", "20")
	assert.Equal(t, "20000", r.header.Get("Retry-After-Ms"), "one request refills every 20s")
	assert.Contains(t, r.body, "3 requests per minute) exceeded; retry after 20s", "the message says what the header says")
	assert.Equal(t, 3, fake.Count())

	clk.Advance(19 * time.Second)
	assertRefused(t, do(t, gw, chat()), "rpm", "1")
	clk.Advance(time.Second)
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status, "admitted when Retry-After said")
	assert.Equal(t, 4, fake.Count())
	assert.Equal(t, Stats{Admitted: 4, Refused: 2}, l.Stats())
}

func TestBurst(t *testing.T) {
	clk := newClock()
	_, fake, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "r", Requests: 60, Per: time.Minute, Burst: 2}}}, clk))
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status)
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status)
	assertRefused(t, do(t, gw, chat()), "r", "1")
	assert.Equal(t, 2, fake.Count(), "60 a minute, but no more than 2 at once")
}

// The 429 has each provider's own error shape, so its SDK parses it.
func TestRefusalShapes(t *testing.T) {
	for _, tc := range []struct {
		name, url, body string
		want            []string
	}{
		{"openai", chatURL, chatBody, []string{`{"error":{"message":"aigateway: rate limit \"one\"`, `"type":"requests"`, `"code":"rate_limit_exceeded"`}},
		{"anthropic", messagesURL, messagesBody, []string{`{"type":"error","error":{"type":"rate_limit_error"`, `"error_code":"rate_limit_exceeded"`}},
		{"gemini", geminiURL, geminiBody, []string{`{"error":{"code":429,`, `"status":"RESOURCE_EXHAUSTED"`, `"reason":"rate_limit_exceeded"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "one", Requests: 1, Per: time.Hour}}}, newClock()))
			require.Equal(t, http.StatusOK, do(t, gw, request{url: tc.url, body: tc.body}).status)
			r := do(t, gw, request{url: tc.url, body: tc.body})
			assertRefused(t, r, "one", "3600")
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			for _, w := range tc.want {
				assert.Contains(t, r.body, w)
			}
			assert.True(t, json.Valid([]byte(r.body)))
		})
	}
}

// A limiter works alone, around any transport, and its refusal completes
// the Call it prepared.
func TestAlone(t *testing.T) {
	fake := llmtest.NewTransport()
	l := New(withClock(Config{Rules: []Rule{{Name: "one", Requests: 1, Per: time.Hour}}}, newClock()))
	client := &http.Client{Transport: l.Wrap(fake)}
	assert.Equal(t, http.StatusOK, do(t, client.Transport, chat()).status)
	r := do(t, client.Transport, chat())
	assertRefused(t, r, "one", "3600")
	assert.Error(t, r.call.Err, "the Call records the refusal")
	assert.Equal(t, 1, fake.Count())
	assert.Zero(t, fake.OpenBodies())
}

func TestTokensReserveThenSettle(t *testing.T) {
	clk := newClock()
	usage := llmtest.Usage{InputTokens: 100, OutputTokens: 50}
	gate := llmtest.NewGate()
	l, fake, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "tpm", Tokens: 10_000, Per: time.Minute}}}, clk), llmtest.WithUsage(usage))
	body := `{"model":"gpt-4o-mini","max_tokens":2000,"messages":[{"role":"user","content":"Say hello"}]}`

	fake.Push(llmtest.Hold(gate))
	done := make(chan result)
	go func() { done <- do(t, gw, request{url: chatURL, body: body}) }()
	require.Eventually(t, func() bool { return gate.Waiting() > 0 }, 10*time.Second, time.Millisecond)
	inFlight := status(t, l, "tpm").Remaining
	assert.Equal(t, 10_000-promptEstimate(body)-2000, inFlight, "admission reserved the prompt estimate and max_tokens")
	gate.Open()
	<-done
	assert.Equal(t, int64(10_000-150), status(t, l, "tpm").Remaining, "settled to the real usage")
}

// A stream's output is counted: the usage chunk the stack asks for settles
// the reservation, though the client did not ask for it.
func TestStreamedOutputCounted(t *testing.T) {
	for _, tc := range []struct{ name, url, body string }{
		{"openai", chatURL, `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello"}]}`},
		{"anthropic", messagesURL, `{"model":"claude-haiku-4-5","stream":true,"max_tokens":64,"messages":[{"role":"user","content":"Say hello"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			usage := llmtest.Usage{InputTokens: 30, OutputTokens: 4000}
			l, _, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "tpm", Tokens: 100_000, Per: time.Minute}}}, newClock()), llmtest.WithUsage(usage))
			r := do(t, gw, request{url: tc.url, body: tc.body})
			require.Equal(t, http.StatusOK, r.status)
			assert.NotContains(t, r.body, `"usage":{"prompt_tokens"`, "the client did not ask for the usage chunk")
			assert.Equal(t, int64(100_000-4030), status(t, l, "tpm").Remaining, "output beyond the estimate is charged")
		})
	}
}

func TestExcludeCachedTokens(t *testing.T) {
	usage := llmtest.Usage{InputTokens: 1000, CacheReadTokens: 800, OutputTokens: 10}
	l, _, gw := stack(t, withClock(Config{Rules: []Rule{
		{Name: "all", Tokens: 10_000, Per: time.Minute},
		{Name: "uncached", Tokens: 10_000, Per: time.Minute, ExcludeCachedTokens: true},
	}}, newClock()), llmtest.WithUsage(usage))
	for _, r := range []request{chat(), {url: messagesURL, body: messagesBody}} {
		require.Equal(t, http.StatusOK, do(t, gw, r).status)
	}
	assert.Equal(t, int64(10_000-2*1010), status(t, l, "all").Remaining, "input includes cache reads")
	assert.Equal(t, int64(10_000-2*210), status(t, l, "uncached").Remaining, "cache reads left out, for OpenAI and Anthropic alike")
}

func TestPerUserKeys(t *testing.T) {
	l, fake, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "per-user", Key: "metadata:user", Requests: 1, Per: time.Hour}}}, newClock()))
	assert.Equal(t, http.StatusOK, do(t, gw, chat("user", "alice")).status)
	assertRefused(t, do(t, gw, chat("user", "alice")), "per-user", "3600")
	assert.Equal(t, http.StatusOK, do(t, gw, chat("user", "bob")).status, "bob has his own limit")
	assert.Equal(t, http.StatusOK, do(t, gw, request{url: chatURL, body: chatBody, header: []string{aigateway.HeaderMetadata, `{"user":"carol"}`}}).status, "a tag from the header")
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status, "untagged calls share one counter")
	assertRefused(t, do(t, gw, chat()), "per-user", "3600")
	assert.Equal(t, 4, fake.Count())
	assert.Equal(t, int64(0), status(t, l, "per-user", "alice").Remaining)
	assert.Equal(t, int64(1), status(t, l, "per-user", "dave").Remaining)
}

// Key values are joined so that no split of the same characters can pass
// for another.
func TestCombinedKeyUnambiguous(t *testing.T) {
	l, _, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "team-app", Key: "metadata:team, metadata:app", Requests: 1, Per: time.Hour}}}, newClock()))
	for _, kv := range [][2]string{{"a:1", "b"}, {"a", "1:b"}, {"1:a", "1:b"}, {"a1", "b"}, {"", "a1b"}} {
		assert.Equal(t, http.StatusOK, do(t, gw, chat("team", kv[0], "app", kv[1])).status, "%q", kv)
	}
	assertRefused(t, do(t, gw, chat("team", "a:1", "app", "b")), "team-app", "3600")
	assert.Equal(t, int64(0), status(t, l, "team-app", "a:1", "b").Remaining)
	long := strings.Repeat("x", 1000)
	assert.Equal(t, http.StatusOK, do(t, gw, chat("team", long, "app", "b")).status)
	assertRefused(t, do(t, gw, chat("team", long, "app", "b")), "team-app", "3600")
	assert.Equal(t, int64(0), status(t, l, "team-app", long, "b").Remaining, "a long value is hashed, the same way each time")
}

// recordingStore remembers the keys it was given.
type recordingStore struct {
	Store
	mu   sync.Mutex
	keys []string
}

func (s *recordingStore) Reserve(ctx context.Context, now time.Time, takes []Take, v []Verdict) (bool, error) {
	s.mu.Lock()
	for _, t := range takes {
		s.keys = append(s.keys, t.Key)
	}
	s.mu.Unlock()
	return s.Store.Reserve(ctx, now, takes, v)
}

func TestModelProviderAndAPIKeyKeys(t *testing.T) {
	store := &recordingStore{Store: NewMemoryStore(0)}
	l, _, gw := stack(t, withClock(Config{Store: store, Rules: []Rule{
		{Name: "per-key", Key: "api_key", Requests: 1, Per: time.Hour},
		{Name: "per-model", Key: "provider,model", Requests: 10, Per: time.Hour},
	}}, newClock()))
	a := request{url: chatURL, body: chatBody}
	b := request{url: chatURL, body: chatBody, header: []string{"Authorization", "Bearer sk-tenant-b"}}
	assert.Equal(t, http.StatusOK, do(t, gw, a).status)
	assertRefused(t, do(t, gw, a), "per-key", "3600")
	assert.Equal(t, http.StatusOK, do(t, gw, b).status, "another key has its own limit")
	assert.Equal(t, http.StatusOK, do(t, gw, request{url: messagesURL, body: messagesBody, header: []string{"Authorization", "Bearer sk-tenant-c"}}).status)

	assert.Equal(t, int64(8), status(t, l, "per-model", "openai", "gpt-4o-mini").Remaining)
	assert.Equal(t, int64(9), status(t, l, "per-model", "anthropic", "claude-haiku-4-5").Remaining)
	for _, k := range store.keys {
		assert.NotContains(t, k, "sk-tenant", "a store key never holds the credential")
	}
}

func TestKeyFunc(t *testing.T) {
	l, _, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "org", Requests: 1, Per: time.Hour,
		KeyFunc: func(c *aigateway.Call) string { return strings.SplitN(c.Metadata("user"), "/", 2)[0] }}}}, newClock()))
	assert.Equal(t, http.StatusOK, do(t, gw, chat("user", "acme/alice")).status)
	assertRefused(t, do(t, gw, chat("user", "acme/bob")), "org", "3600")
	assert.Equal(t, http.StatusOK, do(t, gw, chat("user", "initech/bob")).status)
	assert.Equal(t, int64(0), status(t, l, "org", "acme").Remaining)
}

// gpt-4o-mini costs $0.15 per 1M input tokens and $0.60 per 1M output.
func TestCalendarBudget(t *testing.T) {
	clk := newClock()
	clk.t = time.Date(2026, 3, 10, 22, 30, 0, 0, time.UTC) // 23:30 in Paris
	usage := llmtest.Usage{InputTokens: 1_000_000, OutputTokens: 0}
	l, fake, gw := stack(t, withClock(Config{TimeZone: "Europe/Paris", Rules: []Rule{
		{Name: "daily", Key: "metadata:team", CostUSD: 0.20, Period: PeriodDay},
	}}, clk), llmtest.WithUsage(usage))

	assert.Equal(t, http.StatusOK, do(t, gw, chat("team", "a")).status)
	s := status(t, l, "daily", "a")
	assert.InDelta(t, 0.05, s.RemainingUSD, 1e-9, "settled to the priced usage")
	assert.Equal(t, 0.20, s.LimitUSD)
	assert.Equal(t, 30*time.Minute, s.Reset, "the day ends at midnight in Paris")
	assert.Equal(t, http.StatusOK, do(t, gw, chat("team", "a")).status, "the estimate still fits")
	assert.InDelta(t, -0.10, status(t, l, "daily", "a").RemainingUSD, 1e-9, "the real cost overshoots")
	r := do(t, gw, chat("team", "a"))
	assertRefused(t, r, "daily", "1800")
	assert.Contains(t, r.body, "budget_exceeded")
	assert.Contains(t, r.body, "$0.20 per day")
	assert.Equal(t, http.StatusOK, do(t, gw, chat("team", "b")).status, "another team's budget")

	clk.Advance(30 * time.Minute)
	assert.InDelta(t, 0.20, status(t, l, "daily", "a").RemainingUSD, 1e-9, "a new day")
	assert.Equal(t, http.StatusOK, do(t, gw, chat("team", "a")).status)
	assert.Equal(t, 4, fake.Count())
}

func TestRollingBudget(t *testing.T) {
	clk := newClock()
	l, _, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "hourly", CostUSD: 0.15, Per: time.Hour}}}, clk),
		llmtest.WithUsage(llmtest.Usage{InputTokens: 1_000_000}))
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status)
	assert.InDelta(t, 0, status(t, l, "hourly").RemainingUSD, 1e-9)
	r := do(t, gw, chat())
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	clk.Advance(30 * time.Minute)
	assert.InDelta(t, 0.075, status(t, l, "hourly").RemainingUSD, 1e-9, "half the budget back after half the period")
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status)
}

// A request that needs more than a rule could ever hold is refused at once,
// even by a rule that waits, without a Retry-After.
func TestNeverFits(t *testing.T) {
	clk := newClock()
	_, fake, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "small", Tokens: 1000, Per: time.Minute, Wait: true}}}, clk))
	body := `{"model":"gpt-4o-mini","max_tokens":5000,"messages":[{"role":"user","content":"Say hello"}]}`
	r := do(t, gw, request{url: chatURL, body: body})
	assertRefused(t, r, "small", "")
	assert.Contains(t, r.body, fmt.Sprintf("it needs %d tokens", promptEstimate(body)+5000))
	assert.Empty(t, clk.Sleeps())
	assert.Zero(t, fake.Count())
}

func TestWait(t *testing.T) {
	clk := newClock()
	l, fake, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "w", Requests: 1, Per: time.Minute, Wait: true}}}, clk))
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status)
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status, "the second call waits instead of failing")
	assert.Equal(t, []time.Duration{time.Minute}, clk.Sleeps())
	assert.Equal(t, 2, fake.Count())
	assert.Equal(t, Stats{Admitted: 2, Waited: 1}, l.Stats())
}

// A wait that cannot end before the context's deadline is refused at once.
func TestWaitBeyondDeadlineRefusedAtOnce(t *testing.T) {
	clk := newClock()
	l, fake, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "w", Requests: 1, Per: 2 * time.Hour, Wait: true}}}, clk))
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status)

	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	r := do(t, gw, request{url: chatURL, body: chatBody, ctx: ctx})
	assertRefused(t, r, "w", "7200")
	assert.Contains(t, r.body, "deadline")
	assert.Empty(t, clk.Sleeps(), "it did not sleep")
	assert.Equal(t, 1, fake.Count())
	assert.Equal(t, Stats{Admitted: 1, Refused: 1}, l.Stats())

	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Hour)
	defer cancel()
	assert.Equal(t, http.StatusOK, do(t, gw, request{url: chatURL, body: chatBody, ctx: ctx}).status, "a deadline far enough: it waits")
	assert.Equal(t, []time.Duration{2 * time.Hour}, clk.Sleeps())
}

// A rule without Wait refuses at once even when another rule would wait.
func TestWaitOnlyForWaitingRules(t *testing.T) {
	clk := newClock()
	_, _, gw := stack(t, withClock(Config{Rules: []Rule{
		{Name: "w", Requests: 1, Per: time.Minute, Wait: true},
		{Name: "strict", Requests: 1, Per: time.Hour},
	}}, clk))
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status)
	assertRefused(t, do(t, gw, chat()), "strict", "3600")
	assert.Empty(t, clk.Sleeps())
}

// When a rule that waits needs longer than one that does not, the refusal
// names the longer wait, and no deadline was involved.
func TestRefusalNamesLongestWait(t *testing.T) {
	clk := newClock()
	_, _, gw := stack(t, withClock(Config{Rules: []Rule{
		{Name: "w", Requests: 1, Per: 2 * time.Hour, Wait: true},
		{Name: "strict", Requests: 1, Per: time.Hour},
	}}, clk))
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status)
	r := do(t, gw, chat())
	assertRefused(t, r, "w", "7200")
	assert.NotContains(t, r.body, "deadline")
	assert.Empty(t, clk.Sleeps())
}

// Cancelling a waiting call ends its wait at once, with the context's error.
func TestWaitCancelled(t *testing.T) {
	clk := newClock()
	slept := make(chan struct{})
	cfg := withClock(Config{Rules: []Rule{{Name: "w", Requests: 1, Per: time.Minute, Wait: true}}}, clk)
	cfg.Sleep = func(ctx context.Context, d time.Duration) error {
		close(slept)
		<-ctx.Done()
		return ctx.Err()
	}
	l, fake, gw := stack(t, cfg)
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status)

	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, chatURL, strings.NewReader(chatBody))
	require.NoError(t, err)
	errc := make(chan error)
	go func() {
		resp, err := gw.RoundTrip(req)
		if resp != nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-slept
	assert.Equal(t, int64(1), l.Stats().Waiting)
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
	assert.Equal(t, int64(0), l.Stats().Waiting)
	assert.Equal(t, 1, fake.Count())
}

// The real sleep wakes up and the call goes on (a short real wait: only
// behaviour is checked, never how long it took).
func TestRealSleep(t *testing.T) {
	l, fake, gw := stack(t, Config{Rules: []Rule{{Name: "w", Requests: 1000, Per: time.Second, Burst: 1, Wait: true}}})
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status)
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status)
	assert.Equal(t, 2, fake.Count())
	assert.LessOrEqual(t, l.Stats().Waited, int64(1))

	assert.NoError(t, sleep(context.Background(), time.Microsecond), "the timer fires")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, sleep(ctx, time.Hour), context.Canceled, "a cancelled context ends the sleep")
}

// A request the stack cannot size (its body does not parse) is admitted on
// request count and settled on what the upstream reports.
func TestUnestimatedRequest(t *testing.T) {
	clk := newClock()
	up := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		body := `{"id":"x","object":"chat.completion","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":70,"completion_tokens":30,"total_tokens":100}}`
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
	})
	l := New(withClock(Config{Rules: []Rule{{Name: "t", Tokens: 150, Per: time.Hour}}}, clk))
	gw := mustNew(t, up, l)
	defer gw.Close()
	broken := request{url: chatURL, body: `{"model":"gpt-4o-mini", not json`}
	assert.Equal(t, http.StatusOK, do(t, gw, broken).status)
	assert.Equal(t, int64(50), status(t, l, "t").Remaining, "settled on the reported usage")
	assert.Equal(t, http.StatusOK, do(t, gw, broken).status, "admitted while the bucket is not in debt")
	assert.Equal(t, int64(-50), status(t, l, "t").Remaining)
	assertRefused(t, do(t, gw, broken), "t", "1200")
}

// A stream cut before its usage arrives is charged at least its input.
func TestCutStreamChargesInput(t *testing.T) {
	l, fake, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "t", Tokens: 10_000, Per: time.Hour}}}, newClock()))
	body := `{"model":"gpt-4o-mini","stream":true,"max_tokens":500,"messages":[{"role":"user","content":"Say hello"}]}`
	fake.Push(llmtest.CutAfter(2))
	ctx, tr := aigateway.Track(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, chatURL, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := gw.RoundTrip(req)
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	assert.Error(t, err, "the stream was cut")
	resp.Body.Close()
	<-tr.Last().Done()
	assert.False(t, tr.Last().Result().UsageKnown)
	assert.Equal(t, 10_000-promptEstimate(body), status(t, l, "t").Remaining, "the input estimate, not the max_tokens reserved")
}

// A call cancelled before any answer is charged its input; an error
// status is not billed, so it is charged nothing.
func TestCancelledAndFailedCalls(t *testing.T) {
	l, fake, gw := stack(t, withClock(Config{Rules: []Rule{
		{Name: "t", Tokens: 10_000, Per: time.Hour},
		{Name: "r", Requests: 10, Per: time.Hour},
	}}, newClock()))
	fake.Push(llmtest.ServerError())
	assert.Equal(t, http.StatusInternalServerError, do(t, gw, chat()).status)
	assert.Equal(t, int64(10_000), status(t, l, "t").Remaining, "an error status is refunded")
	assert.Equal(t, int64(9), status(t, l, "r").Remaining, "but it was a request")

	ctx, cancel := context.WithCancel(context.Background())
	ctx, tr := aigateway.Track(ctx)
	fake.Push(llmtest.DelayHeaders(time.Hour))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, chatURL, strings.NewReader(chatBody))
	require.NoError(t, err)
	errc := make(chan error)
	go func() {
		_, err := gw.RoundTrip(req)
		errc <- err
	}()
	require.Eventually(t, func() bool { return status(t, l, "r").Remaining == 8 }, 10*time.Second, time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
	<-tr.Last().Done()
	assert.Equal(t, 10_000-promptEstimate(chatBody), status(t, l, "t").Remaining, "a cancelled call is charged its input")
}

// Calls a cache layer outside the limiter answers never reach it.
func TestCacheHitsOutsideNeverCount(t *testing.T) {
	fake := llmtest.NewTransport()
	c := cache.New(cache.Config{})
	l := New(withClock(Config{Rules: []Rule{{Name: "one", Requests: 1, Per: time.Hour}}}, newClock()))
	gw := mustNew(t, fake, c, l)
	defer gw.Close()
	assert.Equal(t, "MISS", do(t, gw, chat()).header.Get(aigateway.HeaderCache))
	for range 3 {
		r := do(t, gw, chat())
		assert.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, "HIT", r.header.Get(aigateway.HeaderCache))
	}
	assert.Equal(t, Stats{Admitted: 1}, l.Stats())
	assert.Equal(t, 1, fake.Count())
	other := request{url: chatURL, body: strings.Replace(chatBody, "hello", "bye", 1)}
	assertRefused(t, do(t, gw, other), "one", "3600")
}

// A cache hit inside the limiter spent nothing: its token reservation is
// refunded.
func TestCacheHitInsideRefunded(t *testing.T) {
	fake := llmtest.NewTransport(llmtest.WithUsage(llmtest.Usage{InputTokens: 40, OutputTokens: 10}))
	l := New(withClock(Config{Rules: []Rule{{Name: "t", Tokens: 1000, Per: time.Hour}}}, newClock()))
	gw := mustNew(t, fake, l, cache.New(cache.Config{}))
	defer gw.Close()
	do(t, gw, chat())
	hit := do(t, gw, chat())
	assert.Equal(t, "HIT", hit.header.Get(aigateway.HeaderCache))
	assert.Equal(t, int64(950), status(t, l, "t").Remaining)
}

// failingStore fails every call.
type failingStore struct{}

var errStoreDown = errors.New("store down")

func (failingStore) Reserve(context.Context, time.Time, []Take, []Verdict) (bool, error) {
	return false, errStoreDown
}
func (failingStore) Adjust(context.Context, time.Time, []Take) error { return errStoreDown }
func (failingStore) Peek(context.Context, time.Time, string, Limit) (State, error) {
	return State{}, errStoreDown
}

func TestStoreErrors(t *testing.T) {
	rules := []Rule{{Name: "t", Tokens: 10, Per: time.Hour}}
	t.Run("open", func(t *testing.T) {
		l, fake, gw := stack(t, Config{Store: failingStore{}, Rules: rules})
		assert.Equal(t, http.StatusOK, do(t, gw, chat()).status)
		assert.Equal(t, 1, fake.Count())
		require.NoError(t, l.Flush(context.Background()))
		assert.Equal(t, Stats{Admitted: 1, StoreErrors: 2}, l.Stats(), "the reservation and the settlement failed")
		_, err := l.Status(context.Background(), "t")
		assert.ErrorIs(t, err, errStoreDown)
	})
	t.Run("closed", func(t *testing.T) {
		l, fake, gw := stack(t, Config{Store: failingStore{}, FailClosed: true, Rules: rules})
		r := do(t, gw, chat())
		assert.Equal(t, http.StatusServiceUnavailable, r.status)
		assert.Equal(t, "false", r.header.Get("X-Should-Retry"))
		assert.Contains(t, r.body, "rate limit store unavailable")
		assert.NotContains(t, r.body, "store down", "the store's own error stays in the process")
		assert.Zero(t, fake.Count())
		assert.Equal(t, Stats{Refused: 1, StoreErrors: 1}, l.Stats())
	})
}

// A reservation that failed open is settled to what the call used, once
// the store is back.
func TestFailOpenSettlesUsage(t *testing.T) {
	mem := NewMemoryStore(0)
	store := &flakyStore{Store: mem, failReserve: true}
	l, _, gw := stack(t, withClock(Config{Store: store, Rules: []Rule{{Name: "t", Tokens: 1000, Per: time.Hour}}}, newClock()),
		llmtest.WithUsage(llmtest.Usage{InputTokens: 60, OutputTokens: 40}))
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status)
	require.NoError(t, l.Flush(context.Background()))
	assert.Equal(t, int64(900), status(t, l, "t").Remaining)
	assert.Equal(t, int64(1), l.Stats().StoreErrors)
}

type flakyStore struct {
	Store
	failReserve bool
}

func (s *flakyStore) Reserve(ctx context.Context, now time.Time, takes []Take, v []Verdict) (bool, error) {
	if s.failReserve {
		return false, errStoreDown
	}
	return s.Store.Reserve(ctx, now, takes, v)
}

func TestInvalidConfig(t *testing.T) {
	fake := llmtest.NewTransport()
	l := New(Config{Rules: []Rule{{Name: "bad", Requests: 10}}})
	_, err := aigateway.New(fake, l)
	assert.ErrorContains(t, err, `ratelimit: rule "bad": per is required`, "a Gateway refuses it")
	assert.EqualError(t, err, l.Err().Error())
	// Used alone, it answers every call with a provider-shaped 500.
	gw := l.Wrap(fake)
	for _, r := range []request{chat(), {url: messagesURL, body: messagesBody}} {
		res := do(t, gw, r)
		assert.Equal(t, http.StatusInternalServerError, res.status)
		assert.Equal(t, "false", res.header.Get("X-Should-Retry"))
		assert.Contains(t, res.body, `invalid rate limit configuration: ratelimit: rule \"bad\": per is required`)
	}
	assert.Zero(t, fake.Count())
	_, err = l.Status(context.Background(), "bad")
	assert.Error(t, err)
}

func TestValidate(t *testing.T) {
	minute := time.Minute
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // "" = valid
	}{
		{"requests", Config{Rules: []Rule{{Name: "a", Requests: 1, Per: minute}}}, ""},
		{"tokens with burst", Config{Rules: []Rule{{Name: "a", Tokens: 1, Per: minute, Burst: 5, ExcludeCachedTokens: true}}}, ""},
		{"calendar budget", Config{TimeZone: "America/New_York", Rules: []Rule{{Name: "a", CostUSD: 5, Period: PeriodMonth}}}, ""},
		{"rolling budget", Config{Rules: []Rule{{Name: "a", CostUSD: 5, Per: minute}}}, ""},
		{"keys", Config{Rules: []Rule{{Name: "a", Requests: 1, Per: minute, Key: "metadata:team,model,provider,api_key"}}}, ""},
		{"no rules", Config{}, "no rules"},
		{"no name", Config{Rules: []Rule{{Requests: 1, Per: minute}}}, "rules[0] has no name"},
		{"name twice", Config{Rules: []Rule{{Name: "a", Requests: 1, Per: minute}, {Name: "a", Tokens: 1, Per: minute}}}, `"a" is used twice`},
		{"nothing counted", Config{Rules: []Rule{{Name: "a", Per: minute}}}, "exactly one of"},
		{"two things counted", Config{Rules: []Rule{{Name: "a", Requests: 1, Tokens: 1, Per: minute}}}, "exactly one of"},
		{"negative", Config{Rules: []Rule{{Name: "a", Requests: -1, Per: minute}}}, "requests -1 is negative"},
		{"no per", Config{Rules: []Rule{{Name: "a", Tokens: 1}}}, "per is required"},
		{"negative burst", Config{Rules: []Rule{{Name: "a", Tokens: 1, Per: minute, Burst: -1}}}, "burst -1"},
		{"bad key", Config{Rules: []Rule{{Name: "a", Requests: 1, Per: minute, Key: "user"}}}, `key term "user"`},
		{"empty metadata", Config{Rules: []Rule{{Name: "a", Requests: 1, Per: minute, Key: "metadata:"}}}, `key term "metadata:"`},
		{"budget without period", Config{Rules: []Rule{{Name: "a", CostUSD: 1}}}, "needs a period"},
		{"budget with both", Config{Rules: []Rule{{Name: "a", CostUSD: 1, Per: minute, Period: PeriodDay}}}, "not both"},
		{"bad period", Config{Rules: []Rule{{Name: "a", CostUSD: 1, Period: "year"}}}, `period "year"`},
		{"period on requests", Config{Rules: []Rule{{Name: "a", Requests: 1, Per: minute, Period: PeriodDay}}}, "period applies"},
		{"burst on budget", Config{Rules: []Rule{{Name: "a", CostUSD: 1, Per: minute, Burst: 3}}}, "burst applies"},
		{"exclude cached on requests", Config{Rules: []Rule{{Name: "a", Requests: 1, Per: minute, ExcludeCachedTokens: true}}}, "exclude_cached_tokens"},
		{"allow unpriced on a budget", Config{Rules: []Rule{{Name: "a", CostUSD: 1, Period: PeriodDay, AllowUnpriced: true}}}, ""},
		{"allow unpriced on tokens", Config{Rules: []Rule{{Name: "a", Tokens: 1, Per: minute, AllowUnpriced: true}}}, "allow_unpriced applies"},
		{"bad zone", Config{TimeZone: "Mars/Olympus", Rules: []Rule{{Name: "a", Requests: 1, Per: minute}}}, "time_zone"},
		{"max keys", Config{MaxKeys: -1, Rules: []Rule{{Name: "a", Requests: 1, Per: minute}}}, "max_keys"},
		{"century", Config{Rules: []Rule{{Name: "a", Requests: 1, Per: 200 * 365 * 24 * time.Hour}}}, "century"},
		{"huge budget", Config{Rules: []Rule{{Name: "a", CostUSD: 1e12, Period: PeriodDay}}}, "cost_usd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestConfigJSON(t *testing.T) {
	var cfg Config
	require.NoError(t, json.Unmarshal([]byte(`{
		"rules": [
			{"name": "per-user tokens", "key": "metadata:user", "tokens": 1000, "per": "1m", "wait": true, "exclude_cached_tokens": true},
			{"name": "monthly", "cost_usd": 5, "period": "month", "allow_unpriced": true}
		],
		"time_zone": "Europe/Paris",
		"fail_closed": true
	}`), &cfg))
	require.NoError(t, cfg.Validate())
	assert.Equal(t, Rule{Name: "per-user tokens", Key: "metadata:user", Tokens: 1000, Per: time.Minute, Wait: true, ExcludeCachedTokens: true}, cfg.Rules[0])
	assert.Equal(t, Rule{Name: "monthly", CostUSD: 5, Period: PeriodMonth, AllowUnpriced: true}, cfg.Rules[1])
	assert.True(t, cfg.FailClosed)
	out, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"per":"1m0s"`)
}

func TestStatusErrors(t *testing.T) {
	l := New(Config{Rules: []Rule{{Name: "a", Key: "metadata:team,model", Requests: 1, Per: time.Minute}}})
	_, err := l.Status(context.Background(), "nope")
	assert.ErrorIs(t, err, ErrUnknownRule)
	_, err = l.Status(context.Background(), "a", "team-only")
	assert.ErrorContains(t, err, "takes 2 key values, got 1")
	s, err := l.Status(context.Background(), "a", "t", "m")
	require.NoError(t, err)
	assert.Equal(t, Status{Rule: "a", Limit: 1, Remaining: 1}, s)
}

func TestPeriodBounds(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
		require.NoError(t, err)
		return v
	}
	for _, tc := range []struct {
		period, at, start, end string
	}{
		{PeriodDay, "2026-03-10 23:30", "2026-03-10 00:00", "2026-03-11 00:00"},
		{PeriodDay, "2026-03-29 12:00", "2026-03-29 00:00", "2026-03-30 00:00"},  // a 23-hour day
		{PeriodWeek, "2026-03-10 09:00", "2026-03-09 00:00", "2026-03-16 00:00"}, // a Tuesday
		{PeriodWeek, "2026-03-15 23:59", "2026-03-09 00:00", "2026-03-16 00:00"}, // a Sunday
		{PeriodWeek, "2026-03-16 00:00", "2026-03-16 00:00", "2026-03-23 00:00"}, // a Monday
		{PeriodMonth, "2026-12-31 23:59", "2026-12-01 00:00", "2027-01-01 00:00"},
		{PeriodMonth, "2026-02-01 00:00", "2026-02-01 00:00", "2026-03-01 00:00"},
	} {
		start, end := periodBounds(tc.period, at(tc.at).UTC(), paris)
		assert.Equal(t, at(tc.start), start, "%s %s", tc.period, tc.at)
		assert.Equal(t, at(tc.end), end, "%s %s", tc.period, tc.at)
	}
	_, end := periodBounds(PeriodDay, at("2026-03-29 12:00"), paris)
	assert.Equal(t, 23*time.Hour, end.Sub(at("2026-03-29 00:00")), "daylight saving time")
}

// A Store that refuses without a verdict gets a refusal, not a panic or a
// wait.
func TestStoreRefusingWithoutVerdict(t *testing.T) {
	_, fake, gw := stack(t, Config{Store: mute{}, Rules: []Rule{{Name: "r", Requests: 1, Per: time.Minute, Wait: true}}})
	assertRefused(t, do(t, gw, chat()), "r", "")
	assert.Zero(t, fake.Count())
}

type mute struct{ failingStore }

func (mute) Reserve(context.Context, time.Time, []Take, []Verdict) (bool, error) { return false, nil }

// Config.Location wins over TimeZone; MaxKeys bounds the default store.
func TestLocationAndMaxKeys(t *testing.T) {
	clk := newClock()
	clk.t = time.Date(2026, 3, 10, 20, 0, 0, 0, time.UTC)
	tokyo := time.FixedZone("UTC+9", 9*3600) // 05:00 on the 11th
	l, _, gw := stack(t, withClock(Config{Location: tokyo, TimeZone: "Europe/Paris", MaxKeys: 2, Rules: []Rule{
		{Name: "daily", Key: "metadata:user", CostUSD: 1, Period: PeriodDay},
	}}, clk), llmtest.WithUsage(llmtest.Usage{InputTokens: 1_000_000}))
	do(t, gw, chat("user", "a"))
	assert.Equal(t, 19*time.Hour, status(t, l, "daily", "a").Reset, "midnight in UTC+9")
	do(t, gw, chat("user", "b"))
	do(t, gw, chat("user", "c"))
	assert.Equal(t, 2, l.store.(*MemoryStore).Len())
	assert.Equal(t, int64(1), l.store.(*MemoryStore).Evictions())
}

// A call the stack refuses before sending (here a malformed control header)
// passes the limiter without being charged.
func TestRefusedCallsAreNotCharged(t *testing.T) {
	l, fake, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "one", Requests: 1, Per: time.Hour}}}, newClock()))
	r := do(t, gw, request{url: chatURL, body: chatBody, header: []string{aigateway.HeaderCacheTTL, "soon"}})
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, int64(1), status(t, l, "one").Remaining)
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status, "the one request is still there")
	assert.Equal(t, 1, fake.Count())
}

// Where a clock change skips midnight (Santiago, 2026-09-06 00:00 -04 is
// 01:00 -03) or repeats it (2026-04-05 00:00 -03 falls back to 23:00 -04),
// every instant still lies in exactly one period, and periods follow one
// another without gap or overlap.
func TestPeriodBoundsAroundMidnightClockChanges(t *testing.T) {
	santiago, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	for _, period := range []string{PeriodDay, PeriodWeek, PeriodMonth} {
		for _, around := range []time.Time{
			time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC), // the skipped midnight
			time.Date(2026, 4, 5, 3, 0, 0, 0, time.UTC), // the repeated one
		} {
			var prevStart, prevEnd time.Time
			for now := around.Add(-3 * time.Hour); now.Before(around.Add(3 * time.Hour)); now = now.Add(time.Minute) {
				start, end := periodBounds(period, now, santiago)
				require.False(t, now.Before(start), "%s at %v: starts %v, after now", period, now.In(santiago), start)
				require.True(t, now.Before(end), "%s at %v: ends %v, not after now", period, now.In(santiago), end)
				if !prevEnd.IsZero() && !start.Equal(prevStart) {
					require.True(t, start.Equal(prevEnd), "%s at %v: starts %v, the previous one ended %v", period, now.In(santiago), start, prevEnd)
				}
				prevStart, prevEnd = start, end
			}
		}
	}
	start, end := periodBounds(PeriodDay, time.Date(2026, 9, 6, 12, 0, 0, 0, santiago), santiago)
	assert.Equal(t, time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC), start.UTC(), "the day starts when its clock does, at 01:00")
	assert.Equal(t, 23*time.Hour, end.Sub(start))
	assert.Equal(t, "2026-09-06", start.Format("2006-01-02"))
}

// A daily budget is enforced in the hour before a skipped midnight.
func TestCalendarBudgetBeforeSkippedMidnight(t *testing.T) {
	clk := newClock()
	clk.t = time.Date(2026, 9, 6, 3, 30, 0, 0, time.UTC) // 23:30 -04 in Santiago, before the clocks jump to 01:00
	l, fake, gw := stack(t, withClock(Config{TimeZone: "America/Santiago", Rules: []Rule{
		{Name: "daily", CostUSD: 0.15, Period: PeriodDay},
	}}, clk), llmtest.WithUsage(llmtest.Usage{InputTokens: 1_000_000}))
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status)
	assert.InDelta(t, 0, status(t, l, "daily").RemainingUSD, 1e-9, "the call was charged")
	assertRefused(t, do(t, gw, chat()), "daily", "1800")
	assert.Equal(t, 1, fake.Count())
}

// retrying is a minimal router: each call goes through target (a limiter
// in front of the upstream) and, when the answer is a 5xx, is sent once
// more, the discarded answer drained and closed: through target again, or
// through the router's own next (another target) when other is set. Each
// attempt is a Route of its own, as a router's are.
func retrying(target func(http.RoundTripper) http.RoundTripper, other bool) aigateway.Middleware {
	return aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		layered := target(aigateway.Layer(next, func(_ aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			return next.RoundTrip(req)
		}))
		return aigateway.Layer(next, func(call aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			send := func(rt http.RoundTripper) (*http.Response, error) {
				ctx, _ := call.Route(req.Context(), aigateway.Route{})
				r := req.Clone(ctx)
				r.Body, _ = req.GetBody()
				return rt.RoundTrip(r)
			}
			resp, err := send(layered)
			if err != nil || resp.StatusCode < 500 {
				return resp, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if other {
				return send(next)
			}
			return send(layered)
		})
	})
}

// Behind a router, a limiter settles each attempt it admitted to that
// attempt's own answer: a retry of the same target is charged once, and a
// response from another target is not charged to it.
func TestSettlesEachAttemptToItsOwnResponse(t *testing.T) {
	usage := llmtest.Usage{InputTokens: 100, OutputTokens: 50}
	for _, tc := range []struct {
		name          string
		other         bool
		tokens, calls int64 // remaining
	}{
		{"retried on the same target", false, 10_000 - 150, 8},
		{"answered by another target", true, 10_000, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := llmtest.NewTransport(llmtest.WithUsage(usage))
			fake.Push(llmtest.ServerError())
			l := New(withClock(Config{Rules: []Rule{
				{Name: "tpm", Tokens: 10_000, Per: time.Hour},
				{Name: "rpm", Requests: 10, Per: time.Hour},
			}}, newClock()))
			gw := mustNew(t, fake, retrying(l.Wrap, tc.other))
			defer gw.Close()
			r := do(t, gw, chat())
			require.Equal(t, http.StatusOK, r.status)
			require.Equal(t, 2, r.call.Attempts)
			assert.Equal(t, tc.tokens, status(t, l, "tpm").Remaining, "the 500 charged nothing; the answer once, to its own target")
			assert.Equal(t, tc.calls, status(t, l, "rpm").Remaining, "each attempt through the limiter is a request")
			assert.Zero(t, fake.OpenBodies())
		})
	}
}

// ctxStore fails as a networked store does once the request's context has
// ended.
type ctxStore struct{ Store }

func (s ctxStore) Reserve(ctx context.Context, now time.Time, takes []Take, v []Verdict) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return s.Store.Reserve(ctx, now, takes, v)
}

// A call whose context has ended gets the context's error: it is neither a
// store failure (no 503 when failing closed, not counted) nor sent on.
func TestEndedContextIsNotAStoreError(t *testing.T) {
	l, fake, gw := stack(t, Config{Store: ctxStore{NewMemoryStore(0)}, FailClosed: true, Rules: []Rule{{Name: "r", Requests: 10, Per: time.Minute}}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, chatURL, strings.NewReader(chatBody))
	require.NoError(t, err)
	resp, err := gw.RoundTrip(req)
	if resp != nil {
		resp.Body.Close()
	}
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, Stats{}, l.Stats())
	assert.Zero(t, fake.Count())
}

// Retry-After is rounded up, so that a client that waits as long as it
// says is admitted, and is never 0 for a wait, however short.
func TestRetryAfterRoundsUp(t *testing.T) {
	clk := newClock()
	_, fake, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "r", Requests: 3, Per: 10 * time.Second}}}, clk))
	for range 3 {
		require.Equal(t, http.StatusOK, do(t, gw, chat()).status)
	}
	r := do(t, gw, chat()) // one request refills in 3.333333332s (10s/3 per request, in whole nanoseconds)
	assertRefused(t, r, "r", "4")
	assert.Equal(t, "3334", r.header.Get("Retry-After-Ms"))
	clk.Advance(3333333331 * time.Nanosecond)
	r = do(t, gw, chat())
	assertRefused(t, r, "r", "1")
	assert.Equal(t, "1", r.header.Get("Retry-After-Ms"), "a nanosecond short is still a millisecond")
	clk.Advance(time.Nanosecond)
	assert.Equal(t, http.StatusOK, do(t, gw, chat()).status)
	assert.Equal(t, 4, fake.Count())
}

// A whole answer that reports no usage keeps its reservation (prompt
// estimate and max_tokens): its output is unknown, not zero.
func TestAnswerWithoutUsageKeepsReservation(t *testing.T) {
	up := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		body := `{"id":"x","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
	})
	l := New(withClock(Config{Rules: []Rule{{Name: "t", Tokens: 10_000, Per: time.Hour}}}, newClock()))
	gw := mustNew(t, up, l)
	defer gw.Close()
	body := `{"model":"gpt-4o-mini","max_tokens":500,"messages":[{"role":"user","content":"Say hello"}]}`
	assert.Equal(t, http.StatusOK, do(t, gw, request{url: chatURL, body: body}).status)
	assert.Equal(t, 10_000-promptEstimate(body)-500, status(t, l, "t").Remaining)
}

// A refusal a layer further out replaced (a router that moved on and then
// failed elsewhere) does not make the call's error ErrLimited.
func TestReplacedRefusalIsNotErrLimited(t *testing.T) {
	l := New(withClock(Config{Rules: []Rule{{Name: "none", Requests: 1, Per: time.Hour}}}, newClock()))
	fake := llmtest.NewTransport()
	limited := l.Wrap(fake)
	elsewhere := aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return aigateway.Layer(next, func(call aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			resp, err := limited.RoundTrip(req)
			if err != nil || resp.StatusCode != http.StatusTooManyRequests {
				return resp, err
			}
			resp.Body.Close()
			return provider.NewErrorResponse(req, call.Format(), provider.ErrorSpec{Status: 503, Message: "elsewhere down"}), nil
		})
	})
	gw := mustNew(t, fake, elsewhere)
	defer gw.Close()
	require.Equal(t, http.StatusOK, do(t, gw, chat()).status)
	r := do(t, gw, chat())
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	require.Error(t, r.call.Err)
	assert.NotErrorIs(t, r.call.Err, ErrLimited)
}
