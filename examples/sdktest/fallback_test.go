package sdktest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	openaiopt "github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/fallback"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
	"github.com/aigateway-go/aigateway/ratelimit"
)

const (
	backupKey   = "sk-backup-secret"
	backupModel = "gpt-backup"
)

// fallbackRig is a primary and a backup fake over sockets, each demanding
// its own key, and a Gateway whose router tries the primary (the request as
// the SDK sent it), then the backup with its own key and model.
type fallbackRig struct {
	primary, backup *llmtest.Server
	gw              *aigateway.Gateway
}

func newFallbackRig(t *testing.T, cfg fallback.Config, backupProvider provider.Provider, primaryLayers ...aigateway.Middleware) *fallbackRig {
	t.Helper()
	r := &fallbackRig{
		primary: llmtest.NewServer(llmtest.WithAPIKey(apiKey)),
		backup:  llmtest.NewServer(llmtest.WithAPIKey(backupKey)),
	}
	t.Cleanup(r.primary.Close)
	t.Cleanup(r.backup.Close)
	if cfg.Targets == nil {
		base := r.backup.URL + "/v1" // OpenAI's and Anthropic's base URLs both end in /v1
		cfg.Targets = []fallback.Target{
			{Name: "primary", Layers: primaryLayers},
			{Name: "backup", Provider: backupProvider, BaseURL: base, APIKey: backupKey, Model: backupModel, Priority: 1},
		}
	}
	// No real waits between retries on the same target.
	cfg.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	r.gw = mustNew(t, base, fallback.New(cfg))
	t.Cleanup(func() { assert.NoError(t, r.gw.Close()) })
	return r
}

func (r *fallbackRig) openai(w wiring, extra ...openaiopt.RequestOption) openai.Client {
	opts := []openaiopt.RequestOption{openaiopt.WithBaseURL(r.primary.URL + "/v1"), openaiopt.WithAPIKey(apiKey)}
	opts = append(opts, extra...)
	if w == viaHTTPClient {
		opts = append(opts, openaiopt.WithHTTPClient(r.gw.Client()))
	} else {
		opts = append(opts, openaiopt.WithMiddleware(r.gw.SDKMiddleware))
	}
	return openai.NewClient(opts...)
}

func (r *fallbackRig) anthropic(w wiring, extra ...anthropicopt.RequestOption) anthropic.Client {
	opts := []anthropicopt.RequestOption{anthropicopt.WithBaseURL(r.primary.URL), anthropicopt.WithAPIKey(apiKey), anthropicopt.WithoutOpenTelemetry()}
	opts = append(opts, extra...)
	if w == viaHTTPClient {
		opts = append(opts, anthropicopt.WithHTTPClient(r.gw.Client()))
	} else {
		opts = append(opts, anthropicopt.WithMiddleware(r.gw.SDKMiddleware))
	}
	return anthropic.NewClient(opts...)
}

// closedPort is an address nothing listens on: connecting is refused.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}

// The primary fails; openai-go gets the backup's answer, and each upstream
// saw only its own key and model. In SDKMiddleware mode the attempt to the
// backup's host goes through the Gateway's base transport.
func TestFallbackOpenAIChat(t *testing.T) {
	faults := []struct {
		name  string
		fault llmtest.Fault
	}{
		{"500", llmtest.ServerError()},
		{"503", llmtest.Unavailable()},
		{"529", llmtest.Overloaded()},
		{"429 insufficient quota", llmtest.InsufficientQuota()},
		{"429 Retry-After beyond the cap", llmtest.RateLimited(time.Minute)},
	}
	for _, w := range wirings {
		for _, f := range faults {
			t.Run(w.String()+"/"+f.name, func(t *testing.T) {
				r := newFallbackRig(t, fallback.Config{}, provider.OpenAI)
				r.primary.Always(f.fault)
				ctx, tr := track()
				var resp *http.Response
				client := r.openai(w, openaiopt.WithMaxRetries(0))
				c, err := client.Chat.Completions.New(ctx, chatParams(), openaiopt.WithResponseInto(&resp))
				require.NoError(t, err)
				assert.Equal(t, llmtest.DefaultReply, c.Choices[0].Message.Content)
				assert.Equal(t, backupModel, c.Model)
				assert.Equal(t, "backup", resp.Header.Get(aigateway.HeaderTarget))

				call := onlyCall(t, tr)
				requireDone(t, call)
				res := call.Result()
				assert.Equal(t, "backup", res.Target)
				assert.True(t, res.Fallback)
				assert.NoError(t, res.Err)
				assert.Equal(t, backupModel, res.ResponseModel)

				for _, p := range r.primary.Requests() {
					assert.Equal(t, "Bearer "+apiKey, p.Header.Get("Authorization"))
				}
				b, ok := r.backup.LastRequest()
				require.True(t, ok)
				assert.Equal(t, "Bearer "+backupKey, b.Header.Get("Authorization"))
				for k, v := range b.Header {
					assert.NotContains(t, strings.Join(v, " "), apiKey, "the backup never sees the caller's key (%s)", k)
				}
				assert.Contains(t, string(b.Body), `"model":"`+backupModel+`"`)
				assertNoGatewayHeaders(t, b.Header)
			})
		}
	}
}

