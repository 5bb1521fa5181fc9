package ratelimit

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/pricing"
	"github.com/aigateway-go/aigateway/provider"
)

// A max_tokens as large as an int64 holds (the caller's to set) is a
// reservation no rule holds, refused as such: it does not wrap round to a
// negative take that would refill the counter.
func TestHugeMaxTokensIsRefusedNotWrapped(t *testing.T) {
	for _, maxTokens := range []int64{math.MaxInt64, math.MaxInt64 - 3} {
		body := `{"model":"gpt-4o-mini","max_tokens":` + strconv.FormatInt(maxTokens, 10) + `,"messages":[{"role":"user","content":"Say hello"}]}`
		for _, rule := range []Rule{
			{Name: "tokens", Tokens: 1000, Per: time.Minute},
			{Name: "budget", CostUSD: 1, Period: PeriodMonth},
			{Name: "rolling", CostUSD: 1, Per: time.Hour},
		} {
			t.Run(fmt.Sprintf("%s/%d", rule.Name, maxTokens), func(t *testing.T) {
				l, fake, gw := stack(t, withClock(Config{Rules: []Rule{rule}}, newClock()))
				r := do(t, gw, request{url: chatURL, body: body})
				assertRefused(t, r, rule.Name, "")
				assert.Contains(t, r.body, "more than the limit holds")
				assert.Zero(t, fake.Count())
				s := status(t, l, rule.Name)
				assert.Equal(t, rule.Tokens, s.Remaining, "nothing taken, nothing given")
				assert.Equal(t, rule.CostUSD, s.RemainingUSD)
			})
		}
	}
}

// repeating is a layer that sends each call upstream n times, reading all
// but the last answer itself: n upstream responses for one admission, as a
// router's retries make.
func repeating(n int) aigateway.Middleware {
	return aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return aigateway.Layer(next, func(_ aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			for i := 0; ; i++ {
				r := req.Clone(req.Context())
				r.Body, _ = req.GetBody()
				resp, err := next.RoundTrip(r)
				if err != nil || i == n-1 {
					return resp, err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	})
}

// The cost of many responses, each as dear as a price set absurdly high
// makes it, adds up to a budget deep in debt, not to a sum wrapped round
// to a refund.
func TestSettlementSumsSaturate(t *testing.T) {
	absurd, err := pricing.Default().Set("openai", "gpt-4o-mini", pricing.Price{Input: 1e12, Output: 1e12})
	require.NoError(t, err)
	for _, rule := range []Rule{
		{Name: "budget", CostUSD: 1e9, Period: PeriodMonth},
		{Name: "rolling", CostUSD: 1e9, Per: time.Hour},
	} {
		t.Run(rule.Name, func(t *testing.T) {
			fake := llmtest.NewTransport(llmtest.WithUsage(llmtest.Usage{InputTokens: provider.MaxUsageTokens}))
			l := New(withClock(Config{Rules: []Rule{rule}}, newClock()))
			gw := mustNew(t, fake, l, repeating(10))
			gw.Prices = absurd
			defer gw.Close()
			require.Equal(t, http.StatusOK, do(t, gw, chat()).status)
			assert.Equal(t, 10, fake.Count())
			assert.Less(t, status(t, l, rule.Name).RemainingUSD, -1e9, "deep in debt")
			r := do(t, gw, chat())
			assert.Equal(t, http.StatusTooManyRequests, r.status)
			assert.NotEmpty(t, r.header.Get("Retry-After"))
		})
	}
}

// The most tokens one response may report (provider.MaxUsageTokens, input
// and output) on a rule of 1 token per hour: the counter's debt saturates
// (at about 146 years) and stays a debt; nothing wraps.
func TestLargestUsageOnSlowestRule(t *testing.T) {
	up := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		n := strconv.Itoa(provider.MaxUsageTokens)
		body := `{"id":"x","object":"chat.completion","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":` + n + `,"completion_tokens":` + n + `}}`
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
	})
	clk := newClock()
	l := New(withClock(Config{Rules: []Rule{{Name: "slow", Tokens: 1, Per: time.Hour}}}, clk))
	gw := mustNew(t, up, l)
	defer gw.Close()
	unsized := request{url: chatURL, body: `{"model":"gpt-4o-mini", not json`} // reserves nothing: admitted while not in debt
	require.Equal(t, http.StatusOK, do(t, gw, unsized).status)
	s := status(t, l, "slow")
	assert.Less(t, s.Remaining, int64(-500_000), "deep in debt")
	assert.Greater(t, s.Reset, 140*365*24*time.Hour)
	for range 3 {
		clk.Advance(365 * 24 * time.Hour)
		r := do(t, gw, unsized)
		assertRefused(t, r, "slow", r.header.Get("Retry-After"))
		retry, err := strconv.ParseInt(r.header.Get("Retry-After"), 10, 64)
		require.NoError(t, err)
		assert.Greater(t, retry, int64(130*365*24*3600), "more than a century to go")
	}
}

// A rule may refill over anything up to a century: its bucket holds all of
// it, so half the burst taken leaves half.
func TestLongestPerHoldsItsBurst(t *testing.T) {
	years := func(n int) time.Duration { return time.Duration(n) * 365 * 24 * time.Hour }
	for _, tc := range []struct {
		rule  Rule
		input int64   // tokens the answer reports
		want  float64 // tokens or dollars left
	}{
		{Rule{Name: "tokens", Tokens: 1000, Per: years(99)}, 500, 500},
		{Rule{Name: "burst", Tokens: 10, Burst: 1000, Per: years(1)}, 500, 500}, // 1000 tokens refill in 100 years
		{Rule{Name: "budget", CostUSD: 1, Per: years(99)}, 3_333_333, 0.5},      // $0.50 of gpt-4o-mini, nearly
	} {
		t.Run(tc.rule.Name, func(t *testing.T) {
			require.NoError(t, Config{Rules: []Rule{tc.rule}}.Validate())
			l, _, gw := stack(t, withClock(Config{Rules: []Rule{tc.rule}}, newClock()), llmtest.WithUsage(llmtest.Usage{InputTokens: tc.input}))
			require.Equal(t, http.StatusOK, do(t, gw, chat()).status)
			s := status(t, l, tc.rule.Name)
			if tc.rule.CostUSD > 0 {
				assert.InDelta(t, tc.want, s.RemainingUSD, 1e-6)
			} else {
				assert.Equal(t, int64(tc.want), s.Remaining)
			}
		})
	}
}
