package fallback

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/llmtest"
)

// Chat requests that ask for up to 1000 output tokens.
const (
	bigChatBody = `{"model":"gpt-4o-mini","max_tokens":1000,"messages":[{"role":"user","content":"Say hello"}]}`
)

// pacedPrimary is the rig's targets with the primary paced.
func pacedPrimary() []Target {
	return []Target{{Name: "primary", Pace: true}, backupTarget}
}

// limited is an answer whose rate-limit headers say h (on top of, or
// instead of, the fake's usual ones).
func limited(h map[string]string) llmtest.Fault {
	f := llmtest.Fault{Header: http.Header{}}
	for k, v := range h {
		f.Header.Set(k, v)
	}
	return f
}

// noRequestLeft says the window of one request is empty, full again in
// 10 s.
var noRequestLeft = map[string]string{
	"X-Ratelimit-Remaining-Requests": "0",
	"X-Ratelimit-Limit-Requests":     "1",
	"X-Ratelimit-Reset-Requests":     "10s",
}

// A paced target whose answer says nothing is left is skipped by the next
// calls, for the ready backup, until the provider's window holds what a
// call needs; then it is used again. Every kind of answer says it: a
// success, a stream (read as the router peeks at it), an error the router
// moves on from.
func TestPacedTargetIsSkippedUntilItsProviderIsReady(t *testing.T) {
	at := newClock().now().Add(10 * time.Second).Format(time.RFC3339)
	for _, tc := range []struct {
		name   string
		fault  llmtest.Fault
		body   string
		first  []string      // the targets of the call whose answer says it
		ready  time.Duration // when the primary can take a call again
		follow string        // the body of the calls that follow
	}{
		{"openai requests, answer", limited(noRequestLeft), chatBody, []string{"primary"}, 10 * time.Second, chatBody},
		{"openai requests, stream", limited(noRequestLeft), streamBody, []string{"primary"}, 10 * time.Second, chatBody},
		{
			"openai requests, error answer", func() llmtest.Fault {
				f := limited(noRequestLeft)
				f.Status = http.StatusServiceUnavailable
				return f
			}(), chatBody, []string{"primary", "backup"}, 10 * time.Second, chatBody,
		},
		{
			// 60 a minute, none left: one comes back every second.
			"openai requests, refilled by the limit's share", limited(map[string]string{
				"X-Ratelimit-Remaining-Requests": "0",
				"X-Ratelimit-Limit-Requests":     "60",
				"X-Ratelimit-Reset-Requests":     "1m0s",
			}), chatBody, []string{"primary"}, time.Second, chatBody,
		},
		{
			// 500 of 1000 tokens left; a call that may use 1000 (all of
			// them: more would not fit however long it waited) waits for
			// the rest.
			"openai tokens below the call's estimate", limited(map[string]string{
				"X-Ratelimit-Remaining-Tokens": "500",
				"X-Ratelimit-Limit-Tokens":     "1000",
				"X-Ratelimit-Reset-Tokens":     "10s",
			}), chatBody, []string{"primary"}, 10 * time.Second, bigChatBody,
		},
		{
			"anthropic input tokens", limited(map[string]string{
				"Anthropic-Ratelimit-Input-Tokens-Remaining": "0",
				"Anthropic-Ratelimit-Input-Tokens-Reset":     at,
			}), chatBody, []string{"primary"}, 10 * time.Second, chatBody,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newRig(t, Config{Targets: pacedPrimary()}, true)
			g.primary.Push(tc.fault)
			r := g.do(t, nil, tc.body)
			require.Equal(t, 200, r.status)
			require.Equal(t, tc.first, targets(r.call))
			sent, slept := g.primary.Count(), len(g.sleeps.all())

			r = g.do(t, nil, tc.follow)
			assert.Equal(t, []string{"backup"}, targets(r.call), "skipped: not one attempt on it")
			assert.True(t, r.call.Result().Fallback)
			g.clock.advance(tc.ready - time.Millisecond)
			r = g.do(t, nil, tc.follow)
			assert.Equal(t, []string{"backup"}, targets(r.call), "not ready yet")
			assert.Equal(t, sent, g.primary.Count())

			g.clock.advance(time.Millisecond)
			r = g.do(t, nil, tc.follow)
			assert.Equal(t, []string{"primary"}, targets(r.call), "ready again")
			assert.Len(t, g.sleeps.all(), slept, "no wait: the backup was ready")
		})
	}
}

