package fallback

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// Each of these failures on the primary moves the call to the backup after
// the primary's attempts, alone and inside a Gateway.
func TestFallsBackOnFailures(t *testing.T) {
	cases := []struct {
		name   string
		fault  llmtest.Fault
		status int
	}{
		{"500", llmtest.ServerError(), 500},
		{"502", llmtest.HTTPError(502), 502},
		{"503", llmtest.Unavailable(), 503},
		{"504", llmtest.HTTPError(504), 504},
		{"529", llmtest.Overloaded(), 529},
		{"408", llmtest.HTTPError(408), 408},
		{"409", llmtest.HTTPError(409), 409},
		{"429 without Retry-After", llmtest.RateLimited(0), 429},
	}
	for _, gateway := range []bool{false, true} {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				g := newRig(t, Config{}, gateway)
				g.primary.Always(c.fault)
				r := g.do(t, nil, chatBody)
				require.Equal(t, http.StatusOK, r.status, r.body)
				assert.Contains(t, r.body, llmtest.DefaultReply)
				assert.Equal(t, "backup", r.header.Get(aigateway.HeaderTarget))
				assert.Equal(t, "3", r.header.Get(aigateway.HeaderAttempts))
				assert.Equal(t, 2, g.primary.Count(), "the primary is retried once (AttemptsPerTarget 2)")
				assert.Equal(t, 1, g.backup.Count())
				res := r.call.Result()
				assert.Equal(t, "backup", res.Target)
				assert.True(t, res.Fallback)
				assert.Equal(t, 3, res.Attempts)
				assert.NoError(t, res.Err)
				require.Len(t, res.AttemptLog, 3)
				assert.Equal(t, []string{"primary", "primary", "backup"}, targets(r.call))
				assert.Equal(t, c.status, res.AttemptLog[0].Status)
				assert.Error(t, res.AttemptLog[0].Err)
				assert.Equal(t, 200, res.AttemptLog[2].Status)
				assert.NoError(t, res.AttemptLog[2].Err)
				assert.Len(t, g.sleeps.all(), 1, "one backoff before the retry on the primary")
				// Each upstream request has its own record, priced for the
				// provider and model it went to.
				require.Len(t, res.Upstreams, 3)
				assert.Equal(t, c.status, res.Upstreams[0].Status)
				assert.False(t, res.Upstreams[0].UsageKnown)
				last := res.Upstreams[2]
				assert.Equal(t, "openai", last.Provider)
				assert.True(t, last.UsageKnown)
				assert.Equal(t, "gpt-backup", last.ResponseModel)
			})
		}
	}
}

func TestFallsBackOnConnectionRefused(t *testing.T) {
	g := newRig(t, Config{Targets: []Target{
		{Name: "down", BaseURL: "http://down.test/v1"},
		backupTarget,
	}}, true)
	r := g.do(t, nil, chatBody)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, []string{"down", "down", "backup"}, targets(r.call))
	assert.ErrorIs(t, r.call.Result().AttemptLog[0].Err, errRefused)
	assert.Zero(t, r.call.Result().AttemptLog[0].Status)
}

// A per-attempt timeout (Config or X-Aigateway-Request-Timeout) moves on
// from an upstream that never answers. (The timeout applies to the backup's
// attempt too: it is long enough for an in-memory answer on a loaded
// machine; the held primary never answers, whatever the timeout.)
func TestFallsBackOnTimeout(t *testing.T) {
	for _, viaHeader := range []bool{false, true} {
		t.Run(map[bool]string{false: "config", true: "header"}[viaHeader], func(t *testing.T) {
			// In a synctest bubble the timeout is the bubble's clock: it
			// fires when everything waits, however loaded the machine.
			synctest.Test(t, func(t *testing.T) {
				cfg := Config{AttemptsPerTarget: 1}
				var h http.Header
				if viaHeader {
					h = http.Header{aigateway.HeaderRequestTimeout: {"1000"}}
				} else {
					cfg.RequestTimeout = time.Second
				}
				g := newRig(t, cfg, true)
				g.primary.Always(llmtest.Hold(llmtest.NewGate())) // never answers
				start := time.Now()
				resp, call, err := g.send(context.Background(), chatBody, h)
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, time.Second, time.Since(start), "the primary's attempt timed out after a second")
				assert.Equal(t, []string{"primary", "backup"}, targets(call))
				assert.ErrorIs(t, call.Result().AttemptLog[0].Err, ErrAttemptTimeout)
			})
		})
	}
}

