package sdktest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	openaiopt "github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// sdkStream is one SDK's stream reduced to what these tests need.
type sdkStream interface {
	Next() bool
	Err() error
	Close() error
	// event describes the current event: its type and its text, if any.
	event() (typ, text string)
}

// typedStream is what openai-go's and anthropic-sdk-go's *ssestream.Stream[T]
// have in common.
type typedStream[T any] interface {
	Next() bool
	Current() T
	Err() error
	Close() error
}

// described adapts a typed SDK stream to sdkStream.
type described[T any] struct {
	typedStream[T]
	describe func(T) (typ, text string)
}

func (d described[T]) event() (string, string) { return d.describe(d.Current()) }

func describeChatChunk(ch openai.ChatCompletionChunk) (string, string) {
	if len(ch.Choices) == 0 {
		return "usage", ""
	}
	d := ch.Choices[0].Delta
	if d.Role != "" {
		return "role", d.Content
	}
	return "chunk", d.Content
}

func describeResponseEvent(ev responses.ResponseStreamEventUnion) (string, string) {
	return ev.Type, ev.Delta
}

func describeMessageEvent(ev anthropic.MessageStreamEventUnion) (string, string) {
	return ev.Type, ev.Delta.Text
}

// streamingSDKs open a stream through each SDK with ctx.
var streamingSDKs = []struct {
	name, provider, model string
	// gated lists, for each Next, how many events the fake must let go and
	// which event type and text the SDK then hands out.
	gated []gatedStep
	open  func(ctx context.Context, f *fixture, w wiring) sdkStream
}{
	{"openai chat", "openai", gptModel, // the stack filters out the usage chunk it asked for
		[]gatedStep{{1, "role", ""}, {1, "chunk", "Hello"}, {1, "chunk", " from"}},
		func(ctx context.Context, f *fixture, w wiring) sdkStream {
			client := f.openai(w, openaiopt.WithMaxRetries(0))
			return described[openai.ChatCompletionChunk]{client.Chat.Completions.NewStreaming(ctx, chatParams()), describeChatChunk}
		}},
	{"openai chat include_usage", "openai", gptModel, // nothing to filter
		[]gatedStep{{1, "role", ""}, {1, "chunk", "Hello"}, {1, "chunk", " from"}},
		func(ctx context.Context, f *fixture, w wiring) sdkStream {
			client := f.openai(w, openaiopt.WithMaxRetries(0))
			params := chatParams()
			params.StreamOptions.IncludeUsage = openai.Bool(true)
			return described[openai.ChatCompletionChunk]{client.Chat.Completions.NewStreaming(ctx, params), describeChatChunk}
		}},
	{"openai responses", "openai", gptModel,
		[]gatedStep{{1, "response.created", ""}, {1, "response.in_progress", ""}, {1, "response.output_item.added", ""}, {1, "response.content_part.added", ""}, {1, "response.output_text.delta", "Hello"}},
		func(ctx context.Context, f *fixture, w wiring) sdkStream {
			client := f.openai(w, openaiopt.WithMaxRetries(0))
			return described[responses.ResponseStreamEventUnion]{client.Responses.NewStreaming(ctx, responseParams()), describeResponseEvent}
		}},
	{"anthropic messages", "anthropic", claudeModel,
		// message_start, content_block_start, then ping (skipped by the SDK)
		// and the first text delta.
		[]gatedStep{{1, "message_start", ""}, {1, "content_block_start", ""}, {2, "content_block_delta", "Hello"}},
		func(ctx context.Context, f *fixture, w wiring) sdkStream {
			client := f.anthropic(w, anthropicopt.WithMaxRetries(0))
			return described[anthropic.MessageStreamEventUnion]{client.Messages.NewStreaming(ctx, messageParams()), describeMessageEvent}
		}},
}

// gatedStep is one Next of a held stream: the gate lets release events go,
// then the SDK must hand out an event of type typ with text.
type gatedStep struct {
	release   int
	typ, text string
}

// TestStreamsStayStreams: with the fake holding every event at a gate, the
// SDK gets each event as soon as the fake lets it go, not later: every Next
// returns while the fake still holds the next event. The Call is still open
// while the stream is held, and already knows its time to first chunk.
func TestStreamsStayStreams(t *testing.T) {
	for _, sdk := range streamingSDKs {
		for _, w := range wirings {
			for _, kind := range upstreamKinds {
				t.Run(fmt.Sprint(sdk.name, "/", w, "/", kind), func(t *testing.T) {
					f := newFixture(t, kind, llmtest.WithUsage(plainUsage))
					gate := llmtest.NewGate()
					f.Push(llmtest.Hold(gate))
					ctx, tr := track()

					s := sdk.open(ctx, f, w) // returns at the response headers
					c := onlyCall(t, tr)
					for i, step := range sdk.gated {
						for range step.release {
							gate.Release()
						}
						// Only step.release more events may pass the gate: if
						// the stack held one back, this Next would never return.
						require.True(t, s.Next(), "step %d: %v", i, s.Err())
						typ, text := s.event()
						assert.Equal(t, step.typ, typ, "step %d", i)
						assert.Equal(t, step.text, text, "step %d", i)
						requireNotDone(t, c)
					}
					assert.Positive(t, c.Result().TimeToFirstChunk, "first chunk seen while the stream is held")

					gate.Open()
					var rest strings.Builder
					for s.Next() {
						_, text := s.event()
						rest.WriteString(text)
					}
					require.NoError(t, s.Err())
					requireDone(t, c)
					require.NoError(t, s.Close())
					assert.NotEmpty(t, rest.String())
					assertSuccess(t, c, callWant{
						provider: sdk.provider, operation: "chat", model: sdk.model, responseModel: datedModel(sdk.model),
						stream: true, usage: provider.Usage(plainUsage),
					})
				})
			}
		}
	}
}

// TestAbandonedStream: a stream the application reads once and then
// abandons, cancelling its context without closing anything, leaves no
// goroutine behind, and its Call completes with context.Canceled.
func TestAbandonedStream(t *testing.T) {
	for _, sdk := range streamingSDKs {
		for _, w := range wirings {
			for _, kind := range upstreamKinds {
				t.Run(fmt.Sprint(sdk.name, "/", w, "/", kind), func(t *testing.T) {
					f := newFixture(t, kind)
					gate := llmtest.NewGate()
					f.Push(llmtest.Hold(gate))
					before := goleak.IgnoreCurrent()

					ctx, cancel := context.WithCancel(context.Background())
					ctx, tr := aigateway.Track(ctx)
					s := sdk.open(ctx, f, w)
					c := onlyCall(t, tr)
					gate.Release()
					require.True(t, s.Next(), "%v", s.Err())
					requireNotDone(t, c)

					cancel() // and never Close
					<-c.Done()
					r := c.Result()
					assert.True(t, errors.Is(r.Err, context.Canceled), "Result.Err: %v", r.Err)
					assert.Positive(t, r.Duration)
					// Nothing is left running for the abandoned stream, even
					// before the fake and the Gateway are closed.
					goleak.VerifyNone(t, before)
				})
			}
		}
	}
}
