package translate

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aigateway-go/aigateway/internal/sse"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var anthropicTestCodec = anthropicCodec{}

func anthropicPtr[T any](v T) *T { return &v }

// anthropicDecode decodes an Anthropic request body that must be one.
func anthropicDecode(t *testing.T, body string) *Request {
	t.Helper()
	r, err := anthropicTestCodec.DecodeRequest([]byte(body), RequestMeta{})
	require.NoError(t, err)
	return r
}

// anthropicEncode encodes r, which must be encodable, for model.
func anthropicEncode(t *testing.T, r *Request, model string) string {
	t.Helper()
	b, err := anthropicTestCodec.EncodeRequest(r, model)
	require.NoError(t, err)
	require.True(t, json.Valid(b), "%s", b)
	return string(b)
}

// anthropicRefusal encodes r and returns the UnsupportedError it must
// refuse it with.
func anthropicRefusal(t *testing.T, r *Request, model string) *UnsupportedError {
	t.Helper()
	b, err := anthropicTestCodec.EncodeRequest(r, model)
	require.Error(t, err, "%s", b)
	var u *UnsupportedError
	require.True(t, errors.As(err, &u), "%v", err)
	assert.Equal(t, provider.FormatAnthropicMessages, u.Target)
	return u
}

func anthropicUser(parts ...Part) Message { return Message{Role: RoleUser, Parts: parts} }
func anthropicAssistant(parts ...Part) Message {
	return Message{Role: RoleAssistant, Parts: parts}
}
func anthropicText(s string) Part { return Part{Kind: PartText, Text: s} }

func TestAnthropicCodecIsTheRegisteredOne(t *testing.T) {
	c := For(provider.FormatAnthropicMessages)
	require.NotNil(t, c)
	assert.Equal(t, provider.FormatAnthropicMessages, c.Format())
	assert.NotNil(t, c.NewStreamDecoder())
	assert.NotNil(t, c.NewStreamEncoder(&Request{}))
}

// A request using every member the representation carries decodes into
// each field.
func TestAnthropicDecodeRequestReadsEveryField(t *testing.T) {
	body := `{
		"model": "claude-sonnet-4-5",
		"max_tokens": 2048,
		"system": [{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}},{"type":"text","text":"Answer in French."}],
		"messages": [
			{"role":"user","content":[
				{"type":"text","text":"What is in this image, and the weather in Paris and Rome?"},
				{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
				{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}
			]},
			{"role":"assistant","content":[
				{"type":"thinking","thinking":"Two cities: two calls.","signature":"EqQBCgIYAh"},
				{"type":"redacted_thinking","data":"EmwKAhgBEgy3"},
				{"type":"text","text":"Let me check."},
				{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"city":"Paris"}},
				{"type":"tool_use","id":"toolu_02","name":"get_weather","input":{"city":"Rome"},"cache_control":{"type":"ephemeral"}}
			]},
			{"role":"user","content":[
				{"type":"tool_result","tool_use_id":"toolu_01","content":"18°C"},
				{"type":"tool_result","tool_use_id":"toolu_02","content":[{"type":"text","text":"no data"},{"type":"text","text":"try later"}],"is_error":true}
			]},
			{"role":"assistant","content":"Paris: 18°C."},
			{"role":"user","content":"Thanks"}
		],
		"tools": [{"name":"get_weather","description":"The weather in a city","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"cache_control":{"type":"ephemeral"}}],
		"tool_choice": {"type":"tool","name":"get_weather","disable_parallel_tool_use":true},
		"temperature": 0.5,
		"top_p": 0.9,
		"top_k": 40,
		"stop_sequences": ["END", "STOP"],
		"metadata": {"user_id": "user-42"},
		"stream": true,
		"service_tier": "auto",
		"cache_control": {"type":"ephemeral"}
	}`
	want := &Request{
		Model:  "claude-sonnet-4-5",
		Stream: true,
		System: []Part{anthropicText("Be brief."), anthropicText("Answer in French.")},
		Messages: []Message{
			anthropicUser(
				anthropicText("What is in this image, and the weather in Paris and Rome?"),
				Part{Kind: PartImage, MediaType: "image/png", Data: "iVBORw0KGgo="},
				Part{Kind: PartImage, URL: "https://example.com/cat.jpg"},
			),
			anthropicAssistant(
				Part{Kind: PartThinking, Text: "Two cities: two calls.", Signature: "EqQBCgIYAh"},
				Part{Kind: PartThinking, Redacted: "EmwKAhgBEgy3"},
				anthropicText("Let me check."),
				Part{Kind: PartToolCall, ID: "toolu_01", Name: "get_weather", Arguments: `{"city":"Paris"}`},
				Part{Kind: PartToolCall, ID: "toolu_02", Name: "get_weather", Arguments: `{"city":"Rome"}`},
			),
			anthropicUser(
				Part{Kind: PartToolResult, ID: "toolu_01", Name: "get_weather", Text: "18°C"},
				Part{Kind: PartToolResult, ID: "toolu_02", Name: "get_weather", Text: "no data\ntry later", IsError: true},
			),
			anthropicAssistant(anthropicText("Paris: 18°C.")),
			anthropicUser(anthropicText("Thanks")),
		},
		Tools: []Tool{{Name: "get_weather", Description: "The weather in a city",
			Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}},
		ToolChoice:        ToolChoice{Mode: ToolChoiceTool, Name: "get_weather"},
		ParallelToolCalls: anthropicPtr(false),
		MaxTokens:         2048,
		Temperature:       anthropicPtr(0.5),
		TopP:              anthropicPtr(0.9),
		TopK:              anthropicPtr(int64(40)),
		Stop:              []string{"END", "STOP"},
		User:              "user-42",
	}
	assert.Equal(t, want, anthropicDecode(t, body))
}

func TestAnthropicDecodeRequestSystemAndContentForms(t *testing.T) {
	cases := []struct {
		name     string
		body     string
		system   []Part
		messages []Message
	}{
		{name: "string system and content",
			body:     `{"model":"m","system":"Be brief.","messages":[{"role":"user","content":"Hi"}]}`,
			system:   []Part{anthropicText("Be brief.")},
			messages: []Message{anthropicUser(anthropicText("Hi"))}},
		{name: "empty system string is none",
			body:     `{"model":"m","system":"","messages":[{"role":"user","content":"Hi"}]}`,
			messages: []Message{anthropicUser(anthropicText("Hi"))}},
		{name: "null members are absent",
			body:     `{"model":"m","system":null,"temperature":null,"messages":[{"role":"user","content":"Hi"}]}`,
			messages: []Message{anthropicUser(anthropicText("Hi"))}},
		{name: "escaped keys and text",
			body:     `{"model":"m","messages":[{"r\u006fle":"user","content":"line\none \u00e9"}]}`,
			messages: []Message{anthropicUser(anthropicText("line\none é"))}},
		{name: "a tool_use without input has empty arguments",
			body: `{"model":"m","messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"now","input":{}}]},` +
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1"}]}]}`,
			messages: []Message{
				anthropicAssistant(Part{Kind: PartToolCall, ID: "t1", Name: "now", Arguments: "{}"}),
				anthropicUser(Part{Kind: PartToolResult, ID: "t1", Name: "now"}),
			}},
		{name: "a result for a call not in the request has no name",
			body:     `{"model":"m","messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t9","content":"x"}]}]}`,
			messages: []Message{anthropicUser(Part{Kind: PartToolResult, ID: "t9", Text: "x"})}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := anthropicDecode(t, tc.body)
			assert.Equal(t, tc.system, r.System)
			assert.Equal(t, tc.messages, r.Messages)
		})
	}
}

// The model comes from the body; RequestMeta's (Gemini's path) only when
// the body names none.
func TestAnthropicDecodeRequestModelFromMetaOnlyWhenAbsent(t *testing.T) {
	r, err := anthropicTestCodec.DecodeRequest([]byte(`{"model":"a","messages":[]}`), RequestMeta{Model: "b"})
	require.NoError(t, err)
	assert.Equal(t, "a", r.Model)
	r, err = anthropicTestCodec.DecodeRequest([]byte(`{"messages":[]}`), RequestMeta{Model: "b"})
	require.NoError(t, err)
	assert.Equal(t, "b", r.Model)
}