// The request itself is wrong: no fallback, the caller gets the 4xx as is.
func TestNoFallbackOnClientErrors(t *testing.T) {
	for _, status := range []int{400, 413, 422} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			g := newRig(t, Config{}, true)
			g.primary.Always(llmtest.HTTPError(status))
			r := g.do(t, nil, chatBody)
			assert.Equal(t, status, r.status)
			assert.Contains(t, r.body, `"error"`)
			assert.Equal(t, "primary", r.header.Get(aigateway.HeaderTarget))
			assert.Equal(t, "1", r.header.Get(aigateway.HeaderAttempts))
			assert.Equal(t, 1, g.primary.Count())
			assert.Zero(t, g.backup.Count())
		})
	}
}

// RetryOn replaces the statuses that move on.
func TestRetryOnIsConfigurable(t *testing.T) {
	g := newRig(t, Config{RetryOn: []int{503}}, true)
	g.primary.Always(llmtest.ServerError())
	r := g.do(t, nil, chatBody)
	assert.Equal(t, 500, r.status, "500 is not in RetryOn: returned at once")
	assert.Zero(t, g.backup.Count())

	g.primary.Always(llmtest.Unavailable())
	r = g.do(t, nil, chatBody)
	assert.Equal(t, 200, r.status)
}

// 401/403/404 concern one target: the next target at once, no retry.
func TestTargetSpecificErrorsMoveOnAtOnce(t *testing.T) {
	for _, status := range []int{401, 403, 404} {
		g := newRig(t, Config{}, true)
		g.primary.Always(llmtest.HTTPError(status))
		r := g.do(t, nil, chatBody)
		assert.Equal(t, 200, r.status)
		assert.Equal(t, []string{"primary", "backup"}, targets(r.call), "status %d", status)
		assert.Empty(t, g.sleeps.all())
	}
}

func TestRetryAfter(t *testing.T) {
	t.Run("short: same target after the wait", func(t *testing.T) {
		g := newRig(t, Config{}, true)
		g.primary.Push(llmtest.RateLimited(2 * time.Second))
		r := g.do(t, nil, chatBody)
		require.Equal(t, 200, r.status)
		assert.Equal(t, []string{"primary", "primary"}, targets(r.call))
		assert.Equal(t, []time.Duration{2 * time.Second}, g.sleeps.all(), "retry-after-ms honoured")
		assert.False(t, r.call.Result().Fallback)
	})
	t.Run("long: next target at once", func(t *testing.T) {
		g := newRig(t, Config{}, true)
		g.primary.Push(llmtest.RateLimited(time.Minute))
		r := g.do(t, nil, chatBody)
		require.Equal(t, 200, r.status)
		assert.Equal(t, []string{"primary", "backup"}, targets(r.call))
		assert.Empty(t, g.sleeps.all())
	})
	t.Run("cap is configurable", func(t *testing.T) {
		g := newRig(t, Config{MaxRetryWait: 2 * time.Minute}, true)
		g.primary.Push(llmtest.RateLimited(time.Minute))
		r := g.do(t, nil, chatBody)
		assert.Equal(t, []string{"primary", "primary"}, targets(r.call))
	})
}

// A 429 that says the money is gone is never retried on the same target.
func TestQuotaExhaustedMovesOn(t *testing.T) {
	g := newRig(t, Config{}, true)
	g.primary.Always(llmtest.InsufficientQuota())
	r := g.do(t, nil, chatBody)
	require.Equal(t, 200, r.status)
	assert.Equal(t, []string{"primary", "backup"}, targets(r.call))
	assert.Empty(t, g.sleeps.all())

	var perr *provider.Error
	require.ErrorAs(t, r.call.Result().AttemptLog[0].Err, &perr)
	assert.Equal(t, "insufficient_quota", perr.Code)

	r = g.do(t, nil, chatBody)
	assert.Equal(t, []string{"backup"}, targets(r.call), "the target out of quota rests")
	g.clock.advance(DefaultCooldown + time.Second)
	g.primary.Always(llmtest.Fault{})
	r = g.do(t, nil, chatBody)
	assert.Equal(t, []string{"primary"}, targets(r.call), "probed again after Cooldown")
}

