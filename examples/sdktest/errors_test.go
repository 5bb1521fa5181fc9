package sdktest

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// sdkAttempts is how many attempts an SDK makes by default: one plus two
// retries.
const sdkAttempts = 3

// fastRetry makes the SDKs retry after 1 ms instead of their backoff.
func fastRetry(f llmtest.Fault) llmtest.Fault {
	f.Header = http.Header{"Retry-After-Ms": {"1"}}
	return f
}

var retriedFaults = []struct {
	name   string
	fault  llmtest.Fault
	status int
}{
	// Retry-After: 1 and retry-after-ms: 1; the SDKs prefer the latter.
	{"429 rate limited", llmtest.RateLimited(time.Millisecond), http.StatusTooManyRequests},
	{"500 server error", fastRetry(llmtest.ServerError()), http.StatusInternalServerError},
	{"529 overloaded", fastRetry(llmtest.Overloaded()), llmtest.StatusOverloaded},
	{"429 insufficient quota", fastRetry(llmtest.InsufficientQuota()), http.StatusTooManyRequests},
}

// assertRetriedCalls checks that each SDK attempt went through the stack as
// its own Call, complete, with the upstream's status and an error. The SDK
// read the last attempt's error body: its Err is the upstream's error. (The
// attempts it retried, closing their bodies unread, are checked by
// TestRetriedAttemptKeepsUpstreamError.)
func assertRetriedCalls(t *testing.T, f *fixture, tr *aigateway.Tracker, status int, model string, stream bool) {
	t.Helper()
	assert.Equal(t, sdkAttempts, f.Count(), "the fake saw every SDK attempt")
	calls := tr.Calls()
	require.Len(t, calls, sdkAttempts, "one Call per SDK attempt")
	for i, c := range calls {
		requireDone(t, c)
		r := c.Result()
		assert.Equal(t, model, c.Model(), "attempt %d", i)
		assert.Equal(t, stream, c.Stream(), "attempt %d", i)
		assert.Equal(t, status, r.Status, "attempt %d", i)
		assert.Equal(t, 1, r.Attempts, "attempt %d", i)
		assert.False(t, r.UsageKnown, "attempt %d", i)
		assert.Error(t, r.Err, "attempt %d", i)
	}
	assertUpstreamError(t, calls[len(calls)-1], status)
	for i, req := range f.Requests() {
		assert.Equal(t, fmt.Sprint(i), req.Header.Get("X-Stainless-Retry-Count"), "request %d", i)
	}
}

// assertUpstreamError checks that a Call's Err is the upstream's error
// status.
func assertUpstreamError(t *testing.T, c *aigateway.Call, status int) {
	t.Helper()
	r := c.Result()
	var perr *provider.Error
	if assert.ErrorAs(t, r.Err, &perr, "Result.Err is the upstream's error, got %v", r.Err) {
		assert.Equal(t, status, perr.Status)
	}
}

// TestOpenAIUpstreamErrorsAndRetries: provider errors reach openai-go as
// *openai.Error, and each of its retries is a Call of its own.
func TestOpenAIUpstreamErrorsAndRetries(t *testing.T) {
	for _, tc := range retriedFaults {
		for _, stream := range []bool{false, true} {
			for _, w := range wirings {
				for _, kind := range upstreamKinds {
					t.Run(fmt.Sprintf("%s/stream=%v/%v/%v", tc.name, stream, w, kind), func(t *testing.T) {
						f := newFixture(t, kind)
						f.Always(tc.fault)
						client := f.openai(w) // the SDK's default retries
						ctx, tr := track()

						var err error
						if stream {
							s := client.Chat.Completions.NewStreaming(ctx, chatParams())
							assert.False(t, s.Next())
							err = s.Err()
							assert.NoError(t, s.Close())
						} else {
							_, err = client.Chat.Completions.New(ctx, chatParams())
						}
						var apiErr *openai.Error
						require.ErrorAs(t, err, &apiErr)
						assert.Equal(t, tc.status, apiErr.StatusCode)
						assert.NotEmpty(t, apiErr.Message)
						if tc.fault.Code != "" {
							assert.Equal(t, tc.fault.Code, apiErr.Code)
						}
						if tc.fault.RetryAfter > 0 {
							assert.Equal(t, "1", apiErr.Response.Header.Get("Retry-After"))
						}
						assertRetriedCalls(t, f, tr, tc.status, gptModel, stream)
					})
				}
			}
		}
	}
}

