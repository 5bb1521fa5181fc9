package translate

import (
	"encoding/json"
	"errors"
	"strings"

	"testing"

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

// Models from Claude 4.6 on take adaptive thinking (from 4.7 only that),
// older ones a budget: the version is read from the model's name in each
// of its spellings.
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
		"my-router-alias":                              true,
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
