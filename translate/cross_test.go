package translate

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/internal/sse"
	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/provider"
)

// The translations the hosted gateways are known to get wrong, each across
// formats, through TranslateRequest and Answer as the stack uses them.

// sseBody joins events into an upstream stream body.
func sseBody(events ...string) string { return strings.Join(events, "") }

func dataEvent(data string) string { return "data: " + data + "\n\n" }

func namedEvent(name, data string) string { return "event: " + name + "\ndata: " + data + "\n\n" }

// translateStream runs an upstream stream in format from through Answer to
// a caller of format to, whose request was req, and returns the caller's
// events, each data decoded.
func translateStream(t *testing.T, from, to provider.Format, req *Request, upstream string) (raw string, events []crossEvent) {
	t.Helper()
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: io.NopCloser(strings.NewReader(upstream))}
	Answer(resp, from, to, req)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var sc sse.Scanner
	sc.Feed(b)
	sc.Flush()
	for sc.Next() {
		ev := sc.Event()
		e := crossEvent{name: string(ev.Name), data: string(ev.Data)}
		if string(ev.Data) != "[DONE]" {
			require.NoError(t, json.Unmarshal(ev.Data, &e.obj), "the caller's event is JSON: %s", ev.Data)
		}
		events = append(events, e)
	}
	return string(b), events
}

type crossEvent struct {
	name, data string
	obj        map[string]any
}

// usageOf reads the usage a caller of format f sees in its stream, as the
// stack reads it.
func usageOf(t *testing.T, f provider.Format, stream string) (provider.Usage, bool) {
	t.Helper()
	var s wire.ResponseScanner
	s.Reset(f, true, 200)
	s.Write([]byte(stream))
	s.Finish()
	return s.Usage()
}

// openAIToolStream is OpenAI streaming two parallel tool calls, the second
// one's arguments interleaved with the first's, then its usage in a
// trailing chunk after finish_reason.
const openAIToolStream = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}]},"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\":\"CET\"}"}}]},"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":null}

data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":100}}}

data: [DONE]

`

// An Anthropic caller gets each OpenAI tool call as its own tool_use block
// with its own arguments, stop_reason tool_use, and the usage of the
// trailing chunk in message_delta (input never 0, cache reads apart).
func TestOpenAIToolsToAnthropicCaller(t *testing.T) {
	raw, events := translateStream(t, provider.FormatOpenAIChat, provider.FormatAnthropicMessages, &Request{Stream: true}, openAIToolStream)
	args := map[string]string{}     // tool_use id -> its arguments, as the caller joins them
	blockID := map[float64]string{} // block index -> tool_use id
	var stop string
	var delta map[string]any
	for _, e := range events {
		switch e.name {
		case "content_block_start":
			cb := e.obj["content_block"].(map[string]any)
			if cb["type"] == "tool_use" {
				blockID[e.obj["index"].(float64)] = cb["id"].(string)
			}
		case "content_block_delta":
			d := e.obj["delta"].(map[string]any)
			if d["type"] == "input_json_delta" {
				id := blockID[e.obj["index"].(float64)]
				require.NotEmpty(t, id, "arguments for a block that is a tool_use: %s", e.data)
				args[id] += d["partial_json"].(string)
			}
		case "message_delta":
			delta = e.obj
			stop = e.obj["delta"].(map[string]any)["stop_reason"].(string)
		}
	}
	assert.Equal(t, map[string]string{"call_a": `{"city":"Paris"}`, "call_b": `{"tz":"CET"}`}, args, raw)
	assert.Equal(t, "tool_use", stop)
	require.NotNil(t, delta, "message_delta sent")
	u, ok := usageOf(t, provider.FormatAnthropicMessages, raw)
	require.True(t, ok)
	assert.Equal(t, provider.Usage{InputTokens: 120, OutputTokens: 30, CacheReadTokens: 100}, u, "the trailing usage, cumulative in message_delta")
	assert.Equal(t, "message_stop", events[len(events)-1].name)
}

// anthropicThinkingStream is Anthropic thinking, then text (the text's
// first token in the block's start), with cache reads and writes.
const anthropicThinkingStream = `event: message_start
data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":20,"cache_read_input_tokens":70,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think."}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"c2ln"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":"Hel"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"lo!"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":12}}

