package translate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/internal/sse"
	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

func openAITestPtr[T any](v T) *T { return &v }

// openAITestDecode decodes an OpenAI request body, failing the test on an
// error.
func openAITestDecode(t *testing.T, body string) *Request {
	t.Helper()
	r, err := openAICodec{}.DecodeRequest([]byte(body), RequestMeta{})
	require.NoError(t, err)
	return r
}

// openAITestRecorder keeps copies of the events a decoder emits (it
// reuses its Event, and its Text points into its buffers).
type openAITestRecorder struct{ events []Event }

func (r *openAITestRecorder) emit(e *Event) {
	c := *e
	c.Text = strings.Clone(e.Text)
	if e.Err != nil {
		errCopy := *e.Err
		c.Err = &errCopy
	}
	r.events = append(r.events, c)
}

// openAITestDecodeStream feeds data lines (each an event's data, an
// "event: error" one written "error|{...}") to a fresh decoder.
func openAITestDecodeStream(t *testing.T, lines ...string) []Event {
	t.Helper()
	d := openAICodec{}.NewStreamDecoder()
	var rec openAITestRecorder
	for _, l := range lines {
		var name string
		if n, data, ok := strings.Cut(l, "|"); ok && n == "error" {
			name, l = n, data
		}
		require.NoError(t, d.Decode([]byte(name), []byte(l), rec.emit), "event %q", l)
	}
	return rec.events
}

// openAITestEncoder is a stream encoder with a fixed clock.
func openAITestEncoder(req *Request) *openAIStreamEncoder {
	s := openAICodec{}.NewStreamEncoder(req).(*openAIStreamEncoder)
	s.now = func() time.Time { return time.Unix(1700000000, 0) }
	return s
}

func openAITestEncodeStream(req *Request, events ...Event) string {
	s := openAITestEncoder(req)
	var out []byte
	for i := range events {
		out = s.Encode(out, &events[i])
	}
	return string(out)
}

const openAITestFullRequest = `{"model":"gpt-4o","messages":[
 {"role":"developer","content":"Be brief."},
 {"role":"user","content":[{"type":"text","text":"Weather in Paris, and the time?"},
   {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}},
   {"type":"image_url","image_url":{"url":"https://example.com/a.jpg"}}]},
 {"role":"system","content":[{"type":"text","text":"Use metric."}]},
 {"role":"assistant","content":null,"tool_calls":[
   {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
   {"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
 {"role":"tool","tool_call_id":"call_1","content":"18C"},
 {"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"12:00"}]},
 {"role":"assistant","content":"18C at noon.","refusal":null},
 {"role":"user","content":"Thanks","name":"ann"}],
 "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now",
   "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false},"strict":true}},
  {"type":"function","function":{"name":"get_time"}}],
 "tool_choice":{"type":"function","function":{"name":"get_weather"}},
 "parallel_tool_calls":false,
 "max_completion_tokens":300,"temperature":0.5,"top_p":0.9,"stop":["END","STOP"],"user":"u-1",
 "reasoning_effort":"low",
 "response_format":{"type":"json_schema","json_schema":{"name":"w","schema":{"type":"object","additionalProperties":false},"strict":true}},
 "stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false},
 "store":true,"metadata":{"a":"b"},"service_tier":"auto","prompt_cache_key":"k","n":1,"logprobs":false,
 "presence_penalty":0,"frequency_penalty":0.0,"logit_bias":{},"modalities":["text"],"verbosity":"medium"}`

func TestOpenAIDecodeRequestReadsEveryField(t *testing.T) {
	r := openAITestDecode(t, openAITestFullRequest)
	want := &Request{
		Model:       "gpt-4o",
		Stream:      true,
		StreamUsage: true,
		System:      []Part{{Kind: PartText, Text: "Be brief."}, {Kind: PartText, Text: "Use metric."}},
		Messages: []Message{
			{Role: RoleUser, Parts: []Part{
				{Kind: PartText, Text: "Weather in Paris, and the time?"},
				{Kind: PartImage, MediaType: "image/png", Data: "iVBORw0KGgo="},
				{Kind: PartImage, URL: "https://example.com/a.jpg"},
			}},
			{Role: RoleAssistant, Parts: []Part{
				{Kind: PartToolCall, ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`},
				{Kind: PartToolCall, ID: "call_2", Name: "get_time", Arguments: `{}`},
			}},
			{Role: RoleUser, Parts: []Part{
				{Kind: PartToolResult, ID: "call_1", Name: "get_weather", Text: "18C"},
				{Kind: PartToolResult, ID: "call_2", Name: "get_time", Text: "12:00"},
			}},
			{Role: RoleAssistant, Parts: []Part{{Kind: PartText, Text: "18C at noon."}}},
			{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "Thanks"}}},
		},
		Tools: []Tool{
			{Name: "get_weather", Description: "Weather now", Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}`), Strict: true},
			{Name: "get_time"},
		},
		ToolChoice:        ToolChoice{Mode: ToolChoiceTool, Name: "get_weather"},
		ParallelToolCalls: openAITestPtr(false),
		MaxTokens:         300,
		Temperature:       openAITestPtr(0.5),
		TopP:              openAITestPtr(0.9),
		Stop:              []string{"END", "STOP"},
		User:              "u-1",
		Reasoning:         Reasoning{Effort: "low"},
		ResponseFormat:    "json_schema",
		ResponseSchema:    []byte(`{"type":"object","additionalProperties":false}`),
		ResponseName:      "w",
		ResponseStrict:    true,
	}
	assert.Equal(t, want, r)
}

func TestOpenAIDecodeRequestFields(t *testing.T) {
	tests := []struct {
		name  string
		extra string // members after "messages"
		check func(t *testing.T, r *Request)
	}{
		{"max_tokens", `"max_tokens":12`, func(t *testing.T, r *Request) { assert.Equal(t, int64(12), r.MaxTokens) }},
		{"max_completion_tokens wins over max_tokens", `"max_completion_tokens":7,"max_tokens":12`, func(t *testing.T, r *Request) {
			assert.Equal(t, int64(7), r.MaxTokens)
		}},
		{"null caps are unset", `"max_tokens":null,"temperature":null,"top_p":null`, func(t *testing.T, r *Request) {
			assert.Zero(t, r.MaxTokens)
			assert.Nil(t, r.Temperature)
			assert.Nil(t, r.TopP)
		}},
		{"stop as a string", `"stop":"\n\n"`, func(t *testing.T, r *Request) { assert.Equal(t, []string{"\n\n"}, r.Stop) }},
		{"safety_identifier wins over user", `"user":"old","safety_identifier":"new"`, func(t *testing.T, r *Request) {
			assert.Equal(t, "new", r.User)
		}},
		{"reasoning_effort none disables thinking", `"reasoning_effort":"none"`, func(t *testing.T, r *Request) {
			assert.Equal(t, Reasoning{Disabled: true}, r.Reasoning)
		}},
		{"tool_choice auto", `"tool_choice":"auto"`, func(t *testing.T, r *Request) { assert.Equal(t, ToolChoice{Mode: ToolChoiceAuto}, r.ToolChoice) }},
		{"tool_choice none", `"tool_choice":"none"`, func(t *testing.T, r *Request) { assert.Equal(t, ToolChoice{Mode: ToolChoiceNone}, r.ToolChoice) }},
		{"tool_choice required", `"tool_choice":"required"`, func(t *testing.T, r *Request) {
			assert.Equal(t, ToolChoice{Mode: ToolChoiceRequired}, r.ToolChoice)
		}},
		{"parallel_tool_calls true", `"parallel_tool_calls":true`, func(t *testing.T, r *Request) {
			assert.Equal(t, openAITestPtr(true), r.ParallelToolCalls)
		}},
		{"response_format json_object", `"response_format":{"type":"json_object"}`, func(t *testing.T, r *Request) {
			assert.Equal(t, "json_object", r.ResponseFormat)
			assert.Nil(t, r.ResponseSchema)
		}},
		{"response_format text", `"response_format":{"type":"text"}`, func(t *testing.T, r *Request) { assert.Equal(t, "text", r.ResponseFormat) }},
		{"stream without include_usage", `"stream":true`, func(t *testing.T, r *Request) {
			assert.True(t, r.Stream)
			assert.False(t, r.StreamUsage)
		}},
		{"include_usage without stream is no stream usage", `"stream_options":{"include_usage":true}`, func(t *testing.T, r *Request) {
			assert.False(t, r.StreamUsage)
		}},
		{"top_k of compatible servers", `"top_k":40`, func(t *testing.T, r *Request) { assert.Equal(t, openAITestPtr(int64(40)), r.TopK) }},
		{"the last duplicate wins, keys read decoded", `"temperature":0.1,"temper\u0061ture":0.3`, func(t *testing.T, r *Request) {
			assert.Equal(t, openAITestPtr(0.3), r.Temperature)
		}},
		{"unknown members are ignored", `"x_vendor":{"a":1},"store":false`, func(t *testing.T, r *Request) { assert.Empty(t, r.Unsupported) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, openAITestDecode(t, `{"model":"m","messages":[{"role":"user","content":"hi"}],`+tt.extra+`}`))
		})
	}
}

func TestOpenAIDecodeRequestMessages(t *testing.T) {
	tests := []struct {
		name     string
		messages string
		system   []Part
		want     []Message
	}{
		{
			name:     "system and developer messages anywhere join System in order",
			messages: `{"role":"system","content":"a"},{"role":"user","content":"q"},{"role":"developer","content":[{"type":"text","text":"b"},{"type":"text","text":"c"}]}`,
			system:   []Part{{Kind: PartText, Text: "a"}, {Kind: PartText, Text: "b"}, {Kind: PartText, Text: "c"}},
			want:     []Message{{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "q"}}}},
		},
		{
			name:     "an assistant's text, refusal and reasoning_content",
			messages: `{"role":"assistant","reasoning_content":"think","content":[{"type":"text","text":"a"},{"type":"refusal","refusal":"no"}],"refusal":"not that"}`,
			want: []Message{{Role: RoleAssistant, Parts: []Part{
				{Kind: PartThinking, Text: "think"}, {Kind: PartText, Text: "a"}, {Kind: PartText, Text: "no"}, {Kind: PartText, Text: "not that"},
			}}},
		},
		{
			name:     "an empty assistant turn keeps its empty text",
			messages: `{"role":"assistant","content":""}`,
			want:     []Message{{Role: RoleAssistant, Parts: []Part{{Kind: PartText}}}},
		},
		{
			name:     "tool messages after a user turn start a turn of their own; a user message after them another",
			messages: `{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":{"x":1}}}]},{"role":"tool","tool_call_id":"c1","content":"r"},{"role":"user","content":"more"},{"role":"tool","tool_call_id":"zz","content":null}`,
			want: []Message{
				{Role: RoleAssistant, Parts: []Part{{Kind: PartToolCall, ID: "c1", Name: "f", Arguments: `{"x":1}`}}},
				{Role: RoleUser, Parts: []Part{{Kind: PartToolResult, ID: "c1", Name: "f", Text: "r"}}},
				{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "more"}}},
				{Role: RoleUser, Parts: []Part{{Kind: PartToolResult, ID: "zz"}}},
			},
		},
		{
			name:     "a data URL's parameters are dropped from its media type",
			messages: `{"role":"user","content":[{"type":"image_url","image_url":{"url":"DATA:image/jpeg;name=a.jpg;BASE64,/9j/4A=="}}]}`,
			want:     []Message{{Role: RoleUser, Parts: []Part{{Kind: PartImage, MediaType: "image/jpeg", Data: "/9j/4A=="}}}},
		},
		{
			name:     "text with escapes and invalid UTF-8 is read as an SDK reads it",
			messages: "{\"role\":\"user\",\"content\":\"a\\nb \\u00e9 \xff\"}",
			want:     []Message{{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "a\nb é \uFFFD"}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openAITestDecode(t, `{"model":"m","messages":[`+tt.messages+`]}`)
			assert.Equal(t, tt.system, r.System)
			assert.Equal(t, tt.want, r.Messages)
			assert.Empty(t, r.Unsupported)
		})
	}
}

