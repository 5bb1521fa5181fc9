package aigateway

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/provider"
)

// streamUpstream answers every request with an OpenAI chat stream that
// carries a usage chunk when the request asked for one, as OpenAI does.
func streamUpstream(c *capture) roundTripFunc {
	return func(r *http.Request) (*http.Response, error) {
		b := c.record(r)
		body := chunk("Hel") + chunk("lo")
		if strings.Contains(string(b), `"include_usage":true`) {
			body += usageChunk
		}
		return sseResponse(r, io.NopCloser(strings.NewReader(body+doneEvent))), nil
	}
}

// Whether a stream asks for usage is decided per attempt, for the provider
// it goes to, and the caller's body drops the chunk only when the stack
// asked for it.
func TestStreamUsageIsAskedPerAttempt(t *testing.T) {
	for _, tc := range []struct {
		name, url, body string
		route           *Route // a routing layer's attempt, when set
		asked           bool   // the upstream request asks for usage
		clientSees      bool   // the caller's body holds the usage chunk
	}{
		{name: "openai stream", url: "https://api.openai.com/v1/chat/completions", body: chatStreamBody, asked: true},
		{name: "the client asked", url: "https://api.openai.com/v1/chat/completions",
			body: `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]}`, asked: true, clientSees: true},
		{name: "not a stream", url: "https://api.openai.com/v1/chat/completions", body: chatBody},
		{name: "mistral rejects the field", url: "https://api.mistral.ai/v1/chat/completions", body: chatStreamBody},
		{name: "an attempt routed to mistral", url: "https://api.openai.com/v1/chat/completions", body: chatStreamBody,
			route: &Route{Provider: provider.Mistral}},
		{name: "an attempt routed from mistral to groq", url: "https://api.mistral.ai/v1/chat/completions", body: chatStreamBody,
			route: &Route{Provider: provider.Groq}, asked: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var up capture
			var layers []Middleware
			if tc.route != nil {
				layers = append(layers, MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
					return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
						ctx, _ := call.Route(req.Context(), *tc.route)
						return next.RoundTrip(req.WithContext(ctx))
					})
				}))
			}
			gw := mustNew(t, streamUpstream(&up), layers...)
			ctx, tr := Track(context.Background())
			req := newChatRequest(t, tc.url, tc.body)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := gw.RoundTrip(req.WithContext(ctx))
			require.NoError(t, err)
			got := readAllString(t, resp.Body)
			resp.Body.Close()
			sent, body := up.last()
			assert.Equal(t, tc.asked, strings.Contains(string(body), `"include_usage":true`), "asked upstream")
			assert.Equal(t, tc.clientSees, strings.Contains(got, `"usage":{`), "the caller's body")
			if tc.asked && !tc.clientSees {
				assert.Empty(t, sent.Header.Get("Accept-Encoding"), "the filter reads the stream: no compressed answer")
			}
			r := tr.Last().Result()
			require.NoError(t, r.Err)
			assert.Equal(t, tc.asked, r.UsageKnown, "metered when asked")
		})
	}
}

// Each upstream request's record carries its own format, provider, model,
// usage and price, whatever the call's own are.
func TestEachAttemptHasItsOwnRecord(t *testing.T) {
	var up capture
	upstream := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		up.record(r)
		if up.count() == 1 {
			return jsonResponse(r, 503, `{"error":{"message":"overloaded","type":"server_error"}}`), nil
		}
		return jsonResponse(r, 200, chatJSON), nil
	})
	var routes []*Routed
	retry := MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			ctx, a := call.Route(req.Context(), Route{Provider: provider.DeepSeek, Model: "deepseek-chat"})
			routes = append(routes, a)
			first, err := next.RoundTrip(req.Clone(ctx))
			require.NoError(t, err)
			u, ok := call.Upstream(first)
			require.True(t, ok, "the response is an upstream request's")
			assert.Equal(t, 503, u.Status)
			io.Copy(io.Discard, first.Body)
			first.Body.Close()
			ctx, b := call.Route(req.Context(), Route{})
			routes = append(routes, b)
			second := req.Clone(ctx)
			second.Body, _ = req.GetBody()
			return next.RoundTrip(second)
		})
	})
	gw := mustNew(t, upstream, retry)
	ctx, tr := Track(context.Background())
	resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
	require.NoError(t, err)
	readAllString(t, resp.Body)
	resp.Body.Close()

	r := tr.Last().Result()
	require.Len(t, r.Upstreams, 2)
	first, second := r.Upstreams[0], r.Upstreams[1]
	assert.Equal(t, Upstream{Format: provider.FormatOpenAIChat, Provider: "deepseek", Model: "deepseek-chat", Status: 503, Complete: true, Err: first.Err}, first)
	assert.Contains(t, first.Err.Error(), "overloaded")
	assert.Equal(t, "openai", second.Provider)
	assert.Equal(t, "gpt-4o-mini", second.Model)
	assert.Equal(t, "gpt-4o-mini-2024-07-18", second.ResponseModel)
	assert.Equal(t, "chatcmpl-1", second.ResponseID)
	assert.Equal(t, []string{"stop"}, second.FinishReasons)
	assert.Equal(t, provider.Usage{InputTokens: 12, OutputTokens: 3, CacheReadTokens: 4}, second.Usage)
	assert.True(t, second.Complete)
	assert.True(t, second.CostKnown)
	assert.Positive(t, second.Cost)
	assert.Equal(t, second.Cost, r.Cost)

	a, ok := routes[0].Upstream()
	require.True(t, ok)
	assert.Equal(t, 503, a.Status, "each attempt finds its own record")
	b, ok := routes[1].Upstream()
	require.True(t, ok)
	assert.Equal(t, 200, b.Status)
}

// An attempt a layer further in answered itself went nowhere: its Routed
// says so, which is how a router tells a local refusal from the target's.
func TestRoutedKnowsALocalAnswer(t *testing.T) {
	var up capture
	refuse := MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			return provider.NewErrorResponse(req, call.Format(), provider.ErrorSpec{Status: 429, Message: "local"}), nil
		})
	})
	var sent []bool
	route := MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			ctx, a := call.Route(req.Context(), Route{})
			resp, err := next.RoundTrip(req.WithContext(ctx))
			_, ok := a.Upstream()
			sent = append(sent, ok)
			_, ok = call.Upstream(resp)
			sent = append(sent, ok)
			return resp, err
		})
	})
	gw := mustNew(t, streamUpstream(&up), route, refuse)
	resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody))
	require.NoError(t, err)
	readAllString(t, resp.Body)
	resp.Body.Close()
	assert.Equal(t, []bool{false, false}, sent)
	assert.Zero(t, up.count())
}