event: message_stop
data: {"type":"message_stop"}

`

// An OpenAI caller that asked for usage gets Anthropic's text whole (the
// first token of the text block, sent in its start, is not lost), the
// finish reason, and prompt_tokens with the cache reads and writes in;
// one that did not ask gets no usage chunk.
func TestAnthropicToOpenAICaller(t *testing.T) {
	raw, events := translateStream(t, provider.FormatAnthropicMessages, provider.FormatOpenAIChat, &Request{Stream: true, StreamUsage: true}, anthropicThinkingStream)
	var text, finish string
	for _, e := range events {
		if e.data == "[DONE]" {
			continue
		}
		for _, c := range e.obj["choices"].([]any) {
			ch := c.(map[string]any)
			if d, ok := ch["delta"].(map[string]any); ok {
				if s, ok := d["content"].(string); ok {
					text += s
				}
			}
			if f, ok := ch["finish_reason"].(string); ok {
				finish = f
			}
		}
	}
	assert.Equal(t, "Hello!", text, raw)
	assert.Equal(t, "stop", finish)
	assert.Equal(t, "[DONE]", events[len(events)-1].data)
	u, ok := usageOf(t, provider.FormatOpenAIChat, raw)
	require.True(t, ok)
	assert.Equal(t, int64(100), u.InputTokens, "prompt_tokens = input + cache writes + cache reads")
	assert.Equal(t, int64(70), u.CacheReadTokens)
	assert.Equal(t, int64(12), u.OutputTokens)

	raw, _ = translateStream(t, provider.FormatAnthropicMessages, provider.FormatOpenAIChat, &Request{Stream: true}, anthropicThinkingStream)
	assert.NotContains(t, raw, `"usage":{`, "no usage chunk for a caller that did not ask")
}

// A provider's error mid-stream reaches the caller as its own format's
// error event, and the caller's stream is not given a clean end.
func TestMidStreamErrorBecomesTheCallersError(t *testing.T) {
	upstream := sseBody(
		namedEvent("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":5,"output_tokens":1}}}`),
		namedEvent("error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`),
	)
	raw, _ := translateStream(t, provider.FormatAnthropicMessages, provider.FormatOpenAIChat, &Request{Stream: true}, upstream)
	var s wire.ResponseScanner
	s.Reset(provider.FormatOpenAIChat, true, 200)
	s.Write([]byte(raw))
	s.Finish()
	require.NotNil(t, s.Err(), "the caller's stream carries an error: %s", raw)
	assert.Contains(t, s.Err().Message, "Overloaded")
}

