package fallback

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// A target that keeps failing rests: calls go straight to the next target
// until the rest is over, then it is probed again.
func TestCooldownStopsHammeringADeadTarget(t *testing.T) {
	g := newRig(t, Config{AttemptsPerTarget: 1, CooldownFailures: 2, Cooldown: time.Minute}, true)
	g.primary.Always(llmtest.ServerError())

	for range 2 {
		r := g.do(t, nil, chatBody)
		require.Equal(t, 200, r.status)
	}
	require.Equal(t, 2, g.primary.Count())
	for range 5 {
		r := g.do(t, nil, chatBody)
		require.Equal(t, 200, r.status)
		assert.Equal(t, []string{"backup"}, targets(r.call), "the primary rests")
		assert.True(t, r.call.Result().Fallback, "the top-ranked target rests: a fallback")
	}
	assert.Equal(t, 2, g.primary.Count(), "no request reached the resting primary")

	g.clock.advance(time.Minute + time.Second)
	g.do(t, nil, chatBody)
	assert.Equal(t, 3, g.primary.Count(), "probed after the rest")
	g.do(t, nil, chatBody)
	assert.Equal(t, 3, g.primary.Count(), "one more failure rests it again")

	g.primary.Always(llmtest.Fault{})
	g.clock.advance(time.Minute + time.Second)
	for range 3 {
		r := g.do(t, nil, chatBody)
		assert.Equal(t, []string{"primary"}, targets(r.call), "healthy again")
	}
}

// A 429 with Retry-After rests the target for that long.
func TestCooldownFromRetryAfter(t *testing.T) {
	g := newRig(t, Config{}, true)
	g.primary.Push(llmtest.RateLimited(time.Minute))
	g.do(t, nil, chatBody)
	r := g.do(t, nil, chatBody)
	assert.Equal(t, []string{"backup"}, targets(r.call))
	assert.Equal(t, 1, g.primary.Count())

	g.clock.advance(61 * time.Second)
	r = g.do(t, nil, chatBody)
	assert.Equal(t, []string{"primary"}, targets(r.call))
}

// When every target rests, the one whose rest ends first is tried.
func TestCooldownEveryTargetResting(t *testing.T) {
	g := newRig(t, Config{}, true)
	g.primary.Push(llmtest.RateLimited(time.Minute))
	g.backup.Push(llmtest.RateLimited(30 * time.Second))
	r := g.do(t, nil, chatBody)
	assert.Equal(t, 429, r.status)
	assert.Equal(t, "false", r.header.Get("X-Should-Retry"))

	r = g.do(t, nil, chatBody)
	assert.Equal(t, 200, r.status)
	assert.Equal(t, []string{"backup"}, targets(r.call))
}

func TestCooldownDisabled(t *testing.T) {
	g := newRig(t, Config{AttemptsPerTarget: 1, CooldownFailures: -1}, true)
	g.primary.Always(llmtest.ServerError())
	for range 5 {
		g.do(t, nil, chatBody)
	}
	assert.Equal(t, 5, g.primary.Count())
}

// Equal priorities share traffic by weight.
func TestWeightedBalancing(t *testing.T) {
	const calls = 2000
	g := newRig(t, Config{
		Rand: rand.New(rand.NewPCG(1, 2)),
		Targets: []Target{
			{Name: "primary", Weight: 1},
			{Name: "backup", BaseURL: backupURL + "/v1", APIKey: backupKey, Weight: 3},
			{Name: "spare", BaseURL: "http://spare.test/v1", Priority: 1},
		},
	}, false)
	for range calls {
		r := g.do(t, nil, chatBody)
		require.Equal(t, 200, r.status)
	}
	share := float64(g.backup.Count()) / calls
	assert.InDelta(t, 0.75, share, 0.04, "backup share with weight 3 of 4")
	assert.Equal(t, calls, g.primary.Count()+g.backup.Count(), "the lower priority gets nothing while they answer")
}

// Lower priority first, whatever the order of the Config.
func TestPriorityOrder(t *testing.T) {
	g := newRig(t, Config{Targets: []Target{
		{Name: "backup", BaseURL: backupURL + "/v1", APIKey: backupKey, Priority: 2},
		{Name: "primary", Priority: 1},
	}}, true)
	r := g.do(t, nil, chatBody)
	assert.Equal(t, []string{"primary"}, targets(r.call))
	assert.False(t, r.call.Result().Fallback)
}

