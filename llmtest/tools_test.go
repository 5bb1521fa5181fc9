package llmtest

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Requests that offer a get_weather tool, one per format.
const (
	chatToolsBody   = `{"model":"gpt-4o","tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],"messages":[{"role":"user","content":"Weather in Paris?"}]}`
	msgToolsBody    = `{"model":"claude-sonnet-4-5","max_tokens":2048,"tools":[{"name":"get_weather","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"Weather in Paris?"}]}`
	geminiToolsBody = `{"contents":[{"role":"user","parts":[{"text":"Weather in Paris?"}]}],"tools":[{"functionDeclarations":[{"name":"get_weather"}]}]}`
)

var (
	weather = ToolCall{Name: "get_weather", Arguments: `{"city": "Paris", "unit": "celsius"}`}
	clock   = ToolCall{Name: "get_time", Arguments: `{"tz":"Europe/Paris","note":"café \"1\" 世界"}`}
	// compacted as Anthropic's input and Gemini's args carry them
	weatherObject = `{"city":"Paris","unit":"celsius"}`
	clockObject   = `{"tz":"Europe/Paris","note":"café \"1\" 世界"}`
)

// stream turns a request body into its streaming form.
func stream(body string) string { return strings.Replace(body, `{`, `{"stream":true,`, 1) }

func TestToolCallsInWholeAnswers(t *testing.T) {
	calls := []ToolCall{weather, clock}
	tokens := int64(len(weather.Name)+len(weather.Arguments)+3)/4 + int64(len(clock.Name)+len(clock.Arguments)+3)/4
	for _, u := range both(t, WithToolCalls(calls...)) {
		t.Run(u.name+"/openai", func(t *testing.T) {
			body := read(t, u.post(t, chatPath, chatToolsBody))
			var c chatCompletion
			decodeStrict(t, string(body), &c)
			assert.Contains(t, string(body), `"content": null,`, "no text: content null")
			msg := c.Choices[0].Message
			require.Len(t, msg.ToolCalls, 2)
			for k, tc := range msg.ToolCalls {
				assert.Regexp(t, `^call_[A-Za-z0-9]{24}$`, tc.ID)
				assert.Equal(t, "function", tc.Type)
				assert.Equal(t, calls[k].Name, tc.Function.Name)
				require.NotNil(t, tc.Function.Arguments)
				assert.Equal(t, calls[k].Arguments, *tc.Function.Arguments, "arguments byte for byte")
				assert.Nil(t, tc.Index, "no index outside streams")
			}
			assert.NotEqual(t, msg.ToolCalls[0].ID, msg.ToolCalls[1].ID)
			assert.Equal(t, "tool_calls", c.Choices[0].FinishReason)
			assert.Equal(t, tokens, c.Usage.CompletionTokens)
		})
		t.Run(u.name+"/anthropic", func(t *testing.T) {
			var m anthropicMessage
			decodeStrict(t, string(read(t, u.post(t, msgPath, msgToolsBody, anthropicHeaders...))), &m)
			require.Len(t, m.Content, 2, "no text block without a preamble")
			for k, want := range []string{weatherObject, clockObject} {
				b := m.Content[k]
				assert.Equal(t, "tool_use", b.Type)
				assert.Regexp(t, `^toolu_01[A-Za-z0-9]{22}$`, b.ID)
				assert.Equal(t, calls[k].Name, b.Name)
				assert.Equal(t, want, string(b.Input), "input is the compacted object")
				require.NotNil(t, b.Caller)
				assert.Equal(t, "direct", b.Caller.Type)
			}
			assert.Equal(t, "tool_use", *m.StopReason)
			assert.Equal(t, tokens, m.Usage.OutputTokens)
		})
		t.Run(u.name+"/gemini", func(t *testing.T) {
			body := read(t, u.post(t, geminiPath, geminiToolsBody))
			var g geminiResponse
			decodeStrict(t, string(body), &g)
			parts := g.Candidates[0].Content.Parts
			require.Len(t, parts, 2)
			for k, want := range []string{weatherObject, clockObject} {
				require.NotNil(t, parts[k].FunctionCall)
				assert.Equal(t, calls[k].Name, parts[k].FunctionCall.Name)
				assert.JSONEq(t, want, string(parts[k].FunctionCall.Args))
				assert.Empty(t, parts[k].ThoughtSignature, "no signature without thinking")
			}
			assert.NotContains(t, string(body), `"id"`, "Gemini calls have no id")
			assert.Contains(t, string(body), "\"args\": {\n                \"city\": \"Paris\",", "indented like Gemini")
			assert.Equal(t, "STOP", g.Candidates[0].FinishReason)
			assert.Equal(t, tokens, *g.UsageMetadata.CandidatesTokenCount)
		})
	}
}