// When every attempt fails, the caller gets the last provider-shaped error,
// marked so the SDK does not retry it again.
func TestAllFail(t *testing.T) {
	t.Run("error responses", func(t *testing.T) {
		g := newRig(t, Config{}, true)
		g.primary.Always(llmtest.ServerError())
		g.backup.Always(llmtest.Unavailable())
		r := g.do(t, nil, chatBody)
		assert.Equal(t, 503, r.status)
		assert.Equal(t, "false", r.header.Get("X-Should-Retry"))
		assert.Contains(t, r.body, `"error"`)
		assert.Equal(t, "backup", r.header.Get(aigateway.HeaderTarget))
		assert.Equal(t, "4", r.header.Get(aigateway.HeaderAttempts))
		res := r.call.Result()
		assert.Equal(t, 503, res.Status)
		var perr *provider.Error
		require.ErrorAs(t, res.Err, &perr)
		assert.Equal(t, 503, perr.Status)
	})
	t.Run("the last error response wins over a later transport error", func(t *testing.T) {
		g := newRig(t, Config{Targets: []Target{{Name: "primary"}, {Name: "down", BaseURL: "http://down.test/v1", Priority: 1}}}, true)
		g.primary.Always(llmtest.ServerError())
		r := g.do(t, nil, chatBody)
		assert.Equal(t, 500, r.status)
		assert.Equal(t, "false", r.header.Get("X-Should-Retry"))
	})
	t.Run("transport errors only: 502", func(t *testing.T) {
		g := newRig(t, Config{Targets: []Target{{Name: "down", BaseURL: "http://down.test/v1"}}}, false)
		resp, _, err := g.send(context.Background(), chatBody, nil)
		require.NoError(t, err, "never a Go error the SDK would retry")
		defer resp.Body.Close()
		assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
		assert.Equal(t, "false", resp.Header.Get("X-Should-Retry"))
		assert.Equal(t, "2", resp.Header.Get(aigateway.HeaderAttempts))
	})
	t.Run("Config.MaxAttempts caps the attempts across targets", func(t *testing.T) {
		g := newRig(t, Config{MaxAttempts: 3}, true)
		g.primary.Always(llmtest.ServerError())
		g.backup.Always(llmtest.Unavailable())
		r := g.do(t, nil, chatBody)
		assert.Equal(t, 503, r.status)
		assert.Equal(t, []string{"primary", "primary", "backup"}, targets(r.call))
		assert.Equal(t, "3", r.header.Get(aigateway.HeaderAttempts))
	})
	t.Run("X-Aigateway-Max-Attempts cannot raise Config.MaxAttempts", func(t *testing.T) {
		g := newRig(t, Config{MaxAttempts: 1}, true)
		g.primary.Always(llmtest.ServerError())
		resp, call, err := g.send(context.Background(), chatBody, http.Header{aigateway.HeaderMaxAttempts: {"2"}})
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, []string{"primary"}, targets(call))
		assert.Zero(t, g.backup.Count())
	})
	t.Run("X-Aigateway-Max-Attempts caps the attempts", func(t *testing.T) {
		g := newRig(t, Config{}, true)
		g.primary.Always(llmtest.ServerError())
		resp, call, err := g.send(context.Background(), chatBody, http.Header{aigateway.HeaderMaxAttempts: {"1"}})
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 500, resp.StatusCode)
		assert.Equal(t, []string{"primary"}, targets(call))
		assert.Zero(t, g.backup.Count())
	})
}

// Each upstream sees only its own key and its own model; the caller's
// request is left as it was.
func TestCredentialsAndModelPerTarget(t *testing.T) {
	g := newRig(t, Config{}, true)
	g.primary.Always(llmtest.ServerError())
	req, _ := http.NewRequest(http.MethodPost, primaryURL+chatPath+"?key=secret-in-query", strings.NewReader(chatBody))
	req.Header.Set("Authorization", "Bearer "+callerKey)
	req.Header.Set("X-Api-Key", callerKey)
	req.Header.Set("Content-Type", "application/json")
	before := req.Header.Clone()
	resp, err := g.rt.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, before, req.Header, "the caller's request is unchanged")
	assert.Equal(t, primaryURL+chatPath+"?key=secret-in-query", req.URL.String())

	for _, p := range g.primary.Requests() {
		assert.Equal(t, "Bearer "+callerKey, p.Header.Get("Authorization"), "the primary gets the caller's key")
		assert.Contains(t, string(p.Body), `"gpt-4o-mini"`)
	}
	b, ok := g.backup.LastRequest()
	require.True(t, ok)
	assert.Equal(t, "Bearer "+backupKey, b.Header.Get("Authorization"))
	assert.Empty(t, b.Header.Get("X-Api-Key"))
	assert.Empty(t, b.URL.Query().Get("key"))
	assert.Equal(t, "backup.test", b.URL.Host)
	assert.Equal(t, chatPath, b.URL.Path)
	for k, v := range b.Header {
		assert.NotContains(t, strings.Join(v, " "), callerKey, "header %s leaks the caller's key", k)
	}
	assert.NotContains(t, string(b.Body), "gpt-4o-mini")
	assert.Contains(t, string(b.Body), `"model":"gpt-backup"`)
}