func TestAnthropicDecodeRequestThinkingAndOutputConfig(t *testing.T) {
	cases := []struct {
		name      string
		members   string
		reasoning Reasoning
		format    string
		schema    string
	}{
		{name: "none", members: ``},
		{name: "enabled", members: `,"thinking":{"type":"enabled","budget_tokens":4096}`,
			reasoning: Reasoning{BudgetTokens: 4096, IncludeThoughts: true}},
		{name: "enabled, thoughts omitted", members: `,"thinking":{"type":"enabled","budget_tokens":4096,"display":"omitted"}`,
			reasoning: Reasoning{BudgetTokens: 4096}},
		{name: "disabled", members: `,"thinking":{"type":"disabled"}`, reasoning: Reasoning{Disabled: true}},
		{name: "adaptive at its default effort", members: `,"thinking":{"type":"adaptive"}`,
			reasoning: Reasoning{Effort: "high", IncludeThoughts: true}},
		{name: "adaptive with an effort", members: `,"thinking":{"type":"adaptive"},"output_config":{"effort":"low"}`,
			reasoning: Reasoning{Effort: "low", IncludeThoughts: true}},
		{name: "an effort without thinking", members: `,"output_config":{"effort":"medium"}`,
			reasoning: Reasoning{Effort: "medium"}},
		{name: "a budget wins over an effort", members: `,"thinking":{"type":"enabled","budget_tokens":2048},"output_config":{"effort":"max"}`,
			reasoning: Reasoning{BudgetTokens: 2048, IncludeThoughts: true}},
		{name: "structured output", members: `,"output_config":{"format":{"type":"json_schema","schema":{"type":"object"}}}`,
			format: "json_schema", schema: `{"type":"object"}`},
		{name: "structured output, beta spelling", members: `,"output_format":{"type":"json_schema","schema":{"type":"object","additionalProperties":false}}`,
			format: "json_schema", schema: `{"type":"object","additionalProperties":false}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := anthropicDecode(t, `{"model":"m","max_tokens":8000,"messages":[{"role":"user","content":"Hi"}]`+tc.members+`}`)
			assert.Equal(t, tc.reasoning, r.Reasoning)
			assert.Equal(t, tc.format, r.ResponseFormat)
			if tc.schema == "" {
				assert.Empty(t, r.ResponseSchema)
			} else {
				assert.Equal(t, tc.schema, string(r.ResponseSchema))
			}
		})
	}
}

func TestAnthropicDecodeRequestToolChoice(t *testing.T) {
	cases := []struct {
		choice   string
		want     ToolChoice
		parallel *bool
	}{
		{`{"type":"auto"}`, ToolChoice{Mode: ToolChoiceAuto}, nil},
		{`{"type":"any"}`, ToolChoice{Mode: ToolChoiceRequired}, nil},
		{`{"type":"none"}`, ToolChoice{Mode: ToolChoiceNone}, nil},
		{`{"type":"tool","name":"f"}`, ToolChoice{Mode: ToolChoiceTool, Name: "f"}, nil},
		{`{"type":"auto","disable_parallel_tool_use":false}`, ToolChoice{Mode: ToolChoiceAuto}, anthropicPtr(true)},
		{`{"type":"any","disable_parallel_tool_use":true}`, ToolChoice{Mode: ToolChoiceRequired}, anthropicPtr(false)},
	}
	for _, tc := range cases {
		t.Run(tc.choice, func(t *testing.T) {
			r := anthropicDecode(t, `{"model":"m","messages":[],"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":`+tc.choice+`}`)
			assert.Equal(t, tc.want, r.ToolChoice)
			assert.Equal(t, tc.parallel, r.ParallelToolCalls)
		})
	}
}

// What no other format can carry is kept as a name in Unsupported (so
// that another format's encoder refuses the request, naming it), never
// dropped; what cannot change the answer is dropped.
func TestAnthropicDecodeRequestMarksWhatOthersCannotCarry(t *testing.T) {
	cases := []struct {
		name    string
		members string
		want    []string
	}{
		{name: "document block", want: []string{`content block "document"`},
			members: `"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}},{"type":"text","text":"Sum it up"}]}]`},
		{name: "image by file id", want: []string{`image source "file"`},
			members: `"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"file_1"}}]}]`},
		{name: "image in a tool result", want: []string{`tool_result content block "image"`},
			members: `"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"x"}}]}]}]`},
		{name: "server tool", want: []string{`tool type "web_search_20250305"`},
			members: `"messages":[],"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":5},{"type":"custom","name":"f","input_schema":{"type":"object"}}]`},
		{name: "mcp servers and context management", want: []string{"mcp_servers", "context_management"},
			members: `"messages":[],"mcp_servers":[{"type":"url","url":"https://mcp.example.com","name":"x"}],"context_management":{"edits":[]}`},
		{name: "harmless members are dropped", want: nil,
			members: `"messages":[{"role":"user","content":[{"type":"text","text":"Hi","cache_control":{"type":"ephemeral"},"citations":[]}]}],"service_tier":"auto","inference_geo":"us","container":"c1","mcp_servers":[]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := anthropicDecode(t, `{"model":"m",`+tc.members+`}`)
			assert.Equal(t, tc.want, r.Unsupported)
			if len(tc.want) > 0 {
				u := anthropicRefusal(t, r, "claude-sonnet-4-5")
				assert.Equal(t, tc.want[0], u.Param)
			}
		})
	}
	r := anthropicDecode(t, `{"model":"m","messages":[],"tools":[{"type":"web_search_20250305","name":"web_search"},{"type":"custom","name":"f","input_schema":{"type":"object"}}]}`)
	assert.Equal(t, []Tool{{Name: "f", Parameters: []byte(`{"type":"object"}`)}}, r.Tools, "the custom tool is kept")
}

func TestAnthropicDecodeRequestRejectsWhatIsNotARequest(t *testing.T) {
	for _, body := range []string{
		``,
		`[]`,
		`"messages"`,
		`{"model":"m","messages":{}}`,
		`{"model":"m","messages":[{"role":"system","content":"x"}]}`,
		`{"model":"m","messages":[{"content":"x"}]}`,
		`{"model":"m","messages":[{"role":"user","content":5}]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"text":"no type"}]}]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"tool_use","name":"f","input":{}}]}]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"tool_result","content":"x"}]}]}`,
		`{"model":"m","system":[{"type":"image"}],"messages":[]}`,
		`{"model":5,"messages":[]}`,
		`{"model":"m","max_tokens":"many","messages":[]}`,
		`{"model":"m","temperature":"hot","messages":[]}`,
		`{"model":"m","stream":"yes","messages":[]}`,
		`{"model":"m","stop_sequences":"END","messages":[]}`,
		`{"model":"m","tool_choice":{"type":"sometimes"},"messages":[]}`,
		`{"model":"m","tool_choice":{"type":"tool"},"messages":[]}`,
		`{"model":"m","thinking":{"type":"enabled"},"messages":[]}`,
		`{"model":"m","thinking":{"type":"eager"},"messages":[]}`,
		`{"model":"m","output_config":{"format":{"type":"json_object"}},"messages":[]}`,
		`{"model":"m","messages":[]`,
		`{"model":"m","messages":[]} trailing`,
		`{"model":"m" "messages":[]}`,
		`{"model":"m",}`,
		`{"model":}`,
		`{"model" "m"}`,
		`{"model":"m`,
		`{"model":"m","messages":[{"role":"user","content":"x"},]}`,
		`{"model":"m","messages":[{"role":"user","content":"x"} {"role":"user","content":"y"}]}`,
		`{"model":"m","tools":[{"name":"f","input_schema":{"type":}}],"messages":[]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"tool_use","id":"t","name":"f","input":{"a":tru}}]}]}`,
		`{"model":"\x"}`,
		`{"mod\el":"m"}`,
	} {
		t.Run(body, func(t *testing.T) {
			_, err := anthropicTestCodec.DecodeRequest([]byte(body), RequestMeta{})
			assert.Error(t, err)
		})
	}
}

// A request using every field the format carries encodes into each
// member, byte for byte.
func TestAnthropicEncodeRequestWritesEveryField(t *testing.T) {
	r := &Request{
		Model:  "gpt-4o",
		Stream: true,
		System: []Part{anthropicText("Be brief.")},
		Messages: []Message{
			anthropicUser(anthropicText("Weather <Paris> & Rome?"), Part{Kind: PartImage, MediaType: "image/png", Data: "iVBO"}),
			anthropicAssistant(
				Part{Kind: PartToolCall, ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`},
				Part{Kind: PartToolCall, ID: "call_2", Name: "get_weather", Arguments: ` {"city": "Rome"} `},
			),
			anthropicUser(
				Part{Kind: PartToolResult, ID: "call_1", Name: "get_weather", Text: "18C"},
				Part{Kind: PartToolResult, ID: "call_2", Name: "get_weather", Text: "unknown city", IsError: true},
			),
		},
		Tools: []Tool{
			{Name: "get_weather", Description: "The weather", Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}}}`)},
			{Name: "now"},
		},
		ToolChoice:        ToolChoice{Mode: ToolChoiceRequired},
		ParallelToolCalls: anthropicPtr(false),
		MaxTokens:         300,
		Temperature:       anthropicPtr(0.2),
		TopP:              anthropicPtr(0.9),
		TopK:              anthropicPtr(int64(20)),
		Stop:              []string{"\n\nHuman:"},
		User:              "user-42",
	}
	want := `{"model":"claude-sonnet-4-5","max_tokens":300,"system":"Be brief.","messages":[` +
		`{"role":"user","content":[{"type":"text","text":"Weather <Paris> & Rome?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBO"}}]},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}},{"type":"tool_use","id":"call_2","name":"get_weather","input":{"city": "Rome"}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"18C"},{"type":"tool_result","tool_use_id":"call_2","content":"unknown city","is_error":true}]}],` +
		`"tools":[{"name":"get_weather","description":"The weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}},{"name":"now","input_schema":{"type":"object","properties":{}}}],` +
		`"tool_choice":{"type":"any","disable_parallel_tool_use":true},` +
		`"temperature":0.2,"top_p":0.9,"top_k":20,"stop_sequences":["\n\nHuman:"],"metadata":{"user_id":"user-42"},"stream":true}`
	assert.Equal(t, want, anthropicEncode(t, r, "claude-sonnet-4-5"))
}

func TestAnthropicEncodeRequestModelAndMaxTokens(t *testing.T) {
	r := &Request{Model: "claude-haiku-4-5", Messages: []Message{anthropicUser(anthropicText("Hi"))}}
	assert.Equal(t, `{"model":"claude-haiku-4-5","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
		anthropicEncode(t, r, ""), "no model given: the request's; no max_tokens: DefaultMaxTokens")
	r.MaxTokens = 10
	assert.Contains(t, anthropicEncode(t, r, "claude-opus-4-1"), `{"model":"claude-opus-4-1","max_tokens":10,`)
}

func TestAnthropicEncodeRequestSystem(t *testing.T) {
	cases := []struct {
		name   string
		system []Part
		want   string
	}{
		{"none", nil, ``},
		{"only empty", []Part{anthropicText("")}, ``},
		{"one", []Part{anthropicText("A")}, `,"system":"A"`},
		{"several", []Part{anthropicText("A"), anthropicText(""), anthropicText("B")},
			`,"system":[{"type":"text","text":"A"},{"type":"text","text":"B"}]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Request{System: tc.system, Messages: []Message{anthropicUser(anthropicText("Hi"))}}
			assert.Equal(t, `{"model":"m","max_tokens":4096`+tc.want+`,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
				anthropicEncode(t, r, "m"))
		})
	}
}

// Consecutive turns of one role become one message, turns left with no
// block (an OpenAI assistant's empty content, thinking without a
// signature) disappear, and a user turn's tool results come first in it:
// the API requires all three.
func TestAnthropicEncodeRequestShapesTheConversationAsTheAPIRequires(t *testing.T) {
	r := &Request{Messages: []Message{
		anthropicUser(anthropicText("A")),
		anthropicUser(anthropicText("B")),
		anthropicAssistant(anthropicText(""), Part{Kind: PartThinking, Text: "from another provider"}),
		anthropicUser(anthropicText("C")),
		anthropicAssistant(anthropicText(""), Part{Kind: PartToolCall, ID: "c1", Name: "f", Arguments: "{}"}),
		anthropicUser(anthropicText("and also")),
		anthropicUser(Part{Kind: PartToolResult, ID: "c1", Name: "f", Text: "ok"}),
	}}
	want := `{"model":"m","max_tokens":4096,"messages":[` +
		`{"role":"user","content":[{"type":"text","text":"A"},{"type":"text","text":"B"},{"type":"text","text":"C"}]},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"c1","name":"f","input":{}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"c1","content":"ok"},{"type":"text","text":"and also"}]}]}`
	assert.Equal(t, want, anthropicEncode(t, r, "m"))
}

func TestAnthropicEncodeRequestToolCallArguments(t *testing.T) {
	call := func(args string) *Request {
		return &Request{Messages: []Message{
			anthropicUser(anthropicText("go")),
			anthropicAssistant(Part{Kind: PartToolCall, ID: "c1", Name: "f", Arguments: args}),
		}}
	}
	for args, input := range map[string]string{
		``:                     `{}`,
		`  `:                   `{}`,
		`{}`:                   `{}`,
		`{"a":[1,{"b":null}]}`: `{"a":[1,{"b":null}]}`,
	} {
		assert.Contains(t, anthropicEncode(t, call(args), "m"), `"input":`+input+`}`, "arguments %q", args)
	}
	for _, args := range []string{`{"a":`, `[1,2]`, `"text"`, `{"a":1} {"b":2}`} {
		u := anthropicRefusal(t, call(args), "m")
		assert.Equal(t, "tool call arguments", u.Param, "arguments %q", args)
	}
}

// Anthropic takes tool ids of [A-Za-z0-9_-]: any other character becomes
// '_', the same in the call and in its result, so they still match.
func TestAnthropicEncodeRequestToolIDsMadeValidAlike(t *testing.T) {
	r := &Request{Messages: []Message{
		anthropicUser(anthropicText("go")),
		anthropicAssistant(Part{Kind: PartToolCall, ID: "gemini:f/0", Name: "f", Arguments: "{}"}),
		anthropicUser(Part{Kind: PartToolResult, ID: "gemini:f/0", Name: "f", Text: "ok"}),
	}}
	out := anthropicEncode(t, r, "m")
	assert.Contains(t, out, `{"type":"tool_use","id":"gemini_f_0"`)
	assert.Contains(t, out, `{"type":"tool_result","tool_use_id":"gemini_f_0"`)
}

func TestAnthropicEncodeRequestImages(t *testing.T) {
	cases := []struct {
		name  string
		image Part
		want  string
	}{
		{"inline", Part{Kind: PartImage, MediaType: "image/jpeg", Data: "/9j/4AAQ"},
			`{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}}`},
		{"data URL", Part{Kind: PartImage, URL: "data:image/png;base64,iVBORw0KGgo="},
			`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}`},
		{"URL", Part{Kind: PartImage, URL: "https://example.com/a.png?x=1&y=2"},
			`{"type":"image","source":{"type":"url","url":"https://example.com/a.png?x=1&y=2"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Request{Messages: []Message{anthropicUser(tc.image)}}
			assert.Equal(t, `{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[`+tc.want+`]}]}`, anthropicEncode(t, r, "m"))
		})
	}
	t.Run("data URL not in base64", func(t *testing.T) {
		r := &Request{Messages: []Message{anthropicUser(Part{Kind: PartImage, URL: "data:image/svg+xml,<svg/>"})}}
		assert.Equal(t, "image_url", anthropicRefusal(t, r, "m").Param)
	})
}

