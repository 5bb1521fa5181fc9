package wire

import (
	"testing"

	"github.com/aigateway-go/aigateway/internal/sse"
	"github.com/aigateway-go/aigateway/provider"
	"github.com/stretchr/testify/assert"
)

func TestClassifyEvent(t *testing.T) {
	cases := []struct {
		f          provider.Format
		name, data string
		want       EventKind
	}{
		{provider.FormatOpenAIChat, "", "[DONE]", EventTerminator},
		{provider.FormatOpenAIChat, "", `{"id":"1","choices":[{"index":0,"delta":{"content":"x"}}],"usage":null}`, EventChunk},
		{provider.FormatOpenAIChat, "", `{"id":"1","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`, EventUsageOnly},
		{provider.FormatOpenAIChat, "", `{"id":"1","choices":[ ],"usage":{"prompt_tokens":1}}`, EventUsageOnly},
		{provider.FormatOpenAIChat, "", `{"id":"1","choices":[],"usage":null}`, EventChunk},
		{provider.FormatOpenAIChat, "", `{"id":"1","choices":[{"delta":{}}],"usage":{"prompt_tokens":1}}`, EventChunk},
		{provider.FormatOpenAIChat, "", `{"id":"1","choices":[{"delta":{"content":"\"choices\":[],\"usage\":{}"}}]}`, EventChunk},
		{provider.FormatOpenAIChat, "", `{"error":{"message":"boom","type":"server_error"}}`, EventError},
		{provider.FormatOpenAIChat, "", `{"id":"1","error":null,"choices":[]}`, EventChunk},
		{provider.FormatOpenAIChat, "error", `{"message":"boom"}`, EventError},
		{provider.FormatOpenAIChat, "", "", EventChunk},
		{provider.FormatUnknown, "", "[DONE]", EventTerminator},
		{provider.FormatOpenAIResponses, "response.created", `{"type":"response.created"}`, EventChunk},
		{provider.FormatOpenAIResponses, "response.output_text.delta", `{"type":"response.output_text.delta","delta":"x"}`, EventChunk},
		{provider.FormatOpenAIResponses, "response.completed", `{"type":"response.completed","response":{}}`, EventTerminator},
		{provider.FormatOpenAIResponses, "", `{"type":"response.incomplete","response":{}}`, EventTerminator},
		{provider.FormatOpenAIResponses, "response.failed", `{}`, EventTerminator},
		{provider.FormatOpenAIResponses, "error", `{"type":"error","code":"x","message":"y"}`, EventError},
		{provider.FormatAnthropicMessages, "message_start", `{"type":"message_start","message":{}}`, EventChunk},
		{provider.FormatAnthropicMessages, "content_block_delta", `{"type":"content_block_delta"}`, EventChunk},
		{provider.FormatAnthropicMessages, "ping", `{"type": "ping"}`, EventOther},
		{provider.FormatAnthropicMessages, "", `{"type": "ping"}`, EventOther},
		{provider.FormatAnthropicMessages, "message_stop", `{"type":"message_stop"}`, EventTerminator},
		{provider.FormatAnthropicMessages, "", `{"type":"message_stop"}`, EventTerminator},
		{provider.FormatAnthropicMessages, "error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, EventError},
		{provider.FormatGemini, "", `{"candidates":[{"content":{"parts":[{"text":"error"}]}}],"usageMetadata":{}}`, EventChunk},
		{provider.FormatGemini, "", `{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}`, EventError},
	}
	for _, tc := range cases {
		var name []byte
		if tc.name != "" {
			name = []byte(tc.name)
		}
		got := ClassifyEvent(tc.f, name, []byte(tc.data))
		assert.Equal(t, tc.want, got, "%s %q %s", tc.f, tc.name, tc.data)
	}
	assert.Equal(t, EventOther, ClassifyEvent(provider.FormatOpenAIChat, nil, nil))
	assert.Equal(t, "usage_only", EventUsageOnly.String())
	assert.Equal(t, "other", EventKind(42).String())
}

// classifyStream runs a whole stream through sse.Scanner and ClassifyEvent.
func classifyStream(f provider.Format, stream string) []EventKind {
	var s sse.Scanner
	s.Feed([]byte(stream))
	s.Flush()
	var kinds []EventKind
	for s.Next() {
		ev := s.Event()
		kinds = append(kinds, ClassifyEvent(f, ev.Name, ev.Data))
	}
	return kinds
}

func TestClassifyStreams(t *testing.T) {
	C, U, T, E, O := EventChunk, EventUsageOnly, EventTerminator, EventError, EventOther
	assert.Equal(t, []EventKind{C, C, C, C, U, T}, classifyStream(provider.FormatOpenAIChat, openAIChatStream))
	assert.Equal(t, []EventKind{C, C, C, C, T}, classifyStream(provider.FormatOpenAIChat, xaiStream), "xAI's usage rides on a content chunk")
	assert.Equal(t, []EventKind{C, C, U, T}, classifyStream(provider.FormatOpenAIChat, openRouterStream))
	assert.Equal(t, []EventKind{C, E}, classifyStream(provider.FormatOpenAIChat, openAIMidStreamError))
	assert.Equal(t, []EventKind{C, C, C, C, C, T}, classifyStream(provider.FormatOpenAIResponses, responsesStream))
	assert.Equal(t, []EventKind{C, C, O, C, C, C, C, T}, classifyStream(provider.FormatAnthropicMessages, anthropicStream))
	assert.Equal(t, []EventKind{C, E}, classifyStream(provider.FormatAnthropicMessages, anthropicErrorStream))
	assert.Equal(t, []EventKind{C, C, C}, classifyStream(provider.FormatGemini, geminiStream))
	assert.Equal(t, []EventKind{C, E}, classifyStream(provider.FormatGemini, geminiMidStreamError))
}

func TestClassifyEventNoAllocs(t *testing.T) {
	usageOnly := []byte(`{"id":"1","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`)
	chunk := []byte(`{"id":"1","choices":[{"index":0,"delta":{"content":"x"}}],"usage":null}`)
	name := []byte("message_stop")
	ping := []byte(`{"type":"ping"}`)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		ClassifyEvent(provider.FormatOpenAIChat, nil, usageOnly)
		ClassifyEvent(provider.FormatOpenAIChat, nil, chunk)
		ClassifyEvent(provider.FormatAnthropicMessages, name, chunk)
		ClassifyEvent(provider.FormatAnthropicMessages, nil, ping)
	}))
}