func TestOpenAIDecodeRequestListsWhatOthersCannotHonour(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		msg   string // a message instead of the default one
		want  []string
	}{
		{"n > 1", `"n":2`, "", []string{"n"}},
		{"logprobs", `"logprobs":true,"top_logprobs":3`, "", []string{"logprobs", "top_logprobs"}},
		{"logit_bias", `"logit_bias":{"50256":-100}`, "", []string{"logit_bias"}},
		{"penalties", `"presence_penalty":0.5,"frequency_penalty":-1`, "", []string{"presence_penalty", "frequency_penalty"}},
		{"seed", `"seed":42`, "", []string{"seed"}},
		{"audio output", `"modalities":["text","audio"],"audio":{"voice":"alloy","format":"wav"}`, "", []string{"audio", "modalities"}},
		{"prediction", `"prediction":{"type":"content","content":"x"}`, "", []string{"prediction"}},
		{"web_search_options", `"web_search_options":{}`, "", []string{"web_search_options"}},
		{"legacy functions", `"functions":[{"name":"f"}],"function_call":"auto"`, "", []string{"functions", "function_call"}},
		{"verbosity", `"verbosity":"low"`, "", []string{"verbosity"}},
		{"custom tools", `"tools":[{"type":"custom","custom":{"name":"grammar"}}]`, "", []string{"tools[].custom"}},
		{"allowed custom tools", `"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"f"}},{"type":"custom","custom":{"name":"grammar"}}]}}`, "", []string{"tool_choice.allowed_tools.tools[].custom"}},
		{"an unknown response_format", `"response_format":{"type":"grammar"}`, "", []string{"response_format"}},
		{"input audio", "", `{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAA","format":"wav"}}]}`, []string{"messages[].content[].input_audio"}},
		{"files", "", `{"role":"user","content":[{"type":"file","file":{"file_id":"f"}}]}`, []string{"messages[].content[].file"}},
		{"a data URL that is not base64", "", `{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/svg+xml,<svg/>"}}]}`, []string{"messages[].content[].image_url"}},
		{"assistant audio", "", `{"role":"assistant","audio":{"id":"a1"}}`, []string{"messages[].audio"}},
		{"function messages", "", `{"role":"function","name":"f","content":"r"}`, []string{`messages[].role "function"`}},
		{"each listed once", `"n":3`, `{"role":"user","content":[{"type":"file","file":{}},{"type":"file","file":{}}]}`, []string{"n", "messages[].content[].file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := tt.msg
			if msg == "" {
				msg = `{"role":"user","content":"hi"}`
			}
			body := `{"model":"m","messages":[` + msg + `]`
			if tt.extra != "" {
				body += "," + tt.extra
			}
			r := openAITestDecode(t, body+"}")
			assert.ElementsMatch(t, tt.want, r.Unsupported)
		})
	}
}

// An allowed_tools tool choice is auto or required over the function
// tools it names.
func TestOpenAIDecodeRequestAllowedTools(t *testing.T) {
	const tools = `"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}},{"type":"function","function":{"name":"h"}}]`
	for _, tc := range []struct {
		name, choice string
		want         ToolChoice
	}{
		{"auto", `{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}}]}}`,
			ToolChoice{Mode: ToolChoiceAuto, Allowed: []string{"f", "g"}}},
		{"required", `{"type":"allowed_tools","allowed_tools":{"tools":[{"type":"function","function":{"name":"h"}}],"mode":"required"}}`,
			ToolChoice{Mode: ToolChoiceRequired, Allowed: []string{"h"}}},
		{"every tool", `{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}},{"type":"function","function":{"name":"h"}}]}}`,
			ToolChoice{Mode: ToolChoiceRequired, Allowed: []string{"f", "g", "h"}}},
		{"escaped names", `{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"\u0066"}}]}}`,
			ToolChoice{Mode: ToolChoiceAuto, Allowed: []string{"f"}}},
		{"a name listed twice is one tool", `{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"g"}},{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}}]}}`,
			ToolChoice{Mode: ToolChoiceAuto, Allowed: []string{"g", "f"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openAITestDecode(t, `{"model":"m","messages":[{"role":"user","content":"hi"}],`+tools+`,"tool_choice":`+tc.choice+`}`)
			assert.Equal(t, tc.want, r.ToolChoice)
			assert.Empty(t, r.Unsupported)
		})
	}
	for _, tc := range []struct{ name, choice string }{
		{"no allowed_tools", `{"type":"allowed_tools"}`},
		{"no mode", `{"type":"allowed_tools","allowed_tools":{"tools":[{"type":"function","function":{"name":"f"}}]}}`},
		{"an unknown mode", `{"type":"allowed_tools","allowed_tools":{"mode":"none","tools":[{"type":"function","function":{"name":"f"}}]}}`},
		{"no tools", `{"type":"allowed_tools","allowed_tools":{"mode":"auto"}}`},
		{"an empty list", `{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}}`},
		{"a function without a name", `{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{}}]}}`},
		{"a name that is not a string", `{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":1}}]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := openAICodec{}.DecodeRequest([]byte(`{"model":"m","messages":[],`+tools+`,"tool_choice":`+tc.choice+`}`), RequestMeta{})
			assert.ErrorIs(t, err, errOpenAIMalformed)
		})
	}
}

// A subset of the tools is written as an allowed_tools tool choice, every
// tool still in tools; a subset naming a tool the request lacks is
// refused. An OpenAI caller's comes back as it was.
func TestOpenAIEncodeRequestAllowedTools(t *testing.T) {
	user := []Message{{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "hi"}}}}
	tools := []Tool{{Name: "f"}, {Name: "g"}}
	const prefix = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}}]`
	for _, tc := range []struct {
		name   string
		choice ToolChoice
		want   string
	}{
		{"auto", ToolChoice{Mode: ToolChoiceAuto, Allowed: []string{"g"}},
			`,"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"g"}}]}}`},
		{"required", ToolChoice{Mode: ToolChoiceRequired, Allowed: []string{"g", "f"}},
			`,"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"g"}},{"type":"function","function":{"name":"f"}}]}}`},
		{"none reads no subset", ToolChoice{Mode: ToolChoiceNone, Allowed: []string{"g"}}, `,"tool_choice":"none"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := openAICodec{}.EncodeRequest(&Request{Messages: user, Tools: tools, ToolChoice: tc.choice}, "gpt-4o")
			require.NoError(t, err)
			assert.Equal(t, prefix+tc.want+`}`, string(out))
			if tc.choice.Mode != ToolChoiceNone {
				assert.Equal(t, tc.choice, openAITestDecode(t, string(out)).ToolChoice)
			}
		})
	}
	for _, tc := range []struct {
		name  string
		tools []Tool
	}{{"a tool the request lacks", tools}, {"no tools", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := openAICodec{}.EncodeRequest(&Request{Messages: user, Tools: tc.tools,
				ToolChoice: ToolChoice{Mode: ToolChoiceAuto, Allowed: []string{"f", "x"}}}, "gpt-4o")
			var u *UnsupportedError
			require.ErrorAs(t, err, &u)
			assert.Equal(t, "tool_choice", u.Param)
			assert.Equal(t, provider.FormatOpenAIChat, u.Target)
		})
	}
}

func TestOpenAIDecodeRequestRejectsWhatIsNotARequest(t *testing.T) {
	tests := []struct{ name, body string }{
		{"not JSON", `{"model":`},
		{"not an object", `[1]`},
		{"no messages", `{"model":"m"}`},
		{"messages not an array", `{"model":"m","messages":{}}`},
		{"a message that is not an object", `{"messages":["hi"]}`},
		{"an unknown role", `{"messages":[{"role":"robot","content":"x"}]}`},
		{"a number for a string", `{"model":1,"messages":[]}`},
		{"a string for a number", `{"messages":[],"temperature":"hot"}`},
		{"a fractional max_tokens", `{"messages":[],"max_tokens":1.5}`},
		{"a temperature beyond a float64", `{"messages":[],"temperature":1e400}`},
		{"an unknown tool_choice", `{"messages":[],"tool_choice":"sometimes"}`},
		{"an image part in a system message", `{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x"}}]}]}`},
		{"an image without url", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}`},
		{"trailing junk", `{"messages":[]} x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openAICodec{}.DecodeRequest([]byte(tt.body), RequestMeta{})
			require.Error(t, err)
			assert.ErrorIs(t, err, errOpenAIMalformed)
		})
	}
}

// An Anthropic caller's request, as its decoder reads it, written for an
// OpenAI model.
func openAITestForeignRequest() *Request {
	return &Request{
		Model:  "claude-sonnet-4-5",
		Stream: true,
		System: []Part{{Kind: PartText, Text: "You are terse."}, {Kind: PartText, Text: "Answer in French."}},
		Messages: []Message{
			{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "Weather <Paris>?"}}},
			{Role: RoleAssistant, Parts: []Part{
				{Kind: PartThinking, Text: "need a tool", Signature: "sig=="},
				{Kind: PartText, Text: "Checking"},
				{Kind: PartText, Text: " now."},
				{Kind: PartToolCall, ID: "toolu_1", Name: "get_weather", Arguments: `{"city":"Paris"}`},
				{Kind: PartToolCall, ID: "toolu_2", Name: "get_time"},
			}},
			{Role: RoleUser, Parts: []Part{
				{Kind: PartToolResult, ID: "toolu_1", Name: "get_weather", Text: "18C"},
				{Kind: PartToolResult, ID: "toolu_2", Name: "get_time", Text: "clock broken", IsError: true},
				{Kind: PartText, Text: "And this?"},
				{Kind: PartImage, MediaType: "image/png", Data: "iVBORw0KGgo="},
			}},
		},
		Tools: []Tool{
			{Name: "get_weather", Description: "Weather now", Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}}}`)},
			{Name: "get_time", Parameters: []byte(`{"type":"object"}`)},
		},
		ToolChoice:        ToolChoice{Mode: ToolChoiceRequired},
		ParallelToolCalls: openAITestPtr(false),
		MaxTokens:         1024,
		Temperature:       openAITestPtr(0.2),
		TopP:              openAITestPtr(1.0),
		Stop:              []string{"###"},
		User:              "user-42",
		Reasoning:         Reasoning{BudgetTokens: 8000},
	}
}

func TestOpenAIEncodeRequestWritesEveryField(t *testing.T) {
	got, err := openAICodec{}.EncodeRequest(openAITestForeignRequest(), "gpt-4.1")
	require.NoError(t, err)
	want := `{"model":"gpt-4.1","messages":[` +
		`{"role":"system","content":"You are terse.\n\nAnswer in French."},` +
		`{"role":"user","content":"Weather <Paris>?"},` +
		`{"role":"assistant","content":"Checking now.","tool_calls":[` +
		`{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},` +
		`{"id":"toolu_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},` +
		`{"role":"tool","tool_call_id":"toolu_1","content":"18C"},` +
		`{"role":"tool","tool_call_id":"toolu_2","content":"clock broken"},` +
		`{"role":"user","content":[{"type":"text","text":"And this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},` +
		`{"type":"function","function":{"name":"get_time","parameters":{"type":"object"}}}],` +
		`"tool_choice":"required","parallel_tool_calls":false,` +
		`"max_tokens":1024,"temperature":0.2,"top_p":1,"stop":["###"],"user":"user-42","reasoning_effort":"medium",` +
		`"stream":true,"stream_options":{"include_usage":true}}`
	assert.Equal(t, want, string(got))
	assert.True(t, json.Valid(got))
}

func TestOpenAIEncodeRequestFields(t *testing.T) {
	base := func() *Request {
		return &Request{Model: "m", Messages: []Message{{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "hi"}}}}}
	}
	const head = `{"model":"m","messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name   string
		model  string
		edit   func(r *Request)
		suffix string
	}{
		{"nothing more", "", func(*Request) {}, `}`},
		{"the target's model replaces the caller's", "gpt-4o-mini", func(*Request) {}, ``},
		{"max_completion_tokens for a reasoning model", "o3-mini", func(r *Request) { r.MaxTokens = 5 }, `,"max_completion_tokens":5}`},
		{"max_completion_tokens for gpt-5", "gpt-5-mini", func(r *Request) { r.MaxTokens = 5 }, `,"max_completion_tokens":5}`},
		{"max_tokens for others", "", func(r *Request) { r.MaxTokens = 5 }, `,"max_tokens":5}`},
		{"an effort as it is", "", func(r *Request) { r.Reasoning = Reasoning{Effort: "high", BudgetTokens: 100} }, `,"reasoning_effort":"high"}`},
		{"a small budget is minimal", "", func(r *Request) { r.Reasoning = Reasoning{BudgetTokens: 1024} }, `,"reasoning_effort":"minimal"}`},
		{"disabled thinking sends no effort", "", func(r *Request) { r.Reasoning = Reasoning{Disabled: true, Effort: "low"} }, `}`},
		{"IncludeThoughts alone sends nothing", "", func(r *Request) { r.Reasoning = Reasoning{IncludeThoughts: true} }, `}`},
		{"json_object", "", func(r *Request) { r.ResponseFormat = "json_object" }, `,"response_format":{"type":"json_object"}}`},
		{"text", "", func(r *Request) { r.ResponseFormat = "text" }, `,"response_format":{"type":"text"}}`},
		{"json_schema gets a name", "", func(r *Request) {
			r.ResponseFormat, r.ResponseSchema = "json_schema", []byte(`{"type":"object"}`)
		}, `,"response_format":{"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object"}}}}`},
		{"tool_choice and parallel_tool_calls only with tools", "", func(r *Request) {
			r.ToolChoice = ToolChoice{Mode: ToolChoiceNone}
			r.ParallelToolCalls = openAITestPtr(true)
		}, `}`},
		{"a named tool choice", "", func(r *Request) {
			r.Tools = []Tool{{Name: "f"}}
			r.ToolChoice = ToolChoice{Mode: ToolChoiceTool, Name: "f"}
		}, `,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"f"}}}`},
		{"tool_choice auto and none", "", func(r *Request) {
			r.Tools = []Tool{{Name: "f"}}
			r.ToolChoice = ToolChoice{Mode: ToolChoiceAuto}
		}, `,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"auto"}`},
		{"a stream always asks for its usage", "", func(r *Request) { r.Stream = true }, `,"stream":true,"stream_options":{"include_usage":true}}`},
		{"stop sequences", "", func(r *Request) { r.Stop = []string{"a", "b"} }, `,"stop":["a","b"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base()
			tt.edit(r)
			got, err := openAICodec{}.EncodeRequest(r, tt.model)
			require.NoError(t, err)
			want := head + tt.suffix
			if tt.model != "" {
				want = strings.Replace(want, `"model":"m"`, `"model":"`+tt.model+`"`, 1)
			}
			if tt.suffix == `` {
				want += "}"
			}
			assert.Equal(t, want, string(got))
		})
	}
}