// Thinking goes back to Anthropic only with its signature, or redacted:
// thinking from another provider has none, and Anthropic refuses it.
func TestAnthropicEncodeRequestThinkingPartsNeedASignature(t *testing.T) {
	r := &Request{Messages: []Message{
		anthropicUser(anthropicText("go")),
		anthropicAssistant(
			Part{Kind: PartThinking, Text: "signed", Signature: "EqQB"},
			Part{Kind: PartThinking, Redacted: "EmwK"},
			Part{Kind: PartThinking, Text: "unsigned"},
			anthropicText("answer"),
		),
	}}
	assert.Contains(t, anthropicEncode(t, r, "m"),
		`{"role":"assistant","content":[{"type":"thinking","thinking":"signed","signature":"EqQB"},{"type":"redacted_thinking","data":"EmwK"},{"type":"text","text":"answer"}]}`)
}

func TestAnthropicEncodeRequestToolChoice(t *testing.T) {
	cases := []struct {
		name     string
		choice   ToolChoice
		parallel *bool
		want     string
	}{
		{"unset", ToolChoice{}, nil, ``},
		{"unset, parallel allowed", ToolChoice{}, anthropicPtr(true), ``},
		{"unset, parallel off", ToolChoice{}, anthropicPtr(false), `,"tool_choice":{"type":"auto","disable_parallel_tool_use":true}`},
		{"auto", ToolChoice{Mode: ToolChoiceAuto}, nil, `,"tool_choice":{"type":"auto"}`},
		{"none", ToolChoice{Mode: ToolChoiceNone}, anthropicPtr(false), `,"tool_choice":{"type":"none"}`},
		{"required", ToolChoice{Mode: ToolChoiceRequired}, nil, `,"tool_choice":{"type":"any"}`},
		{"tool", ToolChoice{Mode: ToolChoiceTool, Name: "f"}, anthropicPtr(false), `,"tool_choice":{"type":"tool","name":"f","disable_parallel_tool_use":true}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Request{Tools: []Tool{{Name: "f", Parameters: []byte(`{"type":"object"}`)}}, ToolChoice: tc.choice, ParallelToolCalls: tc.parallel}
			assert.Equal(t, `{"model":"m","max_tokens":4096,"messages":[],"tools":[{"name":"f","input_schema":{"type":"object"}}]`+tc.want+`}`,
				anthropicEncode(t, r, "m"))
		})
	}
	t.Run("no tools, no choice", func(t *testing.T) {
		// Anthropic refuses a tool_choice without tools; without tools
		// no choice changes anything.
		r := &Request{ToolChoice: ToolChoice{Mode: ToolChoiceNone}}
		assert.Equal(t, `{"model":"m","max_tokens":4096,"messages":[]}`, anthropicEncode(t, r, "m"))
	})
}

// Anthropic names no subset of the tools: a request limited to some is
// sent those tools only, with auto or any as asked, so that the model
// calls none of the others and a required subset still forces a call. A
// subset naming a tool the request lacks is refused.
func TestAnthropicEncodeRequestAllowedTools(t *testing.T) {
	tools := []Tool{
		{Name: "f", Parameters: []byte(`{"type":"object"}`)},
		{Name: "g", Parameters: []byte(`{"type":"object"}`), Strict: true},
		{Name: "h", Parameters: []byte(`{"type":"object"}`)},
	}
	const head = `{"model":"m","max_tokens":4096,"messages":[],"tools":[`
	for _, tc := range []struct {
		name     string
		choice   ToolChoice
		parallel *bool
		want     string
	}{
		{"auto", ToolChoice{Mode: ToolChoiceAuto, Allowed: []string{"h", "f"}}, nil,
			`{"name":"f","input_schema":{"type":"object"}},{"name":"h","input_schema":{"type":"object"}}],"tool_choice":{"type":"auto"}}`},
		{"required", ToolChoice{Mode: ToolChoiceRequired, Allowed: []string{"g"}}, anthropicPtr(false),
			`{"name":"g","input_schema":{"type":"object"},"strict":true}],"tool_choice":{"type":"any","disable_parallel_tool_use":true}}`},
		{"every tool", ToolChoice{Mode: ToolChoiceRequired, Allowed: []string{"f", "g", "h"}}, nil,
			`{"name":"f","input_schema":{"type":"object"}},{"name":"g","input_schema":{"type":"object"},"strict":true},{"name":"h","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"}}`},
		{"none reads no subset", ToolChoice{Mode: ToolChoiceNone, Allowed: []string{"g"}}, nil,
			`{"name":"f","input_schema":{"type":"object"}},{"name":"g","input_schema":{"type":"object"},"strict":true},{"name":"h","input_schema":{"type":"object"}}],"tool_choice":{"type":"none"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Request{Tools: tools, ToolChoice: tc.choice, ParallelToolCalls: tc.parallel}
			assert.Equal(t, head+tc.want, anthropicEncode(t, r, "m"))
		})
	}
	t.Run("a tool the request lacks", func(t *testing.T) {
		r := &Request{Tools: tools, ToolChoice: ToolChoice{Mode: ToolChoiceAuto, Allowed: []string{"x"}}}
		u := anthropicRefusal(t, r, "m")
		assert.Equal(t, "tool_choice", u.Param)
		assert.Contains(t, u.Reason, `"x"`)
	})
}

// Models from Claude 4.6 on take adaptive thinking (from 4.7 only that),
// older ones a budget: the version is read from the model's name in each
// of its spellings. Other providers' Messages-compatible APIs take the
// budget.
func TestAnthropicAdaptiveThinkingByModelVersion(t *testing.T) {
	for model, adaptive := range map[string]bool{
		"claude-3-7-sonnet-20250219":                   false,
		"claude-3-7-sonnet-latest":                     false,
		"claude-sonnet-4-20250514":                     false,
		"claude-opus-4-1":                              false,
		"claude-opus-4-1@20250805":                     false,
		"claude-sonnet-4-5":                            false,
		"claude-haiku-4-5-20251001":                    false,
		"us.anthropic.claude-sonnet-4-5-20250929-v1:0": false,
		"claude-opus-4-6":                              true,
		"claude-sonnet-4-6":                            true,
		"anthropic.claude-opus-4-7":                    true,
		"claude-opus-4-8":                              true,
		"claude-sonnet-5":                              true,
		"claude-fable-5-1":                             true,
		"Claude-Opus-4-7":                              true,
		"claude-mythos-preview":                        true,
		"claude-latest":                                true,
		"deepseek-chat":                                false,
		"kimi-k2-0905-preview":                         false,
		"":                                             false,
	} {
		assert.Equal(t, adaptive, anthropicAdaptiveThinking(model), model)
	}
}