// A call that needs fewer tokens than the provider says are left goes to
// the paced target; one that needs more does not.
func TestPaceWeighsEachCallsTokenEstimate(t *testing.T) {
	g := newRig(t, Config{Targets: pacedPrimary()}, true)
	g.primary.Push(limited(map[string]string{
		"X-Ratelimit-Remaining-Tokens": "500",
		"X-Ratelimit-Limit-Tokens":     "1000000",
		"X-Ratelimit-Reset-Tokens":     "1m0s",
	}))
	g.do(t, nil, chatBody)

	r := g.do(t, nil, bigChatBody)
	assert.Equal(t, []string{"backup"}, targets(r.call), "prompt + max_tokens 1000 > 500")
	r = g.do(t, nil, chatBody)
	assert.Equal(t, []string{"primary"}, targets(r.call), "a short prompt fits")
}

// When no other target is ready sooner, a call waits for the paced target
// (the soonest one), within MaxRetryWait and the request's deadline; a
// longer wait is not made, and the attempt goes as it would without
// pacing.
func TestPaceWaitsForTheSoonestTarget(t *testing.T) {
	t.Run("only target", func(t *testing.T) {
		g := newRig(t, Config{Targets: []Target{{Name: "primary", Pace: true}}}, true)
		g.primary.Push(limited(map[string]string{
			"X-Ratelimit-Remaining-Requests": "0",
			"X-Ratelimit-Limit-Requests":     "1",
			"X-Ratelimit-Reset-Requests":     "2s",
		}))
		g.do(t, nil, chatBody)
		r := g.do(t, nil, chatBody)
		assert.Equal(t, 200, r.status)
		assert.Equal(t, []string{"primary"}, targets(r.call))
		assert.Equal(t, []time.Duration{2 * time.Second}, g.sleeps.all())
	})
	t.Run("every target paced: the soonest", func(t *testing.T) {
		backup := backupTarget
		backup.Pace = true
		g := newRig(t, Config{Targets: []Target{{Name: "primary", Pace: true}, backup}}, true)
		g.primary.Push(limited(map[string]string{
			"X-Ratelimit-Remaining-Requests": "0",
			"X-Ratelimit-Limit-Requests":     "1",
			"X-Ratelimit-Reset-Requests":     "3s",
		}))
		g.backup.Push(limited(map[string]string{
			"X-Ratelimit-Remaining-Requests": "0",
			"X-Ratelimit-Limit-Requests":     "1",
			"X-Ratelimit-Reset-Requests":     "2s",
		}))
		require.Equal(t, []string{"primary"}, targets(g.do(t, nil, chatBody).call))
		require.Equal(t, []string{"backup"}, targets(g.do(t, nil, chatBody).call))
		require.Empty(t, g.sleeps.all())

		r := g.do(t, nil, chatBody)
		assert.Equal(t, []string{"backup"}, targets(r.call), "ready a second before the primary")
		assert.Equal(t, []time.Duration{2 * time.Second}, g.sleeps.all())
	})
	t.Run("beyond MaxRetryWait", func(t *testing.T) {
		g := newRig(t, Config{Targets: []Target{{Name: "primary", Pace: true}}, MaxRetryWait: 5 * time.Second}, true)
		g.primary.Push(limited(map[string]string{
			"X-Ratelimit-Remaining-Requests": "0",
			"X-Ratelimit-Limit-Requests":     "1",
			"X-Ratelimit-Reset-Requests":     "6s",
		}))
		g.do(t, nil, chatBody)
		r := g.do(t, nil, chatBody)
		assert.Equal(t, []string{"primary"}, targets(r.call), "sent as without pacing")
		assert.Empty(t, g.sleeps.all())
	})
	t.Run("beyond MaxRetryWait, a later target", func(t *testing.T) {
		backup := backupTarget
		backup.Pace = true
		g := newRig(t, Config{Targets: []Target{{Name: "primary", Pace: true}, backup}, MaxRetryWait: 5 * time.Second}, true)
		for _, f := range []*llmtest.Transport{g.primary, g.backup} {
			f.Push(limited(map[string]string{
				"X-Ratelimit-Remaining-Requests": "0",
				"X-Ratelimit-Limit-Requests":     "1",
				"X-Ratelimit-Reset-Requests":     "6s",
			}))
		}
		require.Equal(t, []string{"primary"}, targets(g.do(t, nil, chatBody).call))
		require.Equal(t, []string{"backup"}, targets(g.do(t, nil, chatBody).call))
		r := g.do(t, nil, chatBody)
		assert.Equal(t, []string{"backup"}, targets(r.call), "moved on, then sent to the last one as without pacing")
		assert.Empty(t, g.sleeps.all())
	})
	t.Run("beyond the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			g := newRig(t, Config{Targets: []Target{{Name: "primary", Pace: true}}, MaxRetryWait: time.Hour}, true)
			g.primary.Push(limited(map[string]string{
				"X-Ratelimit-Remaining-Requests": "0",
				"X-Ratelimit-Limit-Requests":     "1",
				"X-Ratelimit-Reset-Requests":     "2m0s",
			}))
			g.do(t, nil, chatBody)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			r := g.do(t, ctx, chatBody)
			assert.Equal(t, []string{"primary"}, targets(r.call))
			assert.Empty(t, g.sleeps.all(), "a wait past the deadline is not made")
		})
	})
}