func TestOpenAIEncodeRequestMessages(t *testing.T) {
	tests := []struct {
		name string
		msgs []Message
		want string
	}{
		{"a user turn of tool results alone is tool messages only", []Message{
			{Role: RoleUser, Parts: []Part{{Kind: PartToolResult, ID: "a", Text: `{"ok":true}`, JSON: true}}},
		}, `{"role":"tool","tool_call_id":"a","content":"{\"ok\":true}"}`},
		{"an image by URL", []Message{
			{Role: RoleUser, Parts: []Part{{Kind: PartImage, URL: "https://x/y.png"}}},
		}, `{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}`},
		{"an empty user turn", []Message{{Role: RoleUser}}, `{"role":"user","content":""}`},
		{"a turn of thinking only is an empty assistant message", []Message{
			{Role: RoleAssistant, Parts: []Part{{Kind: PartThinking, Redacted: "xx"}}},
		}, `{"role":"assistant","content":""}`},
		{"thinking in a user turn is dropped", []Message{
			{Role: RoleUser, Parts: []Part{{Kind: PartThinking, Text: "t"}, {Kind: PartText, Text: "q"}}},
		}, `{"role":"user","content":"q"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := openAICodec{}.EncodeRequest(&Request{Model: "m", Messages: tt.msgs}, "")
			require.NoError(t, err)
			assert.Equal(t, `{"model":"m","messages":[`+tt.want+`]}`, string(got))
		})
	}
}

func TestOpenAIEncodeRequestRefuses(t *testing.T) {
	user := []Message{{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "hi"}}}}
	tests := []struct {
		name  string
		r     *Request
		param string // "" for an error that is no UnsupportedError
	}{
		{"top_k", &Request{Messages: user, TopK: openAITestPtr(int64(5))}, "top_k"},
		{"what the caller's decoder listed", &Request{Messages: user, Unsupported: []string{"cache_control", "x"}}, "cache_control"},
		{"a response format chat completions lacks", &Request{Messages: user, ResponseFormat: "text/x.enum"}, "response_format"},
		{"an image in an assistant turn", &Request{Messages: []Message{{Role: RoleAssistant, Parts: []Part{{Kind: PartImage, Data: "x", MediaType: "image/png"}}}}}, "an image in an assistant turn"},
		{"a tool result in an assistant turn", &Request{Messages: []Message{{Role: RoleAssistant, Parts: []Part{{Kind: PartToolResult}}}}}, ""},
		{"a tool call in a user turn", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{{Kind: PartToolCall}}}}}, ""},
		{"a message without a role", &Request{Messages: []Message{{Parts: []Part{{Kind: PartText}}}}}, ""},
		{"tool parameters that are not JSON", &Request{Messages: user, Tools: []Tool{{Name: "f", Parameters: []byte(`{`)}}}, ""},
		{"a named tool choice without a name", &Request{Messages: user, Tools: []Tool{{Name: "f"}}, ToolChoice: ToolChoice{Mode: ToolChoiceTool}}, ""},
		{"an image with nothing", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{{Kind: PartImage}, {Kind: PartText}}}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openAICodec{}.EncodeRequest(tt.r, "gpt-4o")
			require.Error(t, err)
			var u *UnsupportedError
			if tt.param == "" {
				assert.NotErrorAs(t, err, &u)
				return
			}
			require.ErrorAs(t, err, &u)
			assert.Equal(t, tt.param, u.Param)
			assert.Equal(t, provider.FormatOpenAIChat, u.Target)
		})
	}
}

func TestOpenAIRequestRoundTripKeepsWhatMatters(t *testing.T) {
	// One system message: several are joined into one on the way out.
	body := strings.Replace(openAITestFullRequest, `{"role":"system","content":[{"type":"text","text":"Use metric."}]},`, ``, 1)
	first := openAITestDecode(t, body)
	out, err := openAICodec{}.EncodeRequest(first, "")
	require.NoError(t, err)
	second := openAITestDecode(t, string(out))
	assert.Equal(t, first, second)
}

const openAITestResponse = `{
  "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
  "object": "chat.completion",
  "created": 1741570283,
  "model": "gpt-4o-2024-08-06",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "Let me check both.",
        "tool_calls": [
          {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
          {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
        ],
        "refusal": null,
        "annotations": []
      },
      "logprobs": null,
      "finish_reason": "tool_calls"
    }
  ],
  "usage": {
    "prompt_tokens": 1117,
    "completion_tokens": 46,
    "total_tokens": 1163,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 10, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default",
  "system_fingerprint": "fp_fc9f1d7035"
}`

func TestOpenAIDecodeResponse(t *testing.T) {
	r, err := openAICodec{}.DecodeResponse([]byte(openAITestResponse))
	require.NoError(t, err)
	assert.Equal(t, &Response{
		ID:    "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
		Model: "gpt-4o-2024-08-06",
		Parts: []Part{
			{Kind: PartText, Text: "Let me check both."},
			{Kind: PartToolCall, ID: "call_a", Name: "get_weather", Arguments: `{"city":"Paris"}`},
			{Kind: PartToolCall, ID: "call_b", Name: "get_time", Arguments: `{}`},
		},
		Finish:     FinishToolCalls,
		Usage:      provider.Usage{InputTokens: 1117, OutputTokens: 46, CacheReadTokens: 1024, ReasoningTokens: 10},
		UsageKnown: true,
		Created:    1741570283,
	}, r)
}

func TestOpenAIDecodeResponseVariants(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *Response
	}{
		{"a refusal is text that content_filter ended",
			`{"id":"x","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}`,
			&Response{ID: "x", Model: "m", Parts: []Part{{Kind: PartText, Text: "I can't help with that."}}, Finish: FinishContentFilter}},
		{"reasoning_content is thinking, ahead of the text",
			`{"id":"x","model":"deepseek-reasoner","choices":[{"index":0,"message":{"role":"assistant","content":"9.11 < 9.9","reasoning_content":"Compare decimals."},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30,"prompt_cache_hit_tokens":8,"prompt_cache_miss_tokens":2,"prompt_tokens_details":{"cached_tokens":1},"completion_tokens_details":{"reasoning_tokens":15}}}`,
			&Response{ID: "x", Model: "deepseek-reasoner", Parts: []Part{{Kind: PartThinking, Text: "Compare decimals."}, {Kind: PartText, Text: "9.11 < 9.9"}},
				Finish: FinishStop, Usage: provider.Usage{InputTokens: 10, OutputTokens: 20, CacheReadTokens: 8, ReasoningTokens: 15}, UsageKnown: true}},
		{"OpenRouter's reasoning",
			`{"id":"x","model":"m","choices":[{"message":{"content":"a","reasoning":"r"},"finish_reason":"length"}]}`,
			&Response{ID: "x", Model: "m", Parts: []Part{{Kind: PartThinking, Text: "r"}, {Kind: PartText, Text: "a"}}, Finish: FinishLength}},
		{"Mistral's content chunks",
			`{"id":"x","model":"magistral","choices":[{"index":0,"message":{"content":[{"type":"thinking","thinking":[{"type":"text","text":"hm"}]},{"type":"text","text":"ok"}]},"finish_reason":"stop"}]}`,
			&Response{ID: "x", Model: "magistral", Parts: []Part{{Kind: PartThinking, Text: "hm"}, {Kind: PartText, Text: "ok"}}, Finish: FinishStop}},
		{"the first choice only",
			`{"id":"x","model":"m","choices":[{"index":1,"message":{"content":"b"},"finish_reason":"stop"},{"index":0,"message":{"content":"a"},"finish_reason":"content_filter"}]}`,
			&Response{ID: "x", Model: "m", Parts: []Part{{Kind: PartText, Text: "a"}}, Finish: FinishContentFilter}},
		{"an empty error member is no error",
			`{"id":"x","model":"m","choices":[{"index":0,"message":{"content":"a"},"finish_reason":"stop"}],"error":{"message":"","type":"","param":"","code":null}}`,
			&Response{ID: "x", Model: "m", Parts: []Part{{Kind: PartText, Text: "a"}}, Finish: FinishStop}},
		{"usage out of bounds is unknown",
			`{"id":"x","model":"m","choices":[],"usage":{"prompt_tokens":-1,"completion_tokens":2,"total_tokens":1}}`,
			&Response{ID: "x", Model: "m"}},
		{"usage parts cut to their whole",
			`{"id":"x","model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":9},"completion_tokens_details":{"reasoning_tokens":3}}}`,
			&Response{ID: "x", Model: "m", Usage: provider.Usage{InputTokens: 5, OutputTokens: 2, CacheReadTokens: 5, ReasoningTokens: 2}, UsageKnown: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := openAICodec{}.DecodeResponse([]byte(tt.body))
			require.NoError(t, err)
			assert.Equal(t, tt.want, r)
		})
	}
}

func TestOpenAIDecodeResponseErrors(t *testing.T) {
	_, err := openAICodec{}.DecodeResponse([]byte(`{"error":{"message":"boom","type":"server_error","param":null,"code":"x"}}`))
	var pe *provider.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, provider.Error{Message: "boom", Type: "server_error", Code: "x"}, *pe)

	_, err = openAICodec{}.DecodeResponse([]byte(`{"id":`))
	assert.ErrorIs(t, err, errOpenAIMalformed)
}

func TestOpenAIFinishReasonsBothWays(t *testing.T) {
	tests := []struct {
		wire   string
		finish Finish
		back   string // written back, "" when wire
	}{
		{"stop", FinishStop, ""},
		{"length", FinishLength, ""},
		{"tool_calls", FinishToolCalls, ""},
		{"function_call", FinishToolCalls, "tool_calls"},
		{"content_filter", FinishContentFilter, ""},
		{"error", FinishError, "stop"},
		{"something_new", FinishUnknown, "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.wire, func(t *testing.T) {
			r, err := openAICodec{}.DecodeResponse([]byte(`{"id":"x","model":"m","choices":[{"index":0,"message":{"content":"a"},"finish_reason":"` + tt.wire + `"}]}`))
			require.NoError(t, err)
			assert.Equal(t, tt.finish, r.Finish)
			events := openAITestDecodeStream(t, `{"id":"x","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"`+tt.wire+`"}]}`)
			require.Len(t, events, 2)
			assert.Equal(t, Event{Kind: EventFinish, Finish: tt.finish}, events[1])

			back := tt.back
			if back == "" {
				back = tt.wire
			}
			out, err := openAICodec{}.EncodeResponse(r)
			require.NoError(t, err)
			assert.Contains(t, string(out), `"finish_reason":"`+back+`"`)
			stream := openAITestEncodeStream(&Request{}, Event{Kind: EventStart, ID: "x"}, Event{Kind: EventFinish, Finish: tt.finish})
			assert.Contains(t, stream, `"finish_reason":"`+back+`"`)
		})
	}
	t.Run("unknown after tool calls", func(t *testing.T) {
		out, err := openAICodec{}.EncodeResponse(&Response{ID: "x", Created: 1, Parts: []Part{{Kind: PartToolCall, ID: "c", Name: "f"}}})
		require.NoError(t, err)
		assert.Contains(t, string(out), `"finish_reason":"tool_calls"`)
	})
}