func TestBackoff(t *testing.T) {
	r := New(Config{Targets: []Target{{}}, BackoffBase: 100 * time.Millisecond, BackoffMax: time.Second, Rand: rand.New(rand.NewPCG(3, 4))})
	for try, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second} {
		seen := map[time.Duration]bool{}
		for range 20 {
			d := r.backoff(try)
			assert.GreaterOrEqual(t, d, want/2, "retry %d", try+1)
			assert.LessOrEqual(t, d, want, "retry %d", try+1)
			seen[d] = true
		}
		assert.Greater(t, len(seen), 10, "retry %d: the waits are jittered", try+1)
	}
}

// Many calls at once share the router's health and random source safely
// (run with -race), and each one is answered.
func TestConcurrentCalls(t *testing.T) {
	g := newRig(t, Config{Rand: rand.New(rand.NewPCG(5, 6)), Targets: []Target{
		{Name: "primary", Weight: 2},
		{Name: "backup", BaseURL: backupURL + "/v1", APIKey: backupKey, Weight: 1},
	}}, true)
	g.primary.Always(llmtest.ServerError())
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 20 {
				r := g.do(t, nil, streamBody)
				assert.Equal(t, 200, r.status)
				assert.NoError(t, r.err)
				g.clock.advance(time.Second)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 320, g.backup.Count())
}

// Without weights, targets of equal priority are a fallback chain in the
// order listed.
func TestListedOrderWithoutWeights(t *testing.T) {
	g := newRig(t, Config{Targets: []Target{{Name: "primary"}, {Name: "backup", BaseURL: backupURL + "/v1", APIKey: backupKey}}}, true)
	for range 50 {
		r := g.do(t, nil, chatBody)
		require.Equal(t, []string{"primary"}, targets(r.call))
	}
	assert.Zero(t, g.backup.Count())
}

// After its rest, a target is probed by one call at a time: while the
// probe is in flight, other calls still skip it.
func TestCooldownProbeOneCallAtATime(t *testing.T) {
	g := newRig(t, Config{AttemptsPerTarget: 1, CooldownFailures: 1}, true)
	g.primary.Push(llmtest.ServerError())
	g.do(t, nil, chatBody) // rests the primary
	g.clock.advance(DefaultCooldown + time.Second)

	gate := llmtest.NewGate()
	g.primary.Push(llmtest.Hold(gate))
	probed := make(chan result, 1)
	go func() { probed <- g.do(t, nil, chatBody) }()
	require.Eventually(t, func() bool { return g.primary.Count() == 2 }, 10*time.Second, time.Millisecond, "the probe reached the primary")
	r := g.do(t, nil, chatBody)
	assert.Equal(t, []string{"backup"}, targets(r.call), "the primary is being probed")
	assert.Equal(t, 2, g.primary.Count())

	gate.Open()
	p := <-probed
	assert.Equal(t, []string{"primary"}, targets(p.call))
	r = g.do(t, nil, chatBody)
	assert.Equal(t, []string{"primary"}, targets(r.call), "the probe succeeded: restored")
}

// A probe given to a call that never tried the target (an earlier target
// answered) is released with the call.
func TestCooldownProbeReleased(t *testing.T) {
	g := newRig(t, Config{AttemptsPerTarget: 1, CooldownFailures: 1}, true)
	g.backup.Push(llmtest.ServerError())
	g.primary.Push(llmtest.HTTPError(401))
	g.do(t, nil, chatBody) // the primary 401s, the backup 500s: both rest
	g.clock.advance(DefaultCooldown + time.Second)
	for range 3 {
		r := g.do(t, nil, chatBody)
		assert.Equal(t, []string{"primary"}, targets(r.call))
	}
	g.primary.Always(llmtest.HTTPError(401))
	r := g.do(t, nil, chatBody)
	assert.Equal(t, []string{"primary", "backup"}, targets(r.call), "the backup's probe was released by the calls before")
}

