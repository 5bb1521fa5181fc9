package wire

import (
	"strings"
	"testing"

	"github.com/aigateway-go/aigateway/provider"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type scanResult struct {
	Usage      provider.Usage
	UsageOK    bool
	Model      string
	Terminated bool
	Err        *provider.Error
	ID         string
	Reasons    []string
}

func scan(s *ResponseScanner, f provider.Format, stream bool, status int, pieces ...[]byte) scanResult {
	s.Reset(f, stream, status)
	for _, p := range pieces {
		n, err := s.Write(p)
		if n != len(p) || err != nil {
			panic("Write must accept everything")
		}
	}
	s.Finish()
	u, ok := s.Usage()
	return scanResult{u, ok, s.Model(), s.Terminated(), s.Err(), s.ResponseID(), s.FinishReasons()}
}

var scanCases = []struct {
	name   string
	f      provider.Format
	stream bool
	status int
	body   string
	want   scanResult
}{
	{
		name: "openai chat stream with include_usage", f: provider.FormatOpenAIChat, stream: true, status: 200, body: openAIChatStream,
		want: scanResult{Usage: provider.Usage{InputTokens: 2070, OutputTokens: 12, CacheReadTokens: 1920}, UsageOK: true, Model: "gpt-4o-mini-2024-07-18", Terminated: true, ID: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", Reasons: []string{"stop"}},
	},
	{
		name: "openai chat stream cut before usage", f: provider.FormatOpenAIChat, stream: true, status: 200, body: openAIChatStreamNoUsage,
		want: scanResult{Model: "gpt-4o", ID: "chatcmpl-1"},
	},
	{
		name: "openai chat json with reasoning", f: provider.FormatOpenAIChat, status: 200, body: openAIReasoningJSON,
		want: scanResult{Usage: provider.Usage{InputTokens: 13, OutputTokens: 591, ReasoningTokens: 512}, UsageOK: true, Model: "o3-mini-2025-01-31", Terminated: true, ID: "chatcmpl-AyPNinnUqUDYo9SAdA52NobMflmj2", Reasons: []string{"stop"}},
	},
	{
		name: "groq x_groq usage", f: provider.FormatOpenAIChat, stream: true, status: 200, body: groqStream,
		want: scanResult{Usage: provider.Usage{InputTokens: 24, OutputTokens: 377}, UsageOK: true, Model: "llama3-8b-8192", Terminated: true, ID: "chatcmpl-9a1f", Reasons: []string{"stop"}},
	},
	{
		name: "deepseek cache hit tokens", f: provider.FormatOpenAIChat, stream: true, status: 200, body: deepSeekStream,
		want: scanResult{Usage: provider.Usage{InputTokens: 76, OutputTokens: 400, CacheReadTokens: 64, ReasoningTokens: 350}, UsageOK: true, Model: "deepseek-reasoner", Terminated: true, ID: "4d3e", Reasons: []string{"stop"}},
	},
	{
		name: "deepseek json", f: provider.FormatOpenAIChat, status: 200, body: deepSeekJSON,
		want: scanResult{Usage: provider.Usage{InputTokens: 16, OutputTokens: 10}, UsageOK: true, Model: "deepseek-chat", Terminated: true, ID: "930c", Reasons: []string{"stop"}},
	},
	{
		name: "xai usage on the second-to-last chunk", f: provider.FormatOpenAIChat, stream: true, status: 200, body: xaiStream,
		want: scanResult{Usage: provider.Usage{InputTokens: 38, OutputTokens: 3, CacheReadTokens: 6}, UsageOK: true, Model: "grok-3", Terminated: true, ID: "e409f4cc", Reasons: []string{"stop"}},
	},
	{
		name: "openrouter comments and cost", f: provider.FormatOpenAIChat, stream: true, status: 200, body: openRouterStream,
		want: scanResult{Usage: provider.Usage{InputTokens: 10, OutputTokens: 5}, UsageOK: true, Model: "openai/gpt-4o", Terminated: true, ID: "gen-1747", Reasons: []string{"stop"}},
	},
	{
		name: "openai mid-stream error", f: provider.FormatOpenAIChat, stream: true, status: 200, body: openAIMidStreamError,
		want: scanResult{Model: "gpt-4o", Err: &provider.Error{Type: "server_error", Message: "The server had an error while processing your request. Sorry about that!"}, ID: "chatcmpl-2"},
	},
	{
		name: "responses stream", f: provider.FormatOpenAIResponses, stream: true, status: 200, body: responsesStream,
		want: scanResult{Usage: provider.Usage{InputTokens: 37, OutputTokens: 11, CacheReadTokens: 10, ReasoningTokens: 4}, UsageOK: true, Model: "gpt-4.1-2025-04-14", Terminated: true, ID: "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654", Reasons: []string{"completed"}},
	},
	{
		name: "responses stream without event names, incomplete", f: provider.FormatOpenAIResponses, stream: true, status: 200, body: responsesStreamNoNames,
		want: scanResult{Usage: provider.Usage{InputTokens: 5, OutputTokens: 16}, UsageOK: true, Model: "gpt-4o-mini", Terminated: true, ID: "resp_1", Reasons: []string{"max_output_tokens"}},
	},
	{
		name: "responses failed", f: provider.FormatOpenAIResponses, stream: true, status: 200, body: responsesFailedStream,
		want: scanResult{Usage: provider.Usage{InputTokens: 20}, UsageOK: true, Model: "o3-2025-04-16", Terminated: true, Err: &provider.Error{Code: "server_error", Message: "The model failed to generate a response."}, ID: "resp_2", Reasons: []string{"failed"}},
	},
	{
		name: "responses error event", f: provider.FormatOpenAIResponses, stream: true, status: 200, body: responsesErrorEvent,
		want: scanResult{Model: "gpt-4o", Err: &provider.Error{Code: "rate_limit_exceeded", Message: "Rate limit reached"}, ID: "resp_3"},
	},
	{
		name: "responses cut stream", f: provider.FormatOpenAIResponses, stream: true, status: 200, body: responsesStream[:len(responsesStream)/2],
		want: scanResult{Model: "gpt-4.1-2025-04-14", ID: "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654"},
	},
	{
		name: "responses json", f: provider.FormatOpenAIResponses, status: 200, body: responsesJSON,
		want: scanResult{Usage: provider.Usage{InputTokens: 36, OutputTokens: 87}, UsageOK: true, Model: "gpt-4.1-2025-04-14", Terminated: true, ID: "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b", Reasons: []string{"completed"}},
	},
	{
		name: "embeddings json", f: provider.FormatOpenAIEmbeddings, status: 200, body: embeddingsJSON,
		want: scanResult{Usage: provider.Usage{InputTokens: 8}, UsageOK: true, Model: "text-embedding-3-small", Terminated: true},
	},
	{
		name: "anthropic stream with cache and cumulative deltas", f: provider.FormatAnthropicMessages, stream: true, status: 200, body: anthropicStream,
		want: scanResult{Usage: provider.Usage{InputTokens: 472 + 1500 + 3000, OutputTokens: 89, CacheReadTokens: 3000, CacheCreationTokens: 1500, CacheCreation1hTokens: 500, ReasoningTokens: 40}, UsageOK: true, Model: "claude-sonnet-4-5-20250929", Terminated: true, ID: "msg_01XFDUDYJgAACzvnptvVoYEL", Reasons: []string{"end_turn"}},
	},
	{
		name: "anthropic cut stream keeps partial usage", f: provider.FormatAnthropicMessages, stream: true, status: 200, body: anthropicCutStream,
		want: scanResult{Usage: provider.Usage{InputTokens: 25, OutputTokens: 1}, UsageOK: true, Model: "claude-haiku-4-5-20251001", ID: "msg_1"},
	},
	{
		name: "anthropic error event after 200", f: provider.FormatAnthropicMessages, stream: true, status: 200, body: anthropicErrorStream,
		want: scanResult{Usage: provider.Usage{InputTokens: 12, OutputTokens: 1}, UsageOK: true, Model: "claude-sonnet-4-5", Err: &provider.Error{Type: "overloaded_error", Message: "Overloaded"}, ID: "msg_2"},
	},
	{
		name: "anthropic stream without event names", f: provider.FormatAnthropicMessages, stream: true, status: 200, body: anthropicStreamNoNames,
		want: scanResult{Usage: provider.Usage{InputTokens: 9, OutputTokens: 20}, UsageOK: true, Model: "claude-3-5-haiku-20241022", Terminated: true, ID: "msg_3", Reasons: []string{"max_tokens"}},
	},
	{
		name: "anthropic json", f: provider.FormatAnthropicMessages, status: 200, body: anthropicJSON,
		want: scanResult{Usage: provider.Usage{InputTokens: 2095 + 2048, OutputTokens: 503, CacheReadTokens: 2048}, UsageOK: true, Model: "claude-haiku-4-5-20251001", Terminated: true, ID: "msg_013Zva2CMHLNnXjNJJKqJ2EF", Reasons: []string{"end_turn"}},
	},
	{
		name: "gemini stream keeps the last chunk with counts", f: provider.FormatGemini, stream: true, status: 200, body: geminiStream,
		want: scanResult{Usage: provider.Usage{InputTokens: 9, OutputTokens: 130, CacheReadTokens: 4, ReasoningTokens: 100}, UsageOK: true, Model: "gemini-2.5-flash", ID: "Ph3xaPvGKq", Reasons: []string{"STOP"}},
	},
	{
		name: "gemini stream without counts", f: provider.FormatGemini, stream: true, status: 200, body: geminiStreamEarlyOnly,
		want: scanResult{Model: "gemini-2.0-flash"},
	},
	{
		name: "gemini mid-stream error", f: provider.FormatGemini, stream: true, status: 200, body: geminiMidStreamError,
		want: scanResult{Usage: provider.Usage{InputTokens: 5}, UsageOK: true, Model: "gemini-2.0-flash", Err: &provider.Error{Type: "UNAVAILABLE", Message: "The model is overloaded. Please try again later."}},
	},
	{
		name: "gemini json", f: provider.FormatGemini, status: 200, body: geminiJSON,
		want: scanResult{Usage: provider.Usage{InputTokens: 120, OutputTokens: 3, CacheReadTokens: 100}, UsageOK: true, Model: "gemini-2.0-flash", Terminated: true, ID: "Cg2xaKD", Reasons: []string{"STOP"}},
	},
	{
		name: "gemini json array", f: provider.FormatGemini, status: 200, body: geminiJSONArray,
		want: scanResult{Usage: provider.Usage{InputTokens: 4, OutputTokens: 2}, UsageOK: true, Model: "gemini-2.0-flash", Terminated: true, Reasons: []string{"STOP"}},
	},
	{
		name: "openai chat stream, two choices finishing out of order", f: provider.FormatOpenAIChat, stream: true, status: 200, body: openAIChatStreamTwoChoices,
		want: scanResult{Usage: provider.Usage{InputTokens: 9, OutputTokens: 7}, UsageOK: true, Model: "gpt-4.1-mini-2025-04-14", Terminated: true, ID: "chatcmpl-C2nVqk8sJr3", Reasons: []string{"stop", "length"}},
	},
	{
		name: "vllm stream with spaces, ending on a tool call", f: provider.FormatOpenAIChat, stream: true, status: 200, body: vllmToolCallStream,
		want: scanResult{Usage: provider.Usage{InputTokens: 180, OutputTokens: 21}, UsageOK: true, Model: "Qwen/Qwen2.5-7B-Instruct", Terminated: true, ID: "chatcmpl-9f1c2e", Reasons: []string{"tool_calls"}},
	},
	{
		name: "openai chat json, two choices", f: provider.FormatOpenAIChat, status: 200, body: openAIChatJSONTwoChoices,
		want: scanResult{Usage: provider.Usage{InputTokens: 82, OutputTokens: 17}, UsageOK: true, Model: "gpt-4o-2024-08-06", Terminated: true, ID: "chatcmpl-C2nWz1", Reasons: []string{"tool_calls", "length"}},
	},
	{
		name: "responses json incomplete", f: provider.FormatOpenAIResponses, status: 200, body: responsesIncompleteJSON,
		want: scanResult{Usage: provider.Usage{InputTokens: 12, OutputTokens: 3}, UsageOK: true, Model: "gpt-4o-2024-08-06", Terminated: true, ID: "resp_68a1b2c3", Reasons: []string{"content_filter"}},
	},
	{
		name: "responses json queued", f: provider.FormatOpenAIResponses, status: 200, body: responsesQueuedJSON,
		want: scanResult{Model: "o3-2025-04-16", Terminated: true, ID: "resp_68a1queued"},
	},
	{
		name: "anthropic stream ending on tool use", f: provider.FormatAnthropicMessages, stream: true, status: 200, body: anthropicToolUseStream,
		want: scanResult{Usage: provider.Usage{InputTokens: 472, OutputTokens: 89}, UsageOK: true, Model: "claude-sonnet-4-5-20250929", Terminated: true, ID: "msg_014p7gG3wDgGV9EUtLvnow3U", Reasons: []string{"tool_use"}},
	},
	{
		name: "gemini stream, two candidates", f: provider.FormatGemini, stream: true, status: 200, body: geminiTwoCandidatesStream,
		want: scanResult{Usage: provider.Usage{InputTokens: 6, OutputTokens: 8}, UsageOK: true, Model: "gemini-2.0-flash", ID: "kX2eaLmQBb", Reasons: []string{"STOP", "MAX_TOKENS"}},
	},
	{
		name: "openai 429 rate limit", f: provider.FormatOpenAIChat, status: 429, body: openAIRateLimitBody,
		want: scanResult{Terminated: true, Err: &provider.Error{Status: 429, Type: "tokens", Code: "rate_limit_exceeded", Message: "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29800, Requested 900. Please try again in 1.4s."}},
	},
	{
		name: "openai 429 insufficient quota", f: provider.FormatOpenAIChat, status: 429, body: openAIQuotaBody,
		want: scanResult{Terminated: true, Err: &provider.Error{Status: 429, Type: "insufficient_quota", Code: "insufficient_quota", Message: "You exceeded your current quota, please check your plan and billing details."}},
	},
	{
		name: "openai 401 (stream requested, JSON error)", f: provider.FormatOpenAIChat, stream: true, status: 401, body: openAIAuthBody,
		want: scanResult{Terminated: true, Err: &provider.Error{Status: 401, Type: "invalid_request_error", Code: "invalid_api_key", Message: "Incorrect API key provided: sk-abc. You can find your API key at https://platform.openai.com/account/api-keys."}},
	},
	{
		name: "anthropic 529 overloaded", f: provider.FormatAnthropicMessages, status: 529, body: anthropicOverloaded,
		want: scanResult{Terminated: true, Err: &provider.Error{Status: 529, Type: "overloaded_error", Message: "Overloaded"}},
	},
	{
		name: "anthropic 429 spend limit", f: provider.FormatAnthropicMessages, status: 429, body: anthropicSpendLimit,
		want: scanResult{Terminated: true, Err: &provider.Error{Status: 429, Type: "rate_limit_error", Code: "enforced_spend_limit_reached", Message: "Your organization has reached its spend limit."}},
	},
	{
		name: "gemini 429", f: provider.FormatGemini, status: 429, body: geminiRateLimitBody,
		want: scanResult{Terminated: true, Err: &provider.Error{Status: 429, Type: "RESOURCE_EXHAUSTED", Message: "You exceeded your current quota, please check your plan and billing details."}},
	},
	{
		name: "gemini 400 bad key", f: provider.FormatGemini, status: 400, body: geminiBadKeyBody,
		want: scanResult{Terminated: true, Err: &provider.Error{Status: 400, Type: "INVALID_ARGUMENT", Code: "API_KEY_INVALID", Message: "API key not valid. Please pass a valid API key."}},
	},
	{
		name: "mistral 422 validation", f: provider.FormatOpenAIChat, status: 422, body: mistralValidationBody,
		want: scanResult{Terminated: true, Err: &provider.Error{Status: 422, Type: "invalid_request_error", Message: `{"detail":[{"type":"extra_forbidden","loc":["body","stream_options","include_usage"],"msg":"Extra inputs are not permitted","input":true}]}`}},
	},
	{
		name: "html 502", f: provider.FormatOpenAIChat, status: 502, body: htmlGatewayBody,
		want: scanResult{Err: &provider.Error{Status: 502, Message: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>"}},
	},
	{
		name: "empty 503", f: provider.FormatAnthropicMessages, status: 503, body: "",
		want: scanResult{Err: &provider.Error{Status: 503, Message: "Service Unavailable"}},
	},
}

func TestResponseScanner(t *testing.T) {
	for _, tc := range scanCases {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			var s ResponseScanner
			assert.Equal(t, tc.want, scan(&s, tc.f, tc.stream, tc.status, body), "whole body")
			for i := 0; i <= len(body); i++ {
				require.Equal(t, tc.want, scan(&s, tc.f, tc.stream, tc.status, body[:i], body[i:]), "split at %d", i)
			}
			pieces := make([][]byte, len(body))
			for i := range body {
				pieces[i] = body[i : i+1]
			}
			assert.Equal(t, tc.want, scan(&s, tc.f, tc.stream, tc.status, pieces...), "one byte at a time")
		})
	}
}

func TestResponseScannerWithoutFinalBlankLine(t *testing.T) {
	body := openAIChatStream[:len(openAIChatStream)-2] // "data: [DONE]" without "\n\n"
	var s ResponseScanner
	s.Reset(provider.FormatOpenAIChat, true, 200)
	s.Write([]byte(body))
	assert.False(t, s.Terminated(), "not before EOF")
	s.Finish()
	assert.True(t, s.Terminated())
	u, ok := s.Usage()
	assert.True(t, ok)
	assert.Equal(t, int64(2070), u.InputTokens)
}

func TestResponseScannerCRLF(t *testing.T) {
	for _, tc := range scanCases {
		if !tc.stream || tc.status >= 400 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			crlf := []byte(replaceLF(tc.body))
			var s ResponseScanner
			assert.Equal(t, tc.want, scan(&s, tc.f, true, 200, crlf))
			for i := 0; i <= len(crlf); i += 3 {
				require.Equal(t, tc.want, scan(&s, tc.f, true, 200, crlf[:i], crlf[i:]), "split at %d", i)
			}
		})
	}
}

