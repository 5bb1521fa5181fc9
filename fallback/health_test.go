package fallback

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/llmtest"
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
