package aigateway

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/provider"
)

// copyingLayer returns a shallow copy of the response its next returned,
// as middlewares that adjust a response often do (resp2 := *resp): the
// answer is still the upstream's, body and all.
var copyingLayer = MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
	return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		cp := *resp
		cp.Header = resp.Header.Clone()
		return &cp, nil
	})
})

// The answer the caller gets is the upstream's even when a layer hands it
// on as a shallow copy of the *http.Response: the usage chunk the stack
// asked for stays hidden, and a 2xx error body or a malformed answer is
// still the call's error.
func TestAShallowCopiedAnswerIsStillTheUpstreams(t *testing.T) {
	for _, tc := range []struct {
		name, body, answer string
		stream             bool
		wantErr            func(t *testing.T, err error)
	}{
		{name: "the usage chunk the stack asked for", body: chatStreamBody, stream: true},
		{name: "a 200 whose body is an error object", body: chatBody,
			answer: `{"error":{"message":"overloaded","type":"server_error"}}`,
			wantErr: func(t *testing.T, err error) {
				var pe *provider.Error
				assert.True(t, errors.As(err, &pe), "Result.Err is the body's error, got %v", err)
			}},
		{name: "a cut JSON answer", body: chatBody, answer: chatJSON[:40],
			wantErr: func(t *testing.T, err error) { assert.ErrorIs(t, err, ErrMalformedResponse) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var up capture
			upstream := http.RoundTripper(streamUpstream(&up))
			if !tc.stream {
				upstream = roundTripFunc(func(r *http.Request) (*http.Response, error) {
					up.record(r)
					return jsonResponse(r, 200, tc.answer), nil
				})
			}
			gw := mustNew(t, upstream, copyingLayer)
			ctx, tr := Track(context.Background())
			resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", tc.body).WithContext(ctx))
			require.NoError(t, err)
			got := readAllString(t, resp.Body)
			resp.Body.Close()
			r := tr.Last().Result()
			if tc.stream {
				_, sent := up.last()
				require.Contains(t, string(sent), `"include_usage":true`, "precondition: the stack asked")
				assert.NotContains(t, got, `"usage":{`, "the caller did not ask for the usage chunk")
				assert.NoError(t, r.Err)
				return
			}
			require.Error(t, r.Err, "the answer is not a success")
			tc.wantErr(t, r.Err)
		})
	}
}