func TestOpenAIEncodeResponse(t *testing.T) {
	r := &Response{
		ID:    "msg_01XFDUDYJgAACzvnptvVoYEL",
		Model: "claude-sonnet-4-5",
		Parts: []Part{
			{Kind: PartThinking, Text: "hidden", Signature: "s"},
			{Kind: PartText, Text: "Checking "},
			{Kind: PartText, Text: "<both>."},
			{Kind: PartToolCall, ID: "toolu_1", Name: "get_weather", Arguments: `{"city":"Paris"}`},
			{Kind: PartToolCall, ID: "toolu_2", Name: "get_time"},
		},
		Finish:     FinishToolCalls,
		Usage:      provider.Usage{InputTokens: 2095, OutputTokens: 503, CacheReadTokens: 1000, CacheCreationTokens: 1000, ReasoningTokens: 100},
		UsageKnown: true,
		Created:    1741570283,
	}
	got, err := openAICodec{}.EncodeResponse(r)
	require.NoError(t, err)
	want := `{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","object":"chat.completion","created":1741570283,"model":"claude-sonnet-4-5",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"Checking <both>.","tool_calls":[` +
		`{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},` +
		`{"id":"toolu_2","type":"function","function":{"name":"get_time","arguments":"{}"}}],` +
		`"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"tool_calls"}],` +
		`"usage":{"prompt_tokens":2095,"completion_tokens":503,"total_tokens":2598,"prompt_tokens_details":{"cached_tokens":1000,"cache_write_tokens":1000},"completion_tokens_details":{"reasoning_tokens":100}}}`
	assert.Equal(t, want, string(got))

	t.Run("no text is null content; unknown usage and id", func(t *testing.T) {
		before := time.Now().Unix()
		got, err := openAICodec{}.EncodeResponse(&Response{Model: "m", Finish: FinishLength})
		require.NoError(t, err)
		var out struct {
			ID      string
			Created int64
			Choices []struct{ Message struct{ Content *string } }
			Usage   *struct{}
		}
		require.NoError(t, json.Unmarshal(got, &out))
		assert.True(t, strings.HasPrefix(out.ID, "chatcmpl-"), out.ID)
		assert.GreaterOrEqual(t, out.Created, before)
		assert.Nil(t, out.Choices[0].Message.Content)
		assert.Nil(t, out.Usage)
	})
}

func TestOpenAIResponseRoundTrip(t *testing.T) {
	first, err := openAICodec{}.DecodeResponse([]byte(openAITestResponse))
	require.NoError(t, err)
	out, err := openAICodec{}.EncodeResponse(first)
	require.NoError(t, err)
	second, err := openAICodec{}.DecodeResponse(out)
	require.NoError(t, err)
	assert.Equal(t, first, second)
}

// openAITestToolStream is a parallel tool call stream as gpt-4o sends it
// with stream_options.include_usage.
var openAITestToolStream = []string{
	`{"id":"chatcmpl-AB1","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_Ea5p","type":"function","function":{"name":"get_weather","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}`,
	`{"id":"chatcmpl-AB1","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"lo"}}]},"logprobs":null,"finish_reason":null}],"usage":null}`,
	`{"id":"chatcmpl-AB1","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"cation\": \"Paris\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}`,
	`{"id":"chatcmpl-AB1","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_Qx9","type":"function","function":{"name":"get_time","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null}`,
	`{"id":"chatcmpl-AB1","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\": \"CET\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}`,
	`{"id":"chatcmpl-AB1","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}`,
	`{"id":"chatcmpl-AB1","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[],"usage":{"prompt_tokens":80,"completion_tokens":40,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":64,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}`,
	`[DONE]`,
}

