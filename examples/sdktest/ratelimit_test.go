package sdktest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	openaiopt "github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/ratelimit"
)

// The rate limiter driven through the real SDKs: its 429 parses as the
// SDK's typed error, and the SDK, with its default retries on, does not
// retry it.

// newLimitFixture is a fake upstream behind a Gateway with one limiter.
func newLimitFixture(t *testing.T, kind upstreamKind, cfg ratelimit.Config, opts ...llmtest.Option) (*fixture, *ratelimit.Limiter) {
	t.Helper()
	l := ratelimit.New(cfg)
	return newStackFixture(t, kind, []aigateway.Middleware{l}, opts...), l
}

// frozen is a clock that does not move.
func frozen() time.Time { return time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC) }

func oneAnHour(name string) ratelimit.Config {
	return ratelimit.Config{Rules: []ratelimit.Rule{{Name: name, Key: "metadata:user", Requests: 1, Per: time.Hour}}}
}

func TestRateLimitRefusalOpenAI(t *testing.T) {
	for _, stream := range []bool{false, true} {
		eachSetup(t, func(t *testing.T, w wiring, kind upstreamKind) {
			t.Run(fmt.Sprint("stream=", stream), func(t *testing.T) {
				f, l := newLimitFixture(t, kind, oneAnHour("per-user rpm"))
				var attempts attemptCounter
				client := f.openai(w, openaiopt.WithMiddleware(attempts.middleware)) // outermost; the SDK's default retries
				ctx := aigateway.WithMetadata(t.Context(), "user", "u-42")
				call := func(ctx context.Context) error {
					if stream {
						s := client.Chat.Completions.NewStreaming(ctx, chatParams())
						for s.Next() {
						}
						err := s.Err()
						assert.NoError(t, s.Close())
						return err
					}
					_, err := client.Chat.Completions.New(ctx, chatParams())
					return err
				}
				require.NoError(t, call(ctx))

				err := call(ctx)
				var apiErr *openai.Error
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
				assert.Contains(t, apiErr.Message, `rate limit "per-user rpm"`)
				assert.Equal(t, "rate_limit_exceeded", apiErr.Code)
				assert.Equal(t, "false", apiErr.Response.Header.Get("X-Should-Retry"))
				assert.Equal(t, "3600", apiErr.Response.Header.Get("Retry-After"))
				assert.Equal(t, "per-user rpm", apiErr.Response.Header.Get(ratelimit.HeaderRule))
				assert.Equal(t, 2, attempts.count(), "the SDK did not retry the refusal")
				assert.Equal(t, 1, f.Count(), "the refusal never reached the upstream")

				require.NoError(t, call(aigateway.WithMetadata(t.Context(), "user", "u-43")), "another user")
				assert.Equal(t, ratelimit.Stats{Admitted: 2, Refused: 1}, l.Stats())
			})
		})
	}
}

func TestRateLimitRefusalAnthropic(t *testing.T) {
	for _, stream := range []bool{false, true} {
		eachSetup(t, func(t *testing.T, w wiring, kind upstreamKind) {
			t.Run(fmt.Sprint("stream=", stream), func(t *testing.T) {
				f, _ := newLimitFixture(t, kind, oneAnHour("per-user rpm"))
				var attempts attemptCounter
				client := f.anthropic(w, anthropicopt.WithMiddleware(attempts.middleware))
				ctx := aigateway.WithMetadata(t.Context(), "user", "u-42")
				call := func() error {
					if stream {
						s := client.Messages.NewStreaming(ctx, messageParams())
						for s.Next() {
						}
						err := s.Err()
						assert.NoError(t, s.Close())
						return err
					}
					_, err := client.Messages.New(ctx, messageParams())
					return err
				}
				require.NoError(t, call())

				err := call()
				var apiErr *anthropic.Error
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
				assert.Contains(t, apiErr.Message, `rate limit "per-user rpm"`)
				assert.Equal(t, "rate_limit_error", string(apiErr.Type()))
				assert.Equal(t, "false", apiErr.Response.Header.Get("X-Should-Retry"))
				assert.Equal(t, "3600", apiErr.Response.Header.Get("Retry-After"))
				assert.Equal(t, 2, attempts.count(), "the SDK did not retry the refusal")
				assert.Equal(t, 1, f.Count(), "the refusal never reached the upstream")
			})
		})
	}
}