// TestAnthropicUpstreamErrorsAndRetries: the same through anthropic-sdk-go.
func TestAnthropicUpstreamErrorsAndRetries(t *testing.T) {
	for _, tc := range retriedFaults {
		for _, stream := range []bool{false, true} {
			for _, w := range wirings {
				for _, kind := range upstreamKinds {
					t.Run(fmt.Sprintf("%s/stream=%v/%v/%v", tc.name, stream, w, kind), func(t *testing.T) {
						f := newFixture(t, kind)
						f.Always(tc.fault)
						client := f.anthropic(w)
						ctx, tr := track()

						var err error
						if stream {
							s := client.Messages.NewStreaming(ctx, messageParams())
							assert.False(t, s.Next())
							err = s.Err()
							assert.NoError(t, s.Close())
						} else {
							_, err = client.Messages.New(ctx, messageParams())
						}
						var apiErr *anthropic.Error
						require.ErrorAs(t, err, &apiErr)
						assert.Equal(t, tc.status, apiErr.StatusCode)
						assert.NotEmpty(t, apiErr.Message)
						switch {
						case tc.fault.Code == llmtest.CodeInsufficientQuota:
							assert.Equal(t, anthropic.ErrorCodeEnforcedSpendLimitReached, apiErr.ErrorCode())
						case tc.status == http.StatusTooManyRequests:
							assert.Equal(t, anthropic.ErrorTypeRateLimitError, apiErr.Type())
						case tc.status == llmtest.StatusOverloaded:
							assert.Equal(t, anthropic.ErrorTypeOverloadedError, apiErr.Type())
						}
						assertRetriedCalls(t, f, tr, tc.status, claudeModel, stream)
					})
				}
			}
		}
	}
}

// TestRetriedAttemptKeepsUpstreamError: an SDK closes the body of every
// attempt it retries without reading it. That attempt's Call still got an
// HTTP error from upstream, and its Result.Err must say so (a
// *provider.Error with the status, which metering turns into error.type),
// not that the caller closed the body early.
func TestRetriedAttemptKeepsUpstreamError(t *testing.T) {
	sdks := []struct {
		name string
		call func(ctx context.Context, f *fixture, stream bool) error
	}{
		{"openai", func(ctx context.Context, f *fixture, stream bool) error {
			client := f.openai(viaHTTPClient, openaiopt.WithMaxRetries(1))
			if stream {
				s := client.Chat.Completions.NewStreaming(ctx, chatParams())
				s.Next()
				defer s.Close()
				return s.Err()
			}
			_, err := client.Chat.Completions.New(ctx, chatParams())
			return err
		}},
		{"anthropic", func(ctx context.Context, f *fixture, stream bool) error {
			client := f.anthropic(viaHTTPClient, anthropicopt.WithMaxRetries(1))
			if stream {
				s := client.Messages.NewStreaming(ctx, messageParams())
				s.Next()
				defer s.Close()
				return s.Err()
			}
			_, err := client.Messages.New(ctx, messageParams())
			return err
		}},
	}
	for _, sdk := range sdks {
		for _, stream := range []bool{false, true} {
			for _, kind := range upstreamKinds {
				t.Run(fmt.Sprintf("%s/stream=%v/%v", sdk.name, stream, kind), func(t *testing.T) {
					f := newFixture(t, kind)
					f.Always(llmtest.RateLimited(time.Millisecond))
					ctx, tr := track()
					require.Error(t, sdk.call(ctx, f, stream))
					calls := tr.Calls()
					require.Len(t, calls, 2)
					requireDone(t, calls[0])
					assert.Equal(t, http.StatusTooManyRequests, calls[0].Result().Status)
					assertUpstreamError(t, calls[0], http.StatusTooManyRequests) // retried: body closed unread
					assertUpstreamError(t, calls[1], http.StatusTooManyRequests) // read by the SDK
				})
			}
		}
	}
}

// streamOutcome is what an SDK made of a stream that went wrong after
// HTTP 200.
type streamOutcome struct {
	text  string
	types []string // event types, where the SDK has them
	err   error
}

