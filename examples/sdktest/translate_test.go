package sdktest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"
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
func translateRig(t *testing.T, backup provider.Provider, basePath, model string, opts ...llmtest.Option) *fallbackRig {
	t.Helper()
	r := &fallbackRig{
		primary: llmtest.NewServer(llmtest.WithAPIKey(apiKey)),
		backup:  llmtest.NewServer(append([]llmtest.Option{llmtest.WithAPIKey(backupKey), llmtest.WithUsage(llmtest.Usage{InputTokens: 21, OutputTokens: replyWords})}, opts...)...),
	}
	t.Cleanup(r.primary.Close)
	t.Cleanup(r.backup.Close)
	r.primary.Always(llmtest.HTTPError(503))
	cfg := fallback.Config{
		Targets: []fallback.Target{
			{Name: "primary"},
			{Name: "backup", Provider: backup, BaseURL: r.backup.URL + basePath, APIKey: backupKey, Model: model, Priority: 1},
		},
		AttemptsPerTarget: 1,
		Sleep:             func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
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

// twoTools are the parallel calls the backups answer with.
var twoTools = []llmtest.ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}, {Name: "get_time", Arguments: `{"tz":"CET"}`}}

var toolSchema = map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}, "tz": map[string]any{"type": "string"}}}

// openai-go with two tools, falling back to Anthropic: the two parallel
// calls, then the turn with their results, which the Anthropic fake
// accepts only if each result names its call's tool_use id; JSON and
// stream.
func TestTranslateOpenAIToolsToAnthropic(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "stream"}[stream], func(t *testing.T) {
			r := translateRig(t, provider.Anthropic, "/v1", claudeModel, llmtest.WithToolCalls(twoTools...))
			client := r.openai(viaHTTPClient)
			p := chatParams()
			for _, name := range []string{"get_weather", "get_time"} {
				p.Tools = append(p.Tools, openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: name, Parameters: toolSchema}))
			}
			var msg openai.ChatCompletionMessage
			var finish string
			if stream {
				s := client.Chat.Completions.NewStreaming(context.Background(), p)
				var acc openai.ChatCompletionAccumulator
				for s.Next() {
					acc.AddChunk(s.Current())
				}
				require.NoError(t, s.Err())
				require.NoError(t, s.Close())
				require.Len(t, acc.Choices, 1)
				msg, finish = acc.Choices[0].Message, acc.Choices[0].FinishReason
			} else {
				got, err := client.Chat.Completions.New(context.Background(), p)
				require.NoError(t, err)
				msg, finish = got.Choices[0].Message, got.Choices[0].FinishReason
			}
			assert.Equal(t, "tool_calls", finish)
			require.Len(t, msg.ToolCalls, 2)
			for i, c := range msg.ToolCalls {
				assert.Equal(t, twoTools[i].Name, c.Function.Name)
				assert.JSONEq(t, twoTools[i].Arguments, c.Function.Arguments)
				assert.NotEmpty(t, c.ID)
			}
			p.Messages = append(p.Messages, msg.ToParam(),
				openai.ToolMessage("sunny", msg.ToolCalls[0].ID), openai.ToolMessage("14:00", msg.ToolCalls[1].ID))
			ctx, tr := track()
			got, err := client.Chat.Completions.New(ctx, p)
			require.NoError(t, err, "the Anthropic fake accepted the tool results")
			assert.Equal(t, llmtest.DefaultReply, got.Choices[0].Message.Content)
			assertTranslated(t, onlyCall(t, tr), provider.FormatAnthropicMessages, "anthropic", claudeModel)
		})
	}
}

// anthropic-sdk-go with two tools, falling back to OpenAI: two tool_use
// blocks, then the tool_result turn, which the OpenAI fake accepts only
// if each tool message names its call's id.
func TestTranslateAnthropicToolsToOpenAI(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "stream"}[stream], func(t *testing.T) {
			r := translateRig(t, provider.OpenAI, "/v1", gptModel, llmtest.WithToolCalls(twoTools...))
			client := r.anthropic(viaHTTPClient)
			p := messageParams()
			for _, name := range []string{"get_weather", "get_time"} {
				p.Tools = append(p.Tools, anthropic.ToolUnionParamOfTool(anthropic.ToolInputSchemaParam{Properties: toolSchema["properties"]}, name))
			}
			var msg anthropic.Message
			if stream {
				s := client.Messages.NewStreaming(context.Background(), p)
				for s.Next() {
					require.NoError(t, msg.Accumulate(s.Current()))
				}
				require.NoError(t, s.Err())
				require.NoError(t, s.Close())
			} else {
				got, err := client.Messages.New(context.Background(), p)
				require.NoError(t, err)
				msg = *got
			}
			assert.Equal(t, anthropic.StopReasonToolUse, msg.StopReason)
			var results []anthropic.ContentBlockParamUnion
			var calls int
			for _, b := range msg.Content {
				if b.Type != "tool_use" {
					continue
				}
				assert.Equal(t, twoTools[calls].Name, b.Name)
				assert.JSONEq(t, twoTools[calls].Arguments, string(b.Input))
				results = append(results, anthropic.NewToolResultBlock(b.ID, "done", false))
				calls++
			}
			require.Equal(t, 2, calls)
			p.Messages = append(p.Messages, msg.ToParam(), anthropic.NewUserMessage(results...))
			ctx, tr := track()
			got, err := client.Messages.New(ctx, p)
			require.NoError(t, err, "the OpenAI fake accepted the tool results")
			require.NotEmpty(t, got.Content)
			assert.Equal(t, llmtest.DefaultReply, got.Content[0].Text)
			assertTranslated(t, onlyCall(t, tr), provider.FormatOpenAIChat, "openai", gptModel)
		})
	}
}

