package cache

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/provider"
)

// A cache in a routing layer's attempt (a fallback target's Layers) replays
// an answer that came from the target's provider and model: the hit's
// (saved) cost is the price of that answer, as the miss's was, not the
// price of the model the caller asked its own provider for.
func TestARoutedHitIsPricedAsTheAnswerItReplays(t *testing.T) {
	const model = "llama-3.3-70b-versatile"
	answer := `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"` + model + `",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":100000,"completion_tokens":100000,"total_tokens":200000}}`
	upstream := rtFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(answer)), ContentLength: int64(len(answer)), Request: r}, nil
	})
	toGroq := aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return aigateway.Layer(next, func(call aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			ctx, _ := call.Route(req.Context(), aigateway.Route{Provider: provider.Groq, Model: model})
			return next.RoundTrip(req.WithContext(ctx))
		})
	})
	c := New(Config{})
	t.Cleanup(func() { assert.NoError(t, c.Close()) })
	gw := mustNew(t, upstream, toGroq, c)

	miss := do(t, gw, chatURL, chatBody)
	require.Equal(t, aigateway.CacheMiss, miss.call.CacheStatus)
	require.True(t, miss.call.CostKnown, "precondition: groq prices %s", model)
	hit := do(t, gw, chatURL, chatBody)
	require.Equal(t, aigateway.CacheHit, hit.call.CacheStatus)
	assert.Equal(t, miss.call.Usage, hit.call.Usage)
	assert.InDelta(t, miss.call.Cost, hit.call.Cost, 1e-12, "the hit is priced as groq's %s, not as the caller's gpt-4o-mini at openai", model)
}