// midStreamCases run a fault on each SDK stream: events are counted as
// llmtest counts them.
var midStreamCases = []struct {
	name  string
	model string
	run   func(t *testing.T, f *fixture, w wiring, fault llmtest.Fault) (streamOutcome, *aigateway.Call)
}{
	{"openai chat", gptModel, func(t *testing.T, f *fixture, w wiring, fault llmtest.Fault) (streamOutcome, *aigateway.Call) {
		f.Push(fault)
		ctx, tr := track()
		client := f.openai(w, openaiopt.WithMaxRetries(0))
		s := client.Chat.Completions.NewStreaming(ctx, chatParams())
		var out streamOutcome
		var text strings.Builder
		for s.Next() {
			if ch := s.Current(); len(ch.Choices) > 0 {
				text.WriteString(ch.Choices[0].Delta.Content)
			}
		}
		out.text, out.err = text.String(), s.Err()
		assert.NoError(t, s.Close())
		return out, onlyCall(t, tr)
	}},
	{"openai responses", gptModel, func(t *testing.T, f *fixture, w wiring, fault llmtest.Fault) (streamOutcome, *aigateway.Call) {
		f.Push(fault)
		ctx, tr := track()
		client := f.openai(w, openaiopt.WithMaxRetries(0))
		s := client.Responses.NewStreaming(ctx, responseParams())
		var out streamOutcome
		var text strings.Builder
		for s.Next() {
			ev := s.Current()
			out.types = append(out.types, ev.Type)
			text.WriteString(ev.Delta)
		}
		out.text, out.err = text.String(), s.Err()
		assert.NoError(t, s.Close())
		return out, onlyCall(t, tr)
	}},
	{"anthropic messages", claudeModel, func(t *testing.T, f *fixture, w wiring, fault llmtest.Fault) (streamOutcome, *aigateway.Call) {
		f.Push(fault)
		ctx, tr := track()
		client := f.anthropic(w, anthropicopt.WithMaxRetries(0))
		s := client.Messages.NewStreaming(ctx, messageParams())
		var out streamOutcome
		var text strings.Builder
		for s.Next() {
			ev := s.Current()
			out.types = append(out.types, ev.Type)
			text.WriteString(ev.Delta.Text)
		}
		out.text, out.err = text.String(), s.Err()
		assert.NoError(t, s.Close())
		return out, onlyCall(t, tr)
	}},
}

// TestErrorEventAfter200: an error event after HTTP 200 reaches the SDK as
// its stream error (Responses: as an "error" event, which openai-go hands
// on) and the Call's Err as the provider's error.
//
// openai-go closes the body as soon as it decodes the error event, and an
// application closes an anthropic-sdk-go stream once Next returns false:
// often before the body's EOF has been read. In memory (one event per Read)
// that always happens; over a socket only when EOF arrives in a later read.
// Either way the Call must end on the error event, not ErrClosedEarly.
func TestErrorEventAfter200(t *testing.T) {
	// Two events go through first: openai chat role chunk and "Hello";
	// responses created and in_progress; anthropic message_start and
	// content_block_start.
	const before = 2
	for _, tc := range midStreamCases {
		for _, w := range wirings {
			for _, kind := range upstreamKinds {
				t.Run(fmt.Sprint(tc.name, "/", w, "/", kind), func(t *testing.T) {
					f := newFixture(t, kind)
					out, c := tc.run(t, f, w, llmtest.ErrorAfter(before))

					if tc.name == "openai responses" {
						assert.NoError(t, out.err)
						assert.Equal(t, []string{"response.created", "response.in_progress", "error"}, out.types)
					} else {
						assert.Error(t, out.err, "the SDK reports the error event")
					}
					if tc.name == "anthropic messages" {
						var apiErr *anthropic.Error
						if assert.ErrorAs(t, out.err, &apiErr) {
							assert.NotEmpty(t, apiErr.Message)
						}
					}
					assert.NotEqual(t, llmtest.DefaultReply, out.text)

					requireDone(t, c)
					r := c.Result()
					assert.Equal(t, tc.model, c.Model())
					assert.True(t, c.Stream())
					assert.Equal(t, http.StatusOK, r.Status)
					assert.Equal(t, 1, r.Attempts)
					var perr *provider.Error
					if assert.ErrorAs(t, r.Err, &perr, "Result.Err is the error event, got %v", r.Err) {
						assert.Zero(t, perr.Status, "a mid-stream error has no status")
						assert.NotEmpty(t, perr.Message)
					}
				})
			}
		}
	}
}