func BenchmarkClassifyEvent(b *testing.B) {
	chunk := []byte(`{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":" token"},"logprobs":null,"finish_reason":null}],"usage":null}`)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		ClassifyEvent(provider.FormatOpenAIChat, nil, chunk)
	}
}

func TestHasContent(t *testing.T) {
	for _, tc := range []struct {
		f          provider.Format
		name, data string
		want       bool
	}{
		{provider.FormatOpenAIChat, "", `{"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null}}]}`, false},
		{provider.FormatOpenAIChat, "", `{"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}`, false},
		{provider.FormatOpenAIChat, "", `{"choices":[{"index":0,"delta":{"content":"Hi"}}]}`, true},
		{provider.FormatOpenAIChat, "", `{"choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]}`, true},
		{provider.FormatOpenAIChat, "", `{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":""}}]}}]}`, true},
		{provider.FormatOpenAIChat, "", `{"choices":[{"index":0,"delta":{"refusal":"no"}}]}`, true},
		{provider.FormatOpenAIChat, "", `{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`, false},
		{provider.FormatOpenAIChat, "", `{"choices":[],"usage":{"prompt_tokens":1}}`, false},
		{provider.FormatOpenAIChat, "", `[DONE]`, false},
		{provider.FormatAnthropicMessages, "message_start", `{"type":"message_start"}`, false},
		{provider.FormatAnthropicMessages, "content_block_start", `{"type":"content_block_start"}`, false},
		{provider.FormatAnthropicMessages, "content_block_delta", `{"type":"content_block_delta","delta":{"type":"text_delta","text":"Hi"}}`, true},
		{provider.FormatAnthropicMessages, "", `{"type":"content_block_delta","delta":{"type":"input_json_delta","partial_json":"{"}}`, true},
		{provider.FormatOpenAIResponses, "response.created", `{"type":"response.created"}`, false},
		{provider.FormatOpenAIResponses, "response.output_item.added", `{}`, false},
		{provider.FormatOpenAIResponses, "response.output_text.delta", `{"delta":"Hi"}`, true},
		{provider.FormatOpenAIResponses, "", `{"type":"response.function_call_arguments.delta","delta":"{"}`, true},
		{provider.FormatGemini, "", `{"candidates":[{"content":{"parts":[{"text":""}]}}]}`, false},
		{provider.FormatGemini, "", `{"candidates":[{"content":{"parts":[{"text":"Hi"}]}}]}`, true},
		{provider.FormatGemini, "", `{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{}}}]}}]}`, true},
		{provider.FormatGemini, "", `{"usageMetadata":{"promptTokenCount":1}}`, false},
	} {
		assert.Equal(t, tc.want, HasContent(tc.f, []byte(tc.name), []byte(tc.data)), "%s %s %s", tc.f, tc.name, tc.data)
	}
}

