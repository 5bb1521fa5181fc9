package ratelimit

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/metering"
	"github.com/aigateway-go/aigateway/pricing"
)

// The meter and a budget read the one price the stack puts on each answer:
// over calls whose answers report a priced model, no model, a model the
// table lacks, and a model nothing prices, and over a call retried (two
// answers), the meter's total and the budget's charges agree call by call.
// (They disagreed: an answer without "model" was priced by the meter and
// charged $0 by the budget.)
func TestMeterTotalsAndBudgetChargesAgree(t *testing.T) {
	const usage = `"usage":{"prompt_tokens":1000000,"completion_tokens":100000,"total_tokens":1100000}`
	answer := func(model string) string {
		m := ""
		if model != "" {
			m = `"model":"` + model + `",`
		}
		return `{"id":"chatcmpl-1","object":"chat.completion","created":1,` + m +
			`"choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],` + usage + `}`
	}
	var reply string
	var fail int // answers to fail with a 503 before reply
	up := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		status, body := http.StatusOK, reply
		if fail > 0 {
			fail--
			status, body = http.StatusServiceUnavailable, `{"error":{"message":"overloaded","type":"server_error"}}`
		}
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
	})
	// The budget sits inside a router, so that a retried call is settled
	// per attempt, as a target's budget is.
	budget := New(withClock(Config{Rules: []Rule{{Name: "b", CostUSD: 1000, Period: PeriodMonth, AllowUnpriced: true}}}, newClock()))
	meter := metering.New(metering.Config{})
	gw := mustNew(t, up, meter, retrying(budget.Wrap, false))
	defer gw.Close()

	spent := func() float64 { return 1000 - status(t, budget, "b").RemainingUSD }
	for _, tc := range []struct {
		name, asked, reported string
		fail                  int
		costKnown             bool
	}{
		{name: "priced model", asked: "gpt-4o-mini", reported: "gpt-4o-mini-2024-07-18", costKnown: true},
		{name: "answer without a model", asked: "gpt-4o", costKnown: true},
		{name: "reported model the table lacks", asked: "gpt-4o-mini", reported: "gpt-4o-mini-experimental", costKnown: true},
		{name: "model nothing prices", asked: "my-own-model", reported: "my-own-model"},
		{name: "retried: a 503, then an answer", asked: "gpt-4.1", reported: "gpt-4.1", fail: 1, costKnown: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reply, fail = answer(tc.reported), tc.fail
			totalBefore, spentBefore := meter.Ledger().Totals().CostUSD, spent()
			r := do(t, gw, request{url: chatURL, body: `{"model":"` + tc.asked + `","messages":[{"role":"user","content":"Hi"}]}`})
			require.Equal(t, http.StatusOK, r.status, r.body)
			require.NoError(t, r.call.Err)
			assert.Equal(t, tc.costKnown, r.call.CostKnown)
			metered := meter.Ledger().Totals().CostUSD - totalBefore
			charged := spent() - spentBefore
			assert.InDelta(t, metered, charged, 1e-6, "the meter's total and the budget's charge")
			assert.InDelta(t, r.call.Cost, charged, 1e-6, "both are the Result's cost")
			if tc.costKnown {
				model := tc.reported
				if model == "" || model == "gpt-4o-mini-experimental" {
					model = tc.asked // priced as asked for
				}
				want, ok := pricing.Default().Cost("openai", model, r.call.Usage)
				require.True(t, ok)
				assert.InDelta(t, want, r.call.Cost, 1e-9)
				assert.Positive(t, charged)
			}
		})
	}
}
