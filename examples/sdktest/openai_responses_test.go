package sdktest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	openaiopt "github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

func responseParams() responses.ResponseNewParams {
	return responses.ResponseNewParams{
		Model: gptModel,
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(prompt)},
	}
}

func TestOpenAIResponses(t *testing.T) {
	for _, w := range wirings {
		for _, kind := range upstreamKinds {
			t.Run(fmt.Sprint(w, "/", kind), func(t *testing.T) {
				f := newFixture(t, kind, llmtest.WithUsage(chatUsage))
				client := f.openai(w, openaiopt.WithMaxRetries(0))
				ctx, tr := track()

				got, err := client.Responses.New(ctx, responseParams())
				require.NoError(t, err)
				assert.Equal(t, llmtest.DefaultReply, got.OutputText())
				assert.Equal(t, gptDated, got.Model)
				assert.Equal(t, responses.ResponseStatusCompleted, got.Status)
				assert.Equal(t, int64(42), got.Usage.InputTokens)
				assert.Equal(t, int64(10), got.Usage.InputTokensDetails.CachedTokens)
				assert.Equal(t, int64(replyWords), got.Usage.OutputTokens)
				assert.Equal(t, int64(1), got.Usage.OutputTokensDetails.ReasoningTokens)

				c := onlyCall(t, tr)
				requireDone(t, c)
				assertSuccess(t, c, callWant{
					provider: "openai", operation: "chat", model: gptModel, responseModel: gptDated,
					usage: chatUsageNormalised,
				})
			})
		}
	}
}

// TestOpenAIResponsesStream: Responses streams have no [DONE]; the Call
// completes at response.completed, with the usage that event carries.
func TestOpenAIResponsesStream(t *testing.T) {
	for _, w := range wirings {
		for _, kind := range upstreamKinds {
			t.Run(fmt.Sprint(w, "/", kind), func(t *testing.T) {
				f := newFixture(t, kind, llmtest.WithUsage(chatUsage))
				client := f.openai(w, openaiopt.WithMaxRetries(0))
				ctx, tr := track()

				stream := client.Responses.NewStreaming(ctx, responseParams())
				var (
					text      strings.Builder
					types     []string
					completed responses.Response
				)
				for stream.Next() {
					ev := stream.Current()
					types = append(types, ev.Type)
					switch ev.Type {
					case "response.output_text.delta":
						text.WriteString(ev.Delta)
					case "response.completed":
						completed = ev.AsResponseCompleted().Response
					}
				}
				require.NoError(t, stream.Err())
				c := onlyCall(t, tr)
				requireDone(t, c)
				require.NoError(t, stream.Close())

				assert.Equal(t, llmtest.DefaultReply, text.String())
				require.NotEmpty(t, types)
				assert.Equal(t, "response.created", types[0])
				assert.Equal(t, "response.completed", types[len(types)-1])
				assert.Equal(t, llmtest.DefaultReply, completed.OutputText())
				assert.Equal(t, int64(42), completed.Usage.InputTokens)
				assert.Equal(t, int64(replyWords), completed.Usage.OutputTokens)

				assertNoGatewayHeaders(t, f.lastRequest(t).Header)
				assertSuccess(t, c, callWant{
					provider: "openai", operation: "chat", model: gptModel, responseModel: gptDated,
					stream: true, usage: chatUsageNormalised,
				})
			})
		}
	}
}

func TestOpenAIEmbeddings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params openai.EmbeddingNewParams
		inputs int
	}{
		{"one input float", openai.EmbeddingNewParams{
			Model: embeddingModel,
			Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String(prompt)},
		}, 1},
		{"two inputs base64", openai.EmbeddingNewParams{
			Model:          embeddingModel,
			Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"first", "second"}},
			EncodingFormat: openai.EmbeddingNewParamsEncodingFormatBase64,
		}, 2},
	} {
		for _, w := range wirings {
			for _, kind := range upstreamKinds {
				t.Run(fmt.Sprint(tc.name, "/", w, "/", kind), func(t *testing.T) {
					f := newFixture(t, kind, llmtest.WithUsage(llmtest.Usage{InputTokens: 17}))
					client := f.openai(w, openaiopt.WithMaxRetries(0))
					ctx, tr := track()

					got, err := client.Embeddings.New(ctx, tc.params)
					require.NoError(t, err)
					require.Len(t, got.Data, tc.inputs)
					for i, d := range got.Data {
						assert.Equal(t, int64(i), d.Index)
						assert.Len(t, d.Embedding, llmtest.DefaultEmbeddingDimensions)
					}
					assert.Equal(t, embeddingModel, got.Model)
					assert.Equal(t, int64(17), got.Usage.PromptTokens)
					assert.Equal(t, int64(17), got.Usage.TotalTokens)

					c := onlyCall(t, tr)
					requireDone(t, c)
					assertSuccess(t, c, callWant{
						provider: "openai", operation: "embeddings", model: embeddingModel, responseModel: embeddingModel,
						usage: provider.Usage{InputTokens: 17},
					})
				})
			}
		}
	}
}