// A primary that refuses connections, or never answers within the request
// timeout, falls back too.
func TestFallbackOpenAIUnreachable(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		r := newFallbackRig(t, fallback.Config{}, provider.OpenAI)
		client := openai.NewClient(openaiopt.WithBaseURL(closedPort(t)+"/v1"), openaiopt.WithAPIKey(apiKey),
			openaiopt.WithHTTPClient(r.gw.Client()), openaiopt.WithMaxRetries(0))
		ctx, tr := track()
		c, err := client.Chat.Completions.New(ctx, chatParams())
		require.NoError(t, err)
		assert.Equal(t, backupModel, c.Model)
		log := onlyCall(t, tr).Result().AttemptLog
		require.Len(t, log, 3)
		assert.Zero(t, log[0].Status)
		assert.Error(t, log[0].Err)
	})
	t.Run("timeout", func(t *testing.T) {
		r := newFallbackRig(t, fallback.Config{AttemptsPerTarget: 1, RequestTimeout: 2 * time.Second}, provider.OpenAI) // also the backup's, over a socket
		r.primary.Always(llmtest.Hold(llmtest.NewGate()))
		ctx, tr := track()
		client := r.openai(viaMiddleware, openaiopt.WithMaxRetries(0))
		c, err := client.Chat.Completions.New(ctx, chatParams())
		require.NoError(t, err)
		assert.Equal(t, backupModel, c.Model)
		assert.ErrorIs(t, onlyCall(t, tr).Result().AttemptLog[0].Err, fallback.ErrAttemptTimeout)
	})
}

// No fallback for a request the upstream rejects as wrong: the SDK gets the
// 400 as its typed error.
func TestFallbackNotOn400(t *testing.T) {
	r := newFallbackRig(t, fallback.Config{}, provider.OpenAI)
	r.primary.Always(llmtest.HTTPError(http.StatusBadRequest))
	client := r.openai(viaHTTPClient, openaiopt.WithMaxRetries(0))
	_, err := client.Chat.Completions.New(context.Background(), chatParams())
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	assert.Zero(t, r.backup.Count())
}

// When every target fails, the SDK gets the last error, typed, and does not
// retry it even with its default retries: the router already did.
func TestFallbackAllFailNotRetriedBySDK(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.String(), func(t *testing.T) {
			r := newFallbackRig(t, fallback.Config{}, provider.OpenAI)
			r.primary.Always(llmtest.ServerError())
			r.backup.Always(llmtest.Unavailable())
			var counter attemptCounter
			client := r.openai(w, openaiopt.WithMiddleware(counter.middleware))
			_, err := client.Chat.Completions.New(context.Background(), chatParams())
			var apiErr *openai.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, http.StatusServiceUnavailable, apiErr.StatusCode)
			assert.Equal(t, 1, counter.count(), "the SDK did not retry")
			assert.Equal(t, 2, r.primary.Count())
			assert.Equal(t, 2, r.backup.Count())
		})
	}
}

// A stream whose first event is an error (after HTTP 200) falls back; the
// SDK reads one clean stream from the backup.
func TestFallbackOpenAIStreamBeforeFirstContent(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.String(), func(t *testing.T) {
			r := newFallbackRig(t, fallback.Config{AttemptsPerTarget: 1}, provider.OpenAI)
			r.primary.Always(llmtest.ErrorAfter(0))
			ctx, tr := track()
			client := r.openai(w, openaiopt.WithMaxRetries(0))
			stream := client.Chat.Completions.NewStreaming(ctx, chatParams())
			var text strings.Builder
			for stream.Next() {
				if ch := stream.Current(); len(ch.Choices) > 0 {
					text.WriteString(ch.Choices[0].Delta.Content)
				}
			}
			require.NoError(t, stream.Err())
			require.NoError(t, stream.Close())
			assert.Equal(t, llmtest.DefaultReply, text.String())
			call := onlyCall(t, tr)
			requireDone(t, call)
			assert.NoError(t, call.Result().Err)
			assert.Equal(t, "backup", call.Result().Target)
		})
	}
}