// A target without a key on another origin gets no credentials at all.
func TestKeylessTargetElsewhereGetsNoCredentials(t *testing.T) {
	g := newRig(t, Config{Targets: []Target{{Name: "local", Provider: provider.OpenAI, BaseURL: backupURL + "/v1"}}}, true)
	r := g.do(t, nil, chatBody)
	assert.Equal(t, 401, r.status)
	b, ok := g.backup.LastRequest()
	require.True(t, ok)
	assert.Empty(t, b.Header.Get("Authorization"))
}

// A per-target layer's own 429 (a limiter's) moves the call to the next
// target at once, even with a Retry-After short enough to wait for: the
// target rests for that long, but the refusal is not a failure of the
// target that counts toward a cooldown.
func TestPerTargetLayer(t *testing.T) {
	var limited atomic.Bool
	local429 := aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if limited.Load() {
				call := aigateway.CallFrom(r.Context())
				return provider.NewErrorResponse(r, call.Format(), provider.ErrorSpec{Status: 429, Message: "local limit", RetryAfter: 2 * time.Second}), nil
			}
			return next.RoundTrip(r)
		})
	})
	g := newRig(t, Config{CooldownFailures: 1, Targets: []Target{{Name: "primary", Layers: []aigateway.Middleware{local429}}, backupTarget}}, true)
	r := g.do(t, nil, chatBody)
	assert.Equal(t, "primary", r.header.Get(aigateway.HeaderTarget))
	assert.Equal(t, 1, r.call.Result().Attempts)

	limited.Store(true)
	r = g.do(t, nil, chatBody)
	assert.Equal(t, 200, r.status)
	assert.Equal(t, "backup", r.header.Get(aigateway.HeaderTarget))
	assert.Equal(t, "2", r.header.Get(aigateway.HeaderAttempts))
	assert.Equal(t, 1, g.primary.Count(), "the limited attempt never reached the primary")
	assert.Equal(t, 1, g.backup.Count())
	res := r.call.Result()
	assert.Equal(t, 1, res.Attempts, "one upstream request")
	assert.Equal(t, []string{"primary", "backup"}, targets(r.call), "no retry of the limited target")
	assert.Equal(t, 429, res.AttemptLog[0].Status)
	assert.Empty(t, g.sleeps.all(), "no wait for the limiter")

	r = g.do(t, nil, chatBody)
	assert.Equal(t, []string{"backup"}, targets(r.call), "the target rests for the limiter's Retry-After")

	limited.Store(false)
	g.clock.advance(3 * time.Second)
	r = g.do(t, nil, chatBody)
	assert.Equal(t, []string{"primary"}, targets(r.call), "rested for the Retry-After only, not for Cooldown")
}

// A target's layers wrap that target's attempts, whatever the order of
// the Config: here the target listed first has the lower priority.
func TestPerTargetLayerFollowsItsTarget(t *testing.T) {
	var seen []string
	spy := aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			seen = append(seen, r.URL.Host)
			return next.RoundTrip(r)
		})
	})
	backup := backupTarget
	backup.Layers = []aigateway.Middleware{spy}
	g := newRig(t, Config{Targets: []Target{backup, {Name: "primary"}}}, true) // backup: Priority 1
	g.primary.Push(llmtest.HTTPError(401))
	r := g.do(t, nil, chatBody)
	require.Equal(t, 200, r.status)
	assert.Equal(t, []string{"primary", "backup"}, targets(r.call))
	assert.Equal(t, []string{"backup.test"}, seen, "the spy saw the backup's attempt, and only it")
}

// The layers of a target apply to its attempts only, and their usage is
// still scanned when the router is used alone.
func TestPerTargetLayerScansUsage(t *testing.T) {
	var seen []string
	spy := aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			seen = append(seen, r.URL.Host)
			return next.RoundTrip(r)
		})
	})
	g := newRig(t, Config{Targets: []Target{{Name: "primary"}, {Name: "backup", Provider: provider.OpenAI, BaseURL: backupURL + "/v1", APIKey: backupKey, Priority: 1, Layers: []aigateway.Middleware{spy}}}}, false)
	g.primary.Push(llmtest.HTTPError(401))
	r := g.do(t, nil, chatBody)
	require.Equal(t, 200, r.status)
	assert.Equal(t, []string{"backup.test"}, seen)
	res := r.call.Result()
	assert.True(t, res.UsageKnown)
	assert.Positive(t, res.Usage.InputTokens)
}