func TestOpenAIStreamDecode(t *testing.T) {
	start := Event{Kind: EventStart, ID: "chatcmpl-AB1", Model: "gpt-4o-2024-08-06"}
	done := Event{Kind: EventDone}
	tests := []struct {
		name   string
		events []string
		want   []Event
	}{
		{"two parallel tool calls, their arguments on the right one, usage after the finish", openAITestToolStream, []Event{
			start,
			{Kind: EventToolStart, Tool: 0, ID: "call_Ea5p", Name: "get_weather"},
			{Kind: EventToolArgs, Tool: 0, Text: `{"lo`},
			{Kind: EventToolArgs, Tool: 0, Text: `cation": "Paris"}`},
			{Kind: EventToolStart, Tool: 1, ID: "call_Qx9", Name: "get_time"},
			{Kind: EventToolArgs, Tool: 1, Text: `{"tz": "CET"}`},
			{Kind: EventFinish, Finish: FinishToolCalls},
			{Kind: EventUsage, Usage: provider.Usage{InputTokens: 80, OutputTokens: 40, CacheReadTokens: 64}},
			done,
		}},
		{"DeepSeek's reasoning then text", []string{
			`{"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"logprobs":null,"finish_reason":null}]}`,
			`{"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Compare\n"},"logprobs":null,"finish_reason":null}]}`,
			`{"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":"9.9","reasoning_content":null},"logprobs":null,"finish_reason":null}]}`,
			`{"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":13,"completion_tokens":40,"total_tokens":53,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":30},"prompt_cache_hit_tokens":8,"prompt_cache_miss_tokens":5}}`,
			`[DONE]`,
		}, []Event{
			{Kind: EventStart, ID: "d1", Model: "deepseek-reasoner"},
			{Kind: EventThinking, Text: "Compare\n"},
			{Kind: EventText, Text: "9.9"},
			{Kind: EventFinish, Finish: FinishStop},
			{Kind: EventUsage, Usage: provider.Usage{InputTokens: 13, OutputTokens: 40, CacheReadTokens: 8, ReasoningTokens: 30}},
			done,
		}},
		{"a refusal ends in content_filter", []string{
			`{"id":"r","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":""},"finish_reason":null}]}`,
			`{"id":"r","model":"m","choices":[{"index":0,"delta":{"refusal":"I can't"},"finish_reason":null}]}`,
			`{"id":"r","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
		}, []Event{
			{Kind: EventStart, ID: "r", Model: "m"},
			{Kind: EventText, Text: "I can't"},
			{Kind: EventFinish, Finish: FinishContentFilter},
		}},
		{"an error after some text, and nothing read after [DONE]", []string{
			`{"id":"e","model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}`,
			`{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`,
			`[DONE]`,
			`{"id":"e","model":"m","choices":[{"index":0,"delta":{"content":"late"},"finish_reason":null}]}`,
		}, []Event{
			{Kind: EventStart, ID: "e", Model: "m"},
			{Kind: EventText, Text: "Hel"},
			{Kind: EventError, Err: &provider.Error{Message: "The server had an error while processing your request. Sorry about that!", Type: "server_error"}},
			done,
		}},
		{"an event named error", []string{
			`error|{"message":"overloaded","type":"overloaded_error","code":"o"}`,
		}, []Event{
			{Kind: EventError, Err: &provider.Error{Message: "overloaded", Type: "overloaded_error", Code: "o"}},
		}},
		{"an empty error member in a success is no error", []string{
			`{"id":"x","model":"m","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}],"error":{"message":"","type":"","param":"","code":null}}`,
		}, []Event{{Kind: EventStart, ID: "x", Model: "m"}, {Kind: EventText, Text: "a"}}},
		{"parallel calls all at index 0, told apart by their ids", []string{
			`{"id":"x","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"f","arguments":"{}"}}]}}]}`,
			`{"id":"x","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"b","type":"function","function":{"name":"g","arguments":"{\"k\""}}]}}]}`,
			`{"id":"x","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]}}]}`,
		}, []Event{
			{Kind: EventStart, ID: "x", Model: "m"},
			{Kind: EventToolStart, Tool: 0, ID: "a", Name: "f"},
			{Kind: EventToolArgs, Tool: 0, Text: "{}"},
			{Kind: EventToolStart, Tool: 1, ID: "b", Name: "g"},
			{Kind: EventToolArgs, Tool: 1, Text: `{"k"`},
			{Kind: EventToolArgs, Tool: 1, Text: ":1}"},
		}},
		{"calls without an index (Gemini's endpoint), two in one delta", []string{
			`{"id":"x","model":"gemini-2.5-flash","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"id":"function-call-1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},{"id":"function-call-2","type":"function","function":{"name":"g","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`,
		}, []Event{
			{Kind: EventStart, ID: "x", Model: "gemini-2.5-flash"},
			{Kind: EventToolStart, Tool: 0, ID: "function-call-1", Name: "f"},
			{Kind: EventToolArgs, Tool: 0, Text: `{"a":1}`},
			{Kind: EventToolStart, Tool: 1, ID: "function-call-2", Name: "g"},
			{Kind: EventToolArgs, Tool: 1, Text: `{}`},
			{Kind: EventFinish, Finish: FinishToolCalls},
		}},
		{"older Groq usage under x_groq, other choices skipped", []string{
			`{"id":"g","model":"llama","choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"mine"},"finish_reason":"length"}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}}`,
		}, []Event{
			{Kind: EventStart, ID: "g", Model: "llama"},
			{Kind: EventText, Text: "mine"},
			{Kind: EventFinish, Finish: FinishLength},
			{Kind: EventUsage, Usage: provider.Usage{InputTokens: 3, OutputTokens: 4}},
		}},
		{"Azure's prompt filter chunk does not start the answer", []string{
			`{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}`,
			`{"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1741570283,"id":"chatcmpl-AZ","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_b705f0c291"}`,
			`{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Hi"},"finish_reason":null,"index":0,"logprobs":null}],"created":1741570283,"id":"chatcmpl-AZ","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_b705f0c291"}`,
		}, []Event{{Kind: EventStart, ID: "chatcmpl-AZ", Model: "gpt-4o-2024-11-20"}, {Kind: EventText, Text: "Hi"}}},
		{"a usage chunk first still starts the answer", []string{
			`{"id":"u","model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}}`,
		}, []Event{{Kind: EventStart, ID: "u", Model: "m"}, {Kind: EventUsage, Usage: provider.Usage{InputTokens: 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, openAITestDecodeStream(t, tt.events...))
		})
	}
}

func TestOpenAIStreamDecodeRejectsWhatIsNotAChunk(t *testing.T) {
	for _, data := range []string{`{"id":`, `[1,2]`, `hello`, `{"choices":[{"delta":{"tool_calls":[1]}}]}`, `{"choices":{}}`} {
		t.Run(data, func(t *testing.T) {
			err := openAICodec{}.NewStreamDecoder().Decode(nil, []byte(data), func(*Event) {})
			assert.ErrorIs(t, err, errOpenAIMalformed)
		})
	}
}

// The fake OpenAI upstream's stream, read through the SSE scanner as the
// stack reads it.
func TestOpenAIStreamDecodeReadsTheFakeUpstream(t *testing.T) {
	tr := llmtest.NewTransport(llmtest.WithReply("One two three."), llmtest.WithUsage(llmtest.Usage{InputTokens: 20, OutputTokens: 3, CacheReadTokens: 8}))
	resp, err := tr.Client().Post(tr.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Count"}]}`))
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)

	var sc sse.Scanner
	sc.Feed(body)
	sc.Flush()
	d := openAICodec{}.NewStreamDecoder()
	var rec openAITestRecorder
	for sc.Next() {
		ev := sc.Event()
		require.NoError(t, d.Decode(ev.Name, ev.Data, rec.emit))
	}
	var text strings.Builder
	kinds := []EventKind{}
	for _, e := range rec.events {
		kinds = append(kinds, e.Kind)
		text.WriteString(e.Text)
	}
	assert.Equal(t, "One two three.", text.String())
	assert.Equal(t, []EventKind{EventStart, EventText, EventText, EventText, EventFinish, EventUsage, EventDone}, kinds)
	assert.Equal(t, "gpt-4o-mini", rec.events[0].Model)
	assert.Equal(t, provider.Usage{InputTokens: 20, OutputTokens: 3, CacheReadTokens: 8}, rec.events[5].Usage)
}

const (
	openAITestHead       = `data: {"id":"msg_1","object":"chat.completion.chunk","created":1700000000,"model":"claude-x","choices":[`
	openAITestNoUsage    = "]}\n\n"
	openAITestUsageNull  = "],\"usage\":null}\n\n"
	openAITestRoleChunk  = `{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}`
	openAITestDoneMarker = "data: [DONE]\n\n"
)

func TestOpenAIStreamEncode(t *testing.T) {
	events := []Event{
		{Kind: EventStart, ID: "msg_1", Model: "claude-x", Usage: provider.Usage{InputTokens: 9}},
		{Kind: EventThinking, Text: "hidden"},
		{Kind: EventText, Text: "Hi \"you\"\n"},
		{Kind: EventText},
		{Kind: EventToolStart, Tool: 0, ID: "toolu_1", Name: "get_weather"},
		{Kind: EventToolArgs, Tool: 0, Text: `{"city":`},
		{Kind: EventToolArgs, Tool: 0, Text: `"Paris"}`},
		{Kind: EventToolStart, Tool: 1, ID: "toolu_2", Name: "get_time"},
		{Kind: EventFinish, Finish: FinishToolCalls},
		{Kind: EventUsage, Usage: provider.Usage{InputTokens: 30, OutputTokens: 12, CacheReadTokens: 20, CacheCreationTokens: 5}},
		{Kind: EventDone},
	}
	body := func(tail string) []string {
		return []string{
			openAITestHead + openAITestRoleChunk + tail,
			openAITestHead + `{"index":0,"delta":{"content":"Hi \"you\"\n"},"logprobs":null,"finish_reason":null}` + tail,
			openAITestHead + `{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}` + tail,
			openAITestHead + `{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"logprobs":null,"finish_reason":null}` + tail,
			openAITestHead + `{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"logprobs":null,"finish_reason":null}` + tail,
			openAITestHead + `{"index":0,"delta":{"tool_calls":[{"index":1,"id":"toolu_2","type":"function","function":{"name":"get_time","arguments":""}}]},"logprobs":null,"finish_reason":null}` + tail,
			// get_time streamed no arguments: "{}", as OpenAI sends for a call without any.
			openAITestHead + `{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]},"logprobs":null,"finish_reason":null}` + tail,
			openAITestHead + `{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}` + tail,
		}
	}
	t.Run("without stream usage the usage stays hidden", func(t *testing.T) {
		want := strings.Join(body(openAITestNoUsage), "") + openAITestDoneMarker
		assert.Equal(t, want, openAITestEncodeStream(&Request{}, events...))
	})
	t.Run("with stream usage, the usage chunk after the finish", func(t *testing.T) {
		usage := openAITestHead + `],"usage":{"prompt_tokens":30,"completion_tokens":12,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":20,"cache_write_tokens":5},"completion_tokens_details":{"reasoning_tokens":0}}}` + "\n\n"
		want := strings.Join(body(openAITestUsageNull), "") + usage + openAITestDoneMarker
		assert.Equal(t, want, openAITestEncodeStream(&Request{StreamUsage: true}, events...))
	})
}

func TestOpenAIStreamEncodeUsageTiming(t *testing.T) {
	usage := func(in int64) string {
		u := openAIAppendUsage(nil, provider.Usage{InputTokens: in, OutputTokens: 1})
		return `],"usage":` + string(u) + "}\n\n"
	}
	start := Event{Kind: EventStart, ID: "msg_1", Model: "claude-x"}
	finish := Event{Kind: EventFinish, Finish: FinishStop}
	finishChunk := openAITestHead + `{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}` + openAITestUsageNull
	u := func(in int64) Event {
		return Event{Kind: EventUsage, Usage: provider.Usage{InputTokens: in, OutputTokens: 1}}
	}
	tests := []struct {
		name   string
		events []Event
		want   string
	}{
		{"usage before the finish waits for the end, the last one written", []Event{start, u(1), u(2), finish, {Kind: EventDone}},
			openAITestHead + openAITestRoleChunk + openAITestUsageNull + finishChunk + openAITestHead + usage(2) + openAITestDoneMarker},
		{"usage after the finish goes out at once, again when it changes, not twice the same", []Event{start, u(1), finish, u(2), u(2), u(3), {Kind: EventDone}},
			openAITestHead + openAITestRoleChunk + openAITestUsageNull + finishChunk + openAITestHead + usage(2) + openAITestHead + usage(3) + openAITestDoneMarker},
		{"no usage, no usage chunk", []Event{start, finish, {Kind: EventDone}},
			openAITestHead + openAITestRoleChunk + openAITestUsageNull + finishChunk + openAITestDoneMarker},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, openAITestEncodeStream(&Request{StreamUsage: true}, tt.events...))
		})
	}
}