// After the first content reached the SDK, a cut connection is the
// stream's error: no fallback, and the Call records it.
func TestFallbackOpenAIMidStreamCut(t *testing.T) {
	r := newFallbackRig(t, fallback.Config{}, provider.OpenAI)
	r.primary.Always(llmtest.CutAfter(2))
	ctx, tr := track()
	client := r.openai(viaHTTPClient, openaiopt.WithMaxRetries(0))
	stream := client.Chat.Completions.NewStreaming(ctx, chatParams())
	n := 0
	for stream.Next() {
		n++
	}
	assert.Error(t, stream.Err())
	stream.Close()
	assert.Equal(t, 2, n, "the events sent before the cut arrived")
	assert.Zero(t, r.backup.Count())
	call := onlyCall(t, tr)
	<-call.Done()
	assert.Error(t, call.Result().Err)
}

// Anthropic's overloaded error after message_start, with HTTP 200: the SDK
// still gets a whole message, from the backup, with the backup's key.
func TestFallbackAnthropicOverloadedStream(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.String(), func(t *testing.T) {
			r := newFallbackRig(t, fallback.Config{AttemptsPerTarget: 1}, provider.Anthropic)
			r.primary.Always(llmtest.Fault{ErrorAt: 2, Type: "overloaded_error", Message: "Overloaded"})
			ctx, tr := track()
			client := r.anthropic(w, anthropicopt.WithMaxRetries(0))
			stream := client.Messages.NewStreaming(ctx, messageParams())
			var msg anthropic.Message
			for stream.Next() {
				require.NoError(t, msg.Accumulate(stream.Current()))
			}
			require.NoError(t, stream.Err())
			stream.Close()
			require.Len(t, msg.Content, 1)
			assert.Equal(t, llmtest.DefaultReply, msg.Content[0].Text)
			assert.Equal(t, backupModel, string(msg.Model))
			b, _ := r.backup.LastRequest()
			assert.Equal(t, backupKey, b.Header.Get("X-Api-Key"))
			res := onlyCall(t, tr).Result()
			require.Len(t, res.AttemptLog, 2)
			var perr *provider.Error
			require.True(t, errors.As(res.AttemptLog[0].Err, &perr))
			assert.Equal(t, "overloaded_error", perr.Type)
		})
	}
}

// A 429 with a short Retry-After is retried on the same target after the
// wait; the SDK sees one successful call.
func TestFallbackShortRetryAfterSameTarget(t *testing.T) {
	r := newFallbackRig(t, fallback.Config{}, provider.OpenAI)
	r.primary.Push(llmtest.RateLimited(2 * time.Second))
	ctx, tr := track()
	client := r.openai(viaHTTPClient, openaiopt.WithMaxRetries(0))
	c, err := client.Chat.Completions.New(ctx, chatParams())
	require.NoError(t, err)
	assert.Equal(t, gptModel, c.Model, "answered by the primary")
	assert.Equal(t, 2, r.primary.Count())
	assert.Zero(t, r.backup.Count())
	res := onlyCall(t, tr).Result()
	assert.Equal(t, "primary", res.Target)
	assert.False(t, res.Fallback)
	assert.Equal(t, 2, res.Attempts)
}

// A rate limiter in the primary target's own layers keeps under the
// primary's limit: once it refuses, the call goes to the backup at once,
// without a request reaching the primary and without waiting for the
// limiter's Retry-After, even one the router would otherwise wait for.
func TestFallbackPerTargetLimiter(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.String(), func(t *testing.T) {
			limiter := ratelimit.New(ratelimit.Config{Rules: []ratelimit.Rule{
				{Name: "primary rpm", Requests: 1, Per: time.Minute},
			}})
			cfg := fallback.Config{MaxRetryWait: time.Hour} // the limiter's Retry-After is short enough to wait for
			r := newFallbackRig(t, cfg, provider.OpenAI, limiter)
			client := r.openai(w, openaiopt.WithMaxRetries(0))

			c, err := client.Chat.Completions.New(context.Background(), chatParams())
			require.NoError(t, err)
			assert.Equal(t, gptModel, c.Model, "the first call is admitted")

			ctx, tr := track()
			var resp *http.Response
			c, err = client.Chat.Completions.New(ctx, chatParams(), openaiopt.WithResponseInto(&resp))
			require.NoError(t, err)
			assert.Equal(t, backupModel, c.Model)
			assert.Equal(t, "backup", resp.Header.Get(aigateway.HeaderTarget))
			assert.Equal(t, 1, r.primary.Count(), "the refused call never reached the primary")
			log := onlyCall(t, tr).Result().AttemptLog
			require.Len(t, log, 2, "no retry of the limited target")
			assert.Equal(t, "primary", log[0].Target)
			assert.Equal(t, http.StatusTooManyRequests, log[0].Status)
			assert.Equal(t, "backup", log[1].Target)
		})
	}
}