// The golden streams below are what the real APIs send for the same
// answer, framing and field order included.

func TestOpenAIToolCallStreamByteForByte(t *testing.T) {
	head := `{"id":"chatcmpl-llmtest0000000000000000000001","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4o","service_tier":"default","system_fingerprint":"fp_llmtest01","choices":[`
	want := ""
	for _, choice := range []string{
		`{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_llmtest00000000000000100","type":"function","function":{"name":"get_weather","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}`,
		`{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\""}}]},"logprobs":null,"finish_reason":null}`,
		`{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"city"}}]},"logprobs":null,"finish_reason":null}`,
		`{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\":\""}}]},"logprobs":null,"finish_reason":null}`,
		`{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"Paris"}}]},"logprobs":null,"finish_reason":null}`,
		`{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"}"}}]},"logprobs":null,"finish_reason":null}`,
		`{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}`,
	} {
		want += "data: " + head + choice + "]}\n\n"
	}
	want += "data: [DONE]\n\n"
	for _, u := range both(t, WithToolCalls(ToolCall{Name: "get_weather", Arguments: `{"city":"Paris"}`})) {
		t.Run(u.name, func(t *testing.T) {
			assert.Equal(t, want, string(read(t, u.post(t, chatPath, stream(chatToolsBody)))))
		})
	}
}

func TestAnthropicThinkingAndToolUseStreamByteForByte(t *testing.T) {
	req := strings.Replace(stream(msgToolsBody), `"tools"`, `"thinking":{"type":"enabled","budget_tokens":1024},"tools"`, 1)
	sig := thinkingSignature("Paris weather.")
	events := [][2]string{
		{"message_start", `{"type":"message_start","message":{"id":"msg_01llmtest0000000000000001","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":60,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":1,"service_tier":"standard"}}}`},
		{"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}`},
		{"ping", `{"type": "ping"}`},
		{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Paris"}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":" weather."}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"` + sig + `"}}`},
		{"content_block_stop", `{"type":"content_block_stop","index":0}`},
		{"content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"On"}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":" it."}}`},
		{"content_block_stop", `{"type":"content_block_stop","index":1}`},
		{"content_block_start", `{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01llmtest000000000000100","name":"get_weather","input":{},"caller":{"type":"direct"}}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\""}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"city"}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\":\""}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"Paris"}}`},
		{"content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\"}"}}`},
		{"content_block_stop", `{"type":"content_block_stop","index":2}`},
		{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":60,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":11}}`},
		{"message_stop", `{"type":"message_stop"}`},
	}
	want := ""
	for _, ev := range events {
		want += "event: " + ev[0] + "\ndata: " + ev[1] + "\n\n"
	}
	opts := []Option{WithToolCalls(ToolCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}), WithThinking("Paris weather."), WithToolPreamble("On it.")}
	for _, u := range both(t, opts...) {
		t.Run(u.name, func(t *testing.T) {
			assert.Equal(t, want, string(read(t, u.post(t, msgPath, req, anthropicHeaders...))))
		})
	}
}

func TestGeminiThoughtsAndFunctionCallStreamByteForByte(t *testing.T) {
	req := strings.Replace(geminiToolsBody, `"tools"`, `"generationConfig":{"thinkingConfig":{"includeThoughts":true}},"tools"`, 1)
	tail := `"modelVersion": "gemini-2.0-flash","responseId": "llmtest000000000000001"}`
	early := `"usageMetadata": {"promptTokenCount": 48,"totalTokenCount": 48,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 48}]},`
	want := ""
	for _, chunk := range []string{
		`{"candidates": [{"content": {"parts": [{"text": "Paris","thought": true}],"role": "model"},"index": 0}],` + early + tail,
		`{"candidates": [{"content": {"parts": [{"text": " weather.","thought": true}],"role": "model"},"index": 0}],` + early + tail,
		`{"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather","args": {"city": "Paris"}},"thoughtSignature": "` + thinkingSignature("Paris weather.") + `"}],"role": "model"},"finishReason": "STOP","index": 0}],` +
			`"usageMetadata": {"promptTokenCount": 48,"candidatesTokenCount": 7,"totalTokenCount": 57,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 48}],"thoughtsTokenCount": 2},` + tail,
	} {
		want += "data: " + chunk + "\r\n\r\n"
	}
	opts := []Option{WithToolCalls(ToolCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}), WithThinking("Paris weather.")}
	for _, u := range both(t, opts...) {
		t.Run(u.name, func(t *testing.T) {
			assert.Equal(t, want, string(read(t, u.post(t, geminiStream, req))))
		})
	}
}

