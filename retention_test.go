package aigateway

import (
	"context"
	"net/http"
	"runtime"
	"testing"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A completed Call, which a Tracker (or a layer's closure) may keep for as
// long as it likes, does not keep the response the caller got, nor what
// hangs off it: the body wrappers and their buffers, a meter's or a
// cache's copy of the body, the upstream connection's reader, the
// request and its context.
func TestACompletedCallLetsGoOfItsResponse(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{name: "json", body: chatBody},
		{name: "stream", body: chatStreamBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var up capture
			upstream := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if tc.body == chatStreamBody {
					return streamUpstream(&up)(r)
				}
				up.record(r)
				return jsonResponse(r, 200, chatJSON), nil
			})
			gw := mustNew(t, upstream)
			ctx, tr := Track(context.Background())
			resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", tc.body).WithContext(ctx))
			require.NoError(t, err)
			readAllString(t, resp.Body)
			require.NoError(t, resp.Body.Close())
			call := tr.Last()
			<-call.Done()
			require.NoError(t, call.Result().Err, "precondition: a success")

			gone := weak.Make(resp)
			// Allocated with the call (callParts): the request the layers
			// saw, its context, the caller's body and the first upstream
			// answer's.
			goneBody := weak.Make(resp.Body.(*clientBody))
			goneReq := weak.Make(resp.Request)
			resp = nil
			runtime.GC()
			runtime.GC()
			assert.Nil(t, gone.Value(), "the completed Call still holds the caller's *http.Response")
			assert.Nil(t, goneBody.Value(), "the completed Call still holds the body wrappers")
			assert.Nil(t, goneReq.Value(), "the completed Call still holds the request the layers saw")
			runtime.KeepAlive(call)
		})
	}
}
