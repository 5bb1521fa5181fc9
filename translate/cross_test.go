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

// translateJSON translates body from one format to another for model
// and target and decodes the result.
func translateJSON(t *testing.T, from, to provider.Format, body string, target provider.Provider, model string) (string, map[string]any) {
	t.Helper()
	out, _, err := TranslateRequest(from, to, []byte(body), RequestMeta{Model: "m", Target: target}, model)
	require.NoError(t, err)
	var obj map[string]any
	require.NoError(t, json.Unmarshal(out, &obj), string(out))
	return string(out), obj
}

// A strict tool keeps its guarantee across formats: OpenAI's and
// Anthropic's strict, Gemini's VALIDATED mode; where the guarantee has no
// equivalent (Gemini with a forced call) the request is refused naming
// strict, never sent weaker.
func TestStrictToolKeepsItsGuarantee(t *testing.T) {
	const schema = `{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}`
	openAIBody := func(choice string) string {
		return `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather?"}],` +
			`"tools":[{"type":"function","function":{"name":"get_weather","parameters":` + schema + `,"strict":true}},` +
			`{"type":"function","function":{"name":"get_time"}}]` + choice + `}`
	}
	anthropicBody := `{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":"Weather?"}],` +
		`"tools":[{"name":"get_weather","strict":true,"input_schema":` + schema + `},{"name":"get_time","input_schema":{"type":"object"}}]}`
	geminiBody := `{"toolConfig":{"functionCallingConfig":{"mode":"VALIDATED"}},"contents":[{"role":"user","parts":[{"text":"Weather?"}]}],` +
		`"tools":[{"functionDeclarations":[{"name":"get_weather","parametersJsonSchema":` + schema + `},{"name":"get_time"}]}]}`

	tests := []struct {
		name     string
		from, to provider.Format
		body     string
		want     []string // in the translated body
		not      []string
	}{
		{"OpenAI to Anthropic", provider.FormatOpenAIChat, provider.FormatAnthropicMessages, openAIBody(""),
			[]string{`"name":"get_weather","input_schema":` + schema + `,"strict":true}`}, []string{`"name":"get_time","input_schema":{"type":"object","properties":{}},"strict"`}},
		{"OpenAI to Gemini, auto", provider.FormatOpenAIChat, provider.FormatGemini, openAIBody(`,"tool_choice":"auto"`),
			[]string{`"functionCallingConfig":{"mode":"VALIDATED"}`}, []string{`"strict"`}},
		{"OpenAI to Gemini, no choice", provider.FormatOpenAIChat, provider.FormatGemini, openAIBody(""),
			[]string{`"functionCallingConfig":{"mode":"VALIDATED"}`}, nil},
		{"OpenAI to Gemini, none", provider.FormatOpenAIChat, provider.FormatGemini, openAIBody(`,"tool_choice":"none"`),
			[]string{`"functionCallingConfig":{"mode":"NONE"}`}, nil},
		{"Anthropic to OpenAI", provider.FormatAnthropicMessages, provider.FormatOpenAIChat, anthropicBody,
			[]string{`"name":"get_weather","parameters":` + schema + `,"strict":true}`}, []string{`"name":"get_time","parameters":{"type":"object"},"strict"`}},
		{"Gemini VALIDATED to OpenAI", provider.FormatGemini, provider.FormatOpenAIChat, geminiBody,
			[]string{`"name":"get_weather","parameters":` + schema + `,"strict":true}`, `"name":"get_time"}`, `"tool_choice":"auto"`}, nil},
		{"Gemini VALIDATED to Anthropic", provider.FormatGemini, provider.FormatAnthropicMessages, geminiBody,
			[]string{`"input_schema":` + schema + `,"strict":true}`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := translateJSON(t, tc.from, tc.to, tc.body, provider.Provider{}, "target-model")
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
			for _, n := range tc.not {
				assert.NotContains(t, out, n)
			}
		})
	}

	for _, choice := range []string{`,"tool_choice":"required"`, `,"tool_choice":{"type":"function","function":{"name":"get_weather"}}`} {
		t.Run("OpenAI to Gemini, forced"+choice, func(t *testing.T) {
			_, _, err := TranslateRequest(provider.FormatOpenAIChat, provider.FormatGemini, []byte(openAIBody(choice)), RequestMeta{}, "gemini-2.5-flash")
			var ue *UnsupportedError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, "strict", ue.Param)
		})
	}
}

