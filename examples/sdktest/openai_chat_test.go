package sdktest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	openaiopt "github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// chatUsage is what the fake reports for chat completions: prompt_tokens 42
// of which 10 cached, completion_tokens 3 of which 1 reasoning.
var chatUsage = llmtest.Usage{InputTokens: 42, CacheReadTokens: 10, OutputTokens: replyWords, ReasoningTokens: 1}

// chatUsageNormalised is chatUsage as the Call reports it: OpenAI's input
// already includes the cached tokens.
var chatUsageNormalised = provider.Usage{InputTokens: 42, CacheReadTokens: 10, OutputTokens: replyWords, ReasoningTokens: 1}

func TestOpenAIChat(t *testing.T) {
	for _, w := range wirings {
		for _, kind := range upstreamKinds {
			t.Run(fmt.Sprint(w, "/", kind), func(t *testing.T) {
				f := newFixture(t, kind, llmtest.WithUsage(chatUsage))
				client := f.openai(w, openaiopt.WithMaxRetries(0))
				ctx, tr := track()

				got, err := client.Chat.Completions.New(ctx, chatParams())
				require.NoError(t, err)

				require.Len(t, got.Choices, 1)
				assert.Equal(t, llmtest.DefaultReply, got.Choices[0].Message.Content)
				assert.Equal(t, "stop", got.Choices[0].FinishReason)
				assert.Equal(t, gptDated, got.Model)
				assert.Equal(t, int64(42), got.Usage.PromptTokens)
				assert.Equal(t, int64(10), got.Usage.PromptTokensDetails.CachedTokens)
				assert.Equal(t, int64(replyWords), got.Usage.CompletionTokens)
				assert.Equal(t, int64(1), got.Usage.CompletionTokensDetails.ReasoningTokens)

				c := onlyCall(t, tr)
				requireDone(t, c)
				assertSuccess(t, c, callWant{
					provider: "openai", operation: "chat", model: gptModel, responseModel: gptDated,
					usage: chatUsageNormalised,
				})
				assert.Equal(t, 1, f.Count())
				assertNoGatewayHeaders(t, f.lastRequest(t).Header)
			})
		}
	}
}

// TestOpenAIChatStream reads chat streams with stream.Next/Current and the
// ChatCompletionAccumulator. openai-go closes the body at [DONE] without
// reading to EOF: the Call must be complete, as a success, when the loop ends.
// Whether or not the client asked for stream usage, the gateway asks upstream
// for it; the usage-only chunk reaches the SDK only when the client asked.
func TestOpenAIChatStream(t *testing.T) {
	for _, clientUsage := range []bool{false, true} {
		for _, w := range wirings {
			for _, kind := range upstreamKinds {
				t.Run(fmt.Sprintf("include_usage=%v/%v/%v", clientUsage, w, kind), func(t *testing.T) {
					f := newFixture(t, kind, llmtest.WithUsage(chatUsage))
					client := f.openai(w, openaiopt.WithMaxRetries(0))
					ctx, tr := track()
					params := chatParams()
					if clientUsage {
						params.StreamOptions.IncludeUsage = openai.Bool(true)
					}

					stream := client.Chat.Completions.NewStreaming(ctx, params)
					var (
						acc        openai.ChatCompletionAccumulator
						text       strings.Builder
						chunks     int
						usageOnly  int
						lastUsage  openai.CompletionUsage
						finishSeen string
					)
					for stream.Next() {
						chunk := stream.Current()
						require.True(t, acc.AddChunk(chunk), "the accumulator takes chunk %d", chunks)
						chunks++
						assert.Equal(t, gptDated, chunk.Model)
						if len(chunk.Choices) == 0 {
							usageOnly++
							lastUsage = chunk.Usage
							continue
						}
						text.WriteString(chunk.Choices[0].Delta.Content)
						if fr := chunk.Choices[0].FinishReason; fr != "" {
							finishSeen = fr
						}
					}
					require.NoError(t, stream.Err())
					c := onlyCall(t, tr)
					requireDone(t, c) // at [DONE], before the application closes anything
					require.NoError(t, stream.Close())
					requireDone(t, c)

					assert.Equal(t, llmtest.DefaultReply, text.String())
					assert.Equal(t, "stop", finishSeen)
					require.Len(t, acc.Choices, 1)
					assert.Equal(t, llmtest.DefaultReply, acc.Choices[0].Message.Content)
					assert.Equal(t, "stop", acc.Choices[0].FinishReason)
					assert.Equal(t, gptDated, acc.Model)

					// role chunk, one chunk per word, finish chunk [, usage chunk]
					if clientUsage {
						assert.Equal(t, replyWords+3, chunks)
						assert.Equal(t, 1, usageOnly, "the client asked for the usage chunk")
						assert.Equal(t, int64(42), lastUsage.PromptTokens)
						assert.Equal(t, int64(10), lastUsage.PromptTokensDetails.CachedTokens)
						assert.Equal(t, int64(replyWords), lastUsage.CompletionTokens)
						assert.Equal(t, int64(42), acc.Usage.PromptTokens)
					} else {
						assert.Equal(t, replyWords+2, chunks)
						assert.Zero(t, usageOnly, "the SDK never sees the usage chunk it did not ask for")
						assert.Zero(t, acc.Usage.PromptTokens)
					}

					up := f.lastRequest(t)
					assert.Contains(t, string(up.Body), `"include_usage":true`, "the gateway asks upstream for usage")
					assertNoGatewayHeaders(t, up.Header)
					assertSuccess(t, c, callWant{
						provider: "openai", operation: "chat", model: gptModel, responseModel: gptDated,
						stream: true, usage: chatUsageNormalised,
					})
				})
			}
		}
	}
}