func TestAnthropicEncodeRequestThinking(t *testing.T) {
	cases := []struct {
		name      string
		model     string
		reasoning Reasoning
		maxTokens int64
		want      string // max_tokens and what follows the messages
	}{
		{name: "none", model: "claude-sonnet-4-5", want: `4096|`},
		{name: "disabled", model: "claude-sonnet-4-5", reasoning: Reasoning{Disabled: true, BudgetTokens: 2048}, want: `4096|`},
		{name: "budget within max_tokens", model: "claude-sonnet-4-5", reasoning: Reasoning{BudgetTokens: 2048}, maxTokens: 8000,
			want: `8000|,"thinking":{"type":"enabled","budget_tokens":2048}`},
		{name: "budget beyond max_tokens raises it", model: "claude-sonnet-4-5", reasoning: Reasoning{BudgetTokens: 8192}, maxTokens: 1000,
			want: `9192|,"thinking":{"type":"enabled","budget_tokens":8192}`},
		{name: "budget beyond the default", model: "claude-sonnet-4-5", reasoning: Reasoning{BudgetTokens: 4096},
			want: `8192|,"thinking":{"type":"enabled","budget_tokens":4096}`},
		{name: "budget below the least raised to it", model: "claude-sonnet-4-5", reasoning: Reasoning{BudgetTokens: 500}, maxTokens: 8000,
			want: `8000|,"thinking":{"type":"enabled","budget_tokens":1024}`},
		{name: "effort as a budget", model: "claude-3-7-sonnet-20250219", reasoning: Reasoning{Effort: "medium"}, maxTokens: 16000,
			want: `16000|,"thinking":{"type":"enabled","budget_tokens":8192}`},
		{name: "minimal effort as a budget", model: "claude-opus-4-1", reasoning: Reasoning{Effort: "minimal"}, maxTokens: 16000,
			want: `16000|,"thinking":{"type":"enabled","budget_tokens":1024}`},
		{name: "effort, adaptive", model: "claude-opus-4-7", reasoning: Reasoning{Effort: "medium"},
			want: `4096|,"thinking":{"type":"adaptive"},"output_config":{"effort":"medium"}`},
		{name: "minimal effort, adaptive", model: "claude-opus-4-7", reasoning: Reasoning{Effort: "minimal"},
			want: `4096|,"thinking":{"type":"adaptive"},"output_config":{"effort":"low"}`},
		{name: "budget as an effort, adaptive", model: "claude-sonnet-4-6", reasoning: Reasoning{BudgetTokens: 24576},
			want: `4096|,"thinking":{"type":"adaptive"},"output_config":{"effort":"high"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Request{MaxTokens: tc.maxTokens, Reasoning: tc.reasoning, Messages: []Message{anthropicUser(anthropicText("Hi"))}}
			maxTokens, rest, _ := strings.Cut(tc.want, "|")
			assert.Equal(t, `{"model":"`+tc.model+`","max_tokens":`+maxTokens+`,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]`+rest+`}`,
				anthropicEncode(t, r, tc.model))
		})
	}
}

// With thinking on, Anthropic refuses a temperature other than 1, a top_p
// below 0.95, top_k and a forced tool: the request is refused naming the
// parameter, rather than sent to fail or sent without it.
func TestAnthropicEncodeRequestRefusesSamplingWithThinking(t *testing.T) {
	tools := []Tool{{Name: "f"}}
	cases := []struct {
		name  string
		r     Request
		param string // "" when it is accepted
	}{
		{name: "temperature", param: "temperature", r: Request{Temperature: anthropicPtr(0.3)}},
		{name: "temperature 1", r: Request{Temperature: anthropicPtr(1.0)}},
		{name: "top_p", param: "top_p", r: Request{TopP: anthropicPtr(0.9)}},
		{name: "top_p 0.95", r: Request{TopP: anthropicPtr(0.95)}},
		{name: "top_k", param: "top_k", r: Request{TopK: anthropicPtr(int64(5))}},
		{name: "required tool", param: "tool_choice", r: Request{Tools: tools, ToolChoice: ToolChoice{Mode: ToolChoiceRequired}}},
		{name: "named tool", param: "tool_choice", r: Request{Tools: tools, ToolChoice: ToolChoice{Mode: ToolChoiceTool, Name: "f"}}},
		{name: "auto tool", r: Request{Tools: tools, ToolChoice: ToolChoice{Mode: ToolChoiceAuto}}},
	}
	for _, tc := range cases {
		for _, model := range []string{"claude-sonnet-4-5", "claude-opus-4-7"} {
			t.Run(tc.name+" "+model, func(t *testing.T) {
				r := tc.r
				r.Reasoning = Reasoning{Effort: "low"}
				if tc.param == "" {
					anthropicEncode(t, &r, model)
					return
				}
				assert.Equal(t, tc.param, anthropicRefusal(t, &r, model).Param)
				r.Reasoning = Reasoning{}
				anthropicEncode(t, &r, model) // without thinking, accepted
			})
		}
	}
}

func TestAnthropicEncodeRequestResponseFormat(t *testing.T) {
	msgs := []Message{anthropicUser(anthropicText("Hi"))}
	r := &Request{Messages: msgs, ResponseFormat: "json_schema", ResponseSchema: []byte(`{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}`)}
	assert.Equal(t, `{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],`+
		`"output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}}}}`,
		anthropicEncode(t, r, "m"))

	r.Reasoning = Reasoning{Effort: "high"}
	assert.Contains(t, anthropicEncode(t, r, "claude-opus-4-7"),
		`"thinking":{"type":"adaptive"},"output_config":{"effort":"high","format":{"type":"json_schema","schema":{`, "effort and format share output_config")

	assert.NotContains(t, anthropicEncode(t, &Request{Messages: msgs, ResponseFormat: "text"}, "m"), "output_config")
	for _, bad := range []*Request{
		{Messages: msgs, ResponseFormat: "json_object"},
		{Messages: msgs, ResponseFormat: "json_schema"},
		{Messages: msgs, ResponseFormat: "json_schema", ResponseSchema: []byte(`{"type":`)},
		{Messages: msgs, ResponseFormat: "yaml"},
	} {
		assert.Equal(t, "response_format", anthropicRefusal(t, bad, "m").Param)
	}
}

// What another format's decoder found no target can honour is refused,
// naming the first; so are values beyond Anthropic's ranges.
func TestAnthropicEncodeRequestRefusesWhatItCannotHonour(t *testing.T) {
	cases := []struct {
		r     Request
		param string
	}{
		{Request{Unsupported: []string{"n", "logprobs"}}, "n"},
		{Request{Temperature: anthropicPtr(1.5)}, "temperature"},
		{Request{TopP: anthropicPtr(-0.1)}, "top_p"},
		{Request{Tools: []Tool{{Name: "f"}}, ToolChoice: ToolChoice{Mode: ToolChoiceTool}}, "tool_choice"},
		{Request{Reasoning: Reasoning{Effort: "extreme"}}, "reasoning_effort"},
	}
	for _, tc := range cases {
		t.Run(tc.param, func(t *testing.T) {
			u := anthropicRefusal(t, &tc.r, "claude-sonnet-4-5")
			assert.Equal(t, tc.param, u.Param)
			assert.Contains(t, u.Error(), tc.param+" cannot be translated to anthropic.messages")
		})
	}
}

// An Anthropic request decoded and encoded again says the same (what is
// dropped is only what cannot change the answer).
func TestAnthropicRequestRoundTrip(t *testing.T) {
	in := `{"model":"claude-sonnet-4-5","max_tokens":8000,` +
		`"system":[{"type":"text","text":"A","cache_control":{"type":"ephemeral"}},{"type":"text","text":"B"}],` +
		`"messages":[{"role":"user","content":"Hi"},` +
		`{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"tool_use","id":"toolu_1","name":"f","input":{"x":1}},{"type":"tool_use","id":"toolu_2","name":"f","input":{"x":2}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"one"},{"type":"tool_result","tool_use_id":"toolu_2","content":"two","is_error":true},{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}],` +
		`"tools":[{"name":"f","description":"d","input_schema":{"type":"object"}}],` +
		`"tool_choice":{"type":"auto","disable_parallel_tool_use":true},` +
		`"temperature":1,"stop_sequences":["X"],"metadata":{"user_id":"u"},` +
		`"thinking":{"type":"enabled","budget_tokens":2048},"stream":true}`
	// A string content is the same as one text block (the API says so).
	want := strings.NewReplacer(`,"cache_control":{"type":"ephemeral"}`, ``,
		`"content":"Hi"`, `"content":[{"type":"text","text":"Hi"}]`).Replace(in)
	out := anthropicEncode(t, anthropicDecode(t, in), "claude-sonnet-4-5")
	assert.JSONEq(t, want, out)
	// And again: a fixed point.
	assert.Equal(t, out, anthropicEncode(t, anthropicDecode(t, out), "claude-sonnet-4-5"))
}

// anthropicMessage is a Message as Anthropic sends one, with content and
// stop reason filled in.
func anthropicMessage(content, stop string) string {
	return `{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",` +
		`"content":` + content + `,"stop_reason":` + stop + `,"stop_sequence":null,` +
		`"usage":{"input_tokens":100,"cache_creation_input_tokens":30,"cache_read_input_tokens":20,` +
		`"cache_creation":{"ephemeral_5m_input_tokens":10,"ephemeral_1h_input_tokens":20},"output_tokens":50,"service_tier":"standard"}}`
}

func TestAnthropicDecodeResponse(t *testing.T) {
	body := anthropicMessage(`[`+
		`{"type":"thinking","thinking":"Two cities.","signature":"EqQBCgIYAh"},`+
		`{"type":"redacted_thinking","data":"EmwKAhgB"},`+
		`{"type":"text","text":"Checking both.","citations":null},`+
		`{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"x"}},`+
		`{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"city":"Paris"}},`+
		`{"type":"tool_use","id":"toolu_02","name":"get_weather","input":{"city":"Rome"}}]`, `"tool_use"`)
	r, err := anthropicTestCodec.DecodeResponse([]byte(body))
	require.NoError(t, err)
	assert.Equal(t, &Response{
		ID:    "msg_01XFDUDYJgAACzvnptvVoYEL",
		Model: "claude-sonnet-4-5-20250929",
		Parts: []Part{
			{Kind: PartThinking, Text: "Two cities.", Signature: "EqQBCgIYAh"},
			{Kind: PartThinking, Redacted: "EmwKAhgB"},
			anthropicText("Checking both."),
			{Kind: PartToolCall, ID: "toolu_01", Name: "get_weather", Arguments: `{"city":"Paris"}`},
			{Kind: PartToolCall, ID: "toolu_02", Name: "get_weather", Arguments: `{"city":"Rome"}`},
		},
		Finish: FinishToolCalls,
		// Input includes the cache writes and reads; 20 of the 30 written
		// tokens were for an hour.
		Usage:      provider.Usage{InputTokens: 150, OutputTokens: 50, CacheReadTokens: 20, CacheCreationTokens: 30, CacheCreation1hTokens: 20},
		UsageKnown: true,
	}, r)
}

func TestAnthropicDecodeResponseRejectsWhatIsNotAMessage(t *testing.T) {
	for _, body := range []string{
		``, `[]`, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
		`{"id":"msg_1","content":[]}`, `{"type":"message","content":[5]}`, `{"type":"message","content":[`,
	} {
		_, err := anthropicTestCodec.DecodeResponse([]byte(body))
		assert.Error(t, err, body)
	}
}

// Each stop reason reads as its Finish, and each Finish writes as the
// stop reason that says it (end_turn for what Anthropic has none for).
func TestAnthropicFinishBothWays(t *testing.T) {
	for reason, f := range map[string]Finish{
		"end_turn": FinishStop, "stop_sequence": FinishStop, "pause_turn": FinishStop,
		"max_tokens": FinishLength, "model_context_window_exceeded": FinishLength,
		"tool_use": FinishToolCalls, "refusal": FinishContentFilter, "something_new": FinishUnknown,
	} {
		r, err := anthropicTestCodec.DecodeResponse([]byte(anthropicMessage(`[]`, `"`+reason+`"`)))
		require.NoError(t, err)
		assert.Equal(t, f, r.Finish, reason)
	}
	for _, tc := range []struct {
		f      Finish
		seq    string
		reason string
	}{
		{FinishStop, "", "end_turn"}, {FinishStop, "END", "stop_sequence"}, {FinishLength, "", "max_tokens"},
		{FinishToolCalls, "", "tool_use"}, {FinishContentFilter, "", "refusal"},
		{FinishError, "", "end_turn"}, {FinishUnknown, "", "end_turn"},
	} {
		assert.Equal(t, tc.reason, anthropicStopReason(tc.f, tc.seq), "%d %q", tc.f, tc.seq)
	}
}