// genai with two function declarations, falling back to OpenAI: two
// function calls, then the turn with their responses, which the OpenAI
// fake accepts only if each carries its call's id.
func TestTranslateGeminiToolsToOpenAI(t *testing.T) {
	r := translateRig(t, provider.OpenAI, "/v1", gptModel, llmtest.WithToolCalls(twoTools...))
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:      apiKey,
		Backend:     genai.BackendGeminiAPI,
		HTTPClient:  r.gw.Client(),
		HTTPOptions: genai.HTTPOptions{BaseURL: r.primary.URL + "/", APIVersion: "v1beta"},
	})
	require.NoError(t, err)
	var decls []*genai.FunctionDeclaration
	for _, name := range []string{"get_weather", "get_time"} {
		decls = append(decls, &genai.FunctionDeclaration{Name: name, Parameters: &genai.Schema{Type: genai.TypeObject,
			Properties: map[string]*genai.Schema{"city": {Type: genai.TypeString}, "tz": {Type: genai.TypeString}}}})
	}
	cfg := &genai.GenerateContentConfig{Tools: []*genai.Tool{{FunctionDeclarations: decls}}}
	contents := genai.Text(prompt)

	// Streamed: the calls arrive whole, as Gemini sends them.
	var streamed []*genai.FunctionCall
	for chunk, err := range c.Models.GenerateContentStream(context.Background(), geminiModel, contents, cfg) {
		require.NoError(t, err)
		streamed = append(streamed, chunk.FunctionCalls()...)
	}
	require.Len(t, streamed, 2)
	for i, fc := range streamed {
		assert.Equal(t, twoTools[i].Name, fc.Name)
		want := map[string]any{}
		require.NoError(t, json.Unmarshal([]byte(twoTools[i].Arguments), &want))
		assert.Equal(t, want, fc.Args)
	}

	got, err := c.Models.GenerateContent(context.Background(), geminiModel, contents, cfg)
	require.NoError(t, err)
	calls := got.FunctionCalls()
	require.Len(t, calls, 2)
	var parts []*genai.Part
	for i, fc := range calls {
		assert.Equal(t, twoTools[i].Name, fc.Name)
		p := genai.NewPartFromFunctionResponse(fc.Name, map[string]any{"result": "done"})
		p.FunctionResponse.ID = fc.ID
		parts = append(parts, p)
	}
	contents = append(contents, got.Candidates[0].Content, &genai.Content{Role: "user", Parts: parts})
	ctx, tr := track()
	got, err = c.Models.GenerateContent(ctx, geminiModel, contents, cfg)
	require.NoError(t, err, "the OpenAI fake accepted the function responses")
	assert.Equal(t, llmtest.DefaultReply, got.Text())
	assertTranslated(t, onlyCall(t, tr), provider.FormatOpenAIChat, "openai", gptModel)
}