// TestStreamCut: a stream whose connection breaks mid-way gives the SDK an
// error or a truncated stream, and the Call an error.
func TestStreamCut(t *testing.T) {
	const before = 3
	for _, tc := range midStreamCases {
		for _, w := range wirings {
			for _, kind := range upstreamKinds {
				t.Run(fmt.Sprint(tc.name, "/", w, "/", kind), func(t *testing.T) {
					f := newFixture(t, kind)
					out, c := tc.run(t, f, w, llmtest.CutAfter(before))

					assert.NotEqual(t, llmtest.DefaultReply, out.text, "the stream is truncated")
					assert.Error(t, out.err, "the SDK sees the broken stream")
					requireDone(t, c)
					r := c.Result()
					assert.Error(t, r.Err)
					assert.False(t, errors.Is(r.Err, aigateway.ErrClosedEarly), "the body broke; the SDK did not close it early: %v", r.Err)
					assert.Equal(t, http.StatusOK, r.Status)
				})
			}
		}
	}
}

// TestSDKRetryThenSuccess: the SDK retries a 429 and its retry succeeds. Each
// attempt is its own Call: the first holds the 429 and no usage, the second
// is a success with the answer's usage; the SDK sees only the answer.
func TestSDKRetryThenSuccess(t *testing.T) {
	sdks := []struct {
		name, provider, model string
		call                  func(t *testing.T, ctx context.Context, f *fixture, w wiring, stream bool) string
	}{
		{"openai chat", "openai", gptModel, func(t *testing.T, ctx context.Context, f *fixture, w wiring, stream bool) string {
			client := f.openai(w)
			if !stream {
				got, err := client.Chat.Completions.New(ctx, chatParams())
				require.NoError(t, err)
				return got.Choices[0].Message.Content
			}
			s := client.Chat.Completions.NewStreaming(ctx, chatParams())
			var acc openai.ChatCompletionAccumulator
			for s.Next() {
				acc.AddChunk(s.Current())
			}
			require.NoError(t, s.Err())
			require.NoError(t, s.Close())
			require.Len(t, acc.Choices, 1)
			return acc.Choices[0].Message.Content
		}},
		{"anthropic messages", "anthropic", claudeModel, func(t *testing.T, ctx context.Context, f *fixture, w wiring, stream bool) string {
			client := f.anthropic(w)
			var msg anthropic.Message
			if !stream {
				got, err := client.Messages.New(ctx, messageParams())
				require.NoError(t, err)
				msg = *got
			} else {
				s := client.Messages.NewStreaming(ctx, messageParams())
				for s.Next() {
					require.NoError(t, msg.Accumulate(s.Current()))
				}
				require.NoError(t, s.Err())
				require.NoError(t, s.Close())
			}
			require.Len(t, msg.Content, 1)
			return msg.Content[0].Text
		}},
	}
	for _, sdk := range sdks {
		for _, stream := range []bool{false, true} {
			for _, w := range wirings {
				for _, kind := range upstreamKinds {
					t.Run(fmt.Sprintf("%s/stream=%v/%v/%v", sdk.name, stream, w, kind), func(t *testing.T) {
						f := newFixture(t, kind, llmtest.WithUsage(plainUsage))
						f.Push(llmtest.RateLimited(time.Millisecond))
						ctx, tr := track()

						assert.Equal(t, llmtest.DefaultReply, sdk.call(t, ctx, f, w, stream))

						assert.Equal(t, 2, f.Count())
						calls := tr.Calls()
						require.Len(t, calls, 2, "one Call per SDK attempt")
						first, second := calls[0], calls[1]
						requireDone(t, first)
						r := first.Result()
						assert.Equal(t, http.StatusTooManyRequests, r.Status)
						assert.Error(t, r.Err)
						assert.False(t, r.UsageKnown, "a refused attempt spent nothing")
						assert.Equal(t, 1, r.Attempts)
						requireDone(t, second)
						assertSuccess(t, second, callWant{
							provider: sdk.provider, operation: "chat", model: sdk.model, responseModel: datedModel(sdk.model),
							stream: stream, usage: provider.Usage(plainUsage),
						})
					})
				}
			}
		}
	}
}