// Usage reads and writes both ways: Anthropic's input_tokens excludes the
// cache reads and writes, the normalised InputTokens includes them.
func TestAnthropicUsageBothWays(t *testing.T) {
	cases := []struct {
		name  string
		usage string
		want  provider.Usage
		known bool
	}{
		{name: "plain", usage: `{"input_tokens":12,"output_tokens":3}`,
			want: provider.Usage{InputTokens: 12, OutputTokens: 3}, known: true},
		{name: "cache reads and writes", usage: `{"input_tokens":5,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"cache_creation":{"ephemeral_5m_input_tokens":40,"ephemeral_1h_input_tokens":60},"output_tokens":7}`,
			want: provider.Usage{InputTokens: 1105, OutputTokens: 7, CacheReadTokens: 1000, CacheCreationTokens: 100, CacheCreation1hTokens: 60}, known: true},
		{name: "null cache counts", usage: `{"input_tokens":5,"cache_creation_input_tokens":null,"cache_read_input_tokens":null,"output_tokens":7}`,
			want: provider.Usage{InputTokens: 5, OutputTokens: 7}, known: true},
		{name: "thinking tokens", usage: `{"input_tokens":5,"output_tokens":70,"output_tokens_details":{"thinking_tokens":60}}`,
			want: provider.Usage{InputTokens: 5, OutputTokens: 70, ReasoningTokens: 60}, known: true},
		{name: "impossible counts are not counts", usage: `{"input_tokens":-5,"output_tokens":1e3}`},
		{name: "absent", usage: `null`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":"end_turn","stop_sequence":null,"usage":` + tc.usage + `}`
			r, err := anthropicTestCodec.DecodeResponse([]byte(body))
			require.NoError(t, err)
			assert.Equal(t, tc.known, r.UsageKnown)
			assert.Equal(t, tc.want, r.Usage)
			if !tc.known {
				return
			}
			// Written back, it reads the same.
			out, err := anthropicTestCodec.EncodeResponse(r)
			require.NoError(t, err)
			again, err := anthropicTestCodec.DecodeResponse(out)
			require.NoError(t, err)
			want := tc.want
			want.ReasoningTokens = 0 // Anthropic's own Message has no thinking count
			assert.Equal(t, want, again.Usage)
		})
	}
}

// A whole answer from another format written as a Message, byte for
// byte: an id with Anthropic's prefix, the blocks in order, the stop
// reason, and the usage split back into Anthropic's counts.
func TestAnthropicEncodeResponse(t *testing.T) {
	r := &Response{
		ID:    "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
		Model: "gpt-4o-2024-08-06",
		Parts: []Part{
			{Kind: PartThinking, Text: "Weigh it."},
			anthropicText("Two calls <now> & then."),
			{Kind: PartToolCall, ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`},
			{Kind: PartToolCall, ID: "call_2", Name: "now", Arguments: ``},
			{Kind: PartToolCall, ID: "call_3", Name: "cut", Arguments: `{"city":"Ro`},
			{Kind: PartThinking},
		},
		Finish: FinishToolCalls,
		Usage:  provider.Usage{InputTokens: 1200, OutputTokens: 80, CacheReadTokens: 1024, ReasoningTokens: 20},
	}
	out, err := anthropicTestCodec.EncodeResponse(r)
	require.NoError(t, err)
	assert.Equal(t, `{"id":"msg_chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","type":"message","role":"assistant","model":"gpt-4o-2024-08-06","content":[`+
		`{"type":"thinking","thinking":"Weigh it.","signature":""},`+
		`{"type":"text","text":"Two calls <now> & then."},`+
		`{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}},`+
		`{"type":"tool_use","id":"call_2","name":"now","input":{}},`+
		`{"type":"tool_use","id":"call_3","name":"cut","input":"{\"city\":\"Ro"}],`+
		`"stop_reason":"tool_use","stop_sequence":null,`+
		`"usage":{"input_tokens":176,"cache_creation_input_tokens":0,"cache_read_input_tokens":1024,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":80}}`,
		string(out))
}

func TestAnthropicEncodeResponseIDAndStopSequence(t *testing.T) {
	out, err := anthropicTestCodec.EncodeResponse(&Response{ID: "msg_keep", Model: "m", Finish: FinishStop, StopSequence: "END"})
	require.NoError(t, err)
	assert.Contains(t, string(out), `{"id":"msg_keep",`)
	assert.Contains(t, string(out), `"stop_reason":"stop_sequence","stop_sequence":"END",`)

	out, err = anthropicTestCodec.EncodeResponse(&Response{Model: "m", Finish: FinishStop})
	require.NoError(t, err)
	var m struct{ ID string }
	require.NoError(t, json.Unmarshal(out, &m))
	assert.Regexp(t, `^msg_[0-9A-Za-z]{24}$`, m.ID, "an answer without an id gets one")
}

// An Anthropic answer decoded and written again is the same Message (but
// for what Anthropic adds that no other format has: service_tier).
func TestAnthropicResponseRoundTrip(t *testing.T) {
	in := anthropicMessage(`[{"type":"thinking","thinking":"t","signature":"s"},{"type":"redacted_thinking","data":"r"},`+
		`{"type":"text","text":"Hi"},{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":[1,2]}}]`, `"tool_use"`)
	r, err := anthropicTestCodec.DecodeResponse([]byte(in))
	require.NoError(t, err)
	out, err := anthropicTestCodec.EncodeResponse(r)
	require.NoError(t, err)
	assert.Equal(t, strings.Replace(in, `,"service_tier":"standard"`, "", 1), string(out))
}

// anthropicKept is what a test keeps of an emitted Event: a copy, since
// the decoder reuses the Event and its strings.
func anthropicKept(e *Event) Event {
	k := *e
	k.ID, k.Model, k.Text = strings.Clone(e.ID), strings.Clone(e.Model), strings.Clone(e.Text)
	k.Name, k.Signature, k.StopSequence = strings.Clone(e.Name), strings.Clone(e.Signature), strings.Clone(e.StopSequence)
	k.Redacted = strings.Clone(e.Redacted)
	if e.Err != nil {
		err := *e.Err
		k.Err = &err
	}
	return k
}

// anthropicDecodeStream feeds a stream (events as "name\ndata") to one
// decoder and returns what it emitted.
func anthropicDecodeStream(t *testing.T, events ...string) []Event {
	t.Helper()
	d := anthropicTestCodec.NewStreamDecoder()
	var got []Event
	for _, ev := range events {
		name, data, _ := strings.Cut(ev, "\n")
		buf := []byte(data) // the decoder reads it in place
		require.NoError(t, d.Decode([]byte(name), buf, func(e *Event) { got = append(got, anthropicKept(e)) }), ev)
		for i := range buf {
			buf[i] = 'X' // what the events held was copied, not kept
		}
	}
	return got
}

const (
	anthropicStartEvent = "message_start\n" + `{"type":"message_start","message":{"id":"msg_01abc","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,` +
		`"usage":{"input_tokens":472,"cache_creation_input_tokens":0,"cache_read_input_tokens":2048,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":1,"service_tier":"standard"}}}`
	anthropicPing = "ping\n" + `{"type": "ping"}`
	anthropicStop = "message_stop\n" + `{"type":"message_stop"}`
)

func anthropicStartUsage() provider.Usage {
	return provider.Usage{InputTokens: 2520, OutputTokens: 1, CacheReadTokens: 2048}
}

func TestAnthropicStreamDecodeText(t *testing.T) {
	got := anthropicDecodeStream(t,
		anthropicStartEvent,
		"content_block_start\n"+`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		anthropicPing,
		"content_block_delta\n"+`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", \"w\u00f6rld\"\n"}}`,
		"content_block_stop\n"+`{"type":"content_block_stop","index":0}`,
		"message_delta\n"+`{"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"END"},"usage":{"output_tokens":15}}`,
		anthropicStop,
	)
	assert.Equal(t, []Event{
		{Kind: EventStart, ID: "msg_01abc", Model: "claude-sonnet-4-5-20250929", Usage: anthropicStartUsage()},
		{Kind: EventText, Text: "Hello"},
		{Kind: EventText, Text: ", \"wörld\"\n"},
		{Kind: EventFinish, Finish: FinishStop, StopSequence: "END"},
		// message_delta's output count replaces message_start's; the
		// input counts stay.
		{Kind: EventUsage, Usage: provider.Usage{InputTokens: 2520, OutputTokens: 15, CacheReadTokens: 2048}},
		{Kind: EventDone},
	}, got)
}

// The newer API repeats the input and cache counts in message_delta,
// cumulative: they replace message_start's.
func TestAnthropicStreamDecodeCumulativeUsage(t *testing.T) {
	got := anthropicDecodeStream(t,
		anthropicStartEvent,
		"message_delta\n"+`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":500,"cache_creation_input_tokens":100,"cache_read_input_tokens":2048,"output_tokens":42}}`,
	)
	require.Len(t, got, 3)
	assert.Equal(t, Event{Kind: EventFinish, Finish: FinishStop}, got[1])
	assert.Equal(t, Event{Kind: EventUsage, Usage: provider.Usage{InputTokens: 2648, OutputTokens: 42, CacheReadTokens: 2048, CacheCreationTokens: 100}}, got[2])
}

// Two tool calls stream as two blocks: each starts with its call number
// (not its block index), and each one's arguments go to it.
func TestAnthropicStreamDecodeParallelToolCalls(t *testing.T) {
	got := anthropicDecodeStream(t,
		anthropicStartEvent,
		"content_block_start\n"+`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking."}}`,
		"content_block_stop\n"+`{"type":"content_block_stop","index":0}`,
		"content_block_start\n"+`{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ris\"}"}}`,
		"content_block_stop\n"+`{"type":"content_block_stop","index":1}`,
		"content_block_start\n"+`{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_02","name":"get_weather","input":{}}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Rome\"}"}}`,
		"content_block_stop\n"+`{"type":"content_block_stop","index":2}`,
		"content_block_start\n"+`{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_03","name":"now","input":{}}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":""}}`,
		"content_block_stop\n"+`{"type":"content_block_stop","index":3}`,
		"message_delta\n"+`{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}`,
		anthropicStop,
	)
	assert.Equal(t, []Event{
		{Kind: EventStart, ID: "msg_01abc", Model: "claude-sonnet-4-5-20250929", Usage: anthropicStartUsage()},
		{Kind: EventText, Text: "Checking."},
		{Kind: EventToolStart, Tool: 0, ID: "toolu_01", Name: "get_weather"},
		{Kind: EventToolArgs, Tool: 0, Text: `{"city": "Pa`},
		{Kind: EventToolArgs, Tool: 0, Text: `ris"}`},
		{Kind: EventToolStart, Tool: 1, ID: "toolu_02", Name: "get_weather"},
		{Kind: EventToolArgs, Tool: 1, Text: `{"city": "Rome"}`},
		{Kind: EventToolStart, Tool: 2, ID: "toolu_03", Name: "now"},
		// A call without arguments streams none: {} at its end, as
		// other formats expect an object.
		{Kind: EventToolArgs, Tool: 2, Text: `{}`},
		{Kind: EventFinish, Finish: FinishToolCalls},
		{Kind: EventUsage, Usage: provider.Usage{InputTokens: 2520, OutputTokens: 89, CacheReadTokens: 2048}},
		{Kind: EventDone},
	}, got)
}

// Deltas address blocks by index: when blocks overlap, each delta still
// goes to its own call.
func TestAnthropicStreamDecodeInterleavedBlocks(t *testing.T) {
	got := anthropicDecodeStream(t,
		anthropicStartEvent,
		"content_block_start\n"+`{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"a","name":"f","input":{}}}`,
		"content_block_start\n"+`{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"b","name":"g","input":{}}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"y\":2}"}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"x\":1}"}}`,
		"content_block_stop\n"+`{"type":"content_block_stop","index":1}`,
		"content_block_stop\n"+`{"type":"content_block_stop","index":0}`,
	)
	assert.Equal(t, []Event{
		{Kind: EventStart, ID: "msg_01abc", Model: "claude-sonnet-4-5-20250929", Usage: anthropicStartUsage()},
		{Kind: EventToolStart, Tool: 0, ID: "a", Name: "f"},
		{Kind: EventToolStart, Tool: 1, ID: "b", Name: "g"},
		{Kind: EventToolArgs, Tool: 1, Text: `{"y":2}`},
		{Kind: EventToolArgs, Tool: 0, Text: `{"x":1}`},
	}, got)
}

func TestAnthropicStreamDecodeThinking(t *testing.T) {
	got := anthropicDecodeStream(t,
		anthropicStartEvent,
		"content_block_start\n"+`{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me add: 2+2"}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":" = 4."}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}`,
		"content_block_stop\n"+`{"type":"content_block_stop","index":0}`,
		"content_block_start\n"+`{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"EmwKAhgB"}}`,
		"content_block_stop\n"+`{"type":"content_block_stop","index":1}`,
		// A block may start with its first text (a proxy, or a
		// prefilled turn): it is not lost.
		"content_block_start\n"+`{"type":"content_block_start","index":2,"content_block":{"type":"text","text":"It is"}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":" 4."}}`,
		"content_block_delta\n"+`{"type":"content_block_delta","index":2,"delta":{"type":"citations_delta","citation":{"type":"char_location","cited_text":"x"}}}`,
		"content_block_stop\n"+`{"type":"content_block_stop","index":2}`,
	)
	assert.Equal(t, []Event{
		{Kind: EventStart, ID: "msg_01abc", Model: "claude-sonnet-4-5-20250929", Usage: anthropicStartUsage()},
		{Kind: EventThinking, Text: "Let me add: 2+2"},
		{Kind: EventThinking, Text: " = 4."},
		{Kind: EventThinking, Signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},
		{Kind: EventThinking, Redacted: "EmwKAhgB"},
		{Kind: EventText, Text: "It is"},
		{Kind: EventText, Text: " 4."},
	}, got)
}

// An error event after the 200 becomes EventError with the provider's
// type and message.
func TestAnthropicStreamDecodeError(t *testing.T) {
	got := anthropicDecodeStream(t,
		anthropicStartEvent,
		"error\n"+`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
	)
	require.Len(t, got, 2)
	assert.Equal(t, Event{Kind: EventError, Err: &provider.Error{Type: "overloaded_error", Message: "Overloaded"}}, got[1])
}

// Event types Anthropic adds later are passed over, as its versioning
// policy asks; data that is not an Anthropic event, or a delta for a block
// that never started, is an error.
func TestAnthropicStreamDecodeUnknownAndBrokenEvents(t *testing.T) {
	assert.Empty(t, anthropicDecodeStream(t, anthropicPing, "future\n"+`{"type":"message_future","x":1}`))
	for _, data := range []string{
		``, `not json`, `[]`, `{"no":"type"}`, `{"type":5}`, `{"type":"message_start"}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}`,
		`{"type":"content_block_stop","index":3}`,
		`{"type":"content_block_start","index":-1,"content_block":{"type":"text","text":""}}`,
		`{"type":"content_block_start","index":99999999,"content_block":{"type":"text","text":""}}`,
	} {
		d := anthropicTestCodec.NewStreamDecoder()
		assert.Error(t, d.Decode(nil, []byte(data), func(*Event) {}), data)
	}
}

// anthropicSSE is one SSE event as the encoder writes it.
func anthropicSSE(name, data string) string { return "event: " + name + "\ndata: " + data + "\n\n" }

// anthropicEncodeStream feeds events to one encoder and returns what each
// one wrote.
func anthropicEncodeStream(events ...Event) []string {
	s := anthropicTestCodec.NewStreamEncoder(&Request{Stream: true})
	out := make([]string, len(events))
	var dst []byte
	for i := range events {
		dst = s.Encode(dst[:0], &events[i])
		out[i] = string(dst)
	}
	return out
}

func anthropicBlockStart(i, block string) string {
	return anthropicSSE("content_block_start", `{"type":"content_block_start","index":`+i+`,"content_block":`+block+`}`)
}

func anthropicBlockDelta(i, delta string) string {
	return anthropicSSE("content_block_delta", `{"type":"content_block_delta","index":`+i+`,"delta":`+delta+`}`)
}

func anthropicBlockStop(i string) string {
	return anthropicSSE("content_block_stop", `{"type":"content_block_stop","index":`+i+`}`)
}

var anthropicMessageStop = anthropicSSE("message_stop", `{"type":"message_stop"}`)

// An OpenAI upstream's answer for an Anthropic caller: its usage comes in
// a chunk after finish_reason, so message_delta waits for it and carries
// the whole usage: the caller never sees input_tokens 0.
func TestAnthropicStreamEncodeHoldsMessageDeltaForTheUsage(t *testing.T) {
	got := anthropicEncodeStream(
		Event{Kind: EventStart, ID: "chatcmpl-123", Model: "gpt-4o-mini"},
		Event{Kind: EventText, Text: "Hel"},
		Event{Kind: EventText, Text: "lo \"you\""},
		Event{Kind: EventFinish, Finish: FinishStop},
		Event{Kind: EventUsage, Usage: provider.Usage{InputTokens: 1200, OutputTokens: 5, CacheReadTokens: 1024}},
		Event{Kind: EventDone},
	)
	assert.Equal(t, []string{
		anthropicSSE("message_start", `{"type":"message_start","message":{"id":"msg_chatcmpl-123","type":"message","role":"assistant","model":"gpt-4o-mini","content":[],"stop_reason":null,"stop_sequence":null,`+
			`"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":1}}}`),
		anthropicBlockStart("0", `{"type":"text","text":""}`) + anthropicBlockDelta("0", `{"type":"text_delta","text":"Hel"}`),
		anthropicBlockDelta("0", `{"type":"text_delta","text":"lo \"you\""}`),
		anthropicBlockStop("0"),
		anthropicSSE("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},`+
			`"usage":{"input_tokens":176,"cache_creation_input_tokens":0,"cache_read_input_tokens":1024,"output_tokens":5}}`),
		anthropicMessageStop,
	}, got)
}

