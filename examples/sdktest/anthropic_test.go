package sdktest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// claudeUsage is in normalised terms: the fake sends input_tokens 50
// (100 − 30 read − 20 written), cache_read_input_tokens 30,
// cache_creation_input_tokens 20 (5 of them for 1 hour).
var claudeUsage = llmtest.Usage{
	InputTokens: 100, CacheReadTokens: 30, CacheCreationTokens: 20, CacheCreation1hTokens: 5,
	OutputTokens: replyWords,
}

var claudeUsageNormalised = provider.Usage{
	InputTokens: 100, CacheReadTokens: 30, CacheCreationTokens: 20, CacheCreation1hTokens: 5,
	OutputTokens: replyWords,
}

// sdkSpans are the two settings of anthropic-sdk-go's own OpenTelemetry
// spans: the fixture turns them off; on (the SDK's default) the SDK wraps the
// bodies it reads, which must not change what the stack sees.
var sdkSpans = []struct {
	name string
	opts []anthropicopt.RequestOption
}{
	{"sdk spans off", nil},
	{"sdk spans on", []anthropicopt.RequestOption{anthropicopt.WithOpenTelemetryTraces(true)}},
}

// assertAnthropicUsage checks the usage the SDK decoded against the fake's
// and the Call's: Anthropic's input_tokens excludes the cache, the Call's
// InputTokens includes it.
func assertAnthropicUsage(t *testing.T, got anthropic.Usage, call provider.Usage) {
	t.Helper()
	assert.Equal(t, int64(50), got.InputTokens)
	assert.Equal(t, int64(30), got.CacheReadInputTokens)
	assert.Equal(t, int64(20), got.CacheCreationInputTokens)
	assert.Equal(t, int64(5), got.CacheCreation.Ephemeral1hInputTokens)
	assert.Equal(t, int64(replyWords), got.OutputTokens)
	assert.Equal(t, got.InputTokens+got.CacheCreationInputTokens+got.CacheReadInputTokens, call.InputTokens,
		"normalised input = input + cache_creation + cache_read")
	assert.Equal(t, got.CacheReadInputTokens, call.CacheReadTokens)
	assert.Equal(t, got.CacheCreationInputTokens, call.CacheCreationTokens)
}

func TestAnthropicMessages(t *testing.T) {
	for _, spans := range sdkSpans {
		for _, w := range wirings {
			for _, kind := range upstreamKinds {
				t.Run(fmt.Sprint(spans.name, "/", w, "/", kind), func(t *testing.T) {
					f := newFixture(t, kind, llmtest.WithUsage(claudeUsage))
					client := f.anthropic(w, append([]anthropicopt.RequestOption{anthropicopt.WithMaxRetries(0)}, spans.opts...)...)
					ctx, tr := track()

					got, err := client.Messages.New(ctx, messageParams())
					require.NoError(t, err)
					require.Len(t, got.Content, 1)
					assert.Equal(t, llmtest.DefaultReply, got.Content[0].Text)
					assert.Equal(t, anthropic.StopReasonEndTurn, got.StopReason)
					assert.Equal(t, claudeDated, string(got.Model))

					c := onlyCall(t, tr)
					requireDone(t, c)
					assertSuccess(t, c, callWant{
						provider: "anthropic", operation: "chat", model: claudeModel, responseModel: claudeDated,
						usage: claudeUsageNormalised,
					})
					assertAnthropicUsage(t, got.Usage, c.Result().Usage)
					up := f.lastRequest(t)
					// The fake demands the key (WithAPIKey): the answer proves it arrived.
					assert.NotEmpty(t, up.Header.Get("Anthropic-Version"))
					assertNoGatewayHeaders(t, up.Header)
				})
			}
		}
	}
}

// TestAnthropicMessagesStream accumulates a stream with Message.Accumulate.
// anthropic-sdk-go reads to EOF; the Call completes at message_stop.
func TestAnthropicMessagesStream(t *testing.T) {
	for _, spans := range sdkSpans {
		for _, w := range wirings {
			for _, kind := range upstreamKinds {
				t.Run(fmt.Sprint(spans.name, "/", w, "/", kind), func(t *testing.T) {
					f := newFixture(t, kind, llmtest.WithUsage(claudeUsage))
					client := f.anthropic(w, append([]anthropicopt.RequestOption{anthropicopt.WithMaxRetries(0)}, spans.opts...)...)
					ctx, tr := track()

					stream := client.Messages.NewStreaming(ctx, messageParams())
					var (
						msg    anthropic.Message
						text   strings.Builder
						events []string
					)
					for stream.Next() {
						ev := stream.Current()
						require.NoError(t, msg.Accumulate(ev))
						events = append(events, ev.Type)
						if d, ok := ev.AsAny().(anthropic.ContentBlockDeltaEvent); ok {
							text.WriteString(d.Delta.Text)
						}
					}
					require.NoError(t, stream.Err())
					c := onlyCall(t, tr)
					requireDone(t, c)
					require.NoError(t, stream.Close())

					assert.Equal(t, llmtest.DefaultReply, text.String())
					require.NotEmpty(t, events)
					assert.Equal(t, "message_start", events[0])
					assert.Equal(t, "message_stop", events[len(events)-1])
					require.Len(t, msg.Content, 1)
					assert.Equal(t, llmtest.DefaultReply, msg.Content[0].Text)
					assert.Equal(t, anthropic.StopReasonEndTurn, msg.StopReason)
					assert.Equal(t, claudeDated, string(msg.Model))

					assertSuccess(t, c, callWant{
						provider: "anthropic", operation: "chat", model: claudeModel, responseModel: claudeDated,
						stream: true, usage: claudeUsageNormalised,
					})
					assertAnthropicUsage(t, msg.Usage, c.Result().Usage)
					assertNoGatewayHeaders(t, f.lastRequest(t).Header)
				})
			}
		}
	}
}