func TestOpenAIStreamEncodeError(t *testing.T) {
	got := openAITestEncodeStream(&Request{},
		Event{Kind: EventStart, ID: "msg_1", Model: "claude-x"},
		Event{Kind: EventText, Text: "Hel"},
		Event{Kind: EventError, Err: &provider.Error{Type: "overloaded_error", Message: "Overloaded"}},
		Event{Kind: EventText, Text: "lo"},
		Event{Kind: EventDone},
	)
	want := openAITestHead + openAITestRoleChunk + openAITestNoUsage +
		openAITestHead + `{"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null}` + openAITestNoUsage +
		`data: {"error":{"message":"Overloaded","type":"server_error","param":null,"code":null}}` + "\n\n"
	assert.Equal(t, want, got)
}

func TestOpenAIStreamEncodeWithoutStart(t *testing.T) {
	s := openAITestEncoder(&Request{})
	out := string(s.Encode(nil, &Event{Kind: EventText, Text: "a"}))
	out += string(s.Encode(nil, &Event{Kind: EventDone}))
	out += string(s.Encode(nil, &Event{Kind: EventText, Text: "after"}))

	var ids []string
	var sc sse.Scanner
	sc.Feed([]byte(out))
	sc.Flush()
	for sc.Next() {
		data := sc.Event().Data
		if string(data) == "[DONE]" {
			continue
		}
		var c struct{ ID string }
		require.NoError(t, json.Unmarshal(data, &c))
		ids = append(ids, c.ID)
	}
	require.Len(t, ids, 2, out)
	assert.True(t, strings.HasPrefix(ids[0], "chatcmpl-"), ids[0])
	assert.Equal(t, ids[0], ids[1])
	assert.True(t, strings.HasSuffix(out, openAITestDoneMarker))
}

// A stream decoded and encoded again says the same.
func TestOpenAIStreamRoundTrip(t *testing.T) {
	first := openAITestDecodeStream(t, openAITestToolStream...)
	enc := openAITestEncoder(&Request{StreamUsage: true})
	var out []byte
	for i := range first {
		out = enc.Encode(out, &first[i])
	}
	var sc sse.Scanner
	sc.Feed(out)
	sc.Flush()
	var lines []string
	for sc.Next() {
		lines = append(lines, string(sc.Event().Data))
	}
	assert.Equal(t, first, openAITestDecodeStream(t, lines...))
}