// Without a usage after the finish (an upstream that sends none), the
// stream's end writes message_delta with what is known.
func TestAnthropicStreamEncodeDoneFlushesMessageDelta(t *testing.T) {
	got := anthropicEncodeStream(
		Event{Kind: EventStart, ID: "msg_1", Model: "m", Usage: provider.Usage{InputTokens: 30, CacheCreationTokens: 20, CacheCreation1hTokens: 5}},
		Event{Kind: EventText, Text: "x"},
		Event{Kind: EventFinish, Finish: FinishLength},
		Event{Kind: EventDone},
		Event{Kind: EventText, Text: "after the end"},
		Event{Kind: EventDone},
	)
	assert.Equal(t, anthropicSSE("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,`+
		`"usage":{"input_tokens":10,"cache_creation_input_tokens":20,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":15,"ephemeral_1h_input_tokens":5},"output_tokens":1}}}`), got[0])
	assert.Equal(t, anthropicBlockStop("0"), got[2])
	assert.Equal(t, anthropicSSE("message_delta", `{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},`+
		`"usage":{"input_tokens":10,"cache_creation_input_tokens":20,"cache_read_input_tokens":0,"output_tokens":0}}`)+anthropicMessageStop, got[3])
	assert.Empty(t, got[4], "nothing after the end")
	assert.Empty(t, got[5])
}

// Gemini reports usage in every chunk, cumulative: the counts before the
// finish only update what message_delta will say; the last one after it
// is what it says.
func TestAnthropicStreamEncodeCumulativeUsageBeforeTheFinish(t *testing.T) {
	got := anthropicEncodeStream(
		Event{Kind: EventStart, ID: "resp-1", Model: "gemini-2.5-flash", Usage: provider.Usage{InputTokens: 8}},
		Event{Kind: EventText, Text: "a"},
		Event{Kind: EventUsage, Usage: provider.Usage{InputTokens: 8, OutputTokens: 1}},
		Event{Kind: EventFinish, Finish: FinishStop, StopSequence: "STOP!"},
		Event{Kind: EventUsage, Usage: provider.Usage{InputTokens: 8, OutputTokens: 30, ReasoningTokens: 20}},
		Event{Kind: EventDone},
	)
	assert.Empty(t, got[2], "a usage before the finish writes nothing")
	assert.Equal(t, anthropicBlockStop("0"), got[3])
	assert.Equal(t, anthropicSSE("message_delta", `{"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"STOP!"},`+
		`"usage":{"input_tokens":8,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":30}}`), got[4])
	assert.Equal(t, anthropicMessageStop, got[5])
}

// Switching between thinking and text closes one block and opens the
// next at a new index, and the first piece of the new block is in it.
func TestAnthropicStreamEncodeBlockSwitchesKeepTheFirstToken(t *testing.T) {
	got := anthropicEncodeStream(
		Event{Kind: EventStart, ID: "msg_1", Model: "m"},
		Event{Kind: EventThinking, Text: "Hmm."},
		Event{Kind: EventThinking, Signature: "sig=="},
		Event{Kind: EventText, Text: "First"},
		Event{Kind: EventText, Text: " second"},
		Event{Kind: EventThinking, Text: "again", Signature: "s2"},
		Event{Kind: EventText, Text: ""},
		Event{Kind: EventText, Text: "Last"},
	)
	assert.Equal(t, []string{
		got[0],
		anthropicBlockStart("0", `{"type":"thinking","thinking":"","signature":""}`) + anthropicBlockDelta("0", `{"type":"thinking_delta","thinking":"Hmm."}`),
		anthropicBlockDelta("0", `{"type":"signature_delta","signature":"sig=="}`),
		anthropicBlockStop("0") + anthropicBlockStart("1", `{"type":"text","text":""}`) + anthropicBlockDelta("1", `{"type":"text_delta","text":"First"}`),
		anthropicBlockDelta("1", `{"type":"text_delta","text":" second"}`),
		anthropicBlockStop("1") + anthropicBlockStart("2", `{"type":"thinking","thinking":"","signature":""}`) +
			anthropicBlockDelta("2", `{"type":"thinking_delta","thinking":"again"}`) + anthropicBlockDelta("2", `{"type":"signature_delta","signature":"s2"}`),
		"",
		anthropicBlockStop("2") + anthropicBlockStart("3", `{"type":"text","text":""}`) + anthropicBlockDelta("3", `{"type":"text_delta","text":"Last"}`),
	}, got)
}