// A tool's strict that is not a boolean is a malformed request, in both
// formats that have it.
func TestStrictToolNotABoolean(t *testing.T) {
	_, err := For(provider.FormatOpenAIChat).DecodeRequest([]byte(`{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","strict":"yes"}}]}`), RequestMeta{})
	assert.Error(t, err)
	_, err = For(provider.FormatAnthropicMessages).DecodeRequest([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"f","input_schema":{"type":"object"},"strict":1}]}`), RequestMeta{})
	assert.Error(t, err)
}

// A tool's strict set to null is strict unset, in both formats that have
// it: the tool is read, not strict, and the request is not malformed.
func TestStrictToolNullIsUnset(t *testing.T) {
	for _, tc := range []struct {
		name string
		from provider.Format
		body string
	}{
		{"OpenAI", provider.FormatOpenAIChat, `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","strict":null}}]}`},
		{"Anthropic", provider.FormatAnthropicMessages, `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"f","strict":null,"input_schema":{"type":"object"}}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := For(tc.from).DecodeRequest([]byte(tc.body), RequestMeta{})
			require.NoError(t, err)
			require.Len(t, r.Tools, 1)
			assert.Equal(t, "f", r.Tools[0].Name)
			assert.False(t, r.Tools[0].Strict)
		})
	}
}

// OpenAI's json_schema name, description and strict survive the
// representation: an OpenAI caller's come back as they were; a schema
// from Anthropic or Gemini, whose formats always enforce it, is strict
// and named "response"; an OpenAI caller's strict schema goes to
// Anthropic and Gemini as their always-enforced schemas.
func TestResponseSchemaKeepsNameAndStrict(t *testing.T) {
	const schema = `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}`
	openAIBody := `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":` +
		`{"name":"answer_v2","description":"The answer, one field.","schema":` + schema + `,"strict":true}}}`
	tests := []struct {
		name     string
		from, to provider.Format
		body     string
		want     string
	}{
		{"OpenAI to OpenAI", provider.FormatOpenAIChat, provider.FormatOpenAIChat, openAIBody,
			`"response_format":{"type":"json_schema","json_schema":{"name":"answer_v2","description":"The answer, one field.","strict":true,"schema":` + schema + `}}`},
		{"OpenAI non-strict to OpenAI", provider.FormatOpenAIChat, provider.FormatOpenAIChat, strings.Replace(openAIBody, `,"strict":true`, "", 1),
			`"response_format":{"type":"json_schema","json_schema":{"name":"answer_v2","description":"The answer, one field.","schema":` + schema + `}}`},
		{"Anthropic to OpenAI", provider.FormatAnthropicMessages, provider.FormatOpenAIChat,
			`{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":"x"}],"output_config":{"format":{"type":"json_schema","schema":` + schema + `}}}`,
			`"response_format":{"type":"json_schema","json_schema":{"name":"response","strict":true,"schema":` + schema + `}}`},
		{"Gemini to OpenAI", provider.FormatGemini, provider.FormatOpenAIChat,
			`{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json","responseJsonSchema":` + schema + `}}`,
			`"response_format":{"type":"json_schema","json_schema":{"name":"response","strict":true,"schema":` + schema + `}}`},
		{"OpenAI to Anthropic", provider.FormatOpenAIChat, provider.FormatAnthropicMessages, openAIBody,
			`"output_config":{"format":{"type":"json_schema","schema":` + schema + `}}`},
		{"OpenAI to Gemini", provider.FormatOpenAIChat, provider.FormatGemini, openAIBody,
			`"responseMimeType":"application/json","responseJsonSchema":` + schema},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := translateJSON(t, tc.from, tc.to, tc.body, provider.Provider{}, "target-model")
			assert.Contains(t, out, tc.want)
		})
	}
}

