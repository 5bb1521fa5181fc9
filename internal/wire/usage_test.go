package wire

import (
	"strconv"
	"testing"

	"github.com/aigateway-go/aigateway/provider"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scanUsage feeds body whole to a scanner and returns the usage it
// reports.
func scanUsage(t *testing.T, f provider.Format, stream bool, body string) (provider.Usage, bool) {
	t.Helper()
	var s ResponseScanner
	s.Reset(f, stream, 200)
	n, err := s.Write([]byte(body))
	require.NoError(t, err)
	require.Equal(t, len(body), n)
	s.Finish()
	return s.Usage()
}

var over = strconv.Itoa(provider.MaxUsageTokens + 1)

type usageCase struct {
	name   string
	stream bool
	body   string
	want   provider.Usage
	ok     bool
}

func runUsageCases(t *testing.T, f provider.Format, cases []usageCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, ok := scanUsage(t, f, tc.stream, tc.body)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, u)
		})
	}
}

func openAIChatWith(usage string) string {
	return `{"id":"c","object":"chat.completion","model":"gpt-4o","choices":[],"usage":` + usage + `}`
}

// An OpenAI usage object with a count no response can have is not taken:
// the scanner reports no usage, so the layers keep their estimates.
func TestOpenAIUsageOutOfBoundsIsNotReported(t *testing.T) {
	runUsageCases(t, provider.FormatOpenAIChat, []usageCase{
		{name: "plausible", body: openAIChatWith(`{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120}`),
			want: provider.Usage{InputTokens: 100, OutputTokens: 20}, ok: true},
		{name: "at the bound", body: openAIChatWith(`{"prompt_tokens":` + strconv.Itoa(provider.MaxUsageTokens) + `,"completion_tokens":` + strconv.Itoa(provider.MaxUsageTokens) + `}`),
			want: provider.Usage{InputTokens: provider.MaxUsageTokens, OutputTokens: provider.MaxUsageTokens}, ok: true},
		{name: "negative input", body: openAIChatWith(`{"prompt_tokens":-100,"completion_tokens":20}`)},
		{name: "negative output", body: openAIChatWith(`{"prompt_tokens":100,"completion_tokens":-20}`)},
		{name: "output above the bound", body: openAIChatWith(`{"prompt_tokens":100,"completion_tokens":` + over + `}`)},
		{name: "output beyond int64", body: openAIChatWith(`{"prompt_tokens":100,"completion_tokens":99999999999999999999}`)},
		{name: "output in exponent form", body: openAIChatWith(`{"prompt_tokens":100,"completion_tokens":1e12}`)},
		{name: "fractional output", body: openAIChatWith(`{"prompt_tokens":100,"completion_tokens":20.5}`)},
		{name: "negative total", body: openAIChatWith(`{"prompt_tokens":100,"completion_tokens":20,"total_tokens":-1}`)},
		{name: "negative cached", body: openAIChatWith(`{"prompt_tokens":100,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":-50}}`)},
		{name: "negative reasoning", body: openAIChatWith(`{"prompt_tokens":100,"completion_tokens":20,"completion_tokens_details":{"reasoning_tokens":-5}}`)},
		{name: "deepseek cache hits above the bound", body: openAIChatWith(`{"prompt_tokens":100,"completion_tokens":20,"prompt_cache_hit_tokens":` + over + `}`)},
		{name: "null details are absent", body: openAIChatWith(`{"prompt_tokens":100,"completion_tokens":20,"prompt_tokens_details":null,"completion_tokens_details":{"reasoning_tokens":null}}`),
			want: provider.Usage{InputTokens: 100, OutputTokens: 20}, ok: true},
		{name: "stream usage chunk", stream: true,
			body: "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":-7,\"completion_tokens\":3}}\n\ndata: [DONE]\n\n"},
	})
}