// replaceLF turns every lone "\n" into "\r\n".
func replaceLF(s string) string {
	out := make([]byte, 0, len(s)*2)
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func TestResponseScannerLastUsageWins(t *testing.T) {
	body := sseBody(
		`data: {"id":"1","model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`,
		`data: {"id":"1","model":"m","choices":[],"usage":null}`,
		`data: {"id":"1","model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}`,
		`data: {"id":"1","model":"m","choices":[],"usage":null}`,
	)
	var s ResponseScanner
	got := scan(&s, provider.FormatOpenAIChat, true, 200, []byte(body))
	assert.Equal(t, provider.Usage{InputTokens: 5, OutputTokens: 7}, got.Usage)
}

func TestResponseScannerModelReuse(t *testing.T) {
	var s ResponseScanner
	body := []byte(openAIChatStream)
	scan(&s, provider.FormatOpenAIChat, true, 200, body)
	first := s.Model()
	allocs := testing.AllocsPerRun(10, func() {
		scan(&s, provider.FormatOpenAIChat, true, 200, body)
	})
	assert.Zero(t, allocs, "the same model as the previous response is not allocated again")
	assert.Equal(t, first, s.Model())
}

func TestResponseScannerNoAllocsPerEvent(t *testing.T) {
	stream := []byte(benchStream(200))
	var s ResponseScanner
	pieces := splitEvery(stream, 4096)
	run := func() {
		s.Reset(provider.FormatOpenAIChat, true, 200)
		for _, p := range pieces {
			s.Write(p)
		}
		s.Finish()
	}
	run()
	assert.Zero(t, testing.AllocsPerRun(10, run))
	u, ok := s.Usage()
	require.True(t, ok)
	assert.Equal(t, int64(412), u.TotalTokens())
}

func splitEvery(data []byte, n int) [][]byte {
	var out [][]byte
	for len(data) > n {
		out = append(out, data[:n])
		data = data[n:]
	}
	return append(out, data)
}

func TestResponseScannerMalformedEvent(t *testing.T) {
	for name, tc := range map[string]struct {
		stream string
		want   bool
	}{
		"whole":       {"data: {\"choices\":[]}\n\ndata: {\"choices\":[]} \n\ndata: [DONE]\n\n", false},
		"half object": {"data: {\"choices\":[]}\n\ndata: {\"choices\":[{\"delta\":\n\ndata: [DONE]\n\n", true},
		"not json":    {"data: hello\n\ndata: [DONE]\n\n", true},
	} {
		var s ResponseScanner
		s.Reset(provider.FormatOpenAIChat, true, 200)
		s.Write([]byte(tc.stream))
		s.Finish()
		assert.True(t, s.Terminated(), name)
		assert.Equal(t, tc.want, s.Malformed(), name)
	}
}

// What follows a stream's terminator is not read, as the SDK does not
// read it: the answer is judged the same whether the reads split the
// stream at the terminator (the stack stops reading there) or not (junk
// after [DONE] made it malformed, and a usage after it counted, only when
// it came in the same read).
func TestResponseScannerStopsAtTheTerminator(t *testing.T) {
	const usage = `data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}` + "\n\n"
	for _, tc := range []struct {
		name   string
		format provider.Format
		stream string
	}{
		{"chat: junk after [DONE]", provider.FormatOpenAIChat, usage + "data: [DONE]\n\ndata: junk\n\n"},
		{"chat: usage after [DONE]", provider.FormatOpenAIChat, usage + "data: [DONE]\n\n" + strings.Replace(usage, "2", "2000", 1)},
		{"anthropic: junk after message_stop", provider.FormatAnthropicMessages,
			"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"m\",\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}}\n\n" +
				"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\nevent: x\ndata: junk\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			whole := tc.stream
			terminated := strings.Index(whole, "[DONE]\n\n") + len("[DONE]\n\n")
			if tc.format == provider.FormatAnthropicMessages {
				terminated = strings.Index(whole, "message_stop\"}\n\n") + len("message_stop\"}\n\n")
			}
			var a, b ResponseScanner
			a.Reset(tc.format, true, 200)
			a.Write([]byte(whole))
			a.Finish()
			b.Reset(tc.format, true, 200)
			b.Write([]byte(whole[:terminated])) // a read that ends at the terminator
			require.True(t, b.Terminated())
			b.Finish()
			assert.True(t, a.Terminated())
			assert.False(t, a.Malformed())
			assert.Equal(t, b.Malformed(), a.Malformed())
			ua, oka := a.Usage()
			ub, okb := b.Usage()
			assert.Equal(t, ub, ua)
			assert.Equal(t, okb, oka)
			assert.Nil(t, a.Err())
		})
	}
}