// openai-go falls back to a Gemini target: text and two parallel function
// calls, JSON and stream, then the tool-result turn, which the Gemini fake
// accepts only if each functionResponse names its call.
func TestTranslateOpenAIToGemini(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "stream"}[stream], func(t *testing.T) {
			r := translateRig(t, provider.Gemini, "/v1beta", geminiModel, llmtest.WithToolCalls(twoTools...))
			client := r.openai(viaHTTPClient)
			ask := func(p openai.ChatCompletionNewParams) (openai.ChatCompletionMessage, string, *aigateway.Call) {
				t.Helper()
				ctx, tr := track()
				if !stream {
					got, err := client.Chat.Completions.New(ctx, p)
					require.NoError(t, err)
					return got.Choices[0].Message, got.Choices[0].FinishReason, onlyCall(t, tr)
				}
				s := client.Chat.Completions.NewStreaming(ctx, p)
				var acc openai.ChatCompletionAccumulator
				for s.Next() {
					acc.AddChunk(s.Current())
				}
				require.NoError(t, s.Err())
				require.NoError(t, s.Close())
				require.Len(t, acc.Choices, 1)
				return acc.Choices[0].Message, acc.Choices[0].FinishReason, onlyCall(t, tr)
			}
			msg, finish, c := ask(chatParams())
			assert.Equal(t, llmtest.DefaultReply, msg.Content, "no tools offered: text")
			assert.Equal(t, "stop", finish)
			assertTranslated(t, c, provider.FormatGemini, "gcp.gemini", geminiModel)

			p := chatParams()
			for _, name := range []string{"get_weather", "get_time"} {
				p.Tools = append(p.Tools, openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: name, Parameters: toolSchema}))
			}
			msg, finish, _ = ask(p)
			assert.Equal(t, "tool_calls", finish)
			require.Len(t, msg.ToolCalls, 2)
			assert.NotEqual(t, msg.ToolCalls[0].ID, msg.ToolCalls[1].ID, "ids made up for Gemini's calls, one each")
			for i, tc := range msg.ToolCalls {
				assert.Equal(t, twoTools[i].Name, tc.Function.Name)
				assert.JSONEq(t, twoTools[i].Arguments, tc.Function.Arguments)
			}
			p.Messages = append(p.Messages, msg.ToParam(),
				openai.ToolMessage("sunny", msg.ToolCalls[0].ID), openai.ToolMessage("14:00", msg.ToolCalls[1].ID))
			msg, _, c = ask(p)
			assert.Equal(t, llmtest.DefaultReply, msg.Content, "the Gemini fake accepted the function responses")
			assertTranslated(t, c, provider.FormatGemini, "gcp.gemini", geminiModel)
		})
	}
}

// openai-go limits the model to one of its two tools (tool_choice
// allowed_tools, required), falling back to Anthropic, which names no
// subset, and to Gemini, which does: the backup is offered the limit as
// its API spells it (Anthropic: only the allowed tool, tool_choice any;
// Gemini: both declarations, mode ANY with allowedFunctionNames), and the
// SDK reads the call back.
func TestTranslateOpenAIAllowedToolsKeepTheirLimit(t *testing.T) {
	timeCall := []llmtest.ToolCall{twoTools[1]}
	for _, tc := range []struct {
		name     string
		backup   provider.Provider
		basePath string
		model    string
		offered  func(t *testing.T, body map[string]any)
	}{
		{"anthropic", provider.Anthropic, "/v1", claudeModel, func(t *testing.T, body map[string]any) {
			tools, _ := body["tools"].([]any)
			require.Len(t, tools, 1, "only the allowed tool")
			assert.Equal(t, "get_time", tools[0].(map[string]any)["name"])
			assert.Equal(t, map[string]any{"type": "any"}, body["tool_choice"])
		}},
		{"gemini", provider.Gemini, "/v1beta", geminiModel, func(t *testing.T, body map[string]any) {
			tools, _ := body["tools"].([]any)
			require.Len(t, tools, 1)
			assert.Len(t, tools[0].(map[string]any)["functionDeclarations"], 2, "every declaration")
			assert.Equal(t, map[string]any{"functionCallingConfig": map[string]any{"mode": "ANY", "allowedFunctionNames": []any{"get_time"}}},
				body["toolConfig"])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := translateRig(t, tc.backup, tc.basePath, tc.model, llmtest.WithToolCalls(timeCall...))
			client := r.openai(viaHTTPClient)
			p := chatParams()
			for _, name := range []string{"get_weather", "get_time"} {
				p.Tools = append(p.Tools, openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: name, Parameters: toolSchema}))
			}
			p.ToolChoice = openai.ToolChoiceOptionAllowedTools(openai.ChatCompletionAllowedToolsParam{
				Mode:  openai.ChatCompletionAllowedToolsModeRequired,
				Tools: []map[string]any{{"type": "function", "function": map[string]any{"name": "get_time"}}},
			})
			got, err := client.Chat.Completions.New(context.Background(), p)
			require.NoError(t, err)
			require.Len(t, got.Choices[0].Message.ToolCalls, 1)
			assert.Equal(t, "get_time", got.Choices[0].Message.ToolCalls[0].Function.Name)
			assert.Equal(t, "tool_calls", got.Choices[0].FinishReason)

			sent, ok := r.backup.LastRequest()
			require.True(t, ok)
			var body map[string]any
			require.NoError(t, json.Unmarshal(sent.Body, &body))
			tc.offered(t, body)
		})
	}
}
