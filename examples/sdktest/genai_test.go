package sdktest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genai"

	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

const geminiModel = "gemini-2.5-flash"

// genAI returns a google.golang.org/genai client for the Gemini API whose
// HTTP client is the Gateway's.
func (f *fixture) genAI(t *testing.T) *genai.Client {
	t.Helper()
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:      apiKey,
		Backend:     genai.BackendGeminiAPI,
		HTTPClient:  f.gw.Client(),
		HTTPOptions: genai.HTTPOptions{BaseURL: f.url + "/", APIVersion: "v1beta"},
	})
	require.NoError(t, err)
	return c
}

// google.golang.org/genai through the stack: generateContent and its
// stream, each with its usage known and the model from the path.
func TestGenAI(t *testing.T) {
	usage := llmtest.Usage{InputTokens: 9, OutputTokens: replyWords}
	want := callWant{
		provider: "gcp.gemini", operation: "generate_content", model: geminiModel, responseModel: geminiModel,
		usage: provider.Usage{InputTokens: 9, OutputTokens: replyWords},
	}
	for _, kind := range upstreamKinds {
		t.Run(fmt.Sprint(kind), func(t *testing.T) {
			t.Run("generateContent", func(t *testing.T) {
				f := newFixture(t, kind, llmtest.WithUsage(usage))
				ctx, tr := track()
				got, err := f.genAI(t).Models.GenerateContent(ctx, geminiModel, genai.Text(prompt), nil)
				require.NoError(t, err)
				assert.Equal(t, llmtest.DefaultReply, got.Text())
				require.NotNil(t, got.UsageMetadata)
				assert.Equal(t, int32(9), got.UsageMetadata.PromptTokenCount)
				c := onlyCall(t, tr)
				requireDone(t, c)
				assertSuccess(t, c, want)
				assert.Equal(t, apiKey, f.lastRequest(t).Header.Get("X-Goog-Api-Key"))
			})
			t.Run("streamGenerateContent", func(t *testing.T) {
				f := newFixture(t, kind, llmtest.WithUsage(usage))
				ctx, tr := track()
				var text strings.Builder
				for chunk, err := range f.genAI(t).Models.GenerateContentStream(ctx, geminiModel, genai.Text(prompt), nil) {
					require.NoError(t, err)
					text.WriteString(chunk.Text())
				}
				assert.Equal(t, llmtest.DefaultReply, text.String())
				c := onlyCall(t, tr)
				<-c.Done()
				w := want
				w.stream = true
				assertSuccess(t, c, w)
				assert.Positive(t, c.Result().TimeToFirstChunk)
			})
		})
	}
}
