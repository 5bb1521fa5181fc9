package ratelimit

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/fallback"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/pricing"
	"github.com/aigateway-go/aigateway/provider"
)

// A budget refuses a call whose model the price table lacks, before
// anything goes upstream, with a 403 shaped like the provider's errors that
// says how to price it; other rules are not charged.
func TestBudgetRefusesUnpricedModel(t *testing.T) {
	for _, tc := range []struct {
		name, url, body, model, provider string
		want                             string // in the provider's error shape
	}{
		{"openai alias the table lacks", chatURL, `{"model":"chatgpt-4o-latest","messages":[{"role":"user","content":"Say hello"}]}`,
			"chatgpt-4o-latest", "openai", `"type":"request_forbidden","param":null,"code":"model_not_priced"`},
		{"openai fine-tuned id", chatURL, `{"model":"ft:gpt-4o-mini-2024-07-18:acme::9xYz","messages":[{"role":"user","content":"Say hello"}]}`,
			"ft:gpt-4o-mini-2024-07-18:acme::9xYz", "openai", `"code":"model_not_priced"`},
		{"anthropic", messagesURL, `{"model":"claude-next","max_tokens":64,"messages":[{"role":"user","content":"Say hello"}]}`,
			"claude-next", "anthropic", `{"type":"error","error":{"type":"permission_error"`},
		{"gemini", llmtest.TransportURL + "/v1beta/models/gemini-9-ultra:generateContent", geminiBody,
			"gemini-9-ultra", "gcp.gemini", `"status":"PERMISSION_DENIED"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, fake, gw := stack(t, withClock(Config{Rules: []Rule{
				{Name: "tpm", Tokens: 10_000, Per: time.Minute},
				{Name: "team budget", CostUSD: 500, Period: PeriodMonth},
			}}, newClock()))
			r := do(t, gw, request{url: tc.url, body: tc.body})
			assert.Equal(t, http.StatusForbidden, r.status)
			assert.Equal(t, "false", r.header.Get("X-Should-Retry"))
			assert.Empty(t, r.header.Get("Retry-After"), "no wait will price it")
			assert.Equal(t, "team budget", r.header.Get(HeaderRule))
			assert.True(t, json.Valid([]byte(r.body)))
			assert.Contains(t, r.body, tc.want)
			assert.Zero(t, fake.Count(), "nothing went upstream")
			assert.ErrorIs(t, r.call.Err, ErrUnpriced)
			assert.NotErrorIs(t, r.call.Err, ErrLimited, "no limit was reached")
			var pe *provider.Error
			if assert.ErrorAs(t, r.call.Err, &pe) {
				for _, want := range []string{`budget "team budget"`, `model "` + tc.model + `"`, `provider "` + tc.provider + `"`, "pricing.Table Set, Merge or LoadFile", "AllowUnpriced"} {
					assert.Contains(t, pe.Message, want)
				}
			}
			assert.Equal(t, Stats{Refused: 1}, l.Stats())
			assert.Equal(t, int64(10_000), status(t, l, "tpm").Remaining, "a refused call is charged to no rule")
		})
	}
}

// Once the table prices the model, the budget admits it and charges it.
func TestBudgetPricesModelOnceAdded(t *testing.T) {
	prices, err := pricing.Default().Set("openai", "chatgpt-4o-latest", pricing.Price{Input: 5, Output: 15})
	require.NoError(t, err)
	l, _, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "b", CostUSD: 10, Period: PeriodMonth}}}, newClock()),
		llmtest.WithUsage(llmtest.Usage{InputTokens: 1_000_000}))
	gw.Prices = prices
	body := `{"model":"chatgpt-4o-latest","messages":[{"role":"user","content":"Say hello"}]}`
	assert.Equal(t, http.StatusOK, do(t, gw, request{url: chatURL, body: body}).status)
	assert.InDelta(t, 5, status(t, l, "b").RemainingUSD, 1e-9)
	assert.Equal(t, Stats{Admitted: 1}, l.Stats())
}

// A budget with AllowUnpriced admits what it cannot price, at no cost to
// it; a response it can price is charged. A budget without it still
// refuses.
func TestAllowUnpricedAdmitsAtNoCost(t *testing.T) {
	for _, tc := range []struct {
		name      string
		response  string // the model the upstream reports
		remaining float64
	}{
		{"neither model priced", "my-own-model", 1},
		{"the response's model priced", "gpt-4o-mini", 1 - 0.15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, _, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "b", CostUSD: 1, Period: PeriodMonth, AllowUnpriced: true}}}, newClock()),
				llmtest.WithUsage(llmtest.Usage{InputTokens: 1_000_000}), llmtest.WithResponseModel(func(string) string { return tc.response }))
			body := `{"model":"my-own-model","messages":[{"role":"user","content":"Say hello"}]}`
			assert.Equal(t, http.StatusOK, do(t, gw, request{url: chatURL, body: body}).status)
			assert.InDelta(t, tc.remaining, status(t, l, "b").RemainingUSD, 1e-9)
			assert.Zero(t, l.Stats().Refused)
		})
	}
	t.Run("counted", func(t *testing.T) {
		l, _, gw := stack(t, withClock(Config{Rules: []Rule{{Name: "b", CostUSD: 1, Period: PeriodMonth, AllowUnpriced: true}}}, newClock()))
		body := `{"model":"my-own-model","messages":[{"role":"user","content":"Say hello"}]}`
		assert.Equal(t, http.StatusOK, do(t, gw, request{url: chatURL, body: body}).status)
		assert.Equal(t, Stats{Admitted: 1, Unpriced: 1}, l.Stats())
	})
	t.Run("beside a budget without it", func(t *testing.T) {
		_, fake, gw := stack(t, withClock(Config{Rules: []Rule{
			{Name: "lenient", CostUSD: 1, Period: PeriodMonth, AllowUnpriced: true},
			{Name: "strict", CostUSD: 1, Period: PeriodMonth},
		}}, newClock()))
		body := `{"model":"my-own-model","messages":[{"role":"user","content":"Say hello"}]}`
		r := do(t, gw, request{url: chatURL, body: body})
		assert.Equal(t, http.StatusForbidden, r.status)
		assert.Equal(t, "strict", r.header.Get(HeaderRule))
		assert.Zero(t, fake.Count())
	})
}

// A body the stack cannot read has no model to price: a budget refuses it
// unless it allows unpriced calls; then the call is settled on what its
// response reports.
func TestBudgetAndUnreadableBody(t *testing.T) {
	up := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		body := `{"id":"x","object":"chat.completion","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":1000000,"completion_tokens":0,"total_tokens":1000000}}`
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
	})
	broken := request{url: chatURL, body: `{"model":"gpt-4o-mini", not json`}
	t.Run("refused", func(t *testing.T) {
		l := New(withClock(Config{Rules: []Rule{{Name: "b", CostUSD: 1, Period: PeriodMonth}}}, newClock()))
		gw := mustNew(t, up, l)
		defer gw.Close()
		r := do(t, gw, broken)
		assert.Equal(t, http.StatusForbidden, r.status)
		assert.Contains(t, r.body, "the gateway cannot read its body exactly")
		assert.ErrorIs(t, r.call.Err, ErrUnpriced)
		assert.Zero(t, r.call.Attempts)
	})
	t.Run("allowed", func(t *testing.T) {
		l := New(withClock(Config{Rules: []Rule{{Name: "b", CostUSD: 1, Period: PeriodMonth, AllowUnpriced: true}}}, newClock()))
		gw := mustNew(t, up, l)
		defer gw.Close()
		assert.Equal(t, http.StatusOK, do(t, gw, broken).status)
		assert.InDelta(t, 1-0.15, status(t, l, "b").RemainingUSD, 1e-9, "priced by the model its response reports")
	})
}

// upstreamProvider is a layer that sends every attempt to another provider,
// as a fallback target does.
func upstreamProvider(name string) aigateway.Middleware {
	p := provider.OpenAICompatible(name, "https://llm.acme.test/v1")
	return aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return aigateway.Layer(next, func(call aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			ctx, _ := call.Route(req.Context(), aigateway.Route{Provider: p})
			return next.RoundTrip(req.WithContext(ctx))
		})
	})
}

// A response whose model the table lacks is priced as the model asked for,
// at what it used (the same price the meter reports); one the stack cannot
// price at all (a fallback target's provider) is not free for a budget:
// it is priced as the provider and model the call was admitted for.
func TestUnpricedResponseIsNotFree(t *testing.T) {
	maxTokensBody := `{"model":"gpt-4o-mini","max_tokens":100000,"messages":[{"role":"user","content":"Say hello"}]}`
	renamed := llmtest.WithResponseModel(func(string) string { return "gpt-4o-mini-experimental" })
	for _, tc := range []struct {
		name      string
		body      string
		usage     llmtest.Usage
		opt       llmtest.Option
		layers    []aigateway.Middleware
		remaining float64
		unpriced  int64
	}{
		{"reported model unknown: priced as requested", chatBody, llmtest.Usage{InputTokens: 1_000_000}, renamed, nil, 1 - 0.15, 0},
		{"reported model unknown: what it used, not the reservation", maxTokensBody, llmtest.Usage{InputTokens: 100, OutputTokens: 50}, renamed, nil, 1 - (100*0.15+50*0.60)/1e6, 0},
		{"fallback target's provider unknown", chatBody, llmtest.Usage{InputTokens: 1_000_000}, llmtest.WithResponseModel(func(m string) string { return m }),
			[]aigateway.Middleware{upstreamProvider("acme-llm")}, 1 - 0.15, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := llmtest.NewTransport(llmtest.WithUsage(tc.usage), tc.opt)
			l := New(withClock(Config{Rules: []Rule{{Name: "b", CostUSD: 1, Period: PeriodMonth}}}, newClock()))
			gw := mustNew(t, fake, append([]aigateway.Middleware{l}, tc.layers...)...)
			defer gw.Close()
			require.Equal(t, http.StatusOK, do(t, gw, request{url: chatURL, body: tc.body}).status)
			assert.InDelta(t, tc.remaining, status(t, l, "b").RemainingUSD, 1e-9)
			assert.Equal(t, Stats{Admitted: 1, Unpriced: tc.unpriced}, l.Stats())
		})
	}
}

// A budget in a fallback target's Layers prices what that target is sent:
// the target's Model and provider, not the model the caller named (an alias
// the table does not know, which the target replaces). It refused every
// call for an alias, though the target's model is priced; and it priced a
// target's unpriced model as the caller's.
func TestTargetBudgetPricesTheTargetsModel(t *testing.T) {
	for _, tc := range []struct {
		name, callerModel, targetModel string
		status                         int
		remaining                      float64
	}{
		{"an alias the target replaces with a priced model", "fast", "gpt-4o-mini", http.StatusOK, 1 - 0.15},
		{"a priced model the target replaces with an unpriced one", "gpt-4o-mini", "my-own-model", http.StatusForbidden, 1},
		{"no model of the target's own", "gpt-4o-mini", "", http.StatusOK, 1 - 0.15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := llmtest.NewTransport(llmtest.WithUsage(llmtest.Usage{InputTokens: 1_000_000}))
			budget := New(withClock(Config{Rules: []Rule{{Name: "b", CostUSD: 1, Period: PeriodMonth}}}, newClock()))
			router := fallback.New(fallback.Config{Targets: []fallback.Target{
				{Name: "t", Model: tc.targetModel, Layers: []aigateway.Middleware{budget}},
			}})
			gw := mustNew(t, fake, router)
			t.Cleanup(func() { assert.NoError(t, gw.Close()) })
			body := `{"model":"` + tc.callerModel + `","messages":[{"role":"user","content":"Say hello"}]}`
			r := do(t, gw, request{url: chatURL, body: body})
			require.Equal(t, tc.status, r.status, r.body)
			if tc.status == http.StatusForbidden {
				assert.Contains(t, r.body, `model \"`+tc.targetModel+`\"`, "the model the target would send")
				assert.Zero(t, fake.Count())
			}
			assert.InDelta(t, tc.remaining, status(t, budget, "b").RemainingUSD, 1e-9)
		})
	}
}