// Some OpenAI-compatible servers put an empty error object in a success
// ({"message":"","type":"","param":"","code":null}): the SDK reads the
// answer, so it is not the call's error (a 200 whose body carries an error
// object is one only when that object says something). An error event, or
// an error status, stays an error whatever its object holds.
func TestResponseScannerEmptyErrorObjectInASuccess(t *testing.T) {
	const empty = `{"message":"","type":"","param":"","code":null}`
	for _, tc := range []struct {
		name    string
		format  provider.Format
		stream  bool
		status  int
		body    string
		wantErr bool
	}{
		{"chat JSON", provider.FormatOpenAIChat, false, 200,
			`{"id":"x","model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2},"error":` + empty + `}`, false},
		{"chat JSON, empty object", provider.FormatOpenAIChat, false, 200, `{"id":"x","choices":[],"error":{}}`, false},
		{"chat chunk", provider.FormatOpenAIChat, true, 200,
			"data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"error\":" + empty + "}\n\ndata: [DONE]\n\n", false},
		{"gemini chunk", provider.FormatGemini, true, 200, "data: {\"candidates\":[],\"error\":{}}\n\n", false},
		{"chat JSON, an error that says something", provider.FormatOpenAIChat, false, 200, `{"error":{"message":"overloaded"}}`, true},
		{"chat JSON, an error with only a code", provider.FormatOpenAIChat, false, 200, `{"error":{"message":"","code":"server_error"}}`, true},
		{"an error event", provider.FormatOpenAIChat, true, 200, "event: error\ndata: {}\n\n", true},
		{"an error status", provider.FormatOpenAIChat, false, 500, `{"error":` + empty + `}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s ResponseScanner
			s.Reset(tc.format, tc.stream, tc.status)
			s.Write([]byte(tc.body))
			s.Finish()
			if tc.wantErr {
				assert.NotNil(t, s.Err())
			} else {
				assert.Nil(t, s.Err())
			}
			if tc.stream {
				// And the router, which classifies the first events, does
				// not fall back on such a chunk.
				name, data, _ := strings.Cut(strings.TrimPrefix(tc.body, "event: "), "\n")
				if !strings.HasPrefix(tc.body, "event: ") {
					name, data = "", tc.body
				}
				data, _, _ = strings.Cut(strings.TrimPrefix(data, "data: "), "\n")
				assert.Equal(t, tc.wantErr, ClassifyEvent(tc.format, []byte(name), []byte(data)) == EventError)
			}
		})
	}
}

func TestResponseScannerFinishReasonsStayPut(t *testing.T) {
	var s ResponseScanner
	first := scan(&s, provider.FormatOpenAIChat, true, 200, []byte(openAIChatStream)).Reasons
	require.Equal(t, []string{"stop"}, first)
	again := scan(&s, provider.FormatOpenAIChat, true, 200, []byte(openAIChatStream)).Reasons
	assert.Same(t, &first[0], &again[0], "equal reasons share the slice handed out before")
	two := scan(&s, provider.FormatOpenAIChat, true, 200, []byte(openAIChatStreamTwoChoices)).Reasons
	assert.Equal(t, []string{"stop", "length"}, two)
	assert.Equal(t, []string{"stop"}, first, "a slice handed out is never modified")
	assert.Nil(t, scan(&s, provider.FormatOpenAIChat, true, 200, []byte(openAIChatStreamNoUsage)).Reasons)
}

func TestResponseScannerChoiceIndexBounded(t *testing.T) {
	body := sseBody(
		`data: {"id":"x","choices":[{"index":99999999999,"delta":{},"finish_reason":"stop"}]}`,
		`data: {"id":"x","choices":[{"index":-1,"delta":{},"finish_reason":"length"}]}`,
		`data: [DONE]`,
	)
	var s ResponseScanner
	got := scan(&s, provider.FormatOpenAIChat, true, 200, []byte(body))
	assert.Equal(t, []string{"length"}, got.Reasons, "an index out of range counts as the choice's position")
	assert.Equal(t, "x", got.ID)
}

func TestErrorOrFinish(t *testing.T) {
	for data, want := range map[string]bool{
		`{"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}],"usage":null}`:  false,
		`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`:                           true,
		`{"choices": [{"index": 0, "delta": {}, "finish_reason" : "length"}]}`:                  true,
		`{"choices":[{"delta":{},"finish_reason":null},{"delta":{},"finish_reason":"stop"}]}`:   true,
		`{"choices":[{"delta":{"content":"\"finish_reason\":\"stop\""},"finish_reason":null}]}`: false,
		`{"choices":[{"delta":{},"native_finish_reason":"stop","finish_reason":null}]}`:         false,
		`{"error":{"message":"boom"}}`: true,
		`{"choices":[{"delta":{"content":"an \"error\" here"},"finish_reason":null}]}`: false,
		`{"finish_reason`: false,
		`r`:               false,
	} {
		assert.Equal(t, want, errorOrFinish([]byte(data)), data)
	}
}

// The finish reasons of a JSON answer are taken as its bytes pass: a long
// answer (its choices well over the 64 KiB a captured member may hold)
// keeps them, however it is split.
func TestResponseScannerFinishReasonsOfALongAnswer(t *testing.T) {
	for _, tc := range []struct {
		f    provider.Format
		body string
		want []string
	}{
		{provider.FormatOpenAIChat, `{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"` + strings.Repeat("word ", 40000) +
			`"},"finish_reason":"length"},{"index":1,"message":{"content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`,
			[]string{"length", "stop"}},
		{provider.FormatGemini, `{"candidates":[{"content":{"parts":[{"text":"` + strings.Repeat("word ", 40000) +
			`"}]},"finishReason":"MAX_TOKENS","index":0}],"usageMetadata":{"promptTokenCount":1},"modelVersion":"gemini-2.5-flash"}`,
			[]string{"MAX_TOKENS"}},
	} {
		for _, n := range []int{4096, 32 << 10, len(tc.body)} {
			var s ResponseScanner
			s.Reset(tc.f, false, 200)
			for _, p := range splitEvery([]byte(tc.body), n) {
				s.Write(p)
			}
			assert.Equal(t, tc.want, s.FinishReasons(), "%v in pieces of %d", tc.f, n)
			_, ok := s.Usage()
			assert.True(t, ok)
		}
	}
}
