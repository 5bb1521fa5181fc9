package sdktest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// goOpenAI returns a go-openai client whose HTTP client is the Gateway's
// (go-openai has no middleware option).
func (f *fixture) goOpenAI() *goopenai.Client {
	cfg := goopenai.DefaultConfig(apiKey)
	cfg.BaseURL = f.url + "/v1"
	cfg.HTTPClient = f.gw.Client()
	return goopenai.NewClientWithConfig(cfg)
}

func goOpenAIChat() goopenai.ChatCompletionRequest {
	return goopenai.ChatCompletionRequest{
		Model:    gptModel,
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: prompt}},
	}
}

// readGoOpenAIStream reads a go-openai stream to its end and returns its text.
func readGoOpenAIStream(t *testing.T, s *goopenai.ChatCompletionStream) string {
	t.Helper()
	var text strings.Builder
	for {
		chunk, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		for _, c := range chunk.Choices {
			text.WriteString(c.Delta.Content)
		}
	}
	return text.String()
}

// go-openai through the stack: a chat completion, a stream (go-openai sends
// Cache-Control: no-cache on every stream: its repeat is still a hit, the
// cache not honouring the request's Cache-Control unless told to), and
// embeddings, each with its usage known.
func TestGoOpenAI(t *testing.T) {
	for _, kind := range upstreamKinds {
		t.Run(fmt.Sprint(kind), func(t *testing.T) {
			t.Run("chat", func(t *testing.T) {
				f := newFixture(t, kind, llmtest.WithUsage(chatUsage))
				ctx, tr := track()
				got, err := f.goOpenAI().CreateChatCompletion(ctx, goOpenAIChat())
				require.NoError(t, err)
				require.Len(t, got.Choices, 1)
				assert.Equal(t, llmtest.DefaultReply, got.Choices[0].Message.Content)
				assert.Equal(t, 42, got.Usage.PromptTokens)
				c := onlyCall(t, tr)
				requireDone(t, c)
				assertSuccess(t, c, callWant{
					provider: "openai", operation: "chat", model: gptModel, responseModel: gptDated,
					usage: chatUsageNormalised,
				})
			})

			t.Run("stream, then its repeat from the cache", func(t *testing.T) {
				f, c := newCacheFixture(t, kind, cache.Config{}, llmtest.WithUsage(chatUsage))
				client := f.goOpenAI()
				var texts []string
				for i := range 2 {
					ctx, tr := track()
					s, err := client.CreateChatCompletionStream(ctx, goOpenAIChat())
					require.NoError(t, err)
					texts = append(texts, readGoOpenAIStream(t, s))
					s.Close()
					call := onlyCall(t, tr)
					<-call.Done()
					r := call.Result()
					require.NoError(t, r.Err)
					assert.True(t, call.Stream())
					assert.True(t, r.UsageKnown, "the stack asked upstream for the stream's usage")
					assert.Equal(t, chatUsageNormalised, r.Usage)
					if i == 0 {
						assert.Equal(t, aigateway.CacheMiss, r.CacheStatus)
						assert.Positive(t, r.TimeToFirstChunk)
					} else {
						assert.Equal(t, aigateway.CacheHit, r.CacheStatus, "go-openai's no-cache does not refresh the cache")
					}
				}
				assert.Equal(t, llmtest.DefaultReply, texts[0])
				assert.Equal(t, texts[0], texts[1], "the repeat replays the stream")
				assert.Equal(t, 1, f.Count(), "one upstream call")
				assert.Equal(t, 1, c.Stats().Entries)
				assert.Equal(t, "no-cache", f.lastRequest(t).Header.Get("Cache-Control"), "go-openai does send it")
			})

			t.Run("embeddings", func(t *testing.T) {
				f := newFixture(t, kind, llmtest.WithUsage(llmtest.Usage{InputTokens: 17}))
				ctx, tr := track()
				got, err := f.goOpenAI().CreateEmbeddings(ctx, goopenai.EmbeddingRequestStrings{
					Input: []string{"first", "second"},
					Model: goopenai.SmallEmbedding3,
				})
				require.NoError(t, err)
				require.Len(t, got.Data, 2)
				assert.Len(t, got.Data[0].Embedding, llmtest.DefaultEmbeddingDimensions)
				c := onlyCall(t, tr)
				requireDone(t, c)
				assertSuccess(t, c, callWant{
					provider: "openai", operation: "embeddings", model: embeddingModel, responseModel: embeddingModel,
					usage: provider.Usage{InputTokens: 17},
				})
			})
		})
	}
}