// A target of another wire format family gets the request translated to
// its format, and its answer translated back: an OpenAI chat caller falls
// back to an Anthropic target and reads an OpenAI answer, priced for
// Anthropic's model.
func TestFallbackTranslatesToAnotherFormat(t *testing.T) {
	for _, tc := range []struct {
		provider    provider.Provider
		base, model string
		format      provider.Format
		path        string
	}{
		{provider.Anthropic, "/v1", "claude-haiku-4-5", provider.FormatAnthropicMessages, "/v1/messages"},
		// Gemini takes its key in X-Goog-Api-Key: the caller's X-Goog-
		// headers go, the target's key stays.
		{provider.Gemini, "/v1beta", "gemini-2.5-flash", provider.FormatGemini, "/v1beta/models/gemini-2.5-flash:"},
	} {
		for _, stream := range []bool{false, true} {
			t.Run(tc.provider.Name()+map[bool]string{false: "/json", true: "/stream"}[stream], func(t *testing.T) {
				cfg := Config{Targets: []Target{{Name: "primary"}, {Name: "other", Provider: tc.provider, BaseURL: backupURL + tc.base, APIKey: backupKey, Model: tc.model, Priority: 1}}}
				require.NoError(t, cfg.Validate(), "targets of different formats")
				g := newRig(t, cfg, true)
				g.primary.Always(llmtest.HTTPError(503))
				body := chatBody
				if stream {
					body = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello"}]}`
				}
				r := g.do(t, nil, body)
				require.Equal(t, 200, r.status, r.body)
				if stream {
					assert.Contains(t, r.body, `"object":"chat.completion.chunk"`)
					assert.True(t, strings.HasSuffix(r.body, "data: [DONE]\n\n"), r.body)
				} else {
					assert.Contains(t, r.body, `"object":"chat.completion"`)
				}
				assert.Contains(t, r.body, llmtest.DefaultReply[:5])
				req := g.backup.Requests()
				require.NotEmpty(t, req)
				assert.True(t, strings.HasPrefix(req[len(req)-1].URL.Path, tc.path), "sent in the target's format: %s", req[len(req)-1].URL.Path)
				res := r.call.Result()
				require.NoError(t, res.Err)
				require.Len(t, res.Upstreams, 3, "the primary twice (AttemptsPerTarget 2), then the other target")
				up := res.Upstreams[2]
				assert.Equal(t, tc.format, up.Format)
				assert.Equal(t, tc.provider.Name(), up.Provider)
				assert.True(t, up.UsageKnown)
				assert.True(t, up.CostKnown, "priced for the model that answered")
				assert.Equal(t, "other", res.Target)
			})
		}
	}
}

// Target.Models routes a call to the targets that serve its model; a model
// no target serves is a 404 in the caller's format.
func TestTargetsServeTheirModels(t *testing.T) {
	cfg := Config{Targets: []Target{
		{Name: "primary", Models: []string{"gpt-4o-mini"}},
		{Name: "backup", Provider: provider.OpenAI, BaseURL: backupURL + "/v1", APIKey: backupKey, Models: []string{"o3*", "gpt-5"}},
	}}
	require.NoError(t, cfg.Validate())
	g := newRig(t, cfg, true)
	for _, tc := range []struct{ model, target string }{
		{"gpt-4o-mini", "primary"}, {"o3-mini", "backup"}, {"gpt-5", "backup"},
	} {
		r := g.do(t, nil, `{"model":"`+tc.model+`","messages":[{"role":"user","content":"Hi"}]}`)
		require.Equal(t, 200, r.status, r.body)
		assert.Equal(t, tc.target, r.call.Result().Target, tc.model)
		assert.Equal(t, []string{tc.target}, targets(r.call), "no other target tried")
	}
	r := g.do(t, nil, `{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"Hi"}]}`)
	assert.Equal(t, 404, r.status)
	assert.Contains(t, r.body, "model_not_found")
	assert.Contains(t, r.body, `serves model \"claude-haiku-4-5\"`)
}