// Parallel calls with escapes and multi-byte text come out whole from
// each stream, however it splits them.
func TestToolCallStreamsReassemble(t *testing.T) {
	calls := []ToolCall{weather, clock}
	for _, u := range both(t, WithToolCalls(calls...)) {
		t.Run(u.name+"/openai", func(t *testing.T) {
			req := strings.Replace(stream(chatToolsBody), `"tools"`, `"stream_options":{"include_usage":true},"tools"`, 1)
			events := parseSSE(t, read(t, u.post(t, chatPath, req)), "\n\n")
			require.Equal(t, "[DONE]", events[len(events)-1].data)
			args := map[int64]string{}
			ids := map[int64]string{}
			var finish []string
			var usage *chatUsage
			for i, ev := range events[:len(events)-1] {
				var c chatChunk
				decodeStrict(t, ev.data, &c)
				if len(c.Choices) == 0 {
					usage = c.Usage
					continue
				}
				assert.Equal(t, "null", string(keys(t, ev.data)["usage"]))
				d := c.Choices[0].Delta
				assert.Equal(t, i == 0, d.Role == "assistant", "only the first chunk has the role")
				for _, tc := range d.ToolCalls {
					require.NotNil(t, tc.Index)
					if tc.ID != "" {
						assert.NotContains(t, ids, *tc.Index, "each call is announced once")
						ids[*tc.Index] = tc.ID
						assert.Equal(t, calls[*tc.Index].Name, tc.Function.Name)
						assert.Equal(t, "", *tc.Function.Arguments, "announced with empty arguments")
					} else {
						assert.Empty(t, tc.Function.Name)
						assert.True(t, utf8.ValidString(*tc.Function.Arguments))
					}
					args[*tc.Index] += *tc.Function.Arguments
				}
				if fr := c.Choices[0].FinishReason; fr != nil {
					finish = append(finish, *fr)
				}
			}
			assert.Equal(t, map[int64]string{0: weather.Arguments, 1: clock.Arguments}, args)
			assert.Len(t, ids, 2)
			assert.Equal(t, []string{"tool_calls"}, finish)
			require.NotNil(t, usage, "the usage chunk still comes")
		})
		t.Run(u.name+"/anthropic", func(t *testing.T) {
			events := parseSSE(t, read(t, u.post(t, msgPath, stream(msgToolsBody), anthropicHeaders...)), "\n\n")
			inputs := map[int64]string{}
			var names []string
			for _, ev := range events {
				var e anthropicEvent
				decodeStrict(t, ev.data, &e)
				switch ev.name {
				case "content_block_start":
					require.Equal(t, "tool_use", e.ContentBlock.Type)
					assert.Equal(t, "{}", string(e.ContentBlock.Input))
					names = append(names, e.ContentBlock.Name)
				case "content_block_delta":
					require.NotNil(t, e.Delta.PartialJSON)
					inputs[*e.Index] += *e.Delta.PartialJSON
				case "message_delta":
					assert.Equal(t, "tool_use", *e.Delta.StopReason)
				}
			}
			assert.Equal(t, []string{"get_weather", "get_time"}, names)
			assert.Equal(t, map[int64]string{0: weather.Arguments, 1: clock.Arguments}, inputs)
		})
		t.Run(u.name+"/gemini-array", func(t *testing.T) {
			var chunks []geminiResponse
			d := json.NewDecoder(strings.NewReader(string(read(t, u.post(t, geminiArray, geminiToolsBody)))))
			d.DisallowUnknownFields()
			require.NoError(t, d.Decode(&chunks))
			require.Len(t, chunks, 1, "no text: the calls are the only chunk")
			parts := chunks[0].Candidates[0].Content.Parts
			require.Len(t, parts, 2, "parallel calls arrive together")
			assert.JSONEq(t, clockObject, string(parts[1].FunctionCall.Args))
			assert.Equal(t, "STOP", chunks[0].Candidates[0].FinishReason)
		})
	}
}