// Tool calls one after another (as OpenAI streams them): each its own
// block, opened with input {} and closed before the next.
func TestAnthropicStreamEncodeToolCallsInTurn(t *testing.T) {
	got := anthropicEncodeStream(
		Event{Kind: EventStart, ID: "chatcmpl-1", Model: "gpt-4o"},
		Event{Kind: EventText, Text: "Checking."},
		Event{Kind: EventToolStart, Tool: 0, ID: "call_a", Name: "get_weather"},
		Event{Kind: EventToolArgs, Tool: 0, Text: `{"city":`},
		Event{Kind: EventToolArgs, Tool: 0, Text: `"Paris"}`},
		Event{Kind: EventToolStart, Tool: 1, ID: "call_b", Name: "get_weather"},
		Event{Kind: EventToolArgs, Tool: 1, Text: `{"city":"Rome"}`},
		Event{Kind: EventFinish, Finish: FinishToolCalls},
		Event{Kind: EventUsage, Usage: provider.Usage{InputTokens: 100, OutputTokens: 40}},
		Event{Kind: EventDone},
	)
	assert.Equal(t, []string{
		got[0],
		anthropicBlockStart("0", `{"type":"text","text":""}`) + anthropicBlockDelta("0", `{"type":"text_delta","text":"Checking."}`),
		anthropicBlockStop("0") + anthropicBlockStart("1", `{"type":"tool_use","id":"call_a","name":"get_weather","input":{}}`),
		anthropicBlockDelta("1", `{"type":"input_json_delta","partial_json":"{\"city\":"}`),
		anthropicBlockDelta("1", `{"type":"input_json_delta","partial_json":"\"Paris\"}"}`),
		anthropicBlockStop("1") + anthropicBlockStart("2", `{"type":"tool_use","id":"call_b","name":"get_weather","input":{}}`),
		anthropicBlockDelta("2", `{"type":"input_json_delta","partial_json":"{\"city\":\"Rome\"}"}`),
		anthropicBlockStop("2"),
		anthropicSSE("message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},`+
			`"usage":{"input_tokens":100,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":40}}`),
		anthropicMessageStop,
	}, got)
}

// When a source interleaves the arguments of several calls, each piece
// still goes to its own call's block, at once: blocks whose arguments are
// not yet whole stay open (overlapping, addressed by index) and close, in
// index order, when the answer ends.
func TestAnthropicStreamEncodeInterleavedToolArguments(t *testing.T) {
	got := anthropicEncodeStream(
		Event{Kind: EventStart, ID: "chatcmpl-1", Model: "gpt-4o"},
		Event{Kind: EventToolStart, Tool: 0, ID: "call_a", Name: "f"},
		Event{Kind: EventToolArgs, Tool: 0, Text: `{"x":"}`},
		Event{Kind: EventToolStart, Tool: 1, ID: "call_b", Name: "g"},
		Event{Kind: EventToolArgs, Tool: 1, Text: `{"y":2}`},
		Event{Kind: EventToolArgs, Tool: 0, Text: `{\""}`},
		Event{Kind: EventToolStart, Tool: 2, ID: "call_c", Name: "h"},
		Event{Kind: EventToolArgs, Tool: 2, Text: `{}`},
		Event{Kind: EventFinish, Finish: FinishToolCalls},
	)
	assert.Equal(t, []string{
		got[0],
		anthropicBlockStart("0", `{"type":"tool_use","id":"call_a","name":"f","input":{}}`),
		anthropicBlockDelta("0", `{"type":"input_json_delta","partial_json":"{\"x\":\"}"}`),
		// call_a's arguments are not whole (a '}' inside a string): it
		// stays open.
		anthropicBlockStart("1", `{"type":"tool_use","id":"call_b","name":"g","input":{}}`),
		anthropicBlockDelta("1", `{"type":"input_json_delta","partial_json":"{\"y\":2}"}`),
		anthropicBlockDelta("0", `{"type":"input_json_delta","partial_json":"{\\\"\"}"}`),
		// Both are whole now: they close before the next opens.
		anthropicBlockStop("0") + anthropicBlockStop("1") + anthropicBlockStart("2", `{"type":"tool_use","id":"call_c","name":"h","input":{}}`),
		anthropicBlockDelta("2", `{"type":"input_json_delta","partial_json":"{}"}`),
		anthropicBlockStop("2"),
	}, got)

	got = anthropicEncodeStream(
		Event{Kind: EventStart, ID: "chatcmpl-1", Model: "gpt-4o"},
		Event{Kind: EventToolStart, Tool: 0, ID: "call_a", Name: "f"},
		Event{Kind: EventToolStart, Tool: 1, ID: "call_b", Name: "g"},
		Event{Kind: EventToolArgs, Tool: 0, Text: `{"x":1}`},
		Event{Kind: EventToolArgs, Tool: 1, Text: `{"y":`},
		Event{Kind: EventText, Text: "done"},
		Event{Kind: EventDone},
	)
	assert.Equal(t, anthropicBlockDelta("0", `{"type":"input_json_delta","partial_json":"{\"x\":1}"}`), got[3])
	assert.Equal(t, anthropicBlockStop("0")+anthropicBlockStart("2", `{"type":"text","text":""}`)+anthropicBlockDelta("2", `{"type":"text_delta","text":"done"}`),
		got[5], "the whole call closes, the other stays open")
	assert.True(t, strings.HasPrefix(got[6], anthropicBlockStop("1")+anthropicBlockStop("2")+anthropicSSE("message_delta", "")[:len("event: message_delta\n")]), got[6])
}

// Arguments of a call whose block closed (more after a whole value) and of
// a call that never started are still written, not lost.
func TestAnthropicStreamEncodeStrayToolArguments(t *testing.T) {
	got := anthropicEncodeStream(
		Event{Kind: EventStart, ID: "chatcmpl-1", Model: "gpt-4o"},
		Event{Kind: EventToolStart, Tool: 0, ID: "call_a", Name: "f"},
		Event{Kind: EventToolArgs, Tool: 0, Text: `{}`},
		Event{Kind: EventToolStart, Tool: 1, ID: "call_b", Name: "g"},
		Event{Kind: EventToolArgs, Tool: 0, Text: ` `},
		Event{Kind: EventToolArgs, Tool: 0, Text: `{"late":1}`},
		Event{Kind: EventToolArgs, Tool: 3, Text: `{"z":0}`},
	)
	assert.Empty(t, got[4], "whitespace after a closed call's arguments")
	assert.Equal(t, anthropicBlockDelta("0", `{"type":"input_json_delta","partial_json":"{\"late\":1}"}`), got[5])
	assert.Equal(t, anthropicBlockStart("2", `{"type":"tool_use","id":"","name":"","input":{}}`)+
		anthropicBlockDelta("2", `{"type":"input_json_delta","partial_json":"{\"z\":0}"}`), got[6])
}

// A source that starts without EventStart still gets a message_start
// first, with an id of Anthropic's shape.
func TestAnthropicStreamEncodeStartsTheMessageWhenTheSourceDidNot(t *testing.T) {
	got := anthropicEncodeStream(Event{Kind: EventText, Text: "Hi"})
	assert.Regexp(t, `^event: message_start\ndata: \{"type":"message_start","message":\{"id":"msg_[0-9A-Za-z]{24}","type":"message","role":"assistant","model":"",`, got[0])
	assert.True(t, strings.HasSuffix(got[0], anthropicBlockStart("0", `{"type":"text","text":""}`)+anthropicBlockDelta("0", `{"type":"text_delta","text":"Hi"}`)))

	got = anthropicEncodeStream(Event{Kind: EventDone})
	assert.Contains(t, got[0], `"stop_reason":"end_turn"`, "an empty stream is an empty message")
	assert.True(t, strings.HasSuffix(got[0], anthropicMessageStop))
}

// A mid-stream error becomes Anthropic's error event, with the type an
// Anthropic client knows, and ends the stream.
func TestAnthropicStreamEncodeError(t *testing.T) {
	got := anthropicEncodeStream(
		Event{Kind: EventStart, ID: "chatcmpl-1", Model: "gpt-4o"},
		Event{Kind: EventText, Text: "Hi"},
		Event{Kind: EventError, Err: &provider.Error{Type: "server_error", Message: "The server had an error"}},
		Event{Kind: EventDone},
	)
	assert.Equal(t, anthropicSSE("error", `{"type":"error","error":{"type":"api_error","message":"The server had an error"}}`), got[2])
	assert.Empty(t, got[3])
}

