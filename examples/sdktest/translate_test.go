package sdktest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genai"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/fallback"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/pricing"
	"github.com/aigateway-go/aigateway/provider"
)

// translateRig is a primary that always fails and a backup of another
// wire format, the SDK's answers translated back from the backup's.
func translateRig(t *testing.T, backup provider.Provider, basePath, model string) *fallbackRig {
	t.Helper()
	r := &fallbackRig{
		primary: llmtest.NewServer(llmtest.WithAPIKey(apiKey)),
		backup:  llmtest.NewServer(llmtest.WithAPIKey(backupKey), llmtest.WithUsage(llmtest.Usage{InputTokens: 21, OutputTokens: replyWords})),
	}
	t.Cleanup(r.primary.Close)
	t.Cleanup(r.backup.Close)
	r.primary.Always(llmtest.HTTPError(503))
	cfg := fallback.Config{
		Targets: []fallback.Target{
			{Name: "primary"},
			{Name: "backup", Provider: backup, BaseURL: r.backup.URL + basePath, APIKey: backupKey, Model: model, Priority: 1},
		},
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	}
	r.gw = mustNew(t, nil, fallback.New(cfg))
	t.Cleanup(func() { assert.NoError(t, r.gw.Close()) })
	return r
}

// assertTranslated checks the call's record of the backup's answer: its
// format and provider, the usage the backup served, and its price for the
// backup's model.
func assertTranslated(t *testing.T, c *aigateway.Call, f provider.Format, prov, model string) {
	t.Helper()
	<-c.Done()
	r := c.Result()
	require.NoError(t, r.Err)
	assert.Equal(t, "backup", r.Target)
	require.Len(t, r.Upstreams, 2, "the primary's 503, then the backup's answer")
	up := r.Upstreams[1]
	assert.Equal(t, f, up.Format)
	assert.Equal(t, prov, up.Provider)
	require.True(t, up.UsageKnown)
	assert.Equal(t, int64(21), up.Usage.InputTokens)
	assert.Equal(t, int64(replyWords), up.Usage.OutputTokens)
	want, ok := pricing.Default().Cost(prov, model, up.Usage)
	require.True(t, ok, "%s %s is priced", prov, model)
	assert.True(t, r.CostKnown)
	assert.InDelta(t, want, r.Cost, 1e-12, "priced for the model that answered")
}

// openai-go falls back to an Anthropic target and reads an OpenAI answer.
func TestTranslateOpenAIToAnthropic(t *testing.T) {
	for _, w := range []wiring{viaHTTPClient, viaMiddleware} {
		t.Run(w.String(), func(t *testing.T) {
			r := translateRig(t, provider.Anthropic, "/v1", claudeModel)
			client := r.openai(w)
			t.Run("json", func(t *testing.T) {
				ctx, tr := track()
				got, err := client.Chat.Completions.New(ctx, chatParams())
				require.NoError(t, err)
				require.Len(t, got.Choices, 1)
				assert.Equal(t, llmtest.DefaultReply, got.Choices[0].Message.Content)
				assert.Equal(t, "stop", got.Choices[0].FinishReason)
				assert.Equal(t, int64(21), got.Usage.PromptTokens)
				assert.Equal(t, int64(replyWords), got.Usage.CompletionTokens)
				assertTranslated(t, onlyCall(t, tr), provider.FormatAnthropicMessages, "anthropic", claudeModel)
			})
			t.Run("stream with usage", func(t *testing.T) {
				ctx, tr := track()
				p := chatParams()
				p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
				s := client.Chat.Completions.NewStreaming(ctx, p)
				var text strings.Builder
				var usage openai.CompletionUsage
				for s.Next() {
					ch := s.Current()
					if len(ch.Choices) > 0 {
						text.WriteString(ch.Choices[0].Delta.Content)
					}
					if ch.Usage.TotalTokens > 0 {
						usage = ch.Usage
					}
				}
				require.NoError(t, s.Err())
				require.NoError(t, s.Close())
				assert.Equal(t, llmtest.DefaultReply, text.String())
				assert.Equal(t, int64(21), usage.PromptTokens)
				assertTranslated(t, onlyCall(t, tr), provider.FormatAnthropicMessages, "anthropic", claudeModel)
			})
		})
	}
}

// anthropic-sdk-go falls back to an OpenAI target and reads an Anthropic
// message, its input tokens never 0.
func TestTranslateAnthropicToOpenAI(t *testing.T) {
	r := translateRig(t, provider.OpenAI, "/v1", gptModel)
	client := r.anthropic(viaHTTPClient)
	t.Run("json", func(t *testing.T) {
		ctx, tr := track()
		got, err := client.Messages.New(ctx, messageParams())
		require.NoError(t, err)
		require.NotEmpty(t, got.Content)
		assert.Equal(t, llmtest.DefaultReply, got.Content[0].Text)
		assert.Equal(t, anthropic.StopReasonEndTurn, got.StopReason)
		assert.Equal(t, int64(21), got.Usage.InputTokens)
		assertTranslated(t, onlyCall(t, tr), provider.FormatOpenAIChat, "openai", gptModel)
	})
	t.Run("stream", func(t *testing.T) {
		ctx, tr := track()
		s := client.Messages.NewStreaming(ctx, messageParams())
		var msg anthropic.Message
		for s.Next() {
			require.NoError(t, msg.Accumulate(s.Current()))
		}
		require.NoError(t, s.Err())
		require.NoError(t, s.Close())
		require.NotEmpty(t, msg.Content)
		assert.Equal(t, llmtest.DefaultReply, msg.Content[0].Text)
		assert.Equal(t, int64(21), msg.Usage.InputTokens, "the cumulative counts in message_delta")
		assert.Equal(t, int64(replyWords), msg.Usage.OutputTokens)
		assertTranslated(t, onlyCall(t, tr), provider.FormatOpenAIChat, "openai", gptModel)
	})
}

// google.golang.org/genai falls back to an OpenAI target and reads a
// GenerateContentResponse.
func TestTranslateGeminiToOpenAI(t *testing.T) {
	r := translateRig(t, provider.OpenAI, "/v1", gptModel)
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:      apiKey,
		Backend:     genai.BackendGeminiAPI,
		HTTPClient:  r.gw.Client(),
		HTTPOptions: genai.HTTPOptions{BaseURL: r.primary.URL + "/", APIVersion: "v1beta"},
	})
	require.NoError(t, err)
	t.Run("generateContent", func(t *testing.T) {
		ctx, tr := track()
		got, err := c.Models.GenerateContent(ctx, geminiModel, genai.Text(prompt), nil)
		require.NoError(t, err)
		assert.Equal(t, llmtest.DefaultReply, got.Text())
		require.NotNil(t, got.UsageMetadata)
		assert.Equal(t, int32(21), got.UsageMetadata.PromptTokenCount)
		assertTranslated(t, onlyCall(t, tr), provider.FormatOpenAIChat, "openai", gptModel)
	})
	t.Run("streamGenerateContent", func(t *testing.T) {
		ctx, tr := track()
		var text strings.Builder
		for chunk, err := range c.Models.GenerateContentStream(ctx, geminiModel, genai.Text(prompt), nil) {
			require.NoError(t, err)
			text.WriteString(chunk.Text())
		}
		assert.Equal(t, llmtest.DefaultReply, text.String())
		assertTranslated(t, onlyCall(t, tr), provider.FormatOpenAIChat, "openai", gptModel)
	})
}