func TestToolPreambleComesBeforeTheCalls(t *testing.T) {
	for _, u := range both(t, WithToolCalls(weather), WithToolPreamble("Let me check.")) {
		t.Run(u.name, func(t *testing.T) {
			var c chatCompletion
			decodeStrict(t, string(read(t, u.post(t, chatPath, chatToolsBody))), &c)
			assert.Equal(t, "Let me check.", c.Choices[0].Message.Content)
			assert.Len(t, c.Choices[0].Message.ToolCalls, 1)
			assert.Equal(t, "tool_calls", c.Choices[0].FinishReason)

			events := parseSSE(t, read(t, u.post(t, chatPath, stream(chatToolsBody))), "\n\n")
			var first, call chatChunk
			decodeStrict(t, events[0].data, &first)
			decodeStrict(t, events[4].data, &call)
			assert.Equal(t, "", *first.Choices[0].Delta.Content, "the usual role chunk first")
			assert.Empty(t, first.Choices[0].Delta.ToolCalls)
			require.Len(t, call.Choices[0].Delta.ToolCalls, 1, "role, 3 words, then the call")
			assert.Empty(t, call.Choices[0].Delta.Role, "the role came already")
			assert.Nil(t, call.Choices[0].Delta.Content)

			var m anthropicMessage
			decodeStrict(t, string(read(t, u.post(t, msgPath, msgToolsBody, anthropicHeaders...))), &m)
			require.Len(t, m.Content, 2)
			assert.Equal(t, "text", m.Content[0].Type)
			assert.Equal(t, "Let me check.", m.Content[0].Text)
			assert.Equal(t, "tool_use", m.Content[1].Type)

			var g geminiResponse
			decodeStrict(t, string(read(t, u.post(t, geminiPath, geminiToolsBody))), &g)
			parts := g.Candidates[0].Content.Parts
			require.Len(t, parts, 2)
			assert.Equal(t, "Let me check.", parts[0].Text)
			assert.NotNil(t, parts[1].FunctionCall)
		})
	}
}

// A conversation that carries the results of the calls gets the reply,
// and the fake keeps the request as sent for the test to check.
func TestToolResultsGetTheReply(t *testing.T) {
	cases := []struct {
		name, path, body string
		hdr              []string
		text             func(t *testing.T, body []byte) string
	}{
		{"openai", chatPath, `{"model":"gpt-4o","tools":[{"type":"function","function":{"name":"get_weather"}}],"messages":[` +
			`{"role":"user","content":"Weather in Paris and the time?"},` +
			`{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{}"}},{"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]},` +
			`{"role":"tool","tool_call_id":"call_b","content":"noon"},{"role":"tool","tool_call_id":"call_a","content":"sunny"}]}`, nil,
			func(t *testing.T, body []byte) string {
				var c chatCompletion
				decodeStrict(t, string(body), &c)
				assert.Empty(t, c.Choices[0].Message.ToolCalls)
				assert.Equal(t, "stop", c.Choices[0].FinishReason)
				return c.Choices[0].Message.Content
			}},
		{"anthropic", msgPath, `{"model":"claude-sonnet-4-5","max_tokens":2048,"tools":[{"name":"get_weather"}],"messages":[` +
			`{"role":"user","content":"Weather in Paris and the time?"},` +
			`{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_a","name":"get_weather","input":{}},{"type":"tool_use","id":"toolu_b","name":"get_time","input":{}}]},` +
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_b","content":"noon"},{"type":"tool_result","tool_use_id":"toolu_a","content":[{"type":"text","text":"sunny"}],"is_error":false}]}]}`, anthropicHeaders,
			func(t *testing.T, body []byte) string {
				var m anthropicMessage
				decodeStrict(t, string(body), &m)
				assert.Equal(t, "end_turn", *m.StopReason)
				require.Len(t, m.Content, 1)
				return m.Content[0].Text
			}},
		{"gemini", geminiPath, `{"tools":[{"functionDeclarations":[{"name":"get_weather"}]}],"contents":[` +
			`{"role":"user","parts":[{"text":"Weather in Paris and the time?"}]},` +
			`{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{}}},{"functionCall":{"name":"get_time","args":{}}}]},` +
			`{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"sky":"sunny"}}},{"functionResponse":{"name":"get_time","response":{"at":"noon"}}}]}]}`, nil,
			func(t *testing.T, body []byte) string {
				var g geminiResponse
				decodeStrict(t, string(body), &g)
				require.Len(t, g.Candidates[0].Content.Parts, 1)
				return g.Candidates[0].Content.Parts[0].Text
			}},
	}
	for _, u := range both(t, WithToolCalls(weather)) {
		for _, c := range cases {
			t.Run(u.name+"/"+c.name, func(t *testing.T) {
				resp := u.post(t, c.path, c.body, c.hdr...)
				body := read(t, resp)
				require.Equal(t, 200, resp.StatusCode, "%s", body)
				assert.Equal(t, DefaultReply, c.text(t, body))
				last, ok := u.fake.LastRequest()
				require.True(t, ok)
				assert.Equal(t, c.body, string(last.Body), "the request is kept as sent")
			})
		}
	}
}