// A call does not retry a target that went to rest meanwhile (its own
// failures, or other calls', reached CooldownFailures): it moves on at
// once instead of hammering it.
func TestCooldownStopsRetriesOfARestingTarget(t *testing.T) {
	g := newRig(t, Config{CooldownFailures: 1}, true)
	g.primary.Always(llmtest.ServerError())
	r := g.do(t, nil, chatBody)
	require.Equal(t, 200, r.status)
	assert.Equal(t, []string{"primary", "backup"}, targets(r.call), "the first failure rests the primary: no retry")
	assert.Empty(t, g.sleeps.all(), "no backoff before a retry that is not made")
	assert.Equal(t, 1, g.primary.Count())
}

// An upstream's Retry-After rests its target for at most an hour (a bogus
// date must not take it out of rotation for good), but that bound is on
// the upstream's word only: an operator's Cooldown longer than an hour
// still applies in full to a target out of quota.
func TestCooldownBoundsTheUpstreamsRetryAfterNotTheConfig(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      Config
		fault    llmtest.Fault
		restsFor time.Duration
	}{
		{name: "a Retry-After of ten days", fault: llmtest.RateLimited(240 * time.Hour), restsFor: maxRest},
		{name: "a Cooldown of two hours for a target out of quota", cfg: Config{Cooldown: 2 * time.Hour},
			fault: llmtest.InsufficientQuota(), restsFor: 2 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newRig(t, tc.cfg, true)
			g.primary.Push(tc.fault)
			r := g.do(t, nil, chatBody)
			require.Equal(t, []string{"primary", "backup"}, targets(r.call))

			g.clock.advance(tc.restsFor - time.Second)
			r = g.do(t, nil, chatBody)
			assert.Equal(t, []string{"backup"}, targets(r.call), "still resting a second before the end")
			g.clock.advance(2 * time.Second)
			r = g.do(t, nil, chatBody)
			assert.Equal(t, []string{"primary"}, targets(r.call), "probed after the rest")
		})
	}
}

// Health follows a target through failures, a rest, the probe after it and
// the probe's success; the target that answered meanwhile stays well.
func TestHealthReportsARestAndTheProbeThatEndsIt(t *testing.T) {
	// In a bubble, so that the test knows when the probe waits upstream.
	synctest.Test(t, func(t *testing.T) {
		g := newRig(t, Config{AttemptsPerTarget: 1, CooldownFailures: 2, Cooldown: time.Minute}, true)
		t0 := g.clock.now()
		assert.Equal(t, []TargetHealth{{Name: "primary"}, {Name: "backup"}}, g.router.Health(), "all well")

		g.primary.Always(llmtest.ServerError())
		g.do(t, nil, chatBody)
		h := g.router.Health()
		require.Len(t, h, 2)
		assert.False(t, h[0].Resting, "one failure of two")
		assert.Zero(t, h[0].RestUntil)
		assert.Equal(t, 1, h[0].Failures)
		assert.Equal(t, t0, h[0].LastErrorAt)
		var perr *provider.Error
		require.ErrorAs(t, h[0].LastError, &perr)
		assert.Equal(t, 500, perr.Status)
		assert.Equal(t, TargetHealth{Name: "backup"}, h[1], "the backup answered")

		g.clock.advance(time.Second)
		g.do(t, nil, chatBody)
		h = g.router.Health()
		assert.True(t, h[0].Resting, "two failures of two")
		assert.Equal(t, t0.Add(time.Second+time.Minute), h[0].RestUntil)
		assert.Equal(t, 2, h[0].Failures)
		assert.Equal(t, t0.Add(time.Second), h[0].LastErrorAt)
		assert.False(t, h[0].Probing)

		g.clock.advance(time.Minute)
		h = g.router.Health()
		assert.False(t, h[0].Resting, "the rest is over")
		assert.Equal(t, t0.Add(time.Second+time.Minute), h[0].RestUntil, "until a probe's outcome")
		assert.False(t, h[0].Probing, "no call has come yet")

		gate := llmtest.NewGate()
		g.primary.Always(llmtest.Fault{})
		g.primary.Push(llmtest.Hold(gate))
		probed := make(chan result, 1)
		go func() { probed <- g.do(t, nil, chatBody) }()
		synctest.Wait()
		require.Equal(t, 1, gate.Waiting(), "the probe waits upstream")
		h = g.router.Health()
		assert.True(t, h[0].Probing)
		assert.False(t, h[0].Resting)

		gate.Open()
		p := <-probed
		require.Equal(t, []string{"primary"}, targets(p.call))
		h = g.router.Health()
		assert.Equal(t, TargetHealth{
			Name:        "primary",
			LastError:   h[0].LastError,
			LastErrorAt: t0.Add(time.Second),
		}, h[0], "restored: no rest, no failures, no probe")
		assert.ErrorAs(t, h[0].LastError, &perr, "the last error is kept, with its time")
	})
}