func TestOpenAIEncodeError(t *testing.T) {
	tests := []struct {
		name string
		in   provider.Error
		want string
	}{
		{"OpenAI's own stays", provider.Error{Status: 400, Type: "invalid_request_error", Code: "context_length_exceeded", Message: "too long"},
			`{"error":{"message":"too long","type":"invalid_request_error","param":null,"code":"context_length_exceeded"}}`},
		{"Anthropic's rate limit", provider.Error{Status: 429, Type: "rate_limit_error", Message: "slow down"},
			`{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
		{"Anthropic's spend limit is insufficient_quota", provider.Error{Status: 429, Type: "rate_limit_error", Code: "enforced_spend_limit_reached", Message: "limit"},
			`{"error":{"message":"limit","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`},
		{"billing", provider.Error{Status: 402, Type: "billing_error", Message: "pay"},
			`{"error":{"message":"pay","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`},
		{"overloaded", provider.Error{Status: 529, Type: "overloaded_error", Message: "Overloaded"},
			`{"error":{"message":"Overloaded","type":"server_error","param":null,"code":null}}`},
		{"authentication", provider.Error{Status: 401, Type: "authentication_error", Message: "invalid x-api-key"},
			`{"error":{"message":"invalid x-api-key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`},
		{"permission", provider.Error{Status: 403, Type: "permission_error", Message: "no"},
			`{"error":{"message":"no","type":"request_forbidden","param":null,"code":null}}`},
		{"not found", provider.Error{Status: 404, Type: "not_found_error", Message: "model: x"},
			`{"error":{"message":"model: x","type":"invalid_request_error","param":null,"code":null}}`},
		{"Gemini's exhausted", provider.Error{Status: 429, Type: "RESOURCE_EXHAUSTED", Message: "quota"},
			`{"error":{"message":"quota","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
		{"Gemini's invalid argument keeps its reason", provider.Error{Status: 400, Type: "INVALID_ARGUMENT", Code: "API_KEY_INVALID", Message: "bad key"},
			`{"error":{"message":"bad key","type":"invalid_request_error","param":null,"code":"API_KEY_INVALID"}}`},
		{"Gemini's unavailable", provider.Error{Status: 503, Type: "UNAVAILABLE", Message: "busy"},
			`{"error":{"message":"busy","type":"server_error","param":null,"code":null}}`},
		{"no type: from the status", provider.Error{Status: 429, Message: "x"},
			`{"error":{"message":"x","type":"requests","param":null,"code":"rate_limit_exceeded"}}`},
		{"no type, a 4xx", provider.Error{Status: 413, Message: "x"},
			`{"error":{"message":"x","type":"invalid_request_error","param":null,"code":null}}`},
		{"a mid-stream error without anything", provider.Error{},
			`{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`},
		{"no message: the status text", provider.Error{Status: 404},
			`{"error":{"message":"Not Found","type":"invalid_request_error","param":null,"code":null}}`},
		{"a compatible server's own type stays, escaped", provider.Error{Status: 500, Type: "weird", Message: "a \"b\" <c>"},
			`{"error":{"message":"a \"b\" <c>","type":"weird","param":null,"code":null}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, string(openAICodec{}.EncodeError(&tt.in)))
		})
	}
	assert.True(t, json.Valid(openAICodec{}.EncodeError(nil)))
}

// A translated error reads back as the error it was, as the stack's
// scanner reads an upstream's.
func TestOpenAIErrorRoundTrip(t *testing.T) {
	in := &provider.Error{Type: "invalid_request_error", Code: "c", Message: "m"}
	events := openAITestDecodeStream(t, string(openAICodec{}.EncodeError(in)))
	require.Len(t, events, 1)
	assert.Equal(t, in, events[0].Err)
}

func TestOpenAIStreamEventAllocatesNothing(t *testing.T) {
	chunks := map[string]string{
		"text":      `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"usage":null}`,
		"escapes":   `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"line\n\"q\" \u00e9"},"logprobs":null,"finish_reason":null}]}`,
		"tool args": `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"Pa"}}]},"logprobs":null,"finish_reason":null}]}`,
	}
	for name, chunk := range chunks {
		t.Run(name, func(t *testing.T) {
			d := openAICodec{}.NewStreamDecoder()
			enc := openAITestEncoder(&Request{StreamUsage: true})
			dst := make([]byte, 0, 4096)
			emit := func(e *Event) { dst = enc.Encode(dst[:0], e) }
			// The first chunk starts the answer (and its tool call).
			require.NoError(t, d.Decode(nil, []byte(openAITestToolStream[0]), emit))
			data := []byte(chunk)
			allocs := testing.AllocsPerRun(100, func() {
				if err := d.Decode(nil, data, emit); err != nil {
					t.Fatal(err)
				}
			})
			assert.Zero(t, allocs)
			assert.True(t, bytes.HasPrefix(dst, []byte("data: {")), string(dst))
		})
	}
}

func TestOpenAIStreamDecodeReusesTheChunkPrefix(t *testing.T) {
	const head = `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":`
	start := Event{Kind: EventStart, ID: "c", Model: "m"}
	text := func(s string) Event { return Event{Kind: EventText, Text: s} }
	tests := []struct {
		name   string
		chunks []string
		want   []Event
		err    bool // the last chunk is refused
	}{
		{"chunks sharing their start read on from their choices", []string{
			head + `[{"index":0,"delta":{"content":"a"}}]}`,
			head + `[{"index":0,"delta":{"content":"b"}}]}`,
			head + `[{"index":0,"delta":{"content":"c"}}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`,
		}, []Event{start, text("a"), text("b"), text("c"), {Kind: EventUsage, Usage: provider.Usage{InputTokens: 1, OutputTokens: 2}}}, false},
		{"a later duplicate choices still wins", []string{
			head + `[{"index":0,"delta":{"content":"a"}}]}`,
			head + `[{"index":0,"delta":{"content":"b"}}],"choices":[{"index":0,"delta":{"content":"B"}}]}`,
		}, []Event{start, text("a"), text("B")}, false},
		{"a chunk that differs after the shared start is still checked", []string{
			head + `[{"index":0,"delta":{"content":"a"}}]}`,
			head + `[{"index":0,"delta":{"content":"b"}}]`,
		}, []Event{start, text("a")}, true},
		{"members that matter before choices are read every time", []string{
			`{"id":"c","model":"m","usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1},"choices":[{"index":0,"delta":{"content":"a"}}]}`,
			`{"id":"c","model":"m","usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1},"choices":[{"index":0,"delta":{"content":"b"}}]}`,
		}, []Event{start, text("a"), {Kind: EventUsage, Usage: provider.Usage{InputTokens: 1}}, text("b"), {Kind: EventUsage, Usage: provider.Usage{InputTokens: 1}}}, false},
		{"an error member after a shared start", []string{
			head + `[{"index":0,"delta":{"content":"a"}}]}`,
			head + `[],"error":{"message":"boom","type":"server_error"}}`,
		}, []Event{start, text("a"), {Kind: EventError, Err: &provider.Error{Message: "boom", Type: "server_error"}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := openAICodec{}.NewStreamDecoder()
			var rec openAITestRecorder
			for i, c := range tt.chunks {
				err := d.Decode(nil, []byte(c), rec.emit)
				if tt.err && i == len(tt.chunks)-1 {
					assert.ErrorIs(t, err, errOpenAIMalformed)
					continue
				}
				require.NoError(t, err)
			}
			assert.Equal(t, tt.want, rec.events)
		})
	}
}

// provider.Usage is the normalised form: prompt_tokens holds every input
// token, cache reads (cached_tokens) and writes (cache_write_tokens)
// included; completion_tokens holds the reasoning.
func TestOpenAIUsageBothWays(t *testing.T) {
	tests := []struct {
		name string
		wire string
		u    provider.Usage
	}{
		{"plain", `{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}`,
			provider.Usage{InputTokens: 10, OutputTokens: 5}},
		{"cache reads and writes, reasoning", `{"prompt_tokens":1500,"completion_tokens":300,"total_tokens":1800,"prompt_tokens_details":{"cached_tokens":1000,"cache_write_tokens":400},"completion_tokens_details":{"reasoning_tokens":120}}`,
			provider.Usage{InputTokens: 1500, OutputTokens: 300, CacheReadTokens: 1000, CacheCreationTokens: 400, ReasoningTokens: 120}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, ok := wire.OpenAIUsage([]byte(tt.wire))
			require.True(t, ok)
			assert.Equal(t, tt.u, u)
			assert.Equal(t, tt.wire, string(openAIAppendUsage(nil, tt.u)))
		})
	}
	t.Run("parts cut to their whole", func(t *testing.T) {
		u, ok := wire.OpenAIUsage([]byte(`{"prompt_tokens":10,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":8,"cache_write_tokens":8}}`))
		require.True(t, ok)
		assert.Equal(t, provider.Usage{InputTokens: 10, OutputTokens: 1, CacheReadTokens: 8, CacheCreationTokens: 2}, u)
	})
	for _, bad := range []string{`null`, `{}`, `{"prompt_tokens":"10"}`, `{"prompt_tokens":100000001}`, `{"prompt_tokens":1.5}`, `{"prompt_tokens":1,"completion_tokens":-1}`, `{"prompt_tokens":1,`} {
		t.Run("not taken: "+bad, func(t *testing.T) {
			_, ok := wire.OpenAIUsage([]byte(bad))
			assert.False(t, ok)
		})
	}
}

// Reading a request allocates the Request together with room for what
// it holds (openAIRequestBlock), its strings in one arena, and little
// else; writing one allocates its body.
func TestOpenAIRequestAllocations(t *testing.T) {
	body := []byte(openAIBenchRequest)
	decode := testing.AllocsPerRun(50, func() {
		if _, err := (openAICodec{}).DecodeRequest(body, RequestMeta{}); err != nil {
			t.Fatal(err)
		}
	})
	// The request with room for its first messages, parts, system
	// prompt and tool; the arena.
	assert.Equal(t, 2.0, decode)
	r := openAITestDecode(t, openAIBenchRequest)
	encode := testing.AllocsPerRun(50, func() {
		if _, err := (openAICodec{}).EncodeRequest(r, "gpt-4.1"); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, 1.0, encode)
}

// openAITestQuickHead starts every chunk of a stream in the tests of the
// quick reading: the start a decoder reads once (see
// openAIStreamDecoder.prefix), then reads chunks from their choices on.
const openAITestQuickHead = `{"id":"chatcmpl-Q","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_fc9f1d7035","choices":`

// openAITestQuickRests are rests of chunks after that start: as
// providers write them, and as no one does (spaces, escaped keys,
// duplicates, wrong types, broken JSON).
var openAITestQuickRests = []string{
	// OpenAI's.
	`[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"usage":null}`,
	`[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"obfuscation":"YhS7A"}`,
	`[{"index":0,"delta":{"content":"line\n\"q\" \u00e9 \ud83d\ude00 \ud800 é"},"logprobs":null,"finish_reason":null}]}`,
	`[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"Pa"}}]},"logprobs":null,"finish_reason":null}],"usage":null}`,
	`[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_Qx9","type":"function","function":{"name":"get_time","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null}`,
	`[{"index":0,"delta":{"tool_calls":[{"index":12,"function":{"arguments":"x"}}]},"logprobs":null,"finish_reason":null}]}`,
	`[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}`,
	`[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}`,
	`[],"usage":{"prompt_tokens":80,"completion_tokens":40,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":64}}}`,
	`[{"index":0,"delta":{"refusal":"I can't"},"logprobs":null,"finish_reason":null}]}`,
	`[{"index":0,"delta":{"content":"x"},"logprobs":{"content":[{"token":"x","logprob":-0.1,"bytes":[120],"top_logprobs":[]}]},"finish_reason":null}]}`,
	// DeepSeek's reasoning, Mistral's without logprobs, OpenRouter's
	// role in every delta, Gemini's order, Groq's usage.
	`[{"index":0,"delta":{"content":null,"reasoning_content":"Compare\n"},"logprobs":null,"finish_reason":null}]}`,
	`[{"index":0,"delta":{"content":"Bonjour"},"finish_reason":null}]}`,
	`[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}`,
	`[{"delta":{"content":"Hi","role":"assistant"},"finish_reason":null,"index":0}]}`,
	`[{"index":0,"delta":{"reasoning":"hmm","content":""},"finish_reason":null}]}`,
	`[{"index":0,"delta":{"content":"x"}}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}}`,
	// Azure's filter results; other choices; an index that is not 0.
	`[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Hi"},"finish_reason":null,"index":0,"logprobs":null}]}`,
	`[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"mine"},"finish_reason":"length"}]}`,
	`[{"index":0,"delta":{"content":"mine"}},{"index":1,"delta":{"content":"other"},"finish_reason":"length"}]}`,
	`[{"index":1,"delta":{"content":"other"}}]}`,
	`[{"index":null,"delta":{"content":"x"}}]}`,
	`[{"index":0.0,"delta":{"content":"x"}}]}`,
	`[{"index":"0","delta":{"content":"x"}}]}`,
	`[{}]}`,
	// Duplicate keys: the last one wins.
	`[{"index":0,"delta":{"content":"a","content":"b"},"delta":{"refusal":"r"},"finish_reason":"stop","finish_reason":null}]}`,
	`[{"index":0,"delta":{"content":"a"}}],"choices":[{"index":0,"delta":{"content":"B"}}]}`,
	`[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"a"},"function":{"name":"n"}}],"tool_calls":null}}]}`,
	`[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"a"},"function":{"name":"n"}}]}}]}`,
	`[{"index":0,"delta":{"content":"x"}}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"usage":null}`,
	`[{"index":0,"delta":{"content":"x"}}],"id":"other","model":"other","system_fingerprint":null}`,
	// Space, escaped keys.
	` [ { "index" : 0 , "delta" : { "content" : "x" } , "logprobs" : null , "finish_reason" : null } ] , "usage" : null } `,
	"[{\"index\":0,\"delta\":{\"content\":\"x\"}}]\n}\n",
	"[{\"index\":0,\"delta\":{\"tool_calls\":[ {\"index\":0,\"function\":{ \"arguments\":\"x\"}}\t]}}]}",
	`[{"index":0,"delta":{"\u0063ontent":"x"}}]}`,
	`[{"\u0069ndex":1,"delta":{"content":"x"}}]}`,
	`[{"index":0,"delta":{"content":"x"}}],"\u0075sage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`,
	`[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"\u0061rguments":"x"}}]}}]}`,
	`[{"index":0,"delta":{"content":"x"}}],"\u0065rror":{"message":"boom"}}`,
	`[{"index":0,"delta":{"cont\"ent":"x"}}]}`,
	`[{"index":0,"delta":{"contént":"x"}}]}`,
	// An error after a shared start.
	`[{"index":0,"delta":{"content":"x"}}],"error":{"message":"boom","type":"server_error"}}`,
	`[],"error":{"message":"","type":"","param":"","code":null}}`,
	// Broken JSON, and JSON that is no chunk.
	`[{"index":0,"delta":{"content":"x"}}]`,
	`[{"index":0,"delta":{"content":"x"}}]}}`,
	`[{"index":0,"delta":{"content":"x"}}]} x`,
	`[{"index":0,"delta":{"content":"x}}]}`,
	`[{"index":0,"delta":{"content":"x"},}]}`,
	`[{"index":0,"delta":{"content":"x"}},]}`,
	`[{"index":01,"delta":{"content":"x"}}]}`,
	`[{"index":0,"delta":{"content":nul}}]}`,
	`[{"index":0,"delta":{"content":nulll}}]}`,
	`[{"index":0,"delta":{"content":"x" "refusal":"y"}}]}`,
	`[{"index":0,"delta":"x"}]}`,
	`[{"index":0,"delta":null}]}`,
	`[1]}`, `null}`, `{}}`, `[}`, `]`, ``,
	`[{"index":0,"delta":{"tool_calls":[1]}}]}`,
	`[{"index":0,"delta":{"tool_calls":[{"function":1}]}}]}`,
	`[{"index":0,"delta":{"tool_calls":{}}}]}`,
	`[{"index":0,"delta":{"content":"bad \x escape"}}]}`,
	"[{\"index\":0,\"delta\":{\"content\":\"invalid \xff UTF-8\"}}]}",
	`[{"index":0,"delta":{"tool_calls":[{"index":00,"function":{"arguments":"x"}}]}}]}`,
	`[{"index":0,"delta":{"tool_calls":[{"index":-1,"function":{"arguments":"x"}}]}}]}`,
	`[{"index":0,"delta":{"tool_calls":[{"index":1e0,"function":{"arguments":"x"}}]}}]}`,
	`[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"x"}}]}`,
	`[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"x"}}]},"logprobs":null,"finish_reason":null}]`,
	`[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"x\"}}]},"logprobs":null,"finish_reason":null}]}`,
	`[{"delta":{"tool_calls":[{"function":{"":""}}]}},`,
	`[{"delta":{"tool_calls":[{"function":{"":""}},`,
}

// openAITestQuickVariants returns each rest, then the same with a space
// after each bracket, comma and colon (one at a time), with each key's
// first letter escaped, and cut or changed a byte at a time at random.
func openAITestQuickVariants(rests []string) []string {
	out := append([]string(nil), rests...)
	keys := regexp.MustCompile(`"([a-z_]+)":`)
	for _, r := range rests {
		for i := 0; i < len(r); i++ {
			if strings.IndexByte("{}[],:", r[i]) >= 0 {
				out = append(out, r[:i+1]+" "+r[i+1:])
			}
		}
		for _, m := range keys.FindAllStringSubmatchIndex(r, -1) {
			out = append(out, r[:m[2]]+fmt.Sprintf(`\u%04x`, r[m[2]])+r[m[2]+1:])
		}
	}
	rnd := rand.New(rand.NewPCG(12, 34))
	const bytes = "\"\\{}[],: 0123-.enul\xff\xc3é"
	for range 4000 {
		r := []byte(rests[rnd.IntN(len(rests))])
		for n := 1 + rnd.IntN(3); n > 0 && len(r) > 0; n-- {
			i := rnd.IntN(len(r))
			switch rnd.IntN(3) {
			case 0:
				r = append(r[:i:i], r[i+1:]...)
			case 1:
				r = append(r[:i:i], append([]byte{bytes[rnd.IntN(len(bytes))]}, r[i:]...)...)
			default:
				r[i] = bytes[rnd.IntN(len(bytes))]
			}
		}
		out = append(out, string(r))
	}
	return out
}

// openAITestReadBothWays feeds chunks (name, data) to a decoder with its
// quick reading and to one without, and fails unless both emit the same
// events and return the same errors.
func openAITestReadBothWays(t *testing.T, chunks ...[2]string) {
	t.Helper()
	quick := openAICodec{}.NewStreamDecoder().(*openAIStreamDecoder)
	slow := openAICodec{}.NewStreamDecoder().(*openAIStreamDecoder)
	slow.slowOnly = true
	var q, s openAITestRecorder
	for _, c := range chunks {
		qerr := quick.Decode([]byte(c[0]), []byte(c[1]), q.emit)
		serr := slow.Decode([]byte(c[0]), []byte(c[1]), s.emit)
		if (qerr == nil) != (serr == nil) || qerr != nil && qerr.Error() != serr.Error() {
			t.Fatalf("chunk %q: quick reading's error %v, the cursor's %v", c[1], qerr, serr)
		}
	}
	if !assert.Equal(t, s.events, q.events) {
		t.Fatalf("chunks %q", chunks)
	}
}

// The quick reading of a chunk reads what the cursor reads, and fails
// where it fails: for chunks as providers write them, and for every
// variation of them, read after a shared start or whole.
func TestOpenAIStreamQuickReadingReadsAsTheCursor(t *testing.T) {
	start := [2]string{"", openAITestQuickHead + `[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}`}
	text := [2]string{"", openAITestQuickHead + openAITestQuickRests[0]}
	call := [2]string{"", openAITestQuickHead + openAITestQuickRests[4]}
	variants := openAITestQuickVariants(openAITestQuickRests)
	require.Greater(t, len(variants), 5000)
	for _, rest := range variants {
		chunk := [2]string{"", openAITestQuickHead + rest}
		// After the shared start was read (the second chunk keeps it):
		// read from the choices on.
		openAITestReadBothWays(t, start, text, chunk, text)
		openAITestReadBothWays(t, start, call, chunk, chunk, call, chunk)
		// Whole, as a stream's first chunks are.
		openAITestReadBothWays(t, chunk, chunk)
		openAITestReadBothWays(t, [2]string{"", `{"choices":` + rest}, text)
		// An event named error is one whatever its data.
		openAITestReadBothWays(t, start, text, [2]string{"error", chunk[1]})
	}
}

// The chunks providers send are read by the quick reading (the cursor
// only reads what it gives up on), spaces or not; what it cannot read as
// the cursor does, it gives up on.
func TestOpenAIStreamQuickReadingTakesProvidersChunks(t *testing.T) {
	taken := append([]string{}, openAITestQuickRests[:17]...)
	taken = append(taken, openAITestQuickRests[17:21]...)
	taken = append(taken, ` [ { "index" : 0 , "delta" : { "content" : "x" } , "logprobs" : null , "finish_reason" : null } ] , "usage" : null } `)
	for _, rest := range taken {
		if strings.Contains(rest, "x_groq") {
			continue
		}
		d := &openAIStreamDecoder{}
		_, ok := d.quickRest([]byte(openAITestQuickHead+rest), len(openAITestQuickHead))
		assert.True(t, ok, rest)
	}
	for _, rest := range []string{
		`[{"index":0,"delta":{"\u0063ontent":"x"}}]}`,
		`[{"index":0,"delta":{"content":"x"}}],"error":{"message":"boom"}}`,
		`[{"index":0,"delta":{"content":"x"}}],"x_groq":{}}`,
		`[{"index":0,"delta":{"content":"x"}}],"choices":[]}`,
		`[{"index":0,"delta":{"content":"x"}}]} x`,
		`[{"index":0,"delta":null}]}`,
		`null}`,
	} {
		d := &openAIStreamDecoder{}
		_, ok := d.quickRest([]byte(openAITestQuickHead+rest), len(openAITestQuickHead))
		assert.False(t, ok, rest)
	}
}

// openAISkip ends a value where jsonscan.SkipValue does, and fails where
// it fails: the cursor and the quick reading pass over values with it.
func TestOpenAISkipEndsWhereSkipValueDoes(t *testing.T) {
	values := []string{
		`"x"`, `""`, `"a\"b"`, `"a\\"`, `"\\\""`, `"é"`, `"unclosed`, `"ends in \`,
		`null`, `nul`, `nulll`, `nullx`, `true`, `false`, `tru`,
		`0`, `7`, `12`, `01`, `00`, `0.5`, `1.`, `1.5e3`, `1e`, `1E+2`, `-1`, `-`, `-0`, `9223372036854775808`, `0x1`,
		`{}`, `[]`, `{"a":[1,{"b":null}]}`, `[1,2`, `{"a"}`, `x`, ``, ` 1`,
	}
	for _, v := range values {
		for _, after := range []string{"", ",", "}", "]", " ", "0", ".", "e", "E", "x", `"`} {
			data := []byte("[" + v + after)
			want, err := jsonscan.SkipValue(data, 1)
			if err != nil {
				want = -1
			}
			assert.Equal(t, want, openAISkip(data, 1), "%q", data)
		}
	}
}

// A request's pieces share the arena and the block they were read into:
// growing one (an append) copies it rather than writing over another.
func TestOpenAIDecodeRequestPiecesGrowApart(t *testing.T) {
	r := openAITestDecode(t, `{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}],`+
		`"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"user":"after",`+
		`"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"string"}}},"tool_choice":"auto"}`)
	params := append(r.Tools[0].Parameters, "XXXXXXXXXXXXXXXX"...)
	schema := append(r.ResponseSchema, "YYYYYYYYYYYYYYYY"...)
	r.System = append(r.System, Part{Kind: PartText, Text: "more"})
	r.Tools = append(r.Tools, Tool{Name: "g"})
	r.Messages = append(r.Messages, Message{Role: RoleAssistant})
	assert.Equal(t, `{"type":"object"}XXXXXXXXXXXXXXXX`, string(params))
	assert.Equal(t, `{"type":"string"}YYYYYYYYYYYYYYYY`, string(schema))
	assert.Equal(t, `{"type":"object"}`, string(openAITestDecode(t, `{"messages":[],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}`).Tools[0].Parameters))
	assert.Equal(t, "after", r.User)
	assert.Equal(t, "s", r.System[0].Text)
	assert.Equal(t, "f", r.Tools[0].Name)
	assert.Equal(t, []Part{{Kind: PartText, Text: "u"}}, r.Messages[0].Parts)
	assert.Equal(t, `{"type":"string"}`, string(r.ResponseSchema))
}

// What a request does not say stays nil, as it was before the block:
// a system message without text adds no system prompt, no tools no
// Tools.
func TestOpenAIDecodeRequestLeavesUnsaidNil(t *testing.T) {
	for _, body := range []string{
		`{"messages":[{"role":"system","content":null},{"role":"user","content":"hi"}]}`,
		`{"messages":[{"role":"developer","content":[]},{"role":"user","content":"hi"}],"tools":[]}`,
	} {
		r := openAITestDecode(t, body)
		assert.Nil(t, r.System, body)
		assert.Empty(t, r.Tools, body)
		assert.Nil(t, r.Temperature, body)
		assert.Nil(t, r.ParallelToolCalls, body)
	}
	assert.Nil(t, openAITestDecode(t, `{"messages":[]}`).Tools)
}

// A tool message takes the name of the last call with its id, however
// many turns back (ids can repeat across turns).
func TestOpenAIDecodeRequestToolResultNamesTheLastCallWithItsID(t *testing.T) {
	r := openAITestDecode(t, `{"messages":[`+
		`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"first","arguments":"{}"}}]},`+
		`{"role":"tool","tool_call_id":"c1","content":"one"},`+
		`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"second","arguments":"{}"}},{"id":"c2","type":"function","function":{"name":"other","arguments":"{}"}}]},`+
		`{"role":"user","content":"between"},`+
		`{"role":"tool","tool_call_id":"c1","content":"two"},`+
		`{"role":"tool","tool_call_id":"nope","content":"three"}]}`)
	require.Len(t, r.Messages, 5)
	assert.Equal(t, "first", r.Messages[1].Parts[0].Name)
	assert.Equal(t, "second", r.Messages[4].Parts[0].Name)
	assert.Equal(t, "", r.Messages[4].Parts[1].Name)
}

// A message's raw content parts and tool calls go to the reader's own
// arrays, then to slices past them: every one is read, in order, on
// both sides of the arrays' end.
func TestOpenAIDecodeRequestManyPartsAndCalls(t *testing.T) {
	for _, n := range []int{1, 3, 4, 5, 6, 9} {
		var content, calls []string
		var wantUser, wantCalls []Part
		for i := range n {
			content = append(content, fmt.Sprintf(`{"type":"text","text":"t%d"}`, i))
			wantUser = append(wantUser, Part{Kind: PartText, Text: fmt.Sprintf("t%d", i)})
			calls = append(calls, fmt.Sprintf(`{"id":"c%d","type":"function","function":{"name":"f%d","arguments":"{\"i\":%d}"}}`, i, i, i))
			wantCalls = append(wantCalls, Part{Kind: PartToolCall, ID: fmt.Sprintf("c%d", i), Name: fmt.Sprintf("f%d", i), Arguments: fmt.Sprintf(`{"i":%d}`, i)})
		}
		r := openAITestDecode(t, `{"messages":[{"role":"user","content":[`+strings.Join(content, ",")+`]},`+
			`{"role":"assistant","content":null,"tool_calls":[`+strings.Join(calls, ",")+`]},`+
			`{"role":"user","content":[{"type":"text","text":"last"}]}]}`)
		require.Len(t, r.Messages, 3, "n=%d", n)
		assert.Equal(t, wantUser, r.Messages[0].Parts, "n=%d", n)
		assert.Equal(t, wantCalls, r.Messages[1].Parts, "n=%d", n)
		assert.Equal(t, []Part{{Kind: PartText, Text: "last"}}, r.Messages[2].Parts, "n=%d", n)
	}
}

// Roles and types are compared as the SDKs decode them: escaped, or
// with invalid UTF-8 (which an error quotes as U+FFFD), as plainly
// spelt ones.
func TestOpenAIDecodeRequestReadsRolesAndTypesDecoded(t *testing.T) {
	r := openAITestDecode(t, `{"messages":[{"role":"\u0075ser","content":[{"type":"t\u0065xt","text":"hi"}]},`+
		`{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"\u0066unction","function":{"name":"f","arguments":"{}"}}]}],`+
		`"tools":[{"type":"functio\u006e","function":{"name":"f"}}]}`)
	assert.Equal(t, []Message{
		{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "hi"}}},
		{Role: RoleAssistant, Parts: []Part{{Kind: PartToolCall, ID: "c", Name: "f", Arguments: "{}"}}},
	}, r.Messages)
	assert.Equal(t, []Tool{{Name: "f"}}, r.Tools)
	assert.Empty(t, r.Unsupported)
	_, err := openAICodec{}.DecodeRequest([]byte("{\"messages\":[{\"role\":\"us\xffer\",\"content\":\"hi\"}]}"), RequestMeta{})
	assert.ErrorContains(t, err, `messages[].role "us`+"\ufffd"+`er"`)
	r = openAITestDecode(t, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"te\xffxt\",\"text\":\"hi\"}]}]}")
	assert.Equal(t, []string{"messages[].content[].te\ufffdxt"}, r.Unsupported)
}