// An Azure OpenAI deployment is named by its owner: whatever the name,
// it gets max_completion_tokens on the API versions that take it (the v1
// API, previews from 2024-09-01-preview), which Azure's reasoning
// deployments require; on older versions, and for other targets, the
// model's name decides.
func TestAzureDeploymentGetsMaxCompletionTokens(t *testing.T) {
	body := `{"model":"claude-sonnet-4-5","max_tokens":300,"messages":[{"role":"user","content":"x"}]}`
	tests := []struct {
		name   string
		target provider.Provider
		model  string
		want   string
	}{
		{"Azure v1, deployment named freely", provider.AzureOpenAI("contoso", ""), "my-o3-prod", "max_completion_tokens"},
		{"Azure v1 preview", provider.AzureOpenAI("contoso", "preview"), "my-o3-prod", "max_completion_tokens"},
		{"Azure dated preview", provider.AzureOpenAI("contoso", "2025-04-01-preview"), "my-o3-prod", "max_completion_tokens"},
		{"Azure first preview with it", provider.AzureOpenAI("contoso", "2024-09-01-preview"), "chat", "max_completion_tokens"},
		{"Azure preview before it", provider.AzureOpenAI("contoso", "2024-08-01-preview"), "chat", "max_tokens"},
		{"Azure GA", provider.AzureOpenAI("contoso", "2024-10-21"), "chat", "max_tokens"},
		{"Azure GA, reasoning name", provider.AzureOpenAI("contoso", "2024-10-21"), "o3-mini", "max_completion_tokens"},
		{"OpenAI, reasoning", provider.OpenAI, "o3-mini", "max_completion_tokens"},
		{"OpenAI-compatible", provider.Groq, "my-o3-prod", "max_tokens"},
		{"unknown target", provider.Provider{}, "my-o3-prod", "max_tokens"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, obj := translateJSON(t, provider.FormatAnthropicMessages, provider.FormatOpenAIChat, body, tc.target, tc.model)
			assert.EqualValues(t, 300, obj[tc.want], "%v", obj)
			other := map[string]string{"max_tokens": "max_completion_tokens", "max_completion_tokens": "max_tokens"}[tc.want]
			assert.NotContains(t, obj, other)
		})
	}
}