// A stream of a format with a terminator that ends without it is cut: the
// caller's stream ends without its own terminator too.
func TestACutStreamStaysCut(t *testing.T) {
	upstream := sseBody(
		dataEvent(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}`),
	)
	raw, events := translateStream(t, provider.FormatOpenAIChat, provider.FormatAnthropicMessages, &Request{Stream: true}, upstream)
	require.NotEmpty(t, events, raw)
	assert.NotEqual(t, "message_stop", events[len(events)-1].name, raw)
}

// Gemini's function calls have no ids: the ids an OpenAI caller gets are
// stable, so the next request, which carries them back with the tools'
// results, is translated to Gemini with each result under its call's name.
func TestGeminiCallIDsRoundTrip(t *testing.T) {
	answer := `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}},{"functionCall":{"name":"get_time","args":{"tz":"CET"}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,"totalTokenCount":15},"modelVersion":"gemini-2.5-flash","responseId":"r1"}`
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(answer))}
	Answer(resp, provider.FormatGemini, provider.FormatOpenAIChat, &Request{})
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var got struct {
		Choices []struct {
			Message struct {
				ToolCalls []struct {
					ID       string `json:"id"`
					Function struct{ Name, Arguments string }
				} `json:"tool_calls"`
			}
			FinishReason string `json:"finish_reason"`
		}
	}
	require.NoError(t, json.Unmarshal(b, &got), string(b))
	require.Len(t, got.Choices, 1)
	calls := got.Choices[0].Message.ToolCalls
	require.Len(t, calls, 2, string(b))
	assert.Equal(t, "tool_calls", got.Choices[0].FinishReason)
	assert.NotEqual(t, calls[0].ID, calls[1].ID)
	assert.NotEmpty(t, calls[0].ID)

	// The next turn, as openai-go sends it: the assistant's calls, then a
	// tool message per call, by id.
	next, _ := json.Marshal(map[string]any{
		"model": "gpt-4o-mini",
		"messages": []any{
			map[string]any{"role": "user", "content": "Weather and time in Paris?"},
			map[string]any{"role": "assistant", "tool_calls": []any{
				map[string]any{"id": calls[0].ID, "type": "function", "function": map[string]any{"name": calls[0].Function.Name, "arguments": calls[0].Function.Arguments}},
				map[string]any{"id": calls[1].ID, "type": "function", "function": map[string]any{"name": calls[1].Function.Name, "arguments": calls[1].Function.Arguments}},
			}},
			map[string]any{"role": "tool", "tool_call_id": calls[1].ID, "content": "14:00"},
			map[string]any{"role": "tool", "tool_call_id": calls[0].ID, "content": "sunny"},
		},
	})
	out, _, err := TranslateRequest(provider.FormatOpenAIChat, provider.FormatGemini, next, RequestMeta{}, "gemini-2.5-flash")
	require.NoError(t, err)
	var g struct {
		Contents []struct {
			Role  string
			Parts []struct {
				FunctionResponse *struct {
					Name     string
					Response map[string]any
				} `json:"functionResponse"`
			}
		}
	}
	require.NoError(t, json.Unmarshal(out, &g), string(out))
	results := map[string]string{}
	for _, c := range g.Contents {
		for _, p := range c.Parts {
			if p.FunctionResponse != nil {
				results[p.FunctionResponse.Name] = string(mustJSON(t, p.FunctionResponse.Response))
			}
		}
	}
	assert.Contains(t, results["get_time"], "14:00", string(out))
	assert.Contains(t, results["get_weather"], "sunny", string(out))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// A parameter the target cannot honour is refused, naming it, never
// dropped.
func TestUnhonourableParameterIsRefused(t *testing.T) {
	body := `{"model":"gpt-4o-mini","n":2,"messages":[{"role":"user","content":"Hi"}]}`
	for _, to := range []provider.Format{provider.FormatAnthropicMessages, provider.FormatGemini} {
		_, _, err := TranslateRequest(provider.FormatOpenAIChat, to, []byte(body), RequestMeta{}, "m")
		var ue *UnsupportedError
		require.ErrorAs(t, err, &ue, to.String())
		assert.Equal(t, "n", ue.Param)
	}
}

// A Gemini thought carried in the conversation (its signature is
// Gemini's) is not sent to Anthropic, which would refuse the signature;
// Anthropic's own signed thinking is.
func TestForeignThinkingSignatureStaysHome(t *testing.T) {
	r := &Request{Model: "m", MaxTokens: 100, Messages: []Message{
		{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "Hi"}}},
		{Role: RoleAssistant, Parts: []Part{{Kind: PartThinking, Text: "hmm", Signature: "gemini:c2ln"}, {Kind: PartText, Text: "Hello"}}},
		{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "Again"}}},
	}}
	out, err := For(provider.FormatAnthropicMessages).EncodeRequest(r, "claude-haiku-4-5")
	require.NoError(t, err)
	assert.NotContains(t, string(out), "gemini:", string(out))
	r.Messages[1].Parts[0].Signature = "c2ln"
	out, err = For(provider.FormatAnthropicMessages).EncodeRequest(r, "claude-haiku-4-5")
	require.NoError(t, err)
	assert.Contains(t, string(out), `"signature":"c2ln"`, string(out))
}