func TestInvalidConfig(t *testing.T) {
	cfg := Config{Targets: []Target{{Name: "a", Weight: -1}}}
	_, err := aigateway.New(nil, New(cfg))
	assert.ErrorContains(t, err, `fallback: target "a": weight -1 is negative`, "a Gateway refuses it")
	// Used alone, it answers every call with a provider-shaped 500.
	g := newRig(t, cfg, false)
	assert.Equal(t, err.Error(), g.router.Err().Error())
	r := g.do(t, nil, chatBody)
	assert.Equal(t, 500, r.status)
	assert.Contains(t, r.body, "invalid fallback configuration")
	assert.Contains(t, r.body, "weight -1 is negative")
	assert.Equal(t, "false", r.header.Get("X-Should-Retry"))
	assert.Zero(t, g.primary.Count())
}

// The caller's context ends everything at once: the wait, the attempt in
// flight, and the call, which returns the context's error.
func TestContextCancellation(t *testing.T) {
	t.Run("during an attempt", func(t *testing.T) {
		g := newRig(t, Config{}, true)
		gate := llmtest.NewGate()
		g.primary.Always(llmtest.Hold(gate))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, _, err := g.send(ctx, chatBody, nil)
			done <- err
		}()
		require.Eventually(t, func() bool { return g.primary.Count() > 0 }, 10*time.Second, time.Millisecond)
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
		assert.Equal(t, 1, g.primary.Count(), "no retry after the caller left")
		assert.Zero(t, g.backup.Count())
	})
	t.Run("during a backoff", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		waited := make(chan struct{})
		g := newRig(t, Config{Sleep: func(ctx context.Context, d time.Duration) error {
			close(waited)
			<-ctx.Done()
			return ctx.Err()
		}}, true)
		g.primary.Always(llmtest.ServerError())
		done := make(chan error, 1)
		go func() {
			_, _, err := g.send(ctx, chatBody, nil)
			done <- err
		}()
		<-waited
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
		assert.Equal(t, 1, g.primary.Count())
		assert.Zero(t, g.backup.Count())
	})
	t.Run("a Sleep that fails on its own ends the call with its error", func(t *testing.T) {
		errSleep := errors.New("no sleep for you")
		g := newRig(t, Config{Sleep: func(context.Context, time.Duration) error { return errSleep }}, true)
		g.primary.Always(llmtest.ServerError())
		_, _, err := g.send(context.Background(), chatBody, nil)
		assert.ErrorIs(t, err, errSleep)
		assert.Zero(t, g.backup.Count())
	})
	t.Run("the real sleep stops at once", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.ErrorIs(t, sleep(ctx, time.Hour), context.Canceled)
	})
}

// countingBody is an endless error body that counts what was read of it
// and its closes.
type countingBody struct {
	read, closes atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	b.read.Add(int64(len(p)))
	return len(p), nil
}

func (b *countingBody) Close() error { b.closes.Add(1); return nil }

// A response the router moves on from is read at most 64 KiB and closed
// once; so is every response of a call that fails throughout, except the
// one it answers with.
func TestDiscardedBodiesBoundedAndClosed(t *testing.T) {
	var bodies []*countingBody
	var mu sync.Mutex
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		b := &countingBody{}
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		return &http.Response{StatusCode: 503, Header: http.Header{}, Body: b, Request: r}, nil
	})
	rt := New(Config{Sleep: (&sleeps{}).sleep, Targets: []Target{{Name: "a"}, {Name: "b", BaseURL: backupURL + "/v1", Priority: 1}}}).Wrap(base)
	req, _ := http.NewRequest(http.MethodPost, primaryURL+chatPath, strings.NewReader(chatBody))
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, "false", resp.Header.Get("X-Should-Retry"))
	resp.Body.Close()
	require.Len(t, bodies, 4)
	for i, b := range bodies {
		assert.LessOrEqual(t, b.read.Load(), int64(maxErrorBody), "body %d", i)
		assert.Equal(t, int64(1), b.closes.Load(), "body %d closed once", i)
	}
}

// A call the stack refused before sending it is not routed: no attempt, no
// target, and the refusal comes back as it is.
func TestRefusedCallIsNotRouted(t *testing.T) {
	for _, gateway := range []bool{false, true} {
		g := newRig(t, Config{}, gateway)
		resp, call, err := g.send(context.Background(), chatBody, http.Header{aigateway.HeaderCacheTTL: {"soon"}})
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Empty(t, resp.Header.Get(aigateway.HeaderTarget))
		assert.Empty(t, call.Result().AttemptLog)
		assert.Zero(t, g.primary.Count()+g.backup.Count())
	}
}