// anthropicRedactedStream is Anthropic streaming thinking, then a
// redacted_thinking block (whole in its start, no deltas), then text.
var anthropicRedactedStream = sseBody(
	namedEvent("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":1}}}`),
	namedEvent("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}`),
	namedEvent("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hm."}}`),
	namedEvent("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}`),
	namedEvent("content_block_stop", `{"type":"content_block_stop","index":0}`),
	namedEvent("content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4a"}}`),
	namedEvent("content_block_stop", `{"type":"content_block_stop","index":1}`),
	namedEvent("content_block_start", `{"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}`),
	namedEvent("content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"4"}}`),
	namedEvent("content_block_stop", `{"type":"content_block_stop","index":2}`),
	namedEvent("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":20}}`),
	namedEvent("message_stop", `{"type":"message_stop"}`),
)

// A redacted_thinking block in a stream goes back to an Anthropic caller
// as the block it was, between the thinking and the text (it must come
// back unchanged in the next turn); callers of formats without it get
// the rest of the answer and no trace of it.
func TestRedactedThinkingInStreams(t *testing.T) {
	t.Run("Anthropic through the representation", func(t *testing.T) {
		dec := For(provider.FormatAnthropicMessages).NewStreamDecoder()
		enc := For(provider.FormatAnthropicMessages).NewStreamEncoder(&Request{Stream: true})
		var out []byte
		var sc sse.Scanner
		sc.Feed([]byte(anthropicRedactedStream))
		sc.Flush()
		for sc.Next() {
			ev := sc.Event()
			require.NoError(t, dec.Decode(ev.Name, ev.Data, func(e *Event) { out = enc.Encode(out, e) }))
		}
		var blocks []map[string]any
		starts, stops := map[float64]bool{}, map[float64]bool{}
		sc = sse.Scanner{}
		sc.Feed(out)
		sc.Flush()
		for sc.Next() {
			var obj map[string]any
			require.NoError(t, json.Unmarshal(sc.Event().Data, &obj))
			switch obj["type"] {
			case "content_block_start":
				blocks = append(blocks, obj["content_block"].(map[string]any))
				starts[obj["index"].(float64)] = true
			case "content_block_stop":
				stops[obj["index"].(float64)] = true
			}
		}
		require.Len(t, blocks, 3, string(out))
		assert.Equal(t, []any{"thinking", "redacted_thinking", "text"}, []any{blocks[0]["type"], blocks[1]["type"], blocks[2]["type"]})
		assert.Equal(t, "EmwKAhgBEgy3va3pzix/LafPsn4a", blocks[1]["data"])
		assert.Equal(t, starts, stops, "every block stops: %s", out)
	})
	for _, to := range []provider.Format{provider.FormatOpenAIChat, provider.FormatGemini} {
		t.Run("to "+to.String(), func(t *testing.T) {
			req := &Request{Stream: true, StreamUsage: true, Reasoning: Reasoning{IncludeThoughts: true}}
			raw, events := translateStream(t, provider.FormatAnthropicMessages, to, req, anthropicRedactedStream)
			assert.NotContains(t, raw, "EmwKAhgB")
			assert.NotContains(t, raw, "redacted")
			assert.Contains(t, raw, `"4"`)
			assert.NotEmpty(t, events)
		})
	}
}

// toolNames are the names of the tools a translated body offers, in
// order.
func toolNames(t *testing.T, f provider.Format, obj map[string]any) []string {
	t.Helper()
	var names []string
	tools, _ := obj["tools"].([]any)
	if f == provider.FormatGemini {
		require.Len(t, tools, 1)
		tools, _ = tools[0].(map[string]any)["functionDeclarations"].([]any)
	}
	for _, tool := range tools {
		m := tool.(map[string]any)
		if f == provider.FormatOpenAIChat {
			m = m["function"].(map[string]any)
		}
		names = append(names, m["name"].(string))
	}
	return names
}

// A request that limits the model to a subset of its tools keeps the
// limit across formats: OpenAI's allowed_tools and Gemini's
// allowedFunctionNames (ANY, or VALIDATED for auto) name it and keep
// every tool in the request; Anthropic, which names no subset, is sent
// only the allowed tools. The model never calls another, and a required
// subset still forces a call (any). Through the representation, a caller's
// own format gets its request back as it was.
func TestAllowedToolsKeepTheirLimit(t *testing.T) {
	const schema = `{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}`
	openAIBody := func(mode string, names ...string) string {
		var allowed []string
		for _, n := range names {
			allowed = append(allowed, `{"type":"function","function":{"name":"`+n+`"}}`)
		}
		return `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather?"}],"tools":[` +
			`{"type":"function","function":{"name":"get_weather","parameters":` + schema + `}},` +
			`{"type":"function","function":{"name":"get_time"}},` +
			`{"type":"function","function":{"name":"search"}}],` +
			`"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"` + mode + `","tools":[` + strings.Join(allowed, ",") + `]}}}`
	}
	geminiBody := func(mode string, names ...string) string {
		return `{"contents":[{"role":"user","parts":[{"text":"Weather?"}]}],"tools":[{"functionDeclarations":[` +
			`{"name":"get_weather","parametersJsonSchema":` + schema + `},{"name":"get_time"},{"name":"search"}]}],` +
			`"toolConfig":{"functionCallingConfig":{"mode":"` + mode + `","allowedFunctionNames":["` + strings.Join(names, `","`) + `"]}}}`
	}
	every := []string{"get_weather", "get_time", "search"}
	tests := []struct {
		name     string
		from, to provider.Format
		body     string
		tools    []string // offered, in order
		want     []string // in the translated body
	}{
		{"OpenAI auto to Gemini", provider.FormatOpenAIChat, provider.FormatGemini, openAIBody("auto", "get_weather", "search"), every,
			[]string{`"toolConfig":{"functionCallingConfig":{"mode":"VALIDATED","allowedFunctionNames":["get_weather","search"]}}`}},
		{"OpenAI required to Gemini", provider.FormatOpenAIChat, provider.FormatGemini, openAIBody("required", "get_weather", "search"), every,
			[]string{`"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather","search"]}}`}},
		{"OpenAI auto to Anthropic", provider.FormatOpenAIChat, provider.FormatAnthropicMessages, openAIBody("auto", "search", "get_weather"),
			[]string{"get_weather", "search"}, []string{`"tool_choice":{"type":"auto"}`}},
		{"OpenAI required to Anthropic", provider.FormatOpenAIChat, provider.FormatAnthropicMessages, openAIBody("required", "get_time"),
			[]string{"get_time"}, []string{`"tool_choice":{"type":"any"}`}},
		{"Gemini VALIDATED to OpenAI", provider.FormatGemini, provider.FormatOpenAIChat, geminiBody("VALIDATED", "get_weather", "get_time"), every,
			[]string{`"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"get_weather"}},{"type":"function","function":{"name":"get_time"}}]}}`,
				`"name":"get_weather","parameters":` + schema + `,"strict":true}`}},
		{"Gemini ANY to OpenAI", provider.FormatGemini, provider.FormatOpenAIChat, geminiBody("ANY", "get_weather", "get_time"), every,
			[]string{`"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"get_weather"}},{"type":"function","function":{"name":"get_time"}}]}}`}},
		{"Gemini VALIDATED to Anthropic", provider.FormatGemini, provider.FormatAnthropicMessages, geminiBody("VALIDATED", "get_weather", "get_time"),
			[]string{"get_weather", "get_time"}, []string{`"tool_choice":{"type":"auto"}`, `"input_schema":` + schema + `,"strict":true}`}},
		{"Gemini ANY to Anthropic", provider.FormatGemini, provider.FormatAnthropicMessages, geminiBody("ANY", "search", "get_time"),
			[]string{"get_time", "search"}, []string{`"tool_choice":{"type":"any"}`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, obj := translateJSON(t, tc.from, tc.to, tc.body, provider.Provider{}, "target-model")
			assert.Equal(t, tc.tools, toolNames(t, tc.to, obj), out)
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
		})
	}

	t.Run("OpenAI to OpenAI", func(t *testing.T) {
		for _, mode := range []string{"auto", "required"} {
			body := openAIBody(mode, "search", "get_weather")
			out, _ := translateJSON(t, provider.FormatOpenAIChat, provider.FormatOpenAIChat, body, provider.Provider{}, "gpt-4o")
			assert.JSONEq(t, body, out)
		}
	})
	t.Run("Gemini to Gemini", func(t *testing.T) {
		for _, mode := range []string{"VALIDATED", "ANY"} {
			body := geminiBody(mode, "search", "get_weather")
			out, _ := translateJSON(t, provider.FormatGemini, provider.FormatGemini, body, provider.Provider{}, "gemini-2.5-flash")
			assert.JSONEq(t, body, out)
		}
	})

	// A subset naming a tool the request does not define is refused, in
	// every target, rather than sent for the model to make sense of.
	for _, to := range []provider.Format{provider.FormatOpenAIChat, provider.FormatAnthropicMessages, provider.FormatGemini} {
		t.Run("an unknown tool to "+to.String(), func(t *testing.T) {
			_, _, err := TranslateRequest(provider.FormatOpenAIChat, to, []byte(openAIBody("auto", "get_weather", "lookup")), RequestMeta{}, "m")
			var ue *UnsupportedError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, "tool_choice", ue.Param)
			assert.Contains(t, ue.Reason, `"lookup"`)
		})
	}
}
