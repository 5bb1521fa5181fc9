package ratelimit

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/llmtest"
)

// Hundreds of goroutines at the same instant never get past a request
// limit: exactly the limit goes upstream, and a call one rule refuses is
// charged to no other.
func TestConcurrentRequestsNeverExceed(t *testing.T) {
	clk := newClock() // frozen: nothing refills during the test
	l, fake, gw := stack(t, withClock(Config{Rules: []Rule{
		{Name: "rpm", Requests: 50, Per: time.Minute},
		{Name: "per-user", Key: "metadata:user", Requests: 20, Per: time.Minute},
	}}, clk))
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 300 {
		wg.Go(func() {
			r := do(t, gw, chat("user", "u"+strconv.Itoa(i%3)))
			switch r.status {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusTooManyRequests:
				refused.Add(1)
			default:
				t.Errorf("status %d", r.status)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(50), ok.Load())
	assert.Equal(t, int64(250), refused.Load())
	assert.Equal(t, 50, fake.Count())
	var perUser int64
	for u := range 3 {
		perUser += 20 - status(t, l, "per-user", "u"+strconv.Itoa(u)).Remaining
	}
	assert.Equal(t, int64(50), perUser, "the calls rpm refused charged no user: all or nothing")
	assert.Equal(t, int64(0), status(t, l, "rpm").Remaining)
	assert.Equal(t, Stats{Admitted: 50, Refused: 250}, l.Stats())
}

// Concurrent calls whose usage stays within their estimates never spend
// more tokens than the bucket holds: admission reserves each call's
// estimate, so in-flight calls cannot overshoot together.
func TestConcurrentTokensWithinReservations(t *testing.T) {
	clk := newClock()
	const burst = 5_000
	usage := llmtest.Usage{InputTokens: 20, OutputTokens: 100} // within max_tokens 100 + the prompt estimate
	body := `{"model":"gpt-4o-mini","max_tokens":100,"messages":[{"role":"user","content":"Say hello"}]}`
	estimate := promptEstimate(body) + 100
	require.GreaterOrEqual(t, estimate, usage.InputTokens+usage.OutputTokens)
	l, fake, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "tpm", Tokens: burst, Per: time.Minute}}}, clk), llmtest.WithUsage(usage))

	var spent atomic.Int64
	var wg sync.WaitGroup
	for range 300 {
		wg.Go(func() {
			r := do(t, gw, request{url: chatURL, body: body})
			if r.status == http.StatusOK {
				spent.Add(r.call.Usage.InputTokens + r.call.Usage.OutputTokens)
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, spent.Load(), int64(burst), "never beyond the bucket")
	assert.GreaterOrEqual(t, fake.Count(), int(burst/estimate), "at least what fits at the estimates was admitted")
	assert.Equal(t, int64(burst)-spent.Load(), status(t, l, "tpm").Remaining, "settled to exactly what was spent")
}

// When calls use more than they were estimated (no max_tokens), the
// overshoot is bounded by what the calls in flight at once used beyond
// their estimates: here, gated so that all of them are in flight together.
func TestConcurrentTokensOvershootBound(t *testing.T) {
	clk := newClock()
	const burst, calls = 1_000, 100
	usage := llmtest.Usage{InputTokens: 20, OutputTokens: 200}
	est := promptEstimate(chatBody)
	gate := llmtest.NewGate()
	l, fake, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "tpm", Tokens: burst, Per: time.Minute}}}, clk), llmtest.WithUsage(usage))
	fake.Always(llmtest.Hold(gate))

	var wg sync.WaitGroup
	var admitted atomic.Int64
	for range calls {
		wg.Go(func() {
			if do(t, gw, chat()).status == http.StatusOK {
				admitted.Add(1)
			}
		})
	}
	require.Eventually(t, func() bool { return int64(gate.Waiting())+l.Stats().Refused == calls }, 10*time.Second, time.Millisecond)
	inFlight := int64(gate.Waiting())
	assert.Equal(t, burst/est, inFlight, "admission stops when the reservations fill the bucket")
	gate.Open()
	wg.Wait()
	spent := admitted.Load() * (usage.InputTokens + usage.OutputTokens)
	assert.LessOrEqual(t, spent, burst+inFlight*(usage.InputTokens+usage.OutputTokens-est), "overshoot within what the in-flight calls used beyond their estimates")
	assert.Equal(t, int64(burst)-spent, status(t, l, "tpm").Remaining)
	assertRefused(t, do(t, gw, chat()), "tpm", status(t, l, "tpm").retryAfterForTest(est))
}

// retryAfterForTest is the Retry-After a bucket of 1000 a minute in this
// state gives a call of cost units: whole seconds, rounded up.
func (s Status) retryAfterForTest(cost int64) string {
	need := cost - s.Remaining
	ms := (need*60_000 + s.Limit - 1) / s.Limit
	return strconv.FormatInt((ms+999)/1000, 10)
}
