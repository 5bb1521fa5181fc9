package fallback

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// When every attempt fails, the call's error says so (ErrExhausted) and
// still is the answer's *provider.Error, whichever answer the router gave:
// the last error response it saved, or its own 502 when no attempt got
// one.
func TestEveryAttemptFailedUnwrapsToErrExhausted(t *testing.T) {
	down := Target{Name: "down", BaseURL: "http://down.test/v1"}
	cases := []struct {
		name            string
		targets         []Target // nil: primary, then backup
		primary, backup llmtest.Fault
		body            string
		status          int
	}{
		{"the last error response", nil, llmtest.ServerError(), llmtest.Unavailable(), chatBody, http.StatusServiceUnavailable},
		{"transport errors: the router's 502", []Target{down, {Name: "down too", BaseURL: "http://down2.test/v1", Priority: 1}}, llmtest.Fault{}, llmtest.Fault{}, chatBody, http.StatusBadGateway},
		{"streams that failed before content: the router's 502", nil, llmtest.ErrorAfter(0), llmtest.ErrorAfter(0), streamBody, http.StatusBadGateway},
	}
	for _, gateway := range []bool{true, false} {
		for _, c := range cases {
			t.Run(map[bool]string{true: "gateway/", false: "alone/"}[gateway]+c.name, func(t *testing.T) {
				g := newRig(t, Config{Targets: c.targets}, gateway)
				g.primary.Always(c.primary)
				g.backup.Always(c.backup)
				resp, call, err := g.send(context.Background(), c.body, nil)
				require.NoError(t, err)
				_, err = io.Copy(io.Discard, resp.Body)
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, c.status, resp.StatusCode)
				<-call.Done()

				res := call.Result()
				require.Error(t, res.Err)
				assert.ErrorIs(t, res.Err, ErrExhausted)
				var perr *provider.Error
				require.ErrorAs(t, res.Err, &perr, "the answer's error is still there")
				assert.Equal(t, c.status, perr.Status)
				assert.NotEqual(t, ErrExhausted.Error(), res.Err.Error(), "the message is the answer's, not the kind's")
			})
		}
	}
}

// A call the router answered before it ran out of targets does not unwrap
// to ErrExhausted, even after the first target failed: neither a success
// from the backup nor an error the request itself caused there.
func TestAnAnswerAfterAFallbackIsNotErrExhausted(t *testing.T) {
	cases := []struct {
		name   string
		backup llmtest.Fault
		status int
	}{
		{"a success", llmtest.Fault{}, http.StatusOK},
		{"the request's own error", llmtest.HTTPError(http.StatusBadRequest), http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newRig(t, Config{}, true)
			g.primary.Always(llmtest.ServerError())
			g.backup.Always(c.backup)
			r := g.do(t, nil, chatBody)
			require.Equal(t, c.status, r.status, r.body)
			<-r.call.Done()
			res := r.call.Result()
			require.True(t, res.Fallback, "the backup answered")
			assert.False(t, errors.Is(res.Err, ErrExhausted), "%v", res.Err)
			if c.status >= 400 {
				var perr *provider.Error
				require.ErrorAs(t, res.Err, &perr)
				assert.Equal(t, c.status, perr.Status)
			}
		})
	}
}
