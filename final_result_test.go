package aigateway

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/provider"
)

// A Call's Result is final once Done is closed: when the caller's context
// ends mid-stream, after the usage chunk arrived, what the layers'
// callbacks got (the meter's record, a budget's charge) is what Result
// says afterwards, and Result.Usage is the sum of Result.Upstreams.
func TestResultIsFinalWhenTheContextEndsMidStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		body := newGatedBody(chunk("Hel"), usageChunk, doneEvent)
		body.release <- struct{}{}
		body.release <- struct{}{}
		upstream := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
			return sseResponse(r, body), nil
		})
		var final Result
		watch := MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
			return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
				call.OnComplete(func(r Result) { final = r })
				return next.RoundTrip(req)
			})
		})
		gw := mustNew(t, upstream, watch)
		ctx, cancel := context.WithCancel(context.Background())
		ctx, tr := Track(ctx)
		clientAsks := `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[]}`
		resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", clientAsks).WithContext(ctx))
		require.NoError(t, err)
		var got strings.Builder
		buf := make([]byte, 4096)
		for !strings.Contains(got.String(), `"usage":{`) {
			n, err := resp.Body.Read(buf)
			require.NoError(t, err)
			got.Write(buf[:n])
		}
		cancel() // the caller gives up before [DONE]
		<-tr.Last().Done()
		synctest.Wait() // the context's callback has closed the upstream body
		resp.Body.Close()

		r := tr.Last().Result()
		require.ErrorIs(t, r.Err, context.Canceled)
		var sum provider.Usage
		for _, u := range r.Upstreams {
			sum = sum.Add(u.Usage)
		}
		assert.Equal(t, final.UsageKnown, r.UsageKnown, "Result.UsageKnown changed after Done")
		assert.Equal(t, final.Usage, r.Usage, "Result.Usage changed after Done")
		assert.Equal(t, sum, r.Usage, "Result.Usage is the sum of Result.Upstreams")
	})
}