// What counts as the start of the answer decides how long the fallback
// router may still give a stream up: the events that only open a stream
// are not the answer, an error before the answer is an error, anything
// else is the answer.
func TestStreamStart(t *testing.T) {
	cases := []struct {
		name        string
		f           provider.Format
		event, data string
		want        StartKind
	}{
		{"openai role chunk is the answer", provider.FormatOpenAIChat, "", `{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`, StartAnswer},
		{"openai usage-only chunk", provider.FormatOpenAIChat, "", `{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`, StartAnswer},
		{"openai terminator", provider.FormatOpenAIChat, "", "[DONE]", StartAnswer},
		{"openai error chunk", provider.FormatOpenAIChat, "", `{"error":{"message":"boom","type":"server_error"}}`, StartError},
		{"empty data is a chunk", provider.FormatOpenAIChat, "", "", StartAnswer},
		{"anthropic message_start opens", provider.FormatAnthropicMessages, "message_start", `{"type":"message_start","message":{}}`, StartPending},
		{"anthropic ping", provider.FormatAnthropicMessages, "ping", `{"type":"ping"}`, StartPending},
		{"anthropic content_block_start is the answer", provider.FormatAnthropicMessages, "content_block_start", `{"type":"content_block_start"}`, StartAnswer},
		{"anthropic overloaded after 200", provider.FormatAnthropicMessages, "error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, StartError},
		{"responses created opens", provider.FormatOpenAIResponses, "response.created", `{"type":"response.created"}`, StartPending},
		{"responses in_progress opens", provider.FormatOpenAIResponses, "response.in_progress", `{"type":"response.in_progress"}`, StartPending},
		{"responses output_item.added is the answer", provider.FormatOpenAIResponses, "response.output_item.added", `{"type":"response.output_item.added"}`, StartAnswer},
		{"responses error", provider.FormatOpenAIResponses, "error", `{"type":"error","code":"x","message":"y"}`, StartError},
		{"responses completed", provider.FormatOpenAIResponses, "response.completed", `{"type":"response.completed","response":{}}`, StartAnswer},
		{"gemini chunk", provider.FormatGemini, "", `{"candidates":[{"content":{"parts":[{"text":"hi"}]}}]}`, StartAnswer},
		{"gemini error", provider.FormatGemini, "", `{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}`, StartError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var name []byte
			if tc.event != "" {
				name = []byte(tc.event)
			}
			assert.Equal(t, tc.want, StreamStart(tc.f, name, []byte(tc.data)))
		})
	}
	assert.Equal(t, StartPending, StreamStart(provider.FormatOpenAIChat, nil, nil), "no data, no name: a comment or a retry: line")
}

func TestStreamStartNoAllocs(t *testing.T) {
	data := []byte(`{"type":"message_start","message":{"id":"msg_1","model":"claude-haiku-4-5","usage":{"input_tokens":10,"output_tokens":1}}}`)
	name := []byte("message_start")
	assert.Zero(t, testing.AllocsPerRun(100, func() { StreamStart(provider.FormatAnthropicMessages, name, data) }))
}