// A token limit is charged what a stream really used, read through the
// SDK: the usage chunk the stack asks for, which the SDK never sees.
func TestRateLimitTokensStreamedThroughSDK(t *testing.T) {
	eachSetup(t, func(t *testing.T, w wiring, kind upstreamKind) {
		usage := llmtest.Usage{InputTokens: 40, OutputTokens: replyWords}
		f, l := newLimitFixture(t, kind, ratelimit.Config{Rules: []ratelimit.Rule{
			{Name: "tpm", Key: "api_key", Tokens: 10_000, Per: time.Hour},
		}, Now: frozen}, llmtest.WithUsage(usage)) // frozen: the bucket does not refill while the test reads it
		client := f.openai(w, openaiopt.WithMaxRetries(0))
		s := client.Chat.Completions.NewStreaming(t.Context(), chatParams()) // no include_usage
		usageChunks := 0
		for s.Next() {
			if len(s.Current().Choices) == 0 {
				usageChunks++
			}
		}
		require.NoError(t, s.Err())
		require.NoError(t, s.Close())
		assert.Zero(t, usageChunks, "the SDK did not get the usage chunk it did not ask for")

		assert.Equal(t, int64(1), l.Stats().Admitted)
		ctx, tr := track()
		_, err := client.Chat.Completions.New(ctx, chatParams())
		require.NoError(t, err)
		st, err := l.Status(t.Context(), "tpm", onlyCall(t, tr).CredentialHash())
		require.NoError(t, err)
		assert.Equal(t, int64(10_000-2*(40+replyWords)), st.Remaining, "both calls charged their real usage")
	})
}

// A rule that waits makes the SDK call wait rather than fail; a wait longer
// than the call's deadline fails at once with the 429.
func TestRateLimitWaitThroughSDK(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	var slept []time.Duration
	cfg := ratelimit.Config{
		Rules: []ratelimit.Rule{{Name: "slow", Requests: 1, Per: time.Minute, Wait: true}},
		Now:   func() time.Time { return now },
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); now = now.Add(d); return nil },
	}
	f, l := newLimitFixture(t, inMemory, cfg)
	client := f.openai(viaHTTPClient, openaiopt.WithMaxRetries(0))
	for range 2 {
		_, err := client.Chat.Completions.New(t.Context(), chatParams())
		require.NoError(t, err)
	}
	assert.Equal(t, []time.Duration{time.Minute}, slept)
	assert.Equal(t, int64(1), l.Stats().Waited)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := client.Chat.Completions.New(ctx, chatParams())
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	assert.Contains(t, apiErr.Message, "deadline")
	assert.Len(t, slept, 1, "no sleep for a wait that cannot make the deadline")
	assert.Equal(t, 2, f.Count())
}

// A monthly budget per user, through anthropic-sdk-go streams: each call
// is charged what its stream reported, priced; the call that overshoots is
// let through (its estimate fit), and the next one is refused until the
// month ends, with a 429 the SDK parses and does not retry.
func TestRateLimitBudgetThroughSDK(t *testing.T) {
	eachSetup(t, func(t *testing.T, w wiring, kind upstreamKind) {
		// claude-haiku-4-5: $1 per 1M input tokens, $5 per 1M output.
		usage := llmtest.Usage{InputTokens: 1_000_000, OutputTokens: replyWords}
		f, l := newLimitFixture(t, kind, ratelimit.Config{
			Rules: []ratelimit.Rule{{Name: "monthly", Key: "metadata:user", CostUSD: 1.50, Period: ratelimit.PeriodMonth}},
			Now:   func() time.Time { return time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC) }, // an hour before April
		}, llmtest.WithUsage(usage))
		var attempts attemptCounter
		client := f.anthropic(w, anthropicopt.WithMiddleware(attempts.middleware))
		ctx := aigateway.WithMetadata(t.Context(), "user", "u-42")
		stream := func() error {
			s := client.Messages.NewStreaming(ctx, messageParams())
			for s.Next() {
			}
			err := s.Err()
			assert.NoError(t, s.Close())
			return err
		}
		const callUSD = 1.0 + replyWords*5.0/1e6

		require.NoError(t, stream())
		st, err := l.Status(t.Context(), "monthly", "u-42")
		require.NoError(t, err)
		assert.InDelta(t, 1.50-callUSD, st.RemainingUSD, 1e-9, "charged the streamed usage, priced")
		require.NoError(t, stream(), "the estimate fits what is left")
		st, err = l.Status(t.Context(), "monthly", "u-42")
		require.NoError(t, err)
		assert.InDelta(t, 1.50-2*callUSD, st.RemainingUSD, 1e-9, "in debt by what the second call used beyond its estimate")

		err = stream()
		var apiErr *anthropic.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
		assert.Contains(t, apiErr.Message, `rate limit "monthly" ($1.50 per month)`)
		assert.Equal(t, "3600", apiErr.Response.Header.Get("Retry-After"), "until the month ends")
		assert.Equal(t, 3, attempts.count(), "the SDK did not retry the refusal")
		assert.Equal(t, 2, f.Count())
	})
}