func TestToolCallsNeedOfferedTools(t *testing.T) {
	for _, u := range both(t, WithToolCalls(weather)) {
		t.Run(u.name, func(t *testing.T) {
			var c chatCompletion
			decodeStrict(t, string(read(t, u.post(t, chatPath, `{"model":"m","tools":[],"messages":[]}`))), &c)
			assert.Empty(t, c.Choices[0].Message.ToolCalls, "an empty tools offers none")
			assert.Equal(t, DefaultReply, c.Choices[0].Message.Content)
			var m anthropicMessage
			decodeStrict(t, string(read(t, u.post(t, msgPath, msgBody, anthropicHeaders...))), &m)
			assert.Equal(t, "end_turn", *m.StopReason)
			var r response
			decodeStrict(t, string(read(t, u.post(t, respPath, `{"model":"m","input":"x","tools":[{"type":"function","name":"get_weather"}]}`))), &r)
			assert.Equal(t, DefaultReply, r.Output[0].Content[0].Text, "Responses answers text")
		})
	}
}

func TestToolCallsFuncScriptsEachAnswer(t *testing.T) {
	fn := func(r Request) []ToolCall {
		if r.Seq == 1 {
			return []ToolCall{{Name: "lookup"}}
		}
		return nil
	}
	for _, u := range both(t, WithToolCallsFunc(fn), WithToolCalls(weather)) {
		t.Run(u.name, func(t *testing.T) {
			var c chatCompletion
			decodeStrict(t, string(read(t, u.post(t, chatPath, chatBody))), &c)
			require.Len(t, c.Choices[0].Message.ToolCalls, 1, "called without tools offered")
			assert.Equal(t, "lookup", c.Choices[0].Message.ToolCalls[0].Function.Name)
			assert.Equal(t, "{}", *c.Choices[0].Message.ToolCalls[0].Function.Arguments, `"" means {}`)

			var second chatCompletion
			decodeStrict(t, string(read(t, u.post(t, chatPath, chatToolsBody))), &second)
			assert.Empty(t, second.Choices[0].Message.ToolCalls, "the func, not WithToolCalls, decides")
			assert.Equal(t, "stop", second.Choices[0].FinishReason)
		})
	}
}

func TestMaxTokensCutBeforeTheCalls(t *testing.T) {
	for _, u := range both(t, WithToolCalls(weather), WithToolPreamble("Let me check that.")) {
		t.Run(u.name, func(t *testing.T) {
			var c chatCompletion
			req := strings.Replace(chatToolsBody, `"tools"`, `"max_completion_tokens":2,"tools"`, 1)
			decodeStrict(t, string(read(t, u.post(t, chatPath, req))), &c)
			assert.Equal(t, "Let me", c.Choices[0].Message.Content)
			assert.Empty(t, c.Choices[0].Message.ToolCalls)
			assert.Equal(t, "length", c.Choices[0].FinishReason)
		})
	}
}

func TestToolCallStreamsTakeFaults(t *testing.T) {
	for _, u := range both(t, WithToolCalls(weather)) {
		t.Run(u.name, func(t *testing.T) {
			u.fake.Push(CutAfter(2))
			resp := u.post(t, msgPath, stream(msgToolsBody), anthropicHeaders...)
			body, err := io.ReadAll(resp.Body)
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			assert.Equal(t, 2, strings.Count(string(body), "event: "), "message_start and the tool_use block's start")
		})
	}
}

