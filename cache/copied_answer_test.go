package cache

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
)

// A layer further in that hands the upstream's answer on as a shallow copy
// of the *http.Response (resp2 := *resp, a common way to adjust headers)
// does not stop the cache from storing it: the answer is whole, and the
// next identical call is a hit.
func TestAnAnswerHandedOnAsACopyIsStored(t *testing.T) {
	copying := aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return aigateway.Layer(next, func(_ aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			resp, err := next.RoundTrip(req)
			if err != nil {
				return nil, err
			}
			cp := *resp
			return &cp, nil
		})
	})
	fake := llmtest.NewTransport()
	c := New(Config{})
	t.Cleanup(func() { assert.NoError(t, c.Close()) })
	gw := mustNew(t, fake, c, copying)

	miss := do(t, gw, chatURL, chatBody)
	require.Equal(t, aigateway.CacheMiss, miss.call.CacheStatus)
	require.NoError(t, miss.call.Err)
	hit := do(t, gw, chatURL, chatBody)
	assert.Equal(t, aigateway.CacheHit, hit.call.CacheStatus, "the first answer was whole, and stored")
}
