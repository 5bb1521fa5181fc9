package fallback

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
)

// A request's X-Aigateway-Max-Attempts (or WithControls) may lower the
// operator's cap on attempts, never raise it: any caller can send the
// header. Three failing targets allow up to 9 attempts at 3 per target.
func TestMaxAttemptsControlOnlyLowersTheConfig(t *testing.T) {
	for _, tc := range []struct {
		name        string
		maxAttempts int // Config.MaxAttempts
		header      string
		ctl         int // WithControls' MaxAttempts
		want        int
	}{
		{name: "the issue's header of 1000 over MaxAttempts 1", maxAttempts: 1, header: "1000", want: 1},
		{name: "a header over MaxAttempts", maxAttempts: 4, header: "5", want: 4},
		{name: "a header under MaxAttempts", maxAttempts: 4, header: "2", want: 2},
		{name: "a header over the default of AttemptsPerTarget for every target", header: "1000", want: 9},
		{name: "a header under the default", header: "5", want: 5},
		{name: "WithControls over MaxAttempts", maxAttempts: 1, ctl: 1000, want: 1},
		{name: "WithControls under MaxAttempts", maxAttempts: 4, ctl: 3, want: 3},
		{name: "WithControls under MaxAttempts wins over a header", maxAttempts: 4, ctl: 2, header: "3", want: 2},
		{name: "a negative WithControls value is no control", maxAttempts: 4, ctl: -1, want: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newRig(t, Config{
				Targets: []Target{
					{Name: "primary"}, backupTarget,
					{Name: "down", Provider: backupTarget.Provider, BaseURL: "http://down.test/v1", Priority: 2},
				},
				MaxAttempts: tc.maxAttempts, AttemptsPerTarget: 3, CooldownFailures: -1,
			}, true)
			g.primary.Always(llmtest.ServerError())
			g.backup.Always(llmtest.Unavailable())
			ctx := context.Background()
			if tc.ctl != 0 {
				ctx = aigateway.WithControls(ctx, aigateway.Controls{MaxAttempts: tc.ctl})
			}
			var h http.Header
			if tc.header != "" {
				h = http.Header{aigateway.HeaderMaxAttempts: {tc.header}}
			}
			resp, call, err := g.send(ctx, chatBody, h)
			require.NoError(t, err)
			resp.Body.Close()
			require.NotNil(t, call)
			assert.Len(t, targets(call), tc.want)
			assert.Equal(t, min(tc.want, 6), g.primary.Count()+g.backup.Count(), "upstream requests to the two fakes (the third target refuses connections)")
			assert.Equal(t, tc.want, call.Result().Attempts)
		})
	}
}

// A request's X-Aigateway-Request-Timeout (or WithControls) may shorten
// the operator's per-attempt timeout, never lengthen it; without a
// Config.RequestTimeout it applies as given. The primary answers after
// 3 s; the attempt is given up at exactly the timeout that applies, on
// the synctest bubble's clock.
func TestRequestTimeoutControlOnlyShortensTheConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		config  time.Duration // Config.RequestTimeout
		header  string        // milliseconds
		ctl     time.Duration // WithControls' RequestTimeout
		timeout time.Duration // the primary's attempt is given up after this; 0: it answers
	}{
		{name: "a header longer than the Config", config: time.Second, header: "10000", timeout: time.Second},
		{name: "a header shorter than the Config", config: 2 * time.Second, header: "500", timeout: 500 * time.Millisecond},
		{name: "a header without a Config timeout", header: "1500", timeout: 1500 * time.Millisecond},
		{name: "a header without a Config timeout, longer than the answer", header: "10000"},
		{name: "WithControls longer than the Config", config: time.Second, ctl: 10 * time.Second, timeout: time.Second},
		{name: "WithControls shorter than the Config", config: 2 * time.Second, ctl: 700 * time.Millisecond, timeout: 700 * time.Millisecond},
		{name: "a negative WithControls value is no control", config: time.Second, ctl: -time.Second, timeout: time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newRig(t, Config{
					AttemptsPerTarget: 1,
					RequestTimeout:    tc.config,
					Now:               time.Now, // the bubble's clock
				}, true)
				g.primary.Always(llmtest.DelayHeaders(3 * time.Second))
				ctx := context.Background()
				if tc.ctl != 0 {
					ctx = aigateway.WithControls(ctx, aigateway.Controls{RequestTimeout: tc.ctl})
				}
				var h http.Header
				if tc.header != "" {
					h = http.Header{aigateway.HeaderRequestTimeout: {tc.header}}
				}
				resp, call, err := g.send(ctx, chatBody, h)
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode)
				log := call.Result().AttemptLog
				require.NotEmpty(t, log)
				if tc.timeout == 0 {
					assert.Equal(t, []string{"primary"}, targets(call))
					assert.Equal(t, 3*time.Second, log[0].Duration)
					return
				}
				assert.Equal(t, []string{"primary", "backup"}, targets(call))
				assert.ErrorIs(t, log[0].Err, ErrAttemptTimeout)
				assert.Equal(t, tc.timeout, log[0].Duration, "the primary's attempt was given up at the timeout that applies")
			})
		})
	}
}