// Each provider's rules on tool turns and thinking, answered with its
// own 400.
func TestConversationRules(t *testing.T) {
	sig := thinkingSignature("I should call the tool.")
	cases := []struct {
		name, path, body string
		message, param   string // param: OpenAI's error.param, "-" for null
	}{
		{"openai tool first", chatPath, `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"call_a","content":"x"}]}`,
			"Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.", "messages.[1].role"},
		{"openai unknown id", chatPath, `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_z","content":"x"}]}`,
			"Invalid parameter: 'tool_call_id' of 'call_z' not found in 'tool_calls' of previous message.", "-"},
		{"openai unanswered", chatPath, `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{}"}},{"id":"call_b","type":"function","function":{"name":"g","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_a","content":"x"},{"role":"user","content":"and?"}]}`,
			"An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: call_b", "messages.[0].role"},
		{"openai half answered last", chatPath, `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{}"}},{"id":"call_b","type":"function","function":{"name":"g","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_b","content":"x"}]}`,
			"The following tool_call_ids did not have response messages: call_a", "messages.[0].role"},
		{"openai calls last", chatPath, `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`, "", ""},

		{"anthropic result without use", msgPath, `{"model":"c","max_tokens":9,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_a","content":"x"}]}]}`,
			"messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_a. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.", ""},
		{"anthropic unknown id", msgPath, `{"model":"c","max_tokens":9,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"toolu_a","name":"f","input":{}}]},{"role":"user","content":[{"type":"text","text":"here"},{"type":"tool_result","tool_use_id":"toolu_z"}]}]}`,
			"messages.1.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_z.", ""},
		{"anthropic unanswered", msgPath, `{"model":"c","max_tokens":9,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_a","name":"f","input":{}},{"type":"tool_use","id":"toolu_b","name":"g","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_a"}]}]}`,
			"messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_b. Each `tool_use` block must have a corresponding `tool_result` block in the next message.", ""},
		{"anthropic altered thinking", msgPath, `{"model":"c","max_tokens":9,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"thinking","thinking":"I should call a tool.","signature":"` + sig + `"},{"type":"text","text":"ok"}]},{"role":"user","content":"go on"}]}`,
			"messages.1.content.0: Invalid `signature` in `thinking` block", ""},
		{"anthropic thinking kept", msgPath, `{"model":"c","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"thinking","thinking":"I should call the tool.","signature":"` + sig + `"},{"type":"tool_use","id":"toolu_a","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_a","content":"x"}]}]}`, "", ""},
		{"anthropic thinking lost", msgPath, `{"model":"c","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_a","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_a","content":"x"}]}]}`,
			"messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a thinking block", ""},
		{"anthropic thinking lost, adaptive", msgPath, `{"model":"c","max_tokens":9,"thinking":{"type":"adaptive"},"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_a","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_a","content":"x"}]}]}`,
			"but found `text`.", ""},
		{"anthropic thinking off, none kept", msgPath, `{"model":"c","max_tokens":9,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_a","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_a","content":"x"}]}]}`, "", ""},
		{"anthropic budget too small", msgPath, `{"model":"c","max_tokens":4096,"thinking":{"type":"enabled","budget_tokens":512},"messages":[]}`,
			"thinking.enabled.budget_tokens: Input should be greater than or equal to 1024", ""},
		{"anthropic budget missing", msgPath, `{"model":"c","max_tokens":4096,"thinking":{"type":"enabled"},"messages":[]}`,
			"thinking.enabled.budget_tokens: Field required", ""},
		{"anthropic budget over max_tokens", msgPath, `{"model":"c","max_tokens":1024,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[]}`,
			"`max_tokens` must be greater than `thinking.budget_tokens`.", ""},

		{"gemini response without name", geminiPath, `{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"response":{}}}]}]}`,
			"* GenerateContentRequest.contents[1].parts[0].function_response.name: Name cannot be empty.\n", ""},
		{"gemini response without call", geminiPath, `{"contents":[{"role":"user","parts":[{"text":"hi"}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}]}`,
			"Please ensure that function response turn comes immediately after a function call turn.", ""},
		{"gemini fewer responses", geminiPath, `{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}},{"functionCall":{"name":"g","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}]}`,
			"Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.", ""},
	}
	for _, u := range both(t) {
		for _, c := range cases {
			t.Run(u.name+"/"+c.name, func(t *testing.T) {
				var hdr []string
				fc := formatCase{name: "openai"}
				switch c.path {
				case msgPath:
					hdr, fc.name = anthropicHeaders, "anthropic.messages"
				case geminiPath:
					fc.name = "gemini"
				}
				resp := u.post(t, c.path, c.body, hdr...)
				body := read(t, resp)
				if c.message == "" {
					assert.Equal(t, 200, resp.StatusCode, "%s", body)
					return
				}
				require.Equal(t, 400, resp.StatusCode, "%s", body)
				if fc.name == "openai" {
					var e openAIErrorBody
					decodeStrict(t, string(body), &e)
					assert.Contains(t, e.Error.Message, c.message)
					assert.Equal(t, "invalid_request_error", e.Error.Type)
					assert.Nil(t, e.Error.Code)
					if c.param == "-" {
						assert.Nil(t, e.Error.Param)
					} else {
						require.NotNil(t, e.Error.Param)
						assert.Equal(t, c.param, *e.Error.Param)
					}
					return
				}
				typ, _, msg := errorFields(t, fc, body)
				assert.Contains(t, msg, c.message)
				switch fc.name {
				case "anthropic.messages":
					assert.Equal(t, "invalid_request_error", typ)
				case "gemini":
					assert.Equal(t, "INVALID_ARGUMENT", typ)
				}
			})
		}
	}
}