// A paced target's calls are spread over the time to the reset: each
// reserves a request, and one whose turn comes later waits for it, or
// moves on to a ready backup at once, giving its turn back.
func TestPaceSpreadsCalls(t *testing.T) {
	// 10 a window, 5 left, full in 5 s: 10 calls in 5 s, 2 a second, one
	// at once.
	halfUsed := limited(map[string]string{
		"X-Ratelimit-Remaining-Requests": "5",
		"X-Ratelimit-Limit-Requests":     "10",
		"X-Ratelimit-Reset-Requests":     "5s",
	})
	t.Run("waits its turn", func(t *testing.T) {
		g := newRig(t, Config{Targets: []Target{{Name: "primary", Pace: true}}}, true)
		g.primary.Always(halfUsed)
		for range 4 {
			require.Equal(t, 200, g.do(t, nil, chatBody).status)
		}
		assert.Equal(t, []time.Duration{500 * time.Millisecond, time.Second}, g.sleeps.all(),
			"the first call set the pace, the second went at once, then one every 500 ms")
		assert.Equal(t, 4, g.primary.Count())
	})
	t.Run("moves on to a ready backup", func(t *testing.T) {
		g := newRig(t, Config{Targets: pacedPrimary()}, true)
		g.primary.Always(halfUsed)
		for range 2 {
			require.Equal(t, []string{"primary"}, targets(g.do(t, nil, chatBody).call))
		}
		for range 3 {
			assert.Equal(t, []string{"backup"}, targets(g.do(t, nil, chatBody).call))
		}
		assert.Empty(t, g.sleeps.all())
		// Had the calls that moved on kept their turns, the next would
		// come 2 s from now.
		g.clock.advance(500 * time.Millisecond)
		assert.Equal(t, []string{"primary"}, targets(g.do(t, nil, chatBody).call))
	})
}

// Without Pace, a target's rate-limit headers change nothing.
func TestTargetWithoutPaceIgnoresRateLimitHeaders(t *testing.T) {
	g := newRig(t, Config{}, true)
	g.primary.Push(limited(noRequestLeft))
	g.do(t, nil, chatBody)
	r := g.do(t, nil, chatBody)
	assert.Equal(t, []string{"primary"}, targets(r.call))
	assert.Empty(t, g.sleeps.all())
	for _, h := range g.router.Health() {
		assert.Nil(t, h.Pace, h.Name)
	}
}

// Router.Health shows what a paced target's provider said is left, and
// the pace of its calls.
func TestHealthReportsPacing(t *testing.T) {
	g := newRig(t, Config{Targets: pacedPrimary()}, true)
	h := g.router.Health()
	require.NotNil(t, h[0].Pace)
	assert.Equal(t, PaceHealth{}, *h[0].Pace, "nothing said yet")
	assert.Nil(t, h[1].Pace, "the backup does not pace")

	now := g.clock.now()
	g.primary.Push(limited(map[string]string{
		"X-Ratelimit-Remaining-Requests": "5",
		"X-Ratelimit-Limit-Requests":     "10",
		"X-Ratelimit-Reset-Requests":     "5s",
		"X-Ratelimit-Remaining-Tokens":   "900",
		"X-Ratelimit-Limit-Tokens":       "1000",
		"X-Ratelimit-Reset-Tokens":       "6m0s",
	}))
	g.do(t, nil, chatBody)
	p := g.router.Health()[0].Pace
	require.NotNil(t, p)
	assert.Equal(t, PaceHealth{
		Requests: RateWindow{Known: true, Remaining: 5, Limit: 10, Reset: now.Add(5 * time.Second), At: now},
		Tokens:   RateWindow{Known: true, Remaining: 900, Limit: 1000, Reset: now.Add(6 * time.Minute), At: now},
		Rate:     2,
	}, *p)

	g.clock.advance(5 * time.Second)
	p = g.router.Health()[0].Pace
	assert.Zero(t, p.Rate, "past the reset: not paced")
	assert.Equal(t, int64(5), p.Requests.Remaining, "the last word, with its reset")
}

