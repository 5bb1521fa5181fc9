package aigateway

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/provider"
)

// logBodyLayer reads the request body, as a layer that logs or inspects
// it does, and hands the request on with an equal body of its own (Body
// and GetBody), as the Handler contract asks of a layer that reads it.
var logBodyLayer = MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
	return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		out := req.Clone(req.Context())
		out.Body = io.NopCloser(bytes.NewReader(b))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		return next.RoundTrip(out)
	})
})

// An attempt to a provider that rejects stream_options never carries the
// include_usage the stack added on the caller's behalf, even when a layer
// between the preparation and the routing re-wrapped the request body it
// read (the bytes are the prepared ones; only the reader changed).
func TestARejectingProviderNeverGetsTheStacksStreamOptions(t *testing.T) {
	var up capture
	toMistral := MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			ctx, _ := call.Route(req.Context(), Route{Provider: provider.Mistral})
			out := req.WithContext(ctx)
			out.Body, _ = req.GetBody()
			return next.RoundTrip(out)
		})
	})
	gw := mustNew(t, streamUpstream(&up), logBodyLayer, toMistral)
	resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatStreamBody))
	require.NoError(t, err)
	readAllString(t, resp.Body)
	resp.Body.Close()
	_, sent := up.last()
	assert.False(t, strings.Contains(string(sent), "stream_options"),
		"mistral answers 422 extra_forbidden to stream_options the caller never sent: %s", sent)
}