// An Anthropic stream decoded and encoded again is the same stream, byte
// for byte (in the encoder's spelling: no pings).
func TestAnthropicStreamRoundTrip(t *testing.T) {
	start := `{"type":"message_start","message":{"id":"msg_01abc","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,` +
		`"usage":{"input_tokens":10,"cache_creation_input_tokens":20,"cache_read_input_tokens":30,"cache_creation":{"ephemeral_5m_input_tokens":20,"ephemeral_1h_input_tokens":0},"output_tokens":1}}}`
	stream := anthropicSSE("message_start", start) +
		anthropicBlockStart("0", `{"type":"thinking","thinking":"","signature":""}`) +
		anthropicBlockDelta("0", `{"type":"thinking_delta","thinking":"Plan."}`) +
		anthropicBlockDelta("0", `{"type":"signature_delta","signature":"c2ln"}`) +
		anthropicBlockStop("0") +
		anthropicBlockStart("1", `{"type":"text","text":""}`) +
		anthropicBlockDelta("1", `{"type":"text_delta","text":"Let me look \u003c\u003e."}`) +
		anthropicBlockStop("1") +
		anthropicBlockStart("2", `{"type":"tool_use","id":"toolu_1","name":"f","input":{}}`) +
		anthropicBlockDelta("2", `{"type":"input_json_delta","partial_json":"{\"q\": "}`) +
		anthropicBlockDelta("2", `{"type":"input_json_delta","partial_json":"\"x\"}"}`) +
		anthropicBlockStop("2") +
		anthropicSSE("message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":10,"cache_creation_input_tokens":20,"cache_read_input_tokens":30,"output_tokens":77}}`) +
		anthropicMessageStop
	stream = strings.ReplaceAll(stream, `\u003c\u003e`, `<>`)

	d := anthropicTestCodec.NewStreamDecoder()
	e := anthropicTestCodec.NewStreamEncoder(&Request{Stream: true})
	var out []byte
	for _, ev := range strings.SplitAfter(stream, "\n\n") {
		if ev == "" {
			continue
		}
		name, rest, _ := strings.Cut(strings.TrimPrefix(ev, "event: "), "\ndata: ")
		require.NoError(t, d.Decode([]byte(name), []byte(strings.TrimSuffix(rest, "\n\n")), func(ev *Event) { out = e.Encode(out, ev) }))
	}
	assert.Equal(t, stream, string(out))
}

// A target's error reaches an Anthropic caller as Anthropic's error body,
// with a type its SDK knows; the provider's code rides along in
// details.error_code.
func TestAnthropicEncodeError(t *testing.T) {
	cases := []struct {
		name string
		err  provider.Error
		typ  string
	}{
		{"Anthropic's own type", provider.Error{Status: 529, Type: "overloaded_error", Message: "Overloaded"}, "overloaded_error"},
		{"OpenAI 400", provider.Error{Status: 400, Type: "invalid_request_error", Code: "context_length_exceeded", Message: "too long"}, "invalid_request_error"},
		{"OpenAI 401 says invalid_request_error", provider.Error{Status: 401, Type: "invalid_request_error", Code: "invalid_api_key", Message: "bad key"}, "authentication_error"},
		{"OpenAI 404", provider.Error{Status: 404, Type: "invalid_request_error", Code: "model_not_found", Message: "no model"}, "not_found_error"},
		{"OpenAI 403", provider.Error{Status: 403, Type: "request_forbidden", Message: "no"}, "permission_error"},
		{"OpenAI rate limit", provider.Error{Status: 429, Type: "requests", Code: "rate_limit_exceeded", Message: "slow down"}, "rate_limit_error"},
		{"OpenAI out of quota", provider.Error{Status: 429, Type: "insufficient_quota", Code: "insufficient_quota", Message: "pay"}, "billing_error"},
		{"OpenAI 500", provider.Error{Status: 500, Type: "server_error", Message: "oops"}, "api_error"},
		{"OpenAI 503", provider.Error{Status: 503, Type: "server_error", Message: "busy"}, "overloaded_error"},
		{"413", provider.Error{Status: 413, Message: "big"}, "request_too_large"},
		{"504", provider.Error{Status: 504, Message: "slow"}, "timeout_error"},
		{"402", provider.Error{Status: 402, Message: "pay"}, "billing_error"},
		{"422", provider.Error{Status: 422, Message: "bad"}, "invalid_request_error"},
		{"Gemini 429", provider.Error{Status: 429, Type: "RESOURCE_EXHAUSTED", Message: "quota"}, "rate_limit_error"},
		{"Gemini 503", provider.Error{Status: 503, Type: "UNAVAILABLE", Message: "overloaded"}, "overloaded_error"},
		{"Gemini 400", provider.Error{Status: 400, Type: "INVALID_ARGUMENT", Message: "bad"}, "invalid_request_error"},
		{"mid-stream OpenAI", provider.Error{Type: "server_error", Message: "x"}, "api_error"},
		{"mid-stream rate limit", provider.Error{Code: "rate_limit_exceeded", Message: "x"}, "rate_limit_error"},
		{"mid-stream Gemini", provider.Error{Type: "UNAVAILABLE", Message: "x"}, "overloaded_error"},
		{"mid-stream Gemini deadline", provider.Error{Type: "DEADLINE_EXCEEDED", Message: "x"}, "timeout_error"},
		{"mid-stream unknown", provider.Error{Message: "x"}, "api_error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := anthropicTestCodec.EncodeError(&tc.err)
			var got struct {
				Type  string
				Error struct {
					Type, Message string
					Details       *struct {
						ErrorCode string `json:"error_code"`
					}
				}
			}
			require.NoError(t, json.Unmarshal(body, &got), "%s", body)
			assert.Equal(t, "error", got.Type)
			assert.Equal(t, tc.typ, got.Error.Type)
			assert.Equal(t, tc.err.Message, got.Error.Message)
			if tc.err.Code == "" {
				assert.Nil(t, got.Error.Details)
			} else {
				require.NotNil(t, got.Error.Details)
				assert.Equal(t, tc.err.Code, got.Error.Details.ErrorCode)
			}
		})
	}
	assert.Equal(t, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
		string(anthropicTestCodec.EncodeError(&provider.Error{Status: 529})), "no message: the status's text")
	assert.Equal(t, `{"type":"error","error":{"type":"rate_limit_error","message":"Too Many Requests","details":{"error_code":"x"}}}`,
		string(anthropicTestCodec.EncodeError(&provider.Error{Status: 429, Code: "x"})))
	assert.Equal(t, `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`,
		string(anthropicTestCodec.EncodeError(&provider.Error{})))
}

// anthropicAgainstTheFake sends r, encoded by the codec, to the fake
// Anthropic upstream and returns its answer's status and body.
func anthropicAgainstTheFake(t *testing.T, fake *llmtest.Transport, r *Request) (int, []byte) {
	t.Helper()
	body := anthropicEncode(t, r, "claude-sonnet-4-5")
	req, err := http.NewRequest(http.MethodPost, llmtest.TransportURL+"/v1/messages", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", "key")
	req.Header.Set("Anthropic-Version", "2023-06-01")
	resp, err := fake.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// anthropicDecodeSSE reads a whole SSE body with the codec's stream
// decoder.
func anthropicDecodeSSE(t *testing.T, body []byte) []Event {
	t.Helper()
	var sc sse.Scanner
	sc.Feed(body)
	sc.Flush()
	d := anthropicTestCodec.NewStreamDecoder()
	var got []Event
	for sc.Next() {
		ev := sc.Event()
		require.NoError(t, d.Decode(ev.Name, ev.Data, func(e *Event) { got = append(got, anthropicKept(e)) }))
	}
	require.NoError(t, sc.Err())
	return got
}

// The fake upstream, which answers as Anthropic does byte for byte, takes
// the requests the codec writes, and the codec reads its answers, whole
// and streamed (pings, service_tier and all), with their usage.
func TestAnthropicAgainstTheFakeUpstream(t *testing.T) {
	usage := llmtest.Usage{InputTokens: 1200, OutputTokens: 4, CacheReadTokens: 1000, CacheCreationTokens: 100, CacheCreation1hTokens: 40}
	want := provider.Usage{InputTokens: 1200, OutputTokens: 4, CacheReadTokens: 1000, CacheCreationTokens: 100, CacheCreation1hTokens: 40}
	fake := llmtest.NewTransport(llmtest.WithUsage(usage))
	r := &Request{System: []Part{anthropicText("Be brief.")}, Messages: []Message{anthropicUser(anthropicText("Hi"))}, User: "u1"}

	status, body := anthropicAgainstTheFake(t, fake, r)
	require.Equal(t, http.StatusOK, status, "%s", body)
	resp, err := anthropicTestCodec.DecodeResponse(body)
	require.NoError(t, err)
	assert.Equal(t, []Part{anthropicText(llmtest.DefaultReply)}, resp.Parts)
	assert.Equal(t, FinishStop, resp.Finish)
	assert.Equal(t, "claude-sonnet-4-5", resp.Model)
	assert.True(t, resp.UsageKnown)
	assert.Equal(t, want, resp.Usage)

	r.Stream = true
	status, body = anthropicAgainstTheFake(t, fake, r)
	require.Equal(t, http.StatusOK, status, "%s", body)
	events := anthropicDecodeSSE(t, body)
	require.NotEmpty(t, events)
	start := events[0]
	assert.Equal(t, EventStart, start.Kind)
	assert.True(t, strings.HasPrefix(start.ID, "msg_01llmtest"), start.ID)
	assert.Equal(t, provider.Usage{InputTokens: 1200, OutputTokens: 1, CacheReadTokens: 1000, CacheCreationTokens: 100, CacheCreation1hTokens: 40}, start.Usage)
	var text strings.Builder
	var kinds []EventKind
	for _, e := range events[1:] {
		if e.Kind == EventText {
			text.WriteString(e.Text)
			continue
		}
		kinds = append(kinds, e.Kind)
		if e.Kind == EventUsage {
			assert.Equal(t, want, e.Usage)
		}
	}
	assert.Equal(t, llmtest.DefaultReply, text.String())
	assert.Equal(t, []EventKind{EventFinish, EventUsage, EventDone}, kinds)

	fake.Push(llmtest.Fault{ErrorAt: 3, Type: "overloaded_error", Message: "Overloaded"})
	_, body = anthropicAgainstTheFake(t, fake, r)
	events = anthropicDecodeSSE(t, body)
	last := events[len(events)-1]
	assert.Equal(t, EventError, last.Kind)
	assert.Equal(t, &provider.Error{Type: "overloaded_error", Message: "Overloaded"}, last.Err)
}

// A request that ends with tool results answering an assistant turn that
// does not start with Anthropic's signed thinking goes without thinking,
// which Anthropic would refuse; with the signed thinking first, or at the
// next user turn, thinking is on.
func TestAnthropicEncodeRequestThinkingAfterAnUnsignedToolTurn(t *testing.T) {
	call := Part{Kind: PartToolCall, ID: "c1", Name: "f", Arguments: `{}`}
	result := Part{Kind: PartToolResult, ID: "c1", Name: "f", Text: "ok"}
	signed := Part{Kind: PartThinking, Text: "t", Signature: "sig"}
	unsigned := Part{Kind: PartThinking, Text: "from OpenAI"}
	cases := []struct {
		name     string
		messages []Message
		thinking bool
	}{
		{"tool results after a turn without thinking", []Message{anthropicUser(anthropicText("go")), anthropicAssistant(anthropicText("calling"), call), anthropicUser(result)}, false},
		{"after a turn whose thinking is not Anthropic's", []Message{anthropicUser(anthropicText("go")), anthropicAssistant(unsigned, call), anthropicUser(result)}, false},
		{"after a turn split in two messages", []Message{anthropicUser(anthropicText("go")), anthropicAssistant(anthropicText("")), anthropicAssistant(call), anthropicUser(result), anthropicUser(anthropicText(""))}, false},
		{"after signed thinking", []Message{anthropicUser(anthropicText("go")), anthropicAssistant(signed, call), anthropicUser(result)}, true},
		{"after redacted thinking", []Message{anthropicUser(anthropicText("go")), anthropicAssistant(Part{Kind: PartThinking, Redacted: "r"}, call), anthropicUser(result)}, true},
		{"a new user turn", []Message{anthropicUser(anthropicText("go")), anthropicAssistant(call), anthropicUser(result), anthropicAssistant(anthropicText("done")), anthropicUser(anthropicText("more"))}, true},
		{"tool results and text in the last turn", []Message{anthropicUser(anthropicText("go")), anthropicAssistant(call), anthropicUser(result, anthropicText("and?"))}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Request{Messages: tc.messages, Reasoning: Reasoning{Effort: "low"}, Temperature: anthropicPtr(0.5)}
			if tc.thinking {
				assert.Equal(t, "temperature", anthropicRefusal(t, r, "claude-sonnet-4-5").Param, "thinking on: its rules apply")
				r.Temperature = nil
				assert.Contains(t, anthropicEncode(t, r, "claude-sonnet-4-5"), `"thinking":{"type":"enabled","budget_tokens":2048}`)
				return
			}
			out := anthropicEncode(t, r, "claude-sonnet-4-5")
			assert.NotContains(t, out, `"thinking":{`)
			assert.Contains(t, out, `"max_tokens":4096,`)
			assert.Contains(t, out, `"temperature":0.5`)
		})
	}
}