func TestParseLimits(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := func(remaining, limit int64, reset time.Duration) RateWindow {
		r := RateWindow{Known: true, Remaining: remaining, Limit: limit, At: now}
		if reset >= 0 {
			r.Reset = now.Add(reset)
		}
		return r
	}
	const none = -1 // no reset
	for _, tc := range []struct {
		name string
		h    map[string]string
		want PaceHealth
	}{
		{"openai", map[string]string{
			"x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "59", "x-ratelimit-reset-requests": "1s",
			"x-ratelimit-limit-tokens": "150000", "x-ratelimit-remaining-tokens": "149984", "x-ratelimit-reset-tokens": "6m0s",
		}, PaceHealth{Requests: w(59, 60, time.Second), Tokens: w(149984, 150000, 6*time.Minute)}},
		{"openai milliseconds", map[string]string{
			"x-ratelimit-remaining-requests": "4999", "x-ratelimit-reset-requests": "20ms",
		}, PaceHealth{Requests: w(4999, 0, 20*time.Millisecond)}},
		{"groq fractions", map[string]string{
			"x-ratelimit-remaining-requests": "14370", "x-ratelimit-reset-requests": "2m59.56s",
			"x-ratelimit-remaining-tokens": "5000", "x-ratelimit-reset-tokens": "7.66s",
		}, PaceHealth{Requests: w(14370, 0, 2*time.Minute+59560*time.Millisecond), Tokens: w(5000, 0, 7660*time.Millisecond)}},
		{"seconds as a number", map[string]string{
			"x-ratelimit-remaining-requests": "3", "x-ratelimit-reset-requests": "1.5",
		}, PaceHealth{Requests: w(3, 0, 1500*time.Millisecond)}},
		{"anthropic", map[string]string{
			"anthropic-ratelimit-requests-limit": "1000", "anthropic-ratelimit-requests-remaining": "999",
			"anthropic-ratelimit-requests-reset": "2026-01-01T00:00:01Z",
			"anthropic-ratelimit-tokens-limit":   "96000", "anthropic-ratelimit-tokens-remaining": "95000",
			"anthropic-ratelimit-tokens-reset":            "2026-01-01T00:00:02Z",
			"anthropic-ratelimit-input-tokens-limit":      "80000",
			"anthropic-ratelimit-input-tokens-remaining":  "80000",
			"anthropic-ratelimit-input-tokens-reset":      "2026-01-01T00:00:00Z",
			"anthropic-ratelimit-output-tokens-limit":     "16000",
			"anthropic-ratelimit-output-tokens-remaining": "15000",
			"anthropic-ratelimit-output-tokens-reset":     "2026-01-01T01:00:00.5+01:00",
		}, PaceHealth{
			Requests: w(999, 1000, time.Second), Tokens: w(95000, 96000, 2*time.Second),
			InputTokens: w(80000, 80000, 0), OutputTokens: w(15000, 16000, 500*time.Millisecond),
		}},
		{"a reset far away is an hour", map[string]string{
			"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "9999h",
			"anthropic-ratelimit-input-tokens-remaining": "0", "anthropic-ratelimit-input-tokens-reset": "2099-01-01T00:00:00Z",
		}, PaceHealth{Requests: w(0, 0, maxRest), InputTokens: w(0, 0, maxRest)}},
		{"garbage counts: no window", map[string]string{
			"x-ratelimit-remaining-requests": "many", "x-ratelimit-remaining-tokens": "-1",
			"anthropic-ratelimit-input-tokens-remaining": "1.5", "anthropic-ratelimit-output-tokens-remaining": "",
			"x-ratelimit-limit-requests": "60", "x-ratelimit-reset-requests": "1s",
		}, PaceHealth{}},
		{"garbage limits and resets are left out", map[string]string{
			"x-ratelimit-remaining-requests": "1", "x-ratelimit-limit-requests": "lots", "x-ratelimit-reset-requests": "soon",
			"x-ratelimit-remaining-tokens": "2", "x-ratelimit-limit-tokens": "-5", "x-ratelimit-reset-tokens": "-5s",
			"anthropic-ratelimit-input-tokens-remaining": "3", "anthropic-ratelimit-input-tokens-reset": "NaN",
			"anthropic-ratelimit-output-tokens-remaining": "4", "anthropic-ratelimit-output-tokens-reset": "1e400",
		}, PaceHealth{Requests: w(1, 0, none), Tokens: w(2, 0, none), InputTokens: w(3, 0, none), OutputTokens: w(4, 0, none)}},
		{"more garbage resets", map[string]string{
			"x-ratelimit-remaining-requests": "1", "x-ratelimit-reset-requests": "-5",
			"x-ratelimit-remaining-tokens": "2", "x-ratelimit-reset-tokens": "Inf",
			"anthropic-ratelimit-input-tokens-remaining": "3", "anthropic-ratelimit-input-tokens-reset": "2026-13-45T99:99:99Z",
			"anthropic-ratelimit-output-tokens-remaining": "4", "anthropic-ratelimit-output-tokens-reset": "",
		}, PaceHealth{Requests: w(1, 0, none), Tokens: w(2, 0, none), InputTokens: w(3, 0, none), OutputTokens: w(4, 0, none)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.h {
				h.Set(k, v)
			}
			var got PaceHealth
			found := parseLimits(h, now, &got)
			assert.Equal(t, tc.want != PaceHealth{}, found)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRateWindowReadyAt(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reset := now.Add(10 * time.Second)
	for _, tc := range []struct {
		name string
		w    RateWindow
		need int64
		want time.Duration
	}{
		{"not reported", RateWindow{}, 1, 0},
		{"no reset: nothing to wait for", RateWindow{Known: true}, 1, 0},
		{"reset past", RateWindow{Known: true, Reset: now.Add(-time.Second)}, 1, 0},
		{"enough left", RateWindow{Known: true, Remaining: 5, Reset: reset}, 5, 0},
		{"none left, no limit: the reset", RateWindow{Known: true, Reset: reset}, 1, 10 * time.Second},
		{"an unknown need is one", RateWindow{Known: true, Reset: reset}, 0, 10 * time.Second},
		{"short, no limit: the reset", RateWindow{Known: true, Remaining: 5, Reset: reset}, 6, 10 * time.Second},
		{"short, with a limit: its share of the refill", RateWindow{Known: true, Remaining: 0, Limit: 100, Reset: reset, At: now}, 25, 2500 * time.Millisecond},
		{"refilled since the answer", RateWindow{Known: true, Remaining: 0, Limit: 100, Reset: now.Add(5 * time.Second), At: now.Add(-5 * time.Second)}, 25, 0},
		{"partly refilled since the answer", RateWindow{Known: true, Remaining: 0, Limit: 100, Reset: now.Add(5 * time.Second), At: now.Add(-5 * time.Second)}, 75, 2500 * time.Millisecond},
		{"more than the window: all of it", RateWindow{Known: true, Remaining: 50, Limit: 100, Reset: reset, At: now}, 1000, 10 * time.Second},
		{"more than the window, all there", RateWindow{Known: true, Remaining: 100, Limit: 100, Reset: reset, At: now}, 1000, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.w.readyAt(now, tc.need).Sub(now))
		})
	}
}

func TestTargetPaceJSON(t *testing.T) {
	var c Config
	require.NoError(t, json.Unmarshal([]byte(`{"targets":[{"name":"a","pace":true},{"name":"b"}]}`), &c))
	assert.Equal(t, []Target{{Name: "a", Pace: true}, {Name: "b"}}, c.Targets)
	out, err := json.Marshal(c)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(out), `"pace":true`), "%s", out)
	assert.NotContains(t, string(out), `"pace":false`)
}

// Paced calls from many goroutines, with Health polled meanwhile, race
// with nothing (go test -race).
func TestPaceConcurrentCalls(t *testing.T) {
	g := newRig(t, Config{Targets: pacedPrimary()}, true)
	g.primary.Always(limited(map[string]string{
		"X-Ratelimit-Remaining-Requests": "5",
		"X-Ratelimit-Limit-Requests":     "10",
		"X-Ratelimit-Reset-Requests":     "5s",
	}))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				resp, _, err := g.send(context.Background(), chatBody, nil)
				if assert.NoError(t, err) {
					assert.Equal(t, 200, resp.StatusCode)
					resp.Body.Close()
				}
				g.router.Health()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 80, g.primary.Count()+g.backup.Count())
}