// Parts of an OpenAI usage larger than their whole are cut down to it.
func TestOpenAIUsagePartsFitTheirWhole(t *testing.T) {
	runUsageCases(t, provider.FormatOpenAIChat, []usageCase{
		{name: "more cached than input", body: openAIChatWith(`{"prompt_tokens":100,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":500}}`),
			want: provider.Usage{InputTokens: 100, OutputTokens: 20, CacheReadTokens: 100}, ok: true},
		{name: "more reasoning than output", body: openAIChatWith(`{"prompt_tokens":100,"completion_tokens":20,"completion_tokens_details":{"reasoning_tokens":64}}`),
			want: provider.Usage{InputTokens: 100, OutputTokens: 20, ReasoningTokens: 20}, ok: true},
	})
	// Duplicate keys are read as the SDK reads them: the last occurrence,
	// a null one counting as absent; the Chat Completions names win over the
	// Responses ones, whatever their order.
	runUsageCases(t, provider.FormatOpenAIChat, []usageCase{
		{name: "a later null clears a count", body: openAIChatWith(`{"prompt_tokens":5,"completion_tokens":3,"prompt_tokens":null}`),
			want: provider.Usage{OutputTokens: 3}, ok: true},
		{name: "a later duplicate wins", body: openAIChatWith(`{"prompt_tokens":5,"completion_tokens":3,"prompt_tokens":7,"prompt_tokens_details":{"cached_tokens":9},"prompt_tokens_details":{"cached_tokens":2}}`),
			want: provider.Usage{InputTokens: 7, OutputTokens: 3, CacheReadTokens: 2}, ok: true},
		{name: "prompt_tokens wins over input_tokens in any order", body: openAIChatWith(`{"input_tokens":50,"completion_tokens":3,"prompt_tokens":5}`),
			want: provider.Usage{InputTokens: 5, OutputTokens: 3}, ok: true},
		{name: "every count null", body: openAIChatWith(`{"prompt_tokens":null,"completion_tokens":null,"total_tokens":null}`)},
	})
	runUsageCases(t, provider.FormatOpenAIResponses, []usageCase{
		{name: "responses: more cached than input", body: `{"id":"r","object":"response","model":"gpt-4.1","status":"completed","usage":{"input_tokens":10,"output_tokens":5,"input_tokens_details":{"cached_tokens":11},"output_tokens_details":{"reasoning_tokens":6}}}`,
			want: provider.Usage{InputTokens: 10, OutputTokens: 5, CacheReadTokens: 10, ReasoningTokens: 5}, ok: true},
		{name: "responses: negative input", body: `{"id":"r","object":"response","model":"gpt-4.1","status":"completed","usage":{"input_tokens":-10,"output_tokens":5}}`},
	})
}

func anthropicMessageWith(usage string) string {
	return `{"id":"m","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":"end_turn","usage":` + usage + `}`
}

func anthropicStreamWith(startUsage, deltaUsage string) string {
	return sseBody(
		"event: message_start\n"+`data: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":`+startUsage+`}}`,
		"event: message_delta\n"+`data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":`+deltaUsage+`}`,
		"event: message_stop\n"+`data: {"type":"message_stop"}`,
	)
}

// Anthropic's counts are judged once merged: input_tokens and the cache
// counts add up to InputTokens, and a message_delta's counts replace
// message_start's.
func TestAnthropicUsageOutOfBoundsIsNotReported(t *testing.T) {
	half := strconv.Itoa(provider.MaxUsageTokens/2 + 1)
	runUsageCases(t, provider.FormatAnthropicMessages, []usageCase{
		{name: "plausible", body: anthropicMessageWith(`{"input_tokens":10,"cache_read_input_tokens":30,"cache_creation_input_tokens":20,"output_tokens":5}`),
			want: provider.Usage{InputTokens: 60, OutputTokens: 5, CacheReadTokens: 30, CacheCreationTokens: 20}, ok: true},
		{name: "negative input", body: anthropicMessageWith(`{"input_tokens":-10,"output_tokens":5}`)},
		{name: "negative cache read hiding in a positive sum", body: anthropicMessageWith(`{"input_tokens":100,"cache_read_input_tokens":-50,"output_tokens":5}`)},
		{name: "output above the bound", body: anthropicMessageWith(`{"input_tokens":10,"output_tokens":` + over + `}`)},
		{name: "input parts each in bounds, their sum not", body: anthropicMessageWith(`{"input_tokens":` + half + `,"cache_read_input_tokens":` + half + `,"output_tokens":5}`)},
		{name: "negative 1h cache writes", body: anthropicMessageWith(`{"input_tokens":10,"cache_creation_input_tokens":20,"cache_creation":{"ephemeral_1h_input_tokens":-1},"output_tokens":5}`)},
		{name: "negative thinking", body: anthropicMessageWith(`{"input_tokens":10,"output_tokens":5,"output_tokens_details":{"thinking_tokens":-1}}`)},
		{name: "stream: a bad message_start is not completed by its delta", stream: true,
			body: anthropicStreamWith(`{"input_tokens":-472,"output_tokens":1}`, `{"output_tokens":89}`)},
		// message_start's output_tokens is a placeholder (1): standing
		// for the answer's would undercount it, so nothing stands.
		{name: "stream: a bad delta leaves no usage", stream: true,
			body: anthropicStreamWith(`{"input_tokens":472,"output_tokens":1}`, `{"output_tokens":-89}`)},
		{name: "stream: a delta whose merge overflows the bound", stream: true,
			body: anthropicStreamWith(`{"input_tokens":`+half+`,"output_tokens":1}`, `{"cache_read_input_tokens":`+half+`,"output_tokens":89}`)},
		{name: "a null count is absent, a later duplicate wins", body: anthropicMessageWith(`{"input_tokens":10,"output_tokens":7,"output_tokens":null,"input_tokens":12}`),
			want: provider.Usage{InputTokens: 12, OutputTokens: 0}, ok: true},
		{name: "stream: good counts merge", stream: true,
			body: anthropicStreamWith(`{"input_tokens":472,"cache_read_input_tokens":3000,"output_tokens":1}`, `{"output_tokens":89}`),
			want: provider.Usage{InputTokens: 3472, OutputTokens: 89, CacheReadTokens: 3000}, ok: true},
	})
}