func TestThinkingWhereTheRequestLetsIt(t *testing.T) {
	const thinking = "First the weather, then the time."
	words := int64(countWords(thinking))
	for _, u := range both(t, WithThinking(thinking)) {
		t.Run(u.name+"/anthropic", func(t *testing.T) {
			for _, c := range []struct {
				name, body string
				shown      bool
			}{
				{"enabled", `{"model":"c","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[]}`, true},
				{"adaptive", `{"model":"c","max_tokens":2048,"thinking":{"type":"adaptive"},"messages":[]}`, true},
				{"disabled", `{"model":"c","max_tokens":2048,"thinking":{"type":"disabled"},"messages":[]}`, false},
				{"absent", `{"model":"c","max_tokens":2048,"messages":[]}`, false},
			} {
				var m anthropicMessage
				decodeStrict(t, string(read(t, u.post(t, msgPath, c.body, anthropicHeaders...))), &m)
				if !c.shown {
					require.Len(t, m.Content, 1, c.name)
					assert.Equal(t, int64(3), m.Usage.OutputTokens, c.name)
					continue
				}
				require.Len(t, m.Content, 2, c.name)
				b := m.Content[0]
				assert.Equal(t, "thinking", b.Type)
				assert.Equal(t, thinking, *b.Thinking)
				assert.Equal(t, thinkingSignature(thinking), *b.Signature)
				assert.Equal(t, "text", m.Content[1].Type)
				assert.Equal(t, 3+words, m.Usage.OutputTokens, "thinking counts as output")
			}
		})
		t.Run(u.name+"/gemini", func(t *testing.T) {
			for _, c := range []struct {
				name, config string
				thoughts     int64
				shown        bool
			}{
				{"default", ``, words, false},
				{"includeThoughts", `"thinkingConfig":{"includeThoughts":true,"thinkingBudget":-1}`, words, true},
				{"budget 0", `"thinkingConfig":{"includeThoughts":true,"thinkingBudget":0}`, 0, false},
			} {
				var g geminiResponse
				body := `{"generationConfig":{` + c.config + `},"contents":[]}`
				decodeStrict(t, string(read(t, u.post(t, geminiPath, body))), &g)
				assert.Equal(t, c.thoughts, g.UsageMetadata.ThoughtsTokenCount, c.name)
				assert.Equal(t, int64(3), *g.UsageMetadata.CandidatesTokenCount, c.name)
				parts := g.Candidates[0].Content.Parts
				if !c.shown {
					require.Len(t, parts, 1, c.name)
					continue
				}
				require.Len(t, parts, 2, c.name)
				assert.True(t, parts[0].Thought)
				assert.Equal(t, thinking, parts[0].Text)
				assert.False(t, parts[1].Thought)
				assert.Equal(t, DefaultReply, parts[1].Text)
			}
			events := parseSSE(t, read(t, u.post(t, geminiStream, `{"generationConfig":{"thinkingConfig":{"includeThoughts":true}}}`)), "\r\n\r\n")
			require.Len(t, events, int(words)+3, "a chunk per thought word, then per reply word")
			var g geminiResponse
			decodeStrict(t, events[0].data, &g)
			assert.True(t, g.Candidates[0].Content.Parts[0].Thought)
		})
		t.Run(u.name+"/openai", func(t *testing.T) {
			var c chatCompletion
			body := string(read(t, u.post(t, chatPath, chatBody)))
			decodeStrict(t, body, &c)
			assert.Equal(t, words, c.Usage.CompletionTokensDetails.ReasoningTokens)
			assert.Equal(t, 3+words, c.Usage.CompletionTokens)
			assert.NotContains(t, body, "weather", "OpenAI never shows the reasoning")
			decodeStrict(t, string(read(t, u.post(t, chatPath, `{"model":"m","reasoning_effort":"none"}`))), &c)
			assert.Zero(t, c.Usage.CompletionTokensDetails.ReasoningTokens)

			var r response
			decodeStrict(t, string(read(t, u.post(t, respPath, `{"model":"m","input":"x","reasoning":{"effort":"high"}}`))), &r)
			assert.Equal(t, words, r.Usage.OutputTokensDetails.ReasoningTokens)
			decodeStrict(t, string(read(t, u.post(t, respPath, `{"model":"m","input":"x","reasoning":{"effort":"none"}}`))), &r)
			assert.Zero(t, r.Usage.OutputTokensDetails.ReasoningTokens)
		})
	}
}

