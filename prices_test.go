package aigateway

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/pricing"
)

// The Gateway that sends an answer upstream prices it with its own table
// (Gateway.Prices), whoever prepared the call: the Gateway itself, a Layer
// wrapped around it, or a Gateway wrapped around it. A model only that
// table prices must not come out unpriced (a budget behind it would refuse
// the call as one it cannot price).
func TestTheSendingGatewaysPricesPriceTheAnswer(t *testing.T) {
	const model = "house-model"
	prices, err := pricing.Default().Set("openai", model, pricing.Price{Input: 1, Output: 2})
	require.NoError(t, err)
	answer := strings.ReplaceAll(chatJSON, "gpt-4o-mini-2024-07-18", model)
	upstream := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return jsonResponse(r, 200, answer), nil
	})
	passThrough := func(_ LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
		return next.RoundTrip(req)
	}
	for _, tc := range []struct {
		name string
		wrap func(gw *Gateway) http.RoundTripper
	}{
		{name: "the gateway alone", wrap: func(gw *Gateway) http.RoundTripper { return gw }},
		{name: "a layer around the gateway", wrap: func(gw *Gateway) http.RoundTripper { return Layer(gw, passThrough) }},
		{name: "a gateway around the gateway", wrap: func(gw *Gateway) http.RoundTripper { return mustNew(t, gw) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := mustNew(t, upstream)
			gw.Prices = prices
			rt := tc.wrap(gw)
			ctx, tr := Track(context.Background())
			body := strings.ReplaceAll(chatBody, "gpt-4o-mini", model)
			resp, err := rt.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", body).WithContext(ctx))
			require.NoError(t, err)
			readAllString(t, resp.Body)
			resp.Body.Close()
			r := tr.Last().Result()
			require.True(t, r.UsageKnown, "precondition: usage read")
			want, ok := prices.Cost("openai", model, r.Usage)
			require.True(t, ok)
			assert.True(t, r.CostKnown, "priced with the sending Gateway's table")
			assert.InDelta(t, want, r.Cost, 1e-12)
		})
	}
}