// The last error a transport gave names the request URL: Health shows it
// without the ?key= or the user info it carried, and errors.Is and
// errors.As still see the cause.
func TestHealthRedactsTheLastError(t *testing.T) {
	const secret = "AIzaSECRET"
	leaky := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, &url.Error{Op: "Post", URL: "https://user:" + secret + "@leaky.test/v1/chat/completions?key=" + secret, Err: errRefused}
	})
	router := New(Config{AttemptsPerTarget: 1, Targets: []Target{{Name: "leaky"}}, Sleep: (&sleeps{}).sleep, Now: newClock().now})
	gw := mustNew(t, leaky, router)
	defer func() { assert.NoError(t, gw.Close()) }()
	req, _ := http.NewRequest(http.MethodPost, primaryURL+chatPath, strings.NewReader(chatBody))
	req.Header.Set("Content-Type", "application/json")
	resp, err := gw.RoundTrip(req)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusBadGateway, resp.StatusCode)

	h := router.Health()
	require.Len(t, h, 1)
	require.Error(t, h[0].LastError)
	assert.NotContains(t, h[0].LastError.Error(), secret)
	assert.Contains(t, h[0].LastError.Error(), "leaky.test", "only the credentials go")
	assert.ErrorIs(t, h[0].LastError, errRefused)
	var ue *url.Error
	assert.ErrorAs(t, h[0].LastError, &ue)
}

// A refusal by one of the target's own layers (a limiter's 429 with
// Retry-After) rests the target and is its last error, but is not a
// failure of the target.
func TestHealthShowsALayersRefusalAsTheReasonOfARest(t *testing.T) {
	local429 := aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			call := aigateway.CallFrom(r.Context())
			return provider.NewErrorResponse(r, call.Format(), provider.ErrorSpec{Status: 429, Message: "local limit", RetryAfter: 2 * time.Second}), nil
		})
	})
	g := newRig(t, Config{Targets: []Target{{Name: "primary", Layers: []aigateway.Middleware{local429}}, backupTarget}}, true)
	t0 := g.clock.now()
	r := g.do(t, nil, chatBody)
	require.Equal(t, []string{"primary", "backup"}, targets(r.call))

	h := g.router.Health()
	require.Len(t, h, 2)
	assert.True(t, h[0].Resting)
	assert.Equal(t, t0.Add(2*time.Second), h[0].RestUntil)
	assert.Zero(t, h[0].Failures, "the target itself did not fail")
	require.Error(t, h[0].LastError)
	assert.Contains(t, h[0].LastError.Error(), "local limit")
}

// Health reads the state the calls change, from other goroutines (run
// with -race).
func TestHealthDuringCalls(t *testing.T) {
	g := newRig(t, Config{AttemptsPerTarget: 1, CooldownFailures: 2}, true)
	g.primary.Always(llmtest.ServerError())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				g.do(t, nil, chatBody)
				g.clock.advance(10 * time.Second)
			}
		})
		wg.Go(func() {
			for range 20 {
				for _, th := range g.router.Health() {
					assert.NotEmpty(t, th.Name)
				}
			}
		})
	}
	wg.Wait()
	h := g.router.Health()
	require.Len(t, h, 2)
	assert.Positive(t, h[0].Failures)
	assert.Zero(t, h[1].Failures)
}

// A Router whose Config is invalid has no targets to report.
func TestHealthOfAnInvalidRouter(t *testing.T) {
	r := New(Config{})
	require.Error(t, r.Err())
	assert.Nil(t, r.Health())
}