// What the fake answers with thinking and tools, sent back as the next
// turn, is accepted: the signature checks out.
func TestThinkingRoundTrip(t *testing.T) {
	for _, u := range both(t, WithThinking("I need the weather."), WithToolCalls(weather)) {
		t.Run(u.name, func(t *testing.T) {
			first := `{"model":"c","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"tools":[{"name":"get_weather"}],"messages":[{"role":"user","content":"Weather?"}]}`
			var m struct {
				Content []json.RawMessage `json:"content"`
			}
			require.NoError(t, json.Unmarshal(read(t, u.post(t, msgPath, first, anthropicHeaders...)), &m))
			require.Len(t, m.Content, 2)
			var use anthropicBlockJSON
			require.NoError(t, json.Unmarshal(m.Content[1], &use))
			assistant := `{"role":"assistant","content":[` + string(m.Content[0]) + `,` + string(m.Content[1]) + `]}`
			results := `{"role":"user","content":[{"type":"tool_result","tool_use_id":"` + use.ID + `","content":"sunny"}]}`
			second := strings.Replace(first, `]}`, `]},`+assistant+`,`+results+`]}`, 1)
			second = strings.Replace(second, `"content":"Weather?"}]}`, `"content":"Weather?"}`, 1)
			resp := u.post(t, msgPath, second, anthropicHeaders...)
			body := read(t, resp)
			require.Equal(t, 200, resp.StatusCode, "%s\n%s", second, body)
			var out anthropicMessage
			decodeStrict(t, string(body), &out)
			assert.Equal(t, "end_turn", *out.StopReason)
			assert.Equal(t, DefaultReply, out.Content[len(out.Content)-1].Text)
		})
	}
}

func TestToolCallArguments(t *testing.T) {
	calls := prepareCalls([]ToolCall{{Name: "a"}, {Name: "b", Arguments: " {\n \"x\" : [1, 2] }"}})
	assert.Equal(t, "{}", calls[0].args)
	assert.Equal(t, " {\n \"x\" : [1, 2] }", calls[1].args, "kept as given")
	assert.Equal(t, `{"x":[1,2]}`, string(calls[1].compact))
	for _, bad := range []string{`[1]`, `"x"`, `nope`, `{"a":}`, `  `} {
		assert.Panics(t, func() { WithToolCalls(ToolCall{Name: "f", Arguments: bad}) }, bad)
	}
}

func TestSplitArgs(t *testing.T) {
	assert.Equal(t, []string{`{"`, `city`, `": "`, `Paris`, `"}`}, splitArgs(`{"city": "Paris"}`))
	args := `{"note":"café \"1\" 世界","n":[1,2.5e3]}`
	frags := splitArgs(args)
	assert.Equal(t, args, strings.Join(frags, ""))
	for _, f := range frags {
		assert.True(t, utf8.ValidString(f), "%q", f)
	}
	assert.Nil(t, splitArgs(""))
}