// Parts of an Anthropic usage larger than their whole are cut down to it,
// on the merged counts.
func TestAnthropicUsagePartsFitTheirWhole(t *testing.T) {
	runUsageCases(t, provider.FormatAnthropicMessages, []usageCase{
		{name: "more 1h writes than writes", body: anthropicMessageWith(`{"input_tokens":10,"cache_creation_input_tokens":20,"cache_creation":{"ephemeral_1h_input_tokens":50},"output_tokens":5}`),
			want: provider.Usage{InputTokens: 30, OutputTokens: 5, CacheCreationTokens: 20, CacheCreation1hTokens: 20}, ok: true},
		{name: "more thinking than output", body: anthropicMessageWith(`{"input_tokens":10,"output_tokens":5,"output_tokens_details":{"thinking_tokens":9}}`),
			want: provider.Usage{InputTokens: 10, OutputTokens: 5, ReasoningTokens: 5}, ok: true},
		{name: "stream: thinking beyond the final output", stream: true,
			body: anthropicStreamWith(`{"input_tokens":10,"output_tokens":1,"output_tokens_details":{"thinking_tokens":40}}`, `{"output_tokens":30}`),
			want: provider.Usage{InputTokens: 10, OutputTokens: 30, ReasoningTokens: 30}, ok: true},
	})
}

func geminiResponseWith(usage string) string {
	return `{"candidates":[{"content":{"parts":[{"text":"hi"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":` + usage + `,"modelVersion":"gemini-2.5-flash"}`
}

// A Gemini usageMetadata with a count out of bounds is not taken; in a
// stream, the last one that was stands.
func TestGeminiUsageOutOfBoundsIsNotReported(t *testing.T) {
	half := strconv.Itoa(provider.MaxUsageTokens/2 + 1)
	runUsageCases(t, provider.FormatGemini, []usageCase{
		{name: "plausible", body: geminiResponseWith(`{"promptTokenCount":9,"candidatesTokenCount":30,"thoughtsTokenCount":100,"cachedContentTokenCount":4,"totalTokenCount":139}`),
			want: provider.Usage{InputTokens: 9, OutputTokens: 130, CacheReadTokens: 4, ReasoningTokens: 100}, ok: true},
		{name: "negative prompt", body: geminiResponseWith(`{"promptTokenCount":-9,"candidatesTokenCount":30}`)},
		{name: "candidates above the bound", body: geminiResponseWith(`{"promptTokenCount":9,"candidatesTokenCount":` + over + `}`)},
		{name: "candidates and thoughts each in bounds, their sum not", body: geminiResponseWith(`{"promptTokenCount":9,"candidatesTokenCount":` + half + `,"thoughtsTokenCount":` + half + `}`)},
		{name: "negative cached", body: geminiResponseWith(`{"promptTokenCount":9,"candidatesTokenCount":30,"cachedContentTokenCount":-4}`)},
		{name: "negative total", body: geminiResponseWith(`{"promptTokenCount":9,"candidatesTokenCount":30,"totalTokenCount":-39}`)},
		// An earlier chunk's counts are cumulative so far: standing for
		// the answer's would undercount it.
		{name: "stream: a bad last chunk leaves no usage", stream: true,
			body: "data: " + geminiResponseWith(`{"promptTokenCount":9,"candidatesTokenCount":3,"totalTokenCount":12}`) + "\r\n\r\n" +
				"data: " + geminiResponseWith(`{"promptTokenCount":9,"candidatesTokenCount":-30}`) + "\r\n\r\n"},
	})
}

// Parts of a Gemini usage larger than their whole are cut down to it.
func TestGeminiUsagePartsFitTheirWhole(t *testing.T) {
	runUsageCases(t, provider.FormatGemini, []usageCase{
		{name: "more cached than prompt", body: geminiResponseWith(`{"promptTokenCount":9,"candidatesTokenCount":30,"cachedContentTokenCount":40}`),
			want: provider.Usage{InputTokens: 9, OutputTokens: 30, CacheReadTokens: 9}, ok: true},
	})
}

// FuzzUsageBounds: whatever a usage object says, a usage the parsers
// accept is within bounds and consistent.
func FuzzUsageBounds(f *testing.F) {
	f.Add([]byte(`{"prompt_tokens":100,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":500}}`))
	f.Add([]byte(`{"input_tokens":10,"cache_creation_input_tokens":20,"cache_creation":{"ephemeral_1h_input_tokens":50},"output_tokens":5}`))
	f.Add([]byte(`{"promptTokenCount":9,"candidatesTokenCount":30,"thoughtsTokenCount":100,"cachedContentTokenCount":40}`))
	f.Add([]byte(`{"output_tokens":-1,"output_tokens_details":{"thinking_tokens":99999999999}}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		check := func(u provider.Usage) {
			require.True(t, inBounds(u), "%+v", u)
			require.Equal(t, consistent(u), u, "consistent")
		}
		if u, st := openAIUsage(v); st == usageTaken {
			check(u)
		}
		if u, st := geminiUsage(v); st == usageTaken {
			check(u)
		}
		var a anthropicUsage
		if a.merge(v) == usageTaken {
			check(a.usage())
			if a.merge(v) == usageTaken { // as a message_delta repeating it
				check(a.usage())
			}
		}
	})
}
