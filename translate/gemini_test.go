package translate

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/provider"
)

// geminiDecodeForTest decodes a Gemini request body, which must be one.
func geminiDecodeForTest(t *testing.T, body string) *Request {
	t.Helper()
	r, err := geminiCodec{}.DecodeRequest([]byte(body), RequestMeta{Model: "gemini-2.5-flash"})
	require.NoError(t, err)
	return r
}

// geminiEncodeForTest encodes r for model, which must succeed.
func geminiEncodeForTest(t *testing.T, r *Request, model string) string {
	t.Helper()
	b, err := geminiCodec{}.EncodeRequest(r, model)
	require.NoError(t, err)
	require.True(t, json.Valid(b), "%s", b)
	return string(b)
}

func geminiFloatPtr(f float64) *float64 { return &f }
func geminiIntPtr(n int64) *int64       { return &n }
func geminiBoolPtr(b bool) *bool        { return &b }

func TestGeminiCodecIsTheRegisteredOne(t *testing.T) {
	c := For(provider.FormatGemini)
	require.NotNil(t, c)
	assert.Equal(t, provider.FormatGemini, c.Format())
}

// A request setting every field the shared representation carries, in
// Google's camelCase and in the proto names its parser also takes.
const geminiFullRequest = `{
  "contents": [
    {"role": "user", "parts": [
      {"text": "What is the weather in Paris and Rome? Here is a map."},
      {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
      {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/map.jpg"}}
    ]},
    {"role": "model", "parts": [
      {"text": "Let me think.", "thought": true},
      {"text": " About both cities.", "thought": true, "thoughtSignature": "c2lnMQ=="},
      {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2lnMg=="},
      {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}
    ]},
    {"role": "user", "parts": [
      {"functionResponse": {"name": "get_weather", "response": {"output": "sunny"}}},
      {"functionResponse": {"name": "get_weather", "response": {"temp": 20, "sky": "clear"}}}
    ]},
    {"parts": [{"text": "Thanks. And tomorrow?"}]}
  ],
  "systemInstruction": {"parts": [{"text": "Be brief."}, {"text": "Use metric units."}]},
  "tools": [{"functionDeclarations": [
    {"name": "get_weather", "description": "The weather in a city.",
     "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING", "description": "A city"}, "days": {"type": "INTEGER", "nullable": true}}, "required": ["city"], "propertyOrdering": ["city", "days"]}},
    {"name": "get_time", "parametersJsonSchema": {"type": "object", "properties": {"tz": {"type": ["string", "null"]}}, "additionalProperties": false}}
  ]}],
  "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
  "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
  "generationConfig": {
    "maxOutputTokens": 1000, "temperature": 0.7, "topP": 0.95, "topK": 40,
    "stopSequences": ["END"], "candidateCount": 1,
    "responseMimeType": "application/json",
    "responseSchema": {"type": "OBJECT", "properties": {"answer": {"type": "STRING"}}},
    "thinkingConfig": {"thinkingBudget": 2048, "includeThoughts": true}
  }
}`

// geminiFullIR is what geminiFullRequest says; ids are synthesised from
// the calls' positions.
func geminiFullIR() *Request {
	paris := geminiRequestCallID(1, 2, "get_weather")
	rome := geminiRequestCallID(1, 3, "get_weather")
	return &Request{
		Model:  "gemini-2.5-flash",
		System: []Part{{Kind: PartText, Text: "Be brief."}, {Kind: PartText, Text: "Use metric units."}},
		Messages: []Message{
			{Role: RoleUser, Parts: []Part{
				{Kind: PartText, Text: "What is the weather in Paris and Rome? Here is a map."},
				{Kind: PartImage, MediaType: "image/png", Data: "iVBORw0KGgo="},
				{Kind: PartImage, MediaType: "image/jpeg", URL: "https://example.com/map.jpg"},
			}},
			{Role: RoleAssistant, Parts: []Part{
				{Kind: PartThinking, Text: "Let me think. About both cities.", Signature: "gemini:c2lnMQ=="},
				{Kind: PartThinking, Signature: "gemini:c2lnMg=="},
				{Kind: PartToolCall, ID: paris, Name: "get_weather", Arguments: `{"city":"Paris"}`},
				{Kind: PartToolCall, ID: rome, Name: "get_weather", Arguments: `{"city":"Rome"}`},
			}},
			// Consecutive contents of one role are one message.
			{Role: RoleUser, Parts: []Part{
				{Kind: PartToolResult, ID: paris, Name: "get_weather", Text: "sunny"},
				{Kind: PartToolResult, ID: rome, Name: "get_weather", Text: `{"temp":20,"sky":"clear"}`, JSON: true},
				{Kind: PartText, Text: "Thanks. And tomorrow?"},
			}},
		},
		Tools: []Tool{
			{Name: "get_weather", Description: "The weather in a city.",
				Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string","description":"A city"},"days":{"type":["integer","null"]}},"required":["city"]}`)},
			{Name: "get_time", Parameters: []byte(`{"type":"object","properties":{"tz":{"type":["string","null"]}},"additionalProperties":false}`)},
		},
		ToolChoice:     ToolChoice{Mode: ToolChoiceTool, Name: "get_weather"},
		MaxTokens:      1000,
		Temperature:    geminiFloatPtr(0.7),
		TopP:           geminiFloatPtr(0.95),
		TopK:           geminiIntPtr(40),
		Stop:           []string{"END"},
		Reasoning:      Reasoning{BudgetTokens: 2048, IncludeThoughts: true},
		ResponseFormat: "json_schema",
		ResponseSchema: []byte(`{"type":"object","properties":{"answer":{"type":"string"}}}`),
		ResponseStrict: true,
	}
}

// geminiSnakeCase respells the request's field names as their proto names.
func geminiSnakeCase(body string) string {
	return strings.NewReplacer(
		`"systemInstruction"`, `"system_instruction"`,
		`"inlineData"`, `"inline_data"`,
		`"mimeType"`, `"mime_type"`,
		`"fileData"`, `"file_data"`,
		`"fileUri"`, `"file_uri"`,
		`"functionCall"`, `"function_call"`,
		`"functionResponse"`, `"function_response"`,
		`"thoughtSignature"`, `"thought_signature"`,
		`"functionDeclarations"`, `"function_declarations"`,
		`"parametersJsonSchema"`, `"parameters_json_schema"`,
		`"propertyOrdering"`, `"property_ordering"`,
		`"toolConfig"`, `"tool_config"`,
		`"functionCallingConfig"`, `"function_calling_config"`,
		`"allowedFunctionNames"`, `"allowed_function_names"`,
		`"generationConfig"`, `"generation_config"`,
		`"maxOutputTokens"`, `"max_output_tokens"`,
		`"topP"`, `"top_p"`, `"topK"`, `"top_k"`,
		`"stopSequences"`, `"stop_sequences"`,
		`"candidateCount"`, `"candidate_count"`,
		`"responseMimeType"`, `"response_mime_type"`,
		`"responseSchema"`, `"response_schema"`,
		`"thinkingConfig"`, `"thinking_config"`,
		`"thinkingBudget"`, `"thinking_budget"`,
		`"includeThoughts"`, `"include_thoughts"`,
		`"safetySettings"`, `"safety_settings"`,
	).Replace(body)
}

func TestGeminiDecodeRequestReadsEveryField(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"camelCase", geminiFullRequest},
		{"proto names", geminiSnakeCase(geminiFullRequest)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NotEqual(t, tc.name == "proto names", strings.Contains(tc.body, "systemInstruction"))
			assert.Equal(t, geminiFullIR(), geminiDecodeForTest(t, tc.body))
		})
	}
}

func TestGeminiDecodeRequestTakesModelAndStreamFromThePath(t *testing.T) {
	r, err := geminiCodec{}.DecodeRequest([]byte(`{"contents":[{"parts":[{"text":"hi"}]}]}`),
		RequestMeta{Model: "gemini-2.5-pro", Stream: true})
	require.NoError(t, err)
	assert.Equal(t, "gemini-2.5-pro", r.Model)
	assert.True(t, r.Stream)
	assert.True(t, r.StreamUsage, "a Gemini stream always carries its usage")
}

func TestGeminiDecodeRequestRefusesWhatIsNotGemini(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":                  `{"contents":`,
		"an array":                  `[{"contents":[]}]`,
		"contents not an array":     `{"contents":{"parts":[]}}`,
		"a system role":             `{"contents":[{"role":"system","parts":[{"text":"x"}]}]}`,
		"a call from the user":      `{"contents":[{"role":"user","parts":[{"functionCall":{"name":"f","args":{}}}]}]}`,
		"a response from the model": `{"contents":[{"role":"model","parts":[{"functionResponse":{"name":"f","response":{}}}]}]}`,
		"a call without a name":     `{"contents":[{"role":"model","parts":[{"functionCall":{"args":{}}}]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := geminiCodec{}.DecodeRequest([]byte(body), RequestMeta{})
			assert.ErrorIs(t, err, errGeminiFormat)
		})
	}
}

func TestGeminiRequestRoundTripKeepsWhatMatters(t *testing.T) {
	r := geminiDecodeForTest(t, geminiFullRequest)
	// The map given by URL has no way back: Gemini fetches no URL (see
	// the refusals' test).
	r.Messages[0].Parts = r.Messages[0].Parts[:2]
	again := geminiDecodeForTest(t, geminiEncodeForTest(t, r, "gemini-2.5-flash"))

	want := geminiFullIR()
	want.Messages[0].Parts = want.Messages[0].Parts[:2]
	// Ids are synthesised from positions, which moved: the two thought
	// parts went out as one, the signature on the first call.
	paris, rome := geminiRequestCallID(1, 1, "get_weather"), geminiRequestCallID(1, 2, "get_weather")
	want.Messages[1].Parts[2].ID, want.Messages[1].Parts[3].ID = paris, rome
	want.Messages[2].Parts[0].ID, want.Messages[2].Parts[1].ID = paris, rome
	assert.Equal(t, want, again)
}

func TestGeminiEncodeRequestWritesEveryField(t *testing.T) {
	// A conversation as an OpenAI caller sends it: ids of its own, tool
	// results without names, text results, a data URL.
	r := &Request{
		Model:  "gpt-4o",
		System: []Part{{Kind: PartText, Text: "Be brief."}},
		Messages: []Message{
			{Role: RoleUser, Parts: []Part{
				{Kind: PartText, Text: "Weather <in> Paris & Rome?"},
				{Kind: PartImage, URL: "data:image/png;base64,iVBORw0KGgo="},
			}},
			{Role: RoleUser, Parts: []Part{{Kind: PartImage, MediaType: "image/jpeg", Data: "/9j/4AAQ"}}},
			{Role: RoleAssistant, Parts: []Part{
				{Kind: PartToolCall, ID: "call_a", Name: "get_weather", Arguments: "{\n  \"city\": \"Paris\"\n}"},
				{Kind: PartToolCall, ID: "call_b", Name: "get_weather", Arguments: ``},
			}},
			{Role: RoleUser, Parts: []Part{
				{Kind: PartToolResult, ID: "call_a", Text: "sunny"},
				{Kind: PartToolResult, ID: "call_b", Text: `{"temp": 20}`},
			}},
			{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "And tomorrow?"}}},
		},
		Tools: []Tool{{Name: "get_weather", Description: "Weather.",
			Parameters: []byte(`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"city":{"type":"string"}},"additionalProperties":false}`)}},
		ToolChoice:        ToolChoice{Mode: ToolChoiceRequired},
		ParallelToolCalls: geminiBoolPtr(true),
		MaxTokens:         500,
		Temperature:       geminiFloatPtr(0.2),
		TopP:              geminiFloatPtr(1),
		TopK:              geminiIntPtr(5),
		Stop:              []string{"\n\n", "END"},
		User:              "user-42",
		Reasoning:         Reasoning{Effort: "medium", IncludeThoughts: true},
		ResponseFormat:    "json_schema",
		ResponseSchema:    []byte(`{"$schema":"x","type":"object"}`),
	}
	want := `{"contents":[` +
		`{"role":"user","parts":[{"text":"Weather <in> Paris & Rome?"},{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}},{"inlineData":{"mimeType":"image/jpeg","data":"/9j/4AAQ"}}]},` +
		`{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}},{"functionCall":{"name":"get_weather","args":{}}}]},` +
		`{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"sunny"}}},{"functionResponse":{"name":"get_weather","response":{"temp":20}}},{"text":"And tomorrow?"}]}],` +
		`"systemInstruction":{"parts":[{"text":"Be brief."}]},` +
		`"tools":[{"functionDeclarations":[{"name":"get_weather","description":"Weather.","parametersJsonSchema":{"type":"object","properties":{"city":{"type":"string"}},"additionalProperties":false}}]}],` +
		`"toolConfig":{"functionCallingConfig":{"mode":"ANY"}},` +
		`"generationConfig":{"maxOutputTokens":500,"temperature":0.2,"topP":1,"topK":5,"stopSequences":["\n\n","END"],` +
		`"responseMimeType":"application/json","responseJsonSchema":{"type":"object"},` +
		`"thinkingConfig":{"thinkingBudget":8192,"includeThoughts":true}}}`
	assert.Equal(t, want, geminiEncodeForTest(t, r, "gemini-2.5-flash"))
}

func TestGeminiEncodeRequestLeavesOutWhatIsUnset(t *testing.T) {
	r := &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "hi"}}}}}
	assert.Equal(t, `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`, geminiEncodeForTest(t, r, "gemini-2.5-flash"))
}

func TestGeminiEncodeRequestToolChoice(t *testing.T) {
	tools := []Tool{{Name: "f"}}
	for _, tc := range []struct {
		choice ToolChoice
		want   string
	}{
		{ToolChoice{}, ``},
		{ToolChoice{Mode: ToolChoiceAuto}, `,"toolConfig":{"functionCallingConfig":{"mode":"AUTO"}}`},
		{ToolChoice{Mode: ToolChoiceNone}, `,"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}`},
		{ToolChoice{Mode: ToolChoiceRequired}, `,"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}`},
		{ToolChoice{Mode: ToolChoiceTool, Name: "f"}, `,"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f"]}}`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			r := &Request{Tools: tools, ToolChoice: tc.choice}
			assert.Equal(t, `{"contents":[],"tools":[{"functionDeclarations":[{"name":"f"}]}]`+tc.want+`}`, geminiEncodeForTest(t, r, "gemini-2.5-flash"))
			if tc.choice.Mode != ToolChoiceUnset {
				assert.Equal(t, tc.choice, geminiDecodeForTest(t, geminiEncodeForTest(t, r, "gemini-2.5-flash")).ToolChoice)
			}
		})
	}
}

func TestGeminiDecodeRequestToolChoice(t *testing.T) {
	for _, tc := range []struct {
		config      string
		want        ToolChoice
		unsupported []string
	}{
		{`{"mode":"AUTO"}`, ToolChoice{Mode: ToolChoiceAuto}, nil},
		{`{"mode":"auto"}`, ToolChoice{Mode: ToolChoiceAuto}, nil},
		{`{"mode":"NONE"}`, ToolChoice{Mode: ToolChoiceNone}, nil},
		{`{"mode":"ANY"}`, ToolChoice{Mode: ToolChoiceRequired}, nil},
		{`{"mode":"VALIDATED"}`, ToolChoice{Mode: ToolChoiceAuto}, nil},
		{`{"mode":"MODE_UNSPECIFIED"}`, ToolChoice{}, nil},
		{`{"mode":"ANY","allowedFunctionNames":["f"]}`, ToolChoice{Mode: ToolChoiceTool, Name: "f"}, nil},
		{`{"mode":"ANY","allowedFunctionNames":["f","g"]}`, ToolChoice{Mode: ToolChoiceRequired, Allowed: []string{"f", "g"}}, nil},
		{`{"allowedFunctionNames":["f","g"],"mode":"ANY"}`, ToolChoice{Mode: ToolChoiceRequired, Allowed: []string{"f", "g"}}, nil},
		{`{"mode":"ANY","allowedFunctionNames":[]}`, ToolChoice{Mode: ToolChoiceRequired}, nil},
		{`{"mode":"VALIDATED","allowedFunctionNames":["f","g"]}`, ToolChoice{Mode: ToolChoiceAuto, Allowed: []string{"f", "g"}}, nil},
		// Text or a call of f: a subset of one, not a forced call.
		{`{"mode":"VALIDATED","allowed_function_names":["f"]}`, ToolChoice{Mode: ToolChoiceAuto, Allowed: []string{"f"}}, nil},
		{`{"mode":"VALIDATED","allowedFunctionNames":[]}`, ToolChoice{Mode: ToolChoiceAuto}, nil},
		{`{"mode":"AUTO","streamFunctionCallArguments":true}`, ToolChoice{Mode: ToolChoiceAuto}, nil},
	} {
		t.Run(tc.config, func(t *testing.T) {
			r := geminiDecodeForTest(t, `{"contents":[],"toolConfig":{"functionCallingConfig":`+tc.config+`}}`)
			assert.Equal(t, tc.want, r.ToolChoice)
			assert.Equal(t, tc.unsupported, r.Unsupported)
		})
	}
}

// A subset of the tools is written as allowedFunctionNames: with ANY for
// a required call, with VALIDATED (the one mode that takes a subset and
// leaves the model free to answer in text) for auto, every declaration
// still sent; a subset naming a tool the request lacks is refused.
func TestGeminiEncodeRequestAllowedTools(t *testing.T) {
	tools := []Tool{{Name: "f"}, {Name: "g"}, {Name: "h"}}
	const decls = `{"contents":[],"tools":[{"functionDeclarations":[{"name":"f"},{"name":"g"},{"name":"h"}]}]`
	for _, tc := range []struct {
		name   string
		choice ToolChoice
		want   string
	}{
		{"auto over a subset", ToolChoice{Mode: ToolChoiceAuto, Allowed: []string{"f", "g"}},
			`,"toolConfig":{"functionCallingConfig":{"mode":"VALIDATED","allowedFunctionNames":["f","g"]}}`},
		{"auto over one tool", ToolChoice{Mode: ToolChoiceAuto, Allowed: []string{"g"}},
			`,"toolConfig":{"functionCallingConfig":{"mode":"VALIDATED","allowedFunctionNames":["g"]}}`},
		{"required over a subset", ToolChoice{Mode: ToolChoiceRequired, Allowed: []string{"f", "h"}},
			`,"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f","h"]}}`},
		{"required over one tool", ToolChoice{Mode: ToolChoiceRequired, Allowed: []string{"h"}},
			`,"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["h"]}}`},
		{"none reads no subset", ToolChoice{Mode: ToolChoiceNone, Allowed: []string{"f"}},
			`,"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Request{Tools: tools, ToolChoice: tc.choice}
			assert.Equal(t, decls+tc.want+`}`, geminiEncodeForTest(t, r, "gemini-2.5-flash"))
		})
	}
	t.Run("a tool the request lacks", func(t *testing.T) {
		r := &Request{Tools: tools, ToolChoice: ToolChoice{Mode: ToolChoiceRequired, Allowed: []string{"f", "x"}}}
		_, err := geminiCodec{}.EncodeRequest(r, "gemini-2.5-flash")
		var u *UnsupportedError
		require.ErrorAs(t, err, &u)
		assert.Equal(t, "tool_choice", u.Param)
		assert.Equal(t, provider.FormatGemini, u.Target)
		assert.Contains(t, u.Reason, `"x"`)
	})
}

// A Gemini caller's subset comes back from the representation as it was
// sent: VALIDATED and ANY with their names, the tools of VALIDATED strict.
func TestGeminiAllowedToolsRoundTrip(t *testing.T) {
	for _, config := range []string{
		`{"mode":"VALIDATED","allowedFunctionNames":["f","g"]}`,
		`{"mode":"VALIDATED","allowedFunctionNames":["g"]}`,
		`{"mode":"ANY","allowedFunctionNames":["f","g"]}`,
		`{"mode":"ANY","allowedFunctionNames":["g"]}`,
	} {
		t.Run(config, func(t *testing.T) {
			body := `{"contents":[],"tools":[{"functionDeclarations":[{"name":"f"},{"name":"g"},{"name":"h"}]}],` +
				`"toolConfig":{"functionCallingConfig":` + config + `}}`
			first := geminiDecodeForTest(t, body)
			assert.Equal(t, body, geminiEncodeForTest(t, first, "gemini-2.5-flash"))
			assert.Equal(t, first, geminiDecodeForTest(t, geminiEncodeForTest(t, first, "gemini-2.5-flash")))
		})
	}
}

func TestGeminiToolCallIDs(t *testing.T) {
	history := `{"role":"user","parts":[{"text":"Weather?"}]},` +
		`{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}},{"functionCall":{"name":"get_time","args":{}}},{"functionCall":{"name":"get_weather","args":{"city":"Rome"}}}]},` +
		`{"role":"user","parts":[{"functionResponse":{"name":"get_time","response":{"output":"noon"}}},{"functionResponse":{"name":"get_weather","response":{"output":"sunny"}}},{"functionResponse":{"name":"get_weather","response":{"output":"rainy"}}}]}`
	ids := func(r *Request) (calls, results []string) {
		for _, m := range r.Messages {
			for _, p := range m.Parts {
				switch p.Kind {
				case PartToolCall:
					calls = append(calls, p.ID)
				case PartToolResult:
					results = append(results, p.ID+"="+p.Text)
				}
			}
		}
		return calls, results
	}

	t.Run("synthesised from the call's position and name, results paired by name in order", func(t *testing.T) {
		calls, results := ids(geminiDecodeForTest(t, `{"contents":[`+history+`]}`))
		paris, clock, rome := geminiRequestCallID(1, 0, "get_weather"), geminiRequestCallID(1, 1, "get_time"), geminiRequestCallID(1, 2, "get_weather")
		assert.Equal(t, []string{paris, clock, rome}, calls)
		assert.Equal(t, []string{clock + "=noon", paris + "=sunny", rome + "=rainy"}, results)
		for _, id := range calls {
			assert.Regexp(t, `^call_[0-9a-f]{16}$`, id)
		}
		assert.Len(t, map[string]bool{paris: true, clock: true, rome: true}, 3)
	})

	t.Run("the same history read again, with a turn more, gets the same ids", func(t *testing.T) {
		calls, _ := ids(geminiDecodeForTest(t, `{"contents":[`+history+`]}`))
		more := `{"contents":[` + history + `,{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Oslo"}}}]}]}`
		again, _ := ids(geminiDecodeForTest(t, more))
		require.Len(t, again, 4)
		assert.Equal(t, calls, again[:3])
	})

	t.Run("ids the caller sent are kept and pair the results", func(t *testing.T) {
		r := geminiDecodeForTest(t, `{"contents":[{"role":"model","parts":[{"functionCall":{"id":"a1","name":"f","args":{}}},{"functionCall":{"id":"b2","name":"f","args":{}}}]},`+
			`{"role":"user","parts":[{"functionResponse":{"id":"b2","name":"f","response":{"output":"second"}}},{"functionResponse":{"name":"f","response":{"output":"first"}}}]}]}`)
		calls, results := ids(r)
		assert.Equal(t, []string{"a1", "b2"}, calls)
		assert.Equal(t, []string{"b2=second", "a1=first"}, results)
	})

	t.Run("a result that answers no call gets an id of its own", func(t *testing.T) {
		r := geminiDecodeForTest(t, `{"contents":[{"role":"user","parts":[{"text":"x"},{"functionResponse":{"name":"f","response":{"output":"orphan"}}}]}]}`)
		_, results := ids(r)
		assert.Equal(t, []string{geminiRequestCallID(0, 1, "f") + "=orphan"}, results)
	})

	t.Run("an answer's calls hash the responseId, their number, name and arguments", func(t *testing.T) {
		body := `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a": 1}}},{"functionCall":{"name":"f","args":{"a":1}}}]},"finishReason":"STOP"}],"responseId":"r1"}`
		r, err := geminiCodec{}.DecodeResponse([]byte(body))
		require.NoError(t, err)
		require.Len(t, r.Parts, 2)
		first := string(geminiAnswerCallID(nil, "r1", 0, []byte("f"), []byte(`{"a":1}`)))
		assert.Equal(t, first, r.Parts[0].ID)
		assert.NotEqual(t, first, r.Parts[1].ID, "two calls of one answer")
		again, err := geminiCodec{}.DecodeResponse([]byte(body))
		require.NoError(t, err)
		assert.Equal(t, r.Parts[0].ID, again.Parts[0].ID, "a replayed answer")
		other, err := geminiCodec{}.DecodeResponse([]byte(strings.Replace(body, `"r1"`, `"r2"`, 1)))
		require.NoError(t, err)
		assert.NotEqual(t, r.Parts[0].ID, other.Parts[0].ID, "the same call in another answer")
	})

	t.Run("ids are not sent to Gemini, results are named from their calls", func(t *testing.T) {
		r := &Request{Messages: []Message{
			{Role: RoleAssistant, Parts: []Part{{Kind: PartToolCall, ID: "toolu_1", Name: "f", Arguments: `{}`}}},
			{Role: RoleUser, Parts: []Part{{Kind: PartToolResult, ID: "toolu_1", Text: "done"}}},
		}}
		assert.Equal(t, `{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"output":"done"}}}]}]}`,
			geminiEncodeForTest(t, r, "gemini-2.5-flash"))
	})
}

func TestGeminiFunctionResponseReadsItsResult(t *testing.T) {
	for _, tc := range []struct {
		response string
		want     Part
	}{
		{`{"output":"sunny"}`, Part{Text: "sunny"}},
		{`{"result":"sunny"}`, Part{Text: "sunny"}},
		{`{"error":"no such city"}`, Part{Text: "no such city", IsError: true}},
		{`{"error":{"code":404}}`, Part{Text: `{"code":404}`, JSON: true, IsError: true}},
		{`{"output":{"temp":20}}`, Part{Text: `{"output":{"temp":20}}`, JSON: true}},
		{`{"temp": 20, "sky": "clear"}`, Part{Text: `{"temp":20,"sky":"clear"}`, JSON: true}},
		{`{}`, Part{Text: `{}`, JSON: true}},
	} {
		t.Run(tc.response, func(t *testing.T) {
			r := geminiDecodeForTest(t, `{"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","response":`+tc.response+`}}]}]}`)
			require.Len(t, r.Messages, 1)
			p := r.Messages[0].Parts[0]
			assert.Equal(t, tc.want, Part{Text: p.Text, JSON: p.JSON, IsError: p.IsError})
		})
	}
}

func TestGeminiEncodeToolResult(t *testing.T) {
	for _, tc := range []struct {
		part Part
		want string
	}{
		{Part{Text: "sunny"}, `{"output":"sunny"}`},
		{Part{Text: ` {"temp": 20} `}, `{"temp":20}`},
		{Part{Text: `{"temp":20}`, JSON: true}, `{"temp":20}`},
		{Part{Text: `[1, 2]`, JSON: true}, `{"output":[1,2]}`},
		{Part{Text: `[1, 2]`}, `{"output":"[1, 2]"}`},
		{Part{Text: `"quoted"`, JSON: true}, `{"output":"quoted"}`},
		{Part{Text: "no such city", IsError: true}, `{"error":"no such city"}`},
		{Part{Text: `{"code":404}`, JSON: true, IsError: true}, `{"error":{"code":404}}`},
		{Part{Text: `{not json`}, `{"output":"{not json"}`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			p := tc.part
			p.Kind, p.ID, p.Name = PartToolResult, "c", "f"
			r := &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{p}}}}
			assert.Equal(t, `{"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","response":`+tc.want+`}}]}]}`,
				geminiEncodeForTest(t, r, "gemini-2.5-flash"))
		})
	}
}

func TestGeminiSchemasBecomeJSONSchema(t *testing.T) {
	for _, tc := range []struct{ openAPI, want string }{
		{`{"type":"OBJECT","properties":{"a":{"type":"STRING","enum":["x","y"],"format":"enum"}},"required":["a"]}`,
			`{"type":"object","properties":{"a":{"type":"string","enum":["x","y"],"format":"enum"}},"required":["a"]}`},
		{`{"type":"ARRAY","items":{"type":"NUMBER","nullable":true},"min_items":"1","maxItems":3}`,
			`{"type":"array","items":{"type":["number","null"]},"minItems":1,"maxItems":3}`},
		{`{"anyOf":[{"type":"INTEGER"},{"type":"BOOLEAN"}],"type":"TYPE_UNSPECIFIED"}`,
			`{"anyOf":[{"type":"integer"},{"type":"boolean"}]}`},
		{`{"type":"OBJECT","properties":{"min_items":{"type":"STRING"}},"propertyOrdering":["min_items"]}`,
			`{"type":"object","properties":{"min_items":{"type":"string"}}}`},
	} {
		t.Run(tc.openAPI, func(t *testing.T) {
			assert.Equal(t, tc.want, string(geminiAppendSchema(nil, []byte(tc.openAPI), 0)))
		})
	}
}

func TestGeminiReasoning(t *testing.T) {
	t.Run("read", func(t *testing.T) {
		for _, tc := range []struct {
			config string
			want   Reasoning
		}{
			{`{"thinkingBudget":0}`, Reasoning{Disabled: true}},
			{`{"thinkingBudget":4096}`, Reasoning{BudgetTokens: 4096}},
			{`{"thinkingBudget":-1}`, Reasoning{}},
			{`{"thinkingBudget":-1,"includeThoughts":true}`, Reasoning{IncludeThoughts: true}},
			{`{"thinkingLevel":"LOW"}`, Reasoning{Effort: "low"}},
			{`{"thinkingLevel":"high","includeThoughts":true}`, Reasoning{Effort: "high", IncludeThoughts: true}},
			{`{"thinkingLevel":"THINKING_LEVEL_UNSPECIFIED"}`, Reasoning{}},
		} {
			t.Run(tc.config, func(t *testing.T) {
				r := geminiDecodeForTest(t, `{"contents":[],"generationConfig":{"thinkingConfig":`+tc.config+`}}`)
				assert.Equal(t, tc.want, r.Reasoning)
			})
		}
	})
	t.Run("written", func(t *testing.T) {
		for _, tc := range []struct {
			reasoning Reasoning
			want      string
		}{
			{Reasoning{}, ``},
			{Reasoning{Disabled: true}, `{"thinkingBudget":0}`},
			{Reasoning{Disabled: true, IncludeThoughts: true}, `{"thinkingBudget":0}`},
			{Reasoning{BudgetTokens: 3000}, `{"thinkingBudget":3000}`},
			{Reasoning{Effort: "minimal"}, `{"thinkingBudget":1024}`},
			{Reasoning{Effort: "high", IncludeThoughts: true}, `{"thinkingBudget":24576,"includeThoughts":true}`},
			{Reasoning{IncludeThoughts: true}, `{"includeThoughts":true}`},
		} {
			t.Run(tc.want, func(t *testing.T) {
				want := `{"contents":[]}`
				if tc.want != "" {
					want = `{"contents":[],"generationConfig":{"thinkingConfig":` + tc.want + `}}`
				}
				assert.Equal(t, want, geminiEncodeForTest(t, &Request{Reasoning: tc.reasoning}, "gemini-2.5-flash"))
			})
		}
	})
}

func TestGeminiResponseFormat(t *testing.T) {
	t.Run("read", func(t *testing.T) {
		for _, tc := range []struct {
			config, format, schema string
		}{
			{`{"responseMimeType":"text/plain"}`, "", ""},
			{`{"responseMimeType":"application/json"}`, "json_object", ""},
			{`{"responseMimeType":"application/json","responseJsonSchema":{"type":"object","additionalProperties":false}}`, "json_schema", `{"type":"object","additionalProperties":false}`},
			{`{"responseMimeType":"application/json","responseSchema":{"type":"OBJECT"}}`, "json_schema", `{"type":"object"}`},
		} {
			t.Run(tc.config, func(t *testing.T) {
				r := geminiDecodeForTest(t, `{"contents":[],"generationConfig":`+tc.config+`}`)
				assert.Equal(t, tc.format, r.ResponseFormat)
				assert.Equal(t, tc.schema, string(r.ResponseSchema))
				assert.Empty(t, r.Unsupported)
			})
		}
	})
	t.Run("written", func(t *testing.T) {
		for _, tc := range []struct {
			format, schema, want string
		}{
			{"", "", `{"contents":[]}`},
			{"text", "", `{"contents":[]}`},
			{"json_object", "", `{"contents":[],"generationConfig":{"responseMimeType":"application/json"}}`},
			{"json_schema", `{"type":"object"}`, `{"contents":[],"generationConfig":{"responseMimeType":"application/json","responseJsonSchema":{"type":"object"}}}`},
		} {
			t.Run(tc.format, func(t *testing.T) {
				r := &Request{ResponseFormat: tc.format, ResponseSchema: []byte(tc.schema)}
				assert.Equal(t, tc.want, geminiEncodeForTest(t, r, "gemini-2.5-flash"))
			})
		}
	})
}

func TestGeminiDecodeRequestNamesWhatOthersCannotHonour(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"cachedContent":"cachedContents/abc"}`, "cachedContent"},
		{`{"tools":[{"googleSearch":{}}]}`, "tools.googleSearch"},
		{`{"tools":[{"code_execution":{}}]}`, "tools.code_execution"},
		{`{"generationConfig":{"candidateCount":2}}`, "generationConfig.candidateCount"},
		{`{"generationConfig":{"responseLogprobs":true}}`, "generationConfig.responseLogprobs"},
		{`{"generationConfig":{"logprobs":3}}`, "generationConfig.logprobs"},
		{`{"generationConfig":{"presencePenalty":0.5}}`, "generationConfig.presencePenalty"},
		{`{"generationConfig":{"frequency_penalty":-0.5}}`, "generationConfig.frequency_penalty"},
		{`{"generationConfig":{"seed":0}}`, "generationConfig.seed"},
		{`{"generationConfig":{"responseModalities":["TEXT","IMAGE"]}}`, "generationConfig.responseModalities"},
		{`{"generationConfig":{"speechConfig":{"voiceConfig":{}}}}`, "generationConfig.speechConfig"},
		{`{"generationConfig":{"responseMimeType":"text/x.enum"}}`, "generationConfig.responseMimeType (text/x.enum)"},
		{`{"generationConfig":{"somethingNew":1}}`, "generationConfig.somethingNew"},
		{`{"somethingNew":{"a":1}}`, "somethingNew"},
		{`{"contents":[{"parts":[{"inlineData":{"mimeType":"application/pdf","data":"JVBE"}}]}]}`, "contents.parts.inlineData (application/pdf)"},
		{`{"contents":[{"parts":[{"fileData":{"mimeType":"image/png","fileUri":"https://generativelanguage.googleapis.com/v1beta/files/abc"}}]}]}`, "contents.parts.fileData"},
		{`{"contents":[{"parts":[{"fileData":{"mimeType":"image/png","fileUri":"gs://bucket/a.png"}}]}]}`, "contents.parts.fileData"},
		{`{"contents":[{"parts":[{"fileData":{"mimeType":"video/mp4","fileUri":"https://example.com/a.mp4"}}]}]}`, "contents.parts.fileData"},
		{`{"contents":[{"role":"model","parts":[{"executableCode":{"language":"PYTHON","code":"1"}}]}]}`, "contents.parts.executableCode"},
		{`{"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","response":{},"parts":[{"inlineData":{}}]}}]}]}`, "contents.parts.functionResponse.parts"},
		{`{"systemInstruction":{"parts":[{"inlineData":{"mimeType":"image/png","data":"x"}}]}}`, "systemInstruction.parts"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			r := geminiDecodeForTest(t, tc.body)
			assert.Equal(t, []string{tc.want}, r.Unsupported)
			_, err := geminiCodec{}.EncodeRequest(r, "gemini-2.5-flash")
			var unsupported *UnsupportedError
			require.ErrorAs(t, err, &unsupported)
			assert.Equal(t, tc.want, unsupported.Param)
		})
	}
}

func TestGeminiDecodeRequestDropsWhatChangesNoAnswerElsewhere(t *testing.T) {
	r := geminiDecodeForTest(t, `{"contents":[{"parts":[{"text":"hi","partMetadata":{"k":"v"}}]}],`+
		`"safetySettings":[{"category":"HARM_CATEGORY_HATE_SPEECH","threshold":"BLOCK_ONLY_HIGH"}],"labels":{"team":"a"},"serviceTier":"flex","model":"models/gemini-2.5-flash",`+
		`"toolConfig":{"retrievalConfig":{"latLng":{}}},`+
		`"generationConfig":{"candidateCount":1,"presencePenalty":0,"responseLogprobs":false,"mediaResolution":"MEDIA_RESOLUTION_LOW","seed":null,"responseModalities":["TEXT"]},`+
		`"tools":[{"functionDeclarations":[{"name":"f","response":{"type":"STRING"},"behavior":"BLOCKING"}]}]}`)
	assert.Empty(t, r.Unsupported)
	assert.Equal(t, []Message{{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "hi"}}}}, r.Messages)
}

func TestGeminiEncodeRequestRefuses(t *testing.T) {
	text := []Message{{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "hi"}}}}
	for _, tc := range []struct {
		name  string
		r     *Request
		param string
	}{
		{"what the caller's decoder named", &Request{Unsupported: []string{"n", "logprobs"}}, "n"},
		{"one call per answer", &Request{Tools: []Tool{{Name: "f"}}, ParallelToolCalls: geminiBoolPtr(false)}, "parallel_tool_calls"},
		{"a response format Gemini lacks", &Request{ResponseFormat: "grammar"}, "response_format"},
		{"an effort no budget stands for", &Request{Reasoning: Reasoning{Effort: "xhigh"}}, "reasoning_effort"},
		{"an image by URL", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{{Kind: PartImage, URL: "https://example.com/a.png"}}}}}, "image_url"},
		{"a data URL not in base64", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{{Kind: PartImage, URL: "data:image/svg+xml,<svg/>"}}}}}, "image_url"},
		{"a Google URI of no known type", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{{Kind: PartImage, URL: "gs://bucket/image"}}}}}, "image_url"},
		{"a result answering no call", &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{{Kind: PartToolResult, ID: "call_x", Text: "r"}}}}}, "tool result call_x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.r.Messages == nil {
				tc.r.Messages = text
			}
			_, err := geminiCodec{}.EncodeRequest(tc.r, "gemini-2.5-flash")
			var unsupported *UnsupportedError
			require.ErrorAs(t, err, &unsupported)
			assert.Equal(t, tc.param, unsupported.Param)
			assert.Equal(t, provider.FormatGemini, unsupported.Target)
		})
	}

	t.Run("what it may accept", func(t *testing.T) {
		for name, r := range map[string]*Request{
			"one call per answer without tools":   {ParallelToolCalls: geminiBoolPtr(false)},
			"one call per answer, tools unused":   {Tools: []Tool{{Name: "f"}}, ToolChoice: ToolChoice{Mode: ToolChoiceNone}, ParallelToolCalls: geminiBoolPtr(false)},
			"an image in Gemini's file store":     {Messages: []Message{{Role: RoleUser, Parts: []Part{{Kind: PartImage, URL: "gs://bucket/a.PNG"}}}}},
			"a budget with an unknown effort":     {Reasoning: Reasoning{Effort: "xhigh", BudgetTokens: 100}},
			"an end user Gemini has no field for": {User: "u"},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := geminiCodec{}.EncodeRequest(r, "gemini-2.5-flash")
				assert.NoError(t, err)
			})
		}
		r := &Request{Messages: []Message{{Role: RoleUser, Parts: []Part{{Kind: PartImage, URL: "gs://bucket/a.PNG"}}}}}
		assert.Equal(t, `{"contents":[{"role":"user","parts":[{"fileData":{"mimeType":"image/png","fileUri":"gs://bucket/a.PNG"}}]}]}`, geminiEncodeForTest(t, r, "gemini-2.5-flash"))
	})

	t.Run("arguments that are not an object", func(t *testing.T) {
		r := &Request{Messages: []Message{{Role: RoleAssistant, Parts: []Part{{Kind: PartToolCall, ID: "c", Name: "f", Arguments: `[1]`}}}}}
		_, err := geminiCodec{}.EncodeRequest(r, "gemini-2.5-flash")
		assert.Error(t, err)
	})
}

func TestGeminiThoughtSignatures(t *testing.T) {
	call := func(sig string) []Part {
		parts := []Part{{Kind: PartToolCall, ID: "c1", Name: "f", Arguments: `{}`}, {Kind: PartToolCall, ID: "c2", Name: "g", Arguments: `{}`}}
		if sig != "" {
			parts = append([]Part{{Kind: PartThinking, Signature: sig}}, parts...)
		}
		return parts
	}
	history := func(parts []Part) *Request {
		return &Request{Messages: []Message{
			{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "go"}}},
			{Role: RoleAssistant, Parts: parts},
			{Role: RoleUser, Parts: []Part{{Kind: PartToolResult, ID: "c1", Name: "f", Text: "1"}, {Kind: PartToolResult, ID: "c2", Name: "g", Text: "2"}}},
		}}
	}
	calls := func(first string) string {
		return `{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}` + first + `},{"functionCall":{"name":"g","args":{}}}]}`
	}
	for _, tc := range []struct {
		name, model string
		parts       []Part
		want        string
	}{
		{"Gemini's own goes back on its call", "gemini-3-pro-preview", call("gemini:c2ln"), calls(`,"thoughtSignature":"c2ln"`)},
		{"Gemini's own, to an older model too", "gemini-2.5-flash", call("gemini:c2ln"), calls(`,"thoughtSignature":"c2ln"`)},
		{"none: Gemini 3 gets Google's placeholder", "gemini-3-pro-preview", call(""), calls(`,"thoughtSignature":"skip_thought_signature_validator"`)},
		{"none: an alias without a version too", "models/gemini-flash-latest", call(""), calls(`,"thoughtSignature":"skip_thought_signature_validator"`)},
		{"none: Gemini 2.5 validates none", "gemini-2.5-pro", call(""), calls(``)},
		{"another provider's is left out", "gemini-3-flash", call("EqQBCkYIBxgCKkA"), calls(`,"thoughtSignature":"skip_thought_signature_validator"`)},
		{"another provider's reasoning is left out", "gemini-2.5-flash",
			append([]Part{{Kind: PartThinking, Text: "Claude thinks", Signature: "EqQBCk"}, {Kind: PartThinking, Redacted: "abc"}}, call("")...), calls(``)},
		{"Gemini's thought text goes back as a thought", "gemini-2.5-flash",
			append([]Part{{Kind: PartThinking, Text: "I think", Signature: "gemini:dGg="}}, call("")...),
			`{"role":"model","parts":[{"text":"I think","thought":true,"thoughtSignature":"dGg="},{"functionCall":{"name":"f","args":{}}},{"functionCall":{"name":"g","args":{}}}]}`},
		{"a signature last in a turn goes on an empty text part", "gemini-2.5-flash",
			[]Part{{Kind: PartText, Text: "Done."}, {Kind: PartThinking, Signature: "gemini:ZW5k"}},
			`{"role":"model","parts":[{"text":"Done."},{"text":"","thoughtSignature":"ZW5k"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := geminiEncodeForTest(t, history(tc.parts), tc.model)
			assert.Contains(t, body, `{"role":"user","parts":[{"text":"go"}]},`+tc.want)
		})
	}

	t.Run("a signature round trip through a caller of another format", func(t *testing.T) {
		// Gemini answers with a signed call; the caller (say Anthropic)
		// keeps the signature and sends it back; Gemini gets it back.
		resp, err := geminiCodec{}.DecodeResponse([]byte(`{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{}},"thoughtSignature":"R2VtaW5p"}]},"finishReason":"STOP"}],"responseId":"r"}`))
		require.NoError(t, err)
		require.Len(t, resp.Parts, 2)
		assert.Equal(t, Part{Kind: PartThinking, Signature: "gemini:R2VtaW5p"}, resp.Parts[0])
		req := history(resp.Parts)
		req.Messages[2].Parts = req.Messages[2].Parts[:1]
		req.Messages[2].Parts[0].ID = resp.Parts[1].ID
		body := geminiEncodeForTest(t, req, "gemini-3-pro-preview")
		assert.Contains(t, body, `{"functionCall":{"name":"f","args":{}},"thoughtSignature":"R2VtaW5p"}`)
	})

	t.Run("another provider's signature round trip through a Gemini caller", func(t *testing.T) {
		// Anthropic thought for a Gemini caller: the caller gets the
		// signature marked, sends it back, and it is Anthropic's again.
		resp := &Response{Parts: []Part{{Kind: PartThinking, Text: "Let me see.", Signature: "EqQBCkYI/w=="}, {Kind: PartToolCall, ID: "toolu_1", Name: "f", Arguments: `{}`}}, Finish: FinishToolCalls}
		body, err := geminiCodec{}.EncodeResponse(resp)
		require.NoError(t, err)
		assert.Contains(t, string(body), `{"text":"Let me see.","thought":true,"thoughtSignature":"AIGWEqQBCkYI/w=="}`)
		var decoded struct {
			Candidates []struct {
				Content json.RawMessage `json:"content"`
			} `json:"candidates"`
		}
		require.NoError(t, json.Unmarshal(body, &decoded))
		req := geminiDecodeForTest(t, `{"contents":[{"role":"user","parts":[{"text":"go"}]},`+string(decoded.Candidates[0].Content)+`]}`)
		require.Len(t, req.Messages, 2)
		assert.Equal(t, Part{Kind: PartThinking, Text: "Let me see.", Signature: "EqQBCkYI/w=="}, req.Messages[1].Parts[0])
	})

	t.Run("a streamed thought read back whole, from a content per chunk as a chat keeps it", func(t *testing.T) {
		r := geminiDecodeForTest(t, `{"contents":[{"role":"user","parts":[{"text":"Weather?"}]},`+
			`{"parts":[{"text":"Let me","thought":true}],"role":"model"},`+
			`{"parts":[{"text":" check.","thought":true,"thoughtSignature":"AIGWEqQBCkYI/w=="}],"role":"model"},`+
			`{"parts":[{"text":"Checking."}],"role":"model"},`+
			`{"parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}],"role":"model"},`+
			`{"parts":[{"functionResponse":{"name":"get_weather","response":{"output":"sunny"}}}],"role":"user"}]}`)
		require.Len(t, r.Messages, 3)
		call := geminiRequestCallID(4, 0, "get_weather")
		assert.Equal(t, []Part{
			{Kind: PartThinking, Text: "Let me check.", Signature: "EqQBCkYI/w=="},
			{Kind: PartText, Text: "Checking."},
			{Kind: PartToolCall, ID: call, Name: "get_weather", Arguments: `{"city":"Paris"}`},
		}, r.Messages[1].Parts)
		assert.Equal(t, []Part{{Kind: PartToolResult, ID: call, Name: "get_weather", Text: "sunny"}}, r.Messages[2].Parts)
	})

	t.Run("a streamed thought read back whole", func(t *testing.T) {
		r := geminiDecodeForTest(t, `{"contents":[{"role":"model","parts":[{"text":"Let ","thought":true},{"text":"me see.","thought":true},{"text":"","thought":true,"thoughtSignature":"AIGWc2ln"},{"text":"Hi."}]}]}`)
		assert.Equal(t, []Part{{Kind: PartThinking, Text: "Let me see.", Signature: "c2ln"}, {Kind: PartText, Text: "Hi."}}, r.Messages[0].Parts)
	})
}

func TestGeminiDecodeResponse(t *testing.T) {
	body := `{
  "candidates": [
    {
      "content": {
        "parts": [
          {"text": "Checking both.", "thought": true},
          {"text": "I will check the weather."},
          {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"},
          {"functionCall": {"id": "fc_2", "name": "get_weather", "args": {"city": "Rome"}}},
          {"inlineData": {"mimeType": "image/png", "data": "x"}}
        ],
        "role": "model"
      },
      "finishReason": "STOP",
      "index": 0,
      "safetyRatings": []
    }
  ],
  "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 30, "totalTokenCount": 250, "cachedContentTokenCount": 100, "thoughtsTokenCount": 100, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 120}]},
  "modelVersion": "gemini-2.5-flash",
  "responseId": "Cg2xaKD",
  "createTime": "2025-08-12T10:00:00.123456Z"
}`
	r, err := geminiCodec{}.DecodeResponse([]byte(body))
	require.NoError(t, err)
	assert.Equal(t, &Response{
		ID:    "Cg2xaKD",
		Model: "gemini-2.5-flash",
		Parts: []Part{
			{Kind: PartThinking, Text: "Checking both."},
			{Kind: PartText, Text: "I will check the weather."},
			{Kind: PartThinking, Signature: "gemini:c2ln"},
			{Kind: PartToolCall, ID: string(geminiAnswerCallID(nil, "Cg2xaKD", 0, []byte("get_weather"), []byte(`{"city":"Paris"}`))), Name: "get_weather", Arguments: `{"city":"Paris"}`},
			{Kind: PartToolCall, ID: "fc_2", Name: "get_weather", Arguments: `{"city":"Rome"}`},
		},
		Finish:     FinishToolCalls,
		Usage:      provider.Usage{InputTokens: 120, OutputTokens: 130, CacheReadTokens: 100, ReasoningTokens: 100},
		UsageKnown: true,
		Created:    1754992800,
	}, r)

	t.Run("a blocked prompt", func(t *testing.T) {
		r, err := geminiCodec{}.DecodeResponse([]byte(`{"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8},"modelVersion":"gemini-2.0-flash","responseId":"b"}`))
		require.NoError(t, err)
		assert.Equal(t, FinishContentFilter, r.Finish)
		assert.Empty(t, r.Parts)
		assert.Equal(t, provider.Usage{InputTokens: 8}, r.Usage)
	})

	t.Run("the second candidate is not the answer", func(t *testing.T) {
		r, err := geminiCodec{}.DecodeResponse([]byte(`{"candidates":[{"content":{"parts":[{"text":"Blue"}]},"finishReason":"MAX_TOKENS","index":1},{"content":{"parts":[{"text":"Red"}]},"finishReason":"STOP","index":0}]}`))
		require.NoError(t, err)
		assert.Equal(t, []Part{{Kind: PartText, Text: "Red"}}, r.Parts)
		assert.Equal(t, FinishStop, r.Finish)
		assert.False(t, r.UsageKnown)
	})

	t.Run("not an answer", func(t *testing.T) {
		for _, body := range []string{`[]`, `{"candidates":[{"content":{"parts":[{"functionCall":{"args":{}}}]}}]}`, `{"candidates":`} {
			_, err := geminiCodec{}.DecodeResponse([]byte(body))
			assert.ErrorIs(t, err, errGeminiFormat, body)
		}
	})
}

func TestGeminiFinishReasons(t *testing.T) {
	for _, tc := range []struct {
		reason string
		calls  bool
		want   Finish
		back   string
	}{
		{"STOP", false, FinishStop, "STOP"},
		{"STOP", true, FinishToolCalls, "STOP"},
		{"MAX_TOKENS", false, FinishLength, "MAX_TOKENS"},
		{"SAFETY", false, FinishContentFilter, "SAFETY"},
		{"RECITATION", false, FinishContentFilter, "SAFETY"},
		{"LANGUAGE", false, FinishContentFilter, "SAFETY"},
		{"BLOCKLIST", false, FinishContentFilter, "SAFETY"},
		{"PROHIBITED_CONTENT", false, FinishContentFilter, "SAFETY"},
		{"SPII", false, FinishContentFilter, "SAFETY"},
		{"IMAGE_SAFETY", false, FinishContentFilter, "SAFETY"},
		{"MALFORMED_FUNCTION_CALL", true, FinishError, "OTHER"},
		{"UNEXPECTED_TOOL_CALL", false, FinishError, "OTHER"},
		{"TOO_MANY_TOOL_CALLS", false, FinishError, "OTHER"},
		{"OTHER", false, FinishUnknown, "OTHER"},
		{"FINISH_REASON_UNSPECIFIED", false, FinishUnknown, "OTHER"},
		{"SOMETHING_NEW", false, FinishUnknown, "OTHER"},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			parts := `{"text":"x"}`
			if tc.calls {
				parts = `{"functionCall":{"name":"f","args":{}}}`
			}
			r, err := geminiCodec{}.DecodeResponse([]byte(`{"candidates":[{"content":{"parts":[` + parts + `],"role":"model"},"finishReason":"` + tc.reason + `","index":0}]}`))
			require.NoError(t, err)
			assert.Equal(t, tc.want, r.Finish)
			body, err := geminiCodec{}.EncodeResponse(r)
			require.NoError(t, err)
			assert.Contains(t, string(body), `"finishReason":"`+tc.back+`"`)
		})
	}
}

func TestGeminiUsage(t *testing.T) {
	for _, tc := range []struct {
		name, metadata string
		usage          provider.Usage
		written        string
	}{
		{"prompt only (an early chunk)", `{"promptTokenCount":9,"totalTokenCount":9}`,
			provider.Usage{InputTokens: 9}, `{"promptTokenCount":9,"totalTokenCount":9}`},
		{"cached and thoughts", `{"promptTokenCount":120,"candidatesTokenCount":30,"totalTokenCount":250,"cachedContentTokenCount":100,"thoughtsTokenCount":100}`,
			provider.Usage{InputTokens: 120, OutputTokens: 130, CacheReadTokens: 100, ReasoningTokens: 100},
			`{"promptTokenCount":120,"candidatesTokenCount":30,"totalTokenCount":250,"cachedContentTokenCount":100,"thoughtsTokenCount":100}`},
		{"a cache count above the prompt is cut to it", `{"promptTokenCount":10,"cachedContentTokenCount":50}`,
			provider.Usage{InputTokens: 10, CacheReadTokens: 10}, `{"promptTokenCount":10,"totalTokenCount":10,"cachedContentTokenCount":10}`},
		{"counts that are none are left out", `{"promptTokenCount":-1,"candidatesTokenCount":"x","thoughtsTokenCount":1e3,"totalTokenCount":4}`,
			provider.Usage{}, `{"promptTokenCount":0,"totalTokenCount":0}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, ok := geminiUsage([]byte(tc.metadata))
			assert.Equal(t, tc.usage, u)
			assert.Equal(t, tc.usage != (provider.Usage{}), ok)
			assert.Equal(t, tc.written, string(geminiAppendUsage(nil, u)))
		})
	}

	t.Run("another format's usage written for a Gemini caller", func(t *testing.T) {
		// Anthropic: 10 uncached + 20 cache writes + 70 cache reads; 50
		// output of which 30 thinking.
		u := provider.Usage{InputTokens: 100, CacheReadTokens: 70, CacheCreationTokens: 20, OutputTokens: 50, ReasoningTokens: 30}
		assert.Equal(t, `{"promptTokenCount":100,"candidatesTokenCount":20,"totalTokenCount":150,"cachedContentTokenCount":70,"thoughtsTokenCount":30}`, string(geminiAppendUsage(nil, u)))
	})
}

func TestGeminiEncodeResponse(t *testing.T) {
	r := &Response{
		ID:    "chatcmpl-1",
		Model: "gpt-4o-2024-08-06",
		Parts: []Part{
			{Kind: PartThinking, Text: "Two cities.", Signature: "gemini:c2ln"},
			{Kind: PartText, Text: "Checking <both>."},
			{Kind: PartThinking, Signature: "gemini:c2lnMg=="},
			{Kind: PartToolCall, ID: "call_1", Name: "get_weather", Arguments: "{\"city\": \"Paris\"}"},
			{Kind: PartToolCall, ID: "call_2", Name: "get_weather", Arguments: `{"city":"Rome"}`},
			{Kind: PartThinking, Redacted: "opaque"},
		},
		Finish:     FinishToolCalls,
		Usage:      provider.Usage{InputTokens: 82, OutputTokens: 17},
		UsageKnown: true,
		Created:    1755000000,
	}
	body, err := geminiCodec{}.EncodeResponse(r)
	require.NoError(t, err)
	assert.Equal(t, `{"candidates":[{"content":{"parts":[`+
		`{"text":"Two cities.","thought":true,"thoughtSignature":"c2ln"},`+
		`{"text":"Checking <both>."},`+
		`{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2lnMg=="},`+
		`{"functionCall":{"name":"get_weather","args":{"city":"Rome"}}}],"role":"model"},`+
		`"finishReason":"STOP","index":0}],`+
		`"usageMetadata":{"promptTokenCount":82,"candidatesTokenCount":17,"totalTokenCount":99},`+
		`"modelVersion":"gpt-4o-2024-08-06","responseId":"chatcmpl-1"}`, string(body))

	t.Run("no parts, no usage", func(t *testing.T) {
		body, err := geminiCodec{}.EncodeResponse(&Response{Finish: FinishContentFilter})
		require.NoError(t, err)
		assert.Equal(t, `{"candidates":[{"finishReason":"SAFETY","index":0}]}`, string(body))
	})

	t.Run("round trip", func(t *testing.T) {
		back, err := geminiCodec{}.DecodeResponse(body)
		require.NoError(t, err)
		want := *r
		want.Parts = want.Parts[:5]
		want.Parts[3].ID = string(geminiAnswerCallID(nil, r.ID, 0, []byte("get_weather"), []byte(`{"city":"Paris"}`)))
		want.Parts[3].Arguments = `{"city":"Paris"}`
		want.Parts[4].ID = string(geminiAnswerCallID(nil, r.ID, 1, []byte("get_weather"), []byte(`{"city":"Rome"}`)))
		want.Created = 0
		assert.Equal(t, &want, back)
	})
}

func TestGeminiEncodeError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  provider.Error
		want string
	}{
		{"Gemini's own status", provider.Error{Status: 429, Type: "RESOURCE_EXHAUSTED", Message: "Quota exceeded."},
			`{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED"}}`},
		{"OpenAI's rate limit", provider.Error{Status: 429, Type: "tokens", Code: "rate_limit_exceeded", Message: "Rate limit reached."},
			`{"error":{"code":429,"message":"Rate limit reached.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"rate_limit_exceeded","domain":"aigateway"}]}}`},
		{"OpenAI's bad request", provider.Error{Status: 400, Type: "invalid_request_error", Message: "Bad."},
			`{"error":{"code":400,"message":"Bad.","status":"INVALID_ARGUMENT"}}`},
		{"OpenAI's bad key", provider.Error{Status: 401, Type: "invalid_request_error", Code: "invalid_api_key", Message: "Incorrect API key."},
			`{"error":{"code":401,"message":"Incorrect API key.","status":"UNAUTHENTICATED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"invalid_api_key","domain":"aigateway"}]}}`},
		{"Anthropic's overload", provider.Error{Status: 529, Type: "overloaded_error", Message: "Overloaded"},
			`{"error":{"code":529,"message":"Overloaded","status":"UNAVAILABLE"}}`},
		{"Anthropic's permission", provider.Error{Status: 403, Type: "permission_error", Message: "No."},
			`{"error":{"code":403,"message":"No.","status":"PERMISSION_DENIED"}}`},
		{"Anthropic's not found", provider.Error{Status: 404, Type: "not_found_error", Message: "model: x"},
			`{"error":{"code":404,"message":"model: x","status":"NOT_FOUND"}}`},
		{"Anthropic's auth", provider.Error{Status: 401, Type: "authentication_error", Message: "invalid x-api-key"},
			`{"error":{"code":401,"message":"invalid x-api-key","status":"UNAUTHENTICATED"}}`},
		{"a status alone", provider.Error{Status: 503},
			`{"error":{"code":503,"message":"UNAVAILABLE","status":"UNAVAILABLE"}}`},
		{"a 504", provider.Error{Status: 504, Message: "slow"},
			`{"error":{"code":504,"message":"slow","status":"DEADLINE_EXCEEDED"}}`},
		{"an unknown 4xx", provider.Error{Status: 422, Message: "odd"},
			`{"error":{"code":422,"message":"odd","status":"INVALID_ARGUMENT"}}`},
		{"a mid-stream overload", provider.Error{Type: "overloaded_error", Message: "Overloaded"},
			`{"error":{"code":503,"message":"Overloaded","status":"UNAVAILABLE"}}`},
		{"a mid-stream error that says nothing", provider.Error{Message: "boom"},
			`{"error":{"code":500,"message":"boom","status":"INTERNAL"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := geminiCodec{}.EncodeError(&tc.err)
			assert.Equal(t, tc.want, string(got))
			back := geminiReadError(got[len(`{"error":`) : len(got)-1])
			assert.Equal(t, tc.err.Code, back.Code)
		})
	}
}

func TestGeminiEncodeErrorPrefersATypeToABareStatus(t *testing.T) {
	for _, tc := range []struct {
		err  provider.Error
		want string
	}{
		{provider.Error{Status: 402, Type: "billing_error"}, `"code":402,"message":"PERMISSION_DENIED","status":"PERMISSION_DENIED"`},
		{provider.Error{Status: 413, Type: "request_too_large"}, `"code":413,"message":"INVALID_ARGUMENT","status":"INVALID_ARGUMENT"`},
		{provider.Error{Status: 400, Type: "insufficient_quota"}, `"code":400,"message":"RESOURCE_EXHAUSTED","status":"RESOURCE_EXHAUSTED"`},
		{provider.Error{Type: "timeout_error"}, `"code":504,"message":"DEADLINE_EXCEEDED","status":"DEADLINE_EXCEEDED"`},
	} {
		t.Run(tc.err.Type, func(t *testing.T) {
			assert.Contains(t, string(geminiCodec{}.EncodeError(&tc.err)), tc.want)
		})
	}
}

// geminiCollect decodes each data with one decoder and returns the events,
// their strings copied (a decoder reuses its buffers).
func geminiCollect(t *testing.T, data ...string) []Event {
	t.Helper()
	d := geminiCodec{}.NewStreamDecoder()
	var got []Event
	for _, s := range data {
		require.NoError(t, d.Decode(nil, []byte(s), func(e *Event) {
			c := *e
			c.ID, c.Model, c.Text, c.Name, c.Signature = strings.Clone(c.ID), strings.Clone(c.Model), strings.Clone(c.Text), strings.Clone(c.Name), strings.Clone(c.Signature)
			got = append(got, c)
		}))
	}
	return got
}

func TestGeminiStreamDecode(t *testing.T) {
	t.Run("text after thoughts, the signature on an empty last part", func(t *testing.T) {
		got := geminiCollect(t,
			`{"candidates": [{"content": {"parts": [{"text": "**Planning**\n\nThe user asks about \"the sky\".","thought": true}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}`,
			`{"candidates": [{"content": {"parts": [{"text": "The"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}`,
			`{"candidates": [{"content": {"parts": [{"text": " sky is blue \u00e9."}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}`,
			`{"candidates": [{"content": {"parts": [{"text": "","thoughtSignature": "CiQBVKhc7g=="}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 30,"totalTokenCount": 139,"cachedContentTokenCount": 4,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}],"thoughtsTokenCount": 100},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}`,
		)
		assert.Equal(t, []Event{
			{Kind: EventStart, ID: "Ph3xaPvGKq", Model: "gemini-2.5-flash", Usage: provider.Usage{InputTokens: 9}},
			{Kind: EventThinking, Text: "**Planning**\n\nThe user asks about \"the sky\"."},
			{Kind: EventText, Text: "The"},
			{Kind: EventText, Text: " sky is blue é."},
			{Kind: EventThinking, Signature: "gemini:CiQBVKhc7g=="},
			{Kind: EventFinish, Finish: FinishStop},
			{Kind: EventUsage, Usage: provider.Usage{InputTokens: 9, OutputTokens: 130, CacheReadTokens: 4, ReasoningTokens: 100}},
		}, got)
	})

	t.Run("two calls in one chunk, whole", func(t *testing.T) {
		got := geminiCollect(t,
			`{"candidates": [{"content": {"parts": [{"text": "Checking."}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 50,"totalTokenCount": 50},"modelVersion": "gemini-3-pro-preview","responseId": "r-1"}`,
			`{"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather","args": {"city": "Paris"}},"thoughtSignature": "EjQK"},{"functionCall": {"name": "get_weather","args": {"city": "Rome"}}},{"functionCall": {"id": "fc-3","name": "get_time"}}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 50,"candidatesTokenCount": 20,"totalTokenCount": 70},"modelVersion": "gemini-3-pro-preview","responseId": "r-1"}`,
		)
		paris := string(geminiAnswerCallID(nil, "r-1", 0, []byte("get_weather"), []byte(`{"city":"Paris"}`)))
		rome := string(geminiAnswerCallID(nil, "r-1", 1, []byte("get_weather"), []byte(`{"city":"Rome"}`)))
		assert.Equal(t, []Event{
			{Kind: EventStart, ID: "r-1", Model: "gemini-3-pro-preview", Usage: provider.Usage{InputTokens: 50}},
			{Kind: EventText, Text: "Checking."},
			{Kind: EventThinking, Signature: "gemini:EjQK"},
			{Kind: EventToolStart, Tool: 0, ID: paris, Name: "get_weather"},
			{Kind: EventToolArgs, Tool: 0, Text: `{"city":"Paris"}`},
			{Kind: EventToolStart, Tool: 1, ID: rome, Name: "get_weather"},
			{Kind: EventToolArgs, Tool: 1, Text: `{"city":"Rome"}`},
			{Kind: EventToolStart, Tool: 2, ID: "fc-3", Name: "get_time"},
			{Kind: EventToolArgs, Tool: 2, Text: `{}`},
			{Kind: EventFinish, Finish: FinishToolCalls},
			{Kind: EventUsage, Usage: provider.Usage{InputTokens: 50, OutputTokens: 20}},
		}, got)
	})

	t.Run("the same call streamed and whole gets the same id", func(t *testing.T) {
		body := `{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f","args": {"a": [1, 2]}}}],"role": "model"},"finishReason": "STOP","index": 0}],"responseId": "same"}`
		got := geminiCollect(t, body)
		whole, err := geminiCodec{}.DecodeResponse([]byte(body))
		require.NoError(t, err)
		require.Len(t, got, 4)
		assert.Equal(t, whole.Parts[0].ID, got[1].ID)
	})

	t.Run("a mid-stream error", func(t *testing.T) {
		got := geminiCollect(t,
			`{"candidates": [{"content": {"parts": [{"text": "The"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 5,"totalTokenCount": 5},"modelVersion": "gemini-2.0-flash"}`,
			`{"error": {"code": 503,"message": "The model is overloaded. Please try again later.","status": "UNAVAILABLE","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"MODEL_OVERLOADED"}]}}`,
		)
		require.Len(t, got, 3)
		assert.Equal(t, Event{Kind: EventError, Err: &provider.Error{Type: "UNAVAILABLE", Code: "MODEL_OVERLOADED", Message: "The model is overloaded. Please try again later."}}, got[2])
	})

	t.Run("a blocked prompt", func(t *testing.T) {
		got := geminiCollect(t, `{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},"usageMetadata": {"promptTokenCount": 7,"totalTokenCount": 7},"modelVersion": "gemini-2.5-flash","responseId": "blk"}`)
		assert.Equal(t, []Event{
			{Kind: EventStart, ID: "blk", Model: "gemini-2.5-flash", Usage: provider.Usage{InputTokens: 7}},
			{Kind: EventFinish, Finish: FinishContentFilter},
			{Kind: EventUsage, Usage: provider.Usage{InputTokens: 7}},
		}, got)
	})

	t.Run("the token cap, in a chunk without content", func(t *testing.T) {
		got := geminiCollect(t,
			`{"candidates": [{"content": {"parts": [{"text": "A long"}],"role": "model"},"index": 0}],"modelVersion": "gemini-2.5-flash","responseId": "m"}`,
			`{"candidates": [{"finishReason": "MAX_TOKENS","index": 0}],"usageMetadata": {"promptTokenCount": 3,"candidatesTokenCount": 2,"totalTokenCount": 5},"modelVersion": "gemini-2.5-flash","responseId": "m"}`,
		)
		assert.Equal(t, []Event{
			{Kind: EventStart, ID: "m", Model: "gemini-2.5-flash"},
			{Kind: EventText, Text: "A long"},
			{Kind: EventFinish, Finish: FinishLength},
			{Kind: EventUsage, Usage: provider.Usage{InputTokens: 3, OutputTokens: 2}},
		}, got)
	})

	t.Run("only the first candidate", func(t *testing.T) {
		got := geminiCollect(t,
			`{"candidates": [{"content": {"parts": [{"text": "Red"}],"role": "model"},"index": 0},{"content": {"parts": [{"text": "Blue"}],"role": "model"},"index": 1}],"usageMetadata": {"promptTokenCount": 6,"totalTokenCount": 6},"modelVersion": "gemini-2.0-flash","responseId": "kX2eaLmQBb"}`,
			`{"candidates": [{"content": {"parts": [{"text": ""}],"role": "model"},"finishReason": "MAX_TOKENS","index": 1},{"content": {"parts": [{"text": "."}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 6,"candidatesTokenCount": 8,"totalTokenCount": 14},"modelVersion": "gemini-2.0-flash","responseId": "kX2eaLmQBb"}`,
		)
		assert.Equal(t, []Event{
			{Kind: EventStart, ID: "kX2eaLmQBb", Model: "gemini-2.0-flash", Usage: provider.Usage{InputTokens: 6}},
			{Kind: EventText, Text: "Red"},
			{Kind: EventText, Text: "."},
			{Kind: EventFinish, Finish: FinishStop},
			{Kind: EventUsage, Usage: provider.Usage{InputTokens: 6, OutputTokens: 8}},
		}, got)
	})

	t.Run("what is not Gemini's", func(t *testing.T) {
		for _, data := range []string{`[DONE]`, `{"candidates": [`, `["a"]`, `{"candidates":[{"content":{"parts":[{"functionCall":{"args":{}}}]}}]}`} {
			err := geminiCodec{}.NewStreamDecoder().Decode(nil, []byte(data), func(*Event) {})
			assert.ErrorIs(t, err, errGeminiFormat, data)
		}
		assert.NoError(t, geminiCodec{}.NewStreamDecoder().Decode(nil, []byte(" \r\n"), func(*Event) { t.Fatal("an event from nothing") }))
	})
}

// geminiEncodeEach encodes the events with one encoder and returns what
// each wrote.
func geminiEncodeEach(req *Request, events ...Event) []string {
	s := geminiCodec{}.NewStreamEncoder(req)
	out := make([]string, len(events))
	for i := range events {
		out[i] = string(s.Encode(nil, &events[i]))
	}
	return out
}

func TestGeminiStreamEncode(t *testing.T) {
	t.Run("text, the finish waiting for OpenAI's trailing usage", func(t *testing.T) {
		got := geminiEncodeEach(nil,
			Event{Kind: EventStart, ID: "chatcmpl-1", Model: "gpt-4o-2024-08-06"},
			Event{Kind: EventText, Text: "Hel"},
			Event{Kind: EventText, Text: "lo \"you\"\n"},
			Event{Kind: EventFinish, Finish: FinishStop},
			Event{Kind: EventUsage, Usage: provider.Usage{InputTokens: 10, OutputTokens: 2, CacheReadTokens: 4}},
			Event{Kind: EventDone},
		)
		assert.Equal(t, []string{
			"",
			"",
			`data: {"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],"modelVersion":"gpt-4o-2024-08-06","responseId":"chatcmpl-1"}` + "\n\n",
			"",
			`data: {"candidates":[{"content":{"parts":[{"text":"lo \"you\"\n"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":2,"totalTokenCount":12,"cachedContentTokenCount":4},"modelVersion":"gpt-4o-2024-08-06","responseId":"chatcmpl-1"}` + "\n\n",
			"",
		}, got)
	})

	anthropic := []Event{
		{Kind: EventStart, ID: "msg_01", Model: "claude-sonnet-4-5", Usage: provider.Usage{InputTokens: 472}},
		{Kind: EventThinking, Text: "Let me"},
		{Kind: EventThinking, Text: " check."},
		{Kind: EventThinking, Signature: "EqQBCkYI"},
		{Kind: EventToolStart, Tool: 0, ID: "toolu_01", Name: "get_weather"},
		{Kind: EventToolArgs, Tool: 0, Text: `{"city":`},
		{Kind: EventToolArgs, Tool: 0, Text: "\n \"Paris\"}"},
		{Kind: EventToolStart, Tool: 1, ID: "toolu_02", Name: "get_time"},
		{Kind: EventToolArgs, Tool: 1, Text: ``},
		{Kind: EventFinish, Finish: FinishToolCalls},
		{Kind: EventUsage, Usage: provider.Usage{InputTokens: 472, OutputTokens: 89}},
		{Kind: EventDone},
	}
	calls := `{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}},{"functionCall":{"name":"get_time","args":{}}}`
	tail := `"modelVersion":"claude-sonnet-4-5","responseId":"msg_01"}` + "\n\n"

	t.Run("thoughts asked for, then two calls whole in the last event", func(t *testing.T) {
		got := geminiEncodeEach(&Request{Reasoning: Reasoning{BudgetTokens: 2048, IncludeThoughts: true}}, anthropic...)
		assert.Equal(t, []string{
			"", "",
			`data: {"candidates":[{"content":{"parts":[{"text":"Let me","thought":true}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":472,"totalTokenCount":472},` + tail,
			"",
			`data: {"candidates":[{"content":{"parts":[{"text":" check.","thought":true,"thoughtSignature":"AIGWEqQBCkYI"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":472,"totalTokenCount":472},` + tail,
			"", "", "", "", "",
			`data: {"candidates":[{"content":{"parts":[` + calls + `],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":472,"candidatesTokenCount":89,"totalTokenCount":561},` + tail,
			"",
		}, got)
	})

	t.Run("thoughts not asked for", func(t *testing.T) {
		got := geminiEncodeEach(&Request{Reasoning: Reasoning{BudgetTokens: 2048}}, anthropic...)
		assert.Equal(t, []string{
			"", "", "", "", "", "", "", "", "", "",
			`data: {"candidates":[{"content":{"parts":[` + calls + `],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":472,"candidatesTokenCount":89,"totalTokenCount":561},` + tail,
			"",
		}, got)
	})

	t.Run("text after calls sends the calls first", func(t *testing.T) {
		got := geminiEncodeEach(nil,
			Event{Kind: EventStart, ID: "i", Model: "m"},
			Event{Kind: EventToolStart, Tool: 0, ID: "c", Name: "f"},
			Event{Kind: EventToolArgs, Tool: 0, Text: `{"a":1}`},
			Event{Kind: EventText, Text: "Done."},
			Event{Kind: EventDone},
		)
		assert.Equal(t, []string{
			"", "", "",
			`data: {"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"a":1}}}],"role":"model"},"index":0}],"modelVersion":"m","responseId":"i"}` + "\n\n",
			`data: {"candidates":[{"content":{"parts":[{"text":"Done."}],"role":"model"},"index":0}],"modelVersion":"m","responseId":"i"}` + "\n\n",
		}, got)
	})

	t.Run("arguments of two calls interleaved", func(t *testing.T) {
		got := geminiEncodeEach(nil,
			Event{Kind: EventToolStart, Tool: 0, ID: "a", Name: "f"},
			Event{Kind: EventToolStart, Tool: 1, ID: "b", Name: "g"},
			Event{Kind: EventToolArgs, Tool: 1, Text: `{"y":`},
			Event{Kind: EventToolArgs, Tool: 0, Text: `{"x":1}`},
			Event{Kind: EventToolArgs, Tool: 1, Text: `2}`},
			Event{Kind: EventFinish, Finish: FinishToolCalls},
			Event{Kind: EventDone},
		)
		assert.Equal(t, `data: {"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"x":1}}},{"functionCall":{"name":"g","args":{"y":2}}}],"role":"model"},"finishReason":"STOP","index":0}]}`+"\n\n", got[6])
	})

	t.Run("a mid-stream error ends the stream in Google's form", func(t *testing.T) {
		got := geminiEncodeEach(nil,
			Event{Kind: EventStart, ID: "msg_1", Model: "claude"},
			Event{Kind: EventText, Text: "Hi"},
			Event{Kind: EventToolStart, Tool: 0, ID: "t", Name: "f"},
			Event{Kind: EventToolArgs, Tool: 0, Text: `{"cut`},
			Event{Kind: EventError, Err: &provider.Error{Type: "overloaded_error", Message: "Overloaded"}},
			Event{Kind: EventDone},
		)
		assert.Equal(t, []string{
			"", "",
			`data: {"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"index":0}],"modelVersion":"claude","responseId":"msg_1"}` + "\n\n",
			"",
			`data: {"error":{"code":503,"message":"Overloaded","status":"UNAVAILABLE"}}` + "\n\n",
			"",
		}, got)
	})

	t.Run("a stream cut short: what is held, without a finish", func(t *testing.T) {
		got := geminiEncodeEach(nil, Event{Kind: EventText, Text: "Hal"}, Event{Kind: EventDone})
		assert.Equal(t, []string{"", `data: {"candidates":[{"content":{"parts":[{"text":"Hal"}],"role":"model"},"index":0}]}` + "\n\n"}, got)
	})

	t.Run("a refusal without content", func(t *testing.T) {
		got := geminiEncodeEach(nil, Event{Kind: EventStart, ID: "r", Model: "m"}, Event{Kind: EventFinish, Finish: FinishContentFilter}, Event{Kind: EventDone})
		assert.Equal(t, []string{"", "", `data: {"candidates":[{"finishReason":"SAFETY","index":0}],"modelVersion":"m","responseId":"r"}` + "\n\n"}, got)
	})

	t.Run("arguments that are not an object", func(t *testing.T) {
		got := geminiEncodeEach(nil,
			Event{Kind: EventToolStart, Tool: 0, ID: "t", Name: "f"},
			Event{Kind: EventToolArgs, Tool: 0, Text: `{"a":`},
			Event{Kind: EventFinish, Finish: FinishToolCalls},
			Event{Kind: EventDone},
		)
		assert.Equal(t, `data: {"error":{"code":500,"message":"aigateway: the upstream's tool call arguments are not a JSON object","status":"INTERNAL"}}`+"\n\n", got[3])
	})

	t.Run("nothing after the end", func(t *testing.T) {
		got := geminiEncodeEach(nil,
			Event{Kind: EventText, Text: "a"},
			Event{Kind: EventFinish, Finish: FinishStop},
			Event{Kind: EventUsage, Usage: provider.Usage{InputTokens: 1, OutputTokens: 1}},
			Event{Kind: EventUsage, Usage: provider.Usage{InputTokens: 1, OutputTokens: 2}},
			Event{Kind: EventText, Text: "b"},
			Event{Kind: EventDone},
		)
		assert.NotEmpty(t, got[2])
		assert.Equal(t, []string{"", "", ""}, got[3:])
	})
}

func TestGeminiStreamEventsEveryChatKeeps(t *testing.T) {
	// The genai SDKs' chats keep a streamed turn only when every event
	// holds content: a part with text, or a call.
	got := geminiEncodeEach(&Request{Reasoning: Reasoning{IncludeThoughts: true}},
		Event{Kind: EventStart, ID: "i", Model: "m", Usage: provider.Usage{InputTokens: 3}},
		Event{Kind: EventThinking, Text: "Hm."},
		Event{Kind: EventThinking, Signature: "sig"},
		Event{Kind: EventText, Text: "A"},
		Event{Kind: EventText, Text: "B"},
		Event{Kind: EventFinish, Finish: FinishStop},
		Event{Kind: EventUsage, Usage: provider.Usage{InputTokens: 3, OutputTokens: 2}},
	)
	for _, event := range got {
		if event == "" {
			continue
		}
		var chunk struct {
			Candidates []struct {
				Content *struct {
					Parts []struct {
						Text         string          `json:"text"`
						FunctionCall json.RawMessage `json:"functionCall"`
					} `json:"parts"`
				} `json:"content"`
			} `json:"candidates"`
		}
		require.NoError(t, json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(event, "data: "), "\n\n")), &chunk))
		require.Len(t, chunk.Candidates, 1)
		require.NotNil(t, chunk.Candidates[0].Content, event)
		for _, p := range chunk.Candidates[0].Content.Parts {
			assert.True(t, p.Text != "" || p.FunctionCall != nil, event)
		}
	}
}

func TestGeminiStreamTextEventAllocatesNothing(t *testing.T) {
	chunk := []byte(`{"candidates": [{"content": {"parts": [{"text": " sky is \"blue\""}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}`)
	d := geminiCodec{}.NewStreamDecoder()
	s := geminiCodec{}.NewStreamEncoder(&Request{})
	dst := make([]byte, 0, 4096)
	emit := func(e *Event) { dst = s.Encode(dst, e) }
	run := func() {
		dst = dst[:0]
		if err := d.Decode(nil, chunk, emit); err != nil {
			t.Fatal(err)
		}
	}
	run()
	run()
	assert.Zero(t, testing.AllocsPerRun(100, run))
	assert.Contains(t, string(dst), `{"text":" sky is \"blue\""}`)
}

// geminiFastChunks are chunks as Gemini and its relatives write them,
// which readFast reads: Google's spelling, compact, Vertex's member
// order, pretty-printed as a whole answer.
var geminiFastChunks = []string{
	// Google's spelling: text, a thought, the last chunk, calls.
	`{"candidates": [{"content": {"parts": [{"text": " sky is blue because of Rayleigh scattering"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}`,
	`{"candidates": [{"content": {"parts": [{"text": "**Planning**\n\nThe user asks about \"the sky\".","thought": true}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}`,
	`{"candidates": [{"content": {"parts": [{"text": " sky is blue \u00e9."}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}`,
	`{"candidates": [{"content": {"parts": [{"text": "","thoughtSignature": "CiQBVKhc7g=="}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 30,"totalTokenCount": 139,"cachedContentTokenCount": 4,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}],"thoughtsTokenCount": 100},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}`,
	`{"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather","args": {"city": "Paris","days": [1, 2],"metric": true,"note": null}},"thoughtSignature": "EjQK"},{"functionCall": {"id": "fc-3","name": "get_time"}}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 50,"candidatesTokenCount": 20,"totalTokenCount": 70,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 40},{"modality": "IMAGE","tokenCount": 10}]},"modelVersion": "gemini-3-pro-preview","responseId": "r-1"}`,
	`{"candidates": [{"finishReason": "MAX_TOKENS","index": 0}],"usageMetadata": {"promptTokenCount": 3,"candidatesTokenCount": 2,"totalTokenCount": 5},"modelVersion": "gemini-2.5-flash","responseId": "m"}`,
	`{"candidates": [{"content": {"parts": [{"text": "Hi"}],"role": "model"},"finishReason": "STOP","avgLogprobs": -0.25,"index": 0}],"usageMetadata": {"promptTokenCount": 3,"candidatesTokenCount": 1,"totalTokenCount": 4},"modelVersion": "gemini-2.0-flash"}`,
	`{"candidates": [{"content": {"parts": [{"text": "Hi"}],"role": "model"},"safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT","probability": "NEGLIGIBLE"}],"index": 0}]}`,
	// Compact, as this codec's encoder and the llmtest fake write them.
	`{"candidates":[{"content":{"parts":[{"text":"Hello"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":5,"totalTokenCount":5},"modelVersion":"gemini-2.5-flash","responseId":"abc"}`,
	`{"candidates":[{"content":{"parts":[{"text":"Hm.","thought":true,"thoughtSignature":"c2ln"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":5,"totalTokenCount":5}}`,
	`{"candidates":[{"content":{"parts":[{"text":"."}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2,"totalTokenCount":7,"thoughtsTokenCount":3}}`,
	// Vertex AI: the role first, no index, createTime.
	`{"candidates": [{"content": {"role": "model","parts": [{"text": "The sky"}]}}],"usageMetadata": {"trafficType": "ON_DEMAND"},"modelVersion": "gemini-2.5-flash","createTime": "2025-08-16T10:00:00.123456Z","responseId": "vtx"}`,
	`{"candidates": [{"content": {"role": "model","parts": [{"text": " is blue.","thought": true}]}}],"modelVersion": "gemini-2.5-flash","createTime": "2025-08-16T10:00:00.123456Z","responseId": "vtx"}`,
	`{"candidates": [{"content": {"role": "model","parts": [{"text": ""}]},"finishReason": "STOP"}],"usageMetadata": {"promptTokenCount": 4,"candidatesTokenCount": 3,"totalTokenCount": 7,"trafficType": "ON_DEMAND","promptTokensDetails": [{"modality": "TEXT","tokenCount": 4}],"candidatesTokensDetails": [{"modality": "TEXT","tokenCount": 3}]},"modelVersion": "gemini-2.5-flash","createTime": "2025-08-16T10:00:00.123456Z","responseId": "vtx"}`,
	// A whole answer, pretty-printed.
	"{\n  \"candidates\": [\n    {\n      \"content\": {\n        \"parts\": [\n          {\n            \"text\": \"Blue.\"\n          }\n        ],\n        \"role\": \"model\"\n      },\n      \"finishReason\": \"STOP\",\n      \"index\": 0\n    }\n  ],\n  \"usageMetadata\": {\n    \"promptTokenCount\": 8,\n    \"candidatesTokenCount\": 2,\n    \"totalTokenCount\": 10\n  },\n  \"modelVersion\": \"gemini-2.5-flash\",\n  \"responseId\": \"pp\"\n}\n",
	`{"candidates": [{"content": {"parts": []}}]}`,
}

// geminiSlowChunks are chunks readFast leaves to read: escaped keys,
// nulls, two candidates, an error, a blocked prompt, numbers read as
// integers, duplicates, what is not a chunk.
var geminiSlowChunks = []string{
	`{"candidates": [{"content": {"parts": [{"\u0074ext": "Hi"}],"role": "model"},"index": 0}]}`,
	`{"candidates": [{"content": {"parts": [{"text": "Hi"}],"role": "model"},"index": 0}],"usage\u004detadata": {"promptTokenCount": 2}}`,
	`{"candidates": [{"content": {"parts": [{"text": "Hi"}],"role": "model"},"index": 0}],"usageMetadata": {"prompt\u0054okenCount": 2,"promptTokenCount" : 3}}`,
	`{"candidates": [{"content": null,"finishReason": "SAFETY","index": 0}],"usageMetadata": null}`,
	`{"candidates": [{"content": {"parts": [{"text": "Red"}],"role": "model"},"index": 0},{"content": {"parts": [{"text": "Blue"}],"role": "model"},"index": 1}]}`,
	`{"candidates": [{"content": {"parts": [{"text": "Blue"}],"role": "model"},"index": 1}]}`,
	`{"candidates": [{"content": {"parts": [{"text": "Hi"}],"role": "model"},"index": 0.0}],"usageMetadata": {"promptTokenCount": 2.0,"candidatesTokenCount": 1e1}}`,
	`{"error": {"code": 503,"message": "The model is overloaded.","status": "UNAVAILABLE"}}`,
	`{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},"usageMetadata": {"promptTokenCount": 7,"totalTokenCount": 7}}`,
	`{"candidates": [{"content": {"parts": [{"text": "a"},{"text": "b","text": "c"}],"parts": [{"text": "d"}]},"index": 0}]}`,
	`{"candidates": [],"candidates": [{"content": {"parts": [{"text": "Hi"}]}}],"usageMetadata": {"promptTokenCount": 1},"usageMetadata": {"candidatesTokenCount": 2}}`,
	`{"candidates": [{"content": {"parts": [{"text": "Hi","thought": "yes","thoughtSignature": 7}],"role": "model"},"finishReason": "\u0053TOP","index": 0}]}`,
	`{"candidates": [{"content": {"parts": [{"text": "Hi"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 99999999999999999999,"candidatesTokenCount": -3,"thoughtsTokenCount": 012}}`,
	`{}`, `[]`, ` {"candidates": [{}]} `, `{"candidates": [{"content": {}}]}`,
}

// geminiSlowChunk reads data with read, into a new chunk.
func geminiSlowChunk(data []byte) (geminiChunk, error) {
	var ch geminiChunk
	err := ch.read(data)
	ch.seen = geminiSeenUsage{}
	return ch, err
}

// geminiCheckFast reads data with ch's readFast (ch may hold what earlier
// chunks left: the usage seen) and, when it reads it, checks that read
// reads it the same. It reports whether readFast read it.
func geminiCheckFast(t *testing.T, ch *geminiChunk, data []byte) bool {
	t.Helper()
	if !ch.readFast(data) {
		return false
	}
	slow, err := geminiSlowChunk(data)
	if !assert.NoError(t, err, "readFast read what read refuses: %q", data) {
		return true
	}
	fast := *ch
	fast.seen = geminiSeenUsage{}
	if len(fast.parts) == 0 && len(slow.parts) == 0 {
		fast.parts, slow.parts = nil, nil // a buffer kept or not
	}
	assert.Equal(t, slow, fast, "%q", data)
	return true
}

func TestGeminiReadFastReadsAsReadDoes(t *testing.T) {
	t.Run("the chunks Gemini writes are read fast", func(t *testing.T) {
		for _, c := range geminiFastChunks {
			var ch geminiChunk
			assert.True(t, geminiCheckFast(t, &ch, []byte(c)), "left to read: %s", c)
		}
	})
	t.Run("the others are left to read", func(t *testing.T) {
		for _, c := range geminiSlowChunks {
			var ch geminiChunk
			assert.False(t, geminiCheckFast(t, &ch, []byte(c)), "read fast: %s", c)
		}
	})
	// Every chunk cut short, and each of its bytes replaced by one that
	// JSON gives a meaning: readFast reads what read reads, the same, or
	// leaves it to read.
	t.Run("cut short and changed at every byte", func(t *testing.T) {
		fast := 0
		for _, c := range append(geminiFastChunks[:len(geminiFastChunks):len(geminiFastChunks)], geminiSlowChunks...) {
			var ch geminiChunk // across chunks, as a stream's decoder: the usage seen stays
			for n := range len(c) {
				if geminiCheckFast(t, &ch, []byte(c[:n])) {
					fast++
				}
				for _, b := range []byte(`"\{}[],: 0-1.etanu` + "\t") {
					data := []byte(c)
					data[n] = b
					if geminiCheckFast(t, &ch, data) {
						fast++
					}
				}
			}
		}
		assert.Positive(t, fast)
	})
	t.Run("members in any order", func(t *testing.T) {
		members := []string{
			`"candidates": [{"index": 0,"content": {"role": "model","parts": [{"thought": true,"text": "Hm"}]}}]`,
			`"usageMetadata": {"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}],"promptTokenCount": 9}`,
			`"modelVersion": "gemini-2.5-flash"`,
			`"responseId": "x"`,
			`"createTime": "2025-08-16T10:00:00Z"`,
		}
		for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {1, 0, 3, 2, 4}, {2, 4, 0, 3, 1}} {
			var b strings.Builder
			for i, m := range order {
				if i > 0 {
					b.WriteString(" , ")
				}
				b.WriteString(members[m])
			}
			var ch geminiChunk
			data := "{ " + b.String() + " }"
			assert.True(t, geminiCheckFast(t, &ch, []byte(data)), data)
		}
	})
}

func TestGeminiReadFastUsageSeenBeforeIsReadAgainWhenItChanges(t *testing.T) {
	const head = `{"candidates": [{"content": {"parts": [{"text": "a"}],"role": "model"},"index": 0}],"usageMetadata": `
	var ch geminiChunk
	for _, usage := range []string{
		`{"promptTokenCount": 9,"totalTokenCount": 9}`,
		`{"promptTokenCount": 9,"totalTokenCount": 9}`,
		`{"promptTokenCount": 9,"totalTokenCount": 9,"candidatesTokenCount": 2}`,
		`{"promptTokenCount": 9,"totalTokenCount": 9}`,
		`{"promptTokenCount": 9,"totalTokenCount": 90}`,
		`{"promptTokenCount": 90,"totalTokenCount": 90}`,
		`{"promptTokenCount": 90}`,
		`{"candidatesTokenCount": 1}`,
	} {
		data := []byte(head + usage + `,"modelVersion": "m"}`)
		require.True(t, geminiCheckFast(t, &ch, data), "%s", data)
		want, err := geminiSlowChunk(data)
		require.NoError(t, err)
		assert.Equal(t, want.counts, ch.counts, usage)
	}
}

func TestGeminiChunkResetForgetsWhatTheChunkSaid(t *testing.T) {
	// Every field but the buffers kept set to something: reset must
	// clear each, including one added later.
	var ch geminiChunk
	v := reflect.ValueOf(&ch).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		f = reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem()
		switch f.Kind() {
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Array:
			f.Index(0).SetInt(1)
		case reflect.Struct:
			// seen: kept across chunks.
		default:
			t.Fatalf("a field of kind %s: teach this test to set it", f.Kind())
		}
	}
	ch.reset()
	assert.Empty(t, ch.parts)
	ch.parts = nil
	assert.Equal(t, geminiChunk{}, ch)
}

func TestGeminiStopFindsTheFirstQuoteOrBackslash(t *testing.T) {
	for n := range 40 {
		for at := range n + 1 {
			for _, c := range []byte{'"', '\\'} {
				data := []byte(strings.Repeat("a\x80\x00\xff\"\\", 8)[:0])
				for i := range n {
					data = append(data, "ab \x7f\x80\xdc\xa2\x00"[i%8])
				}
				if at < n {
					data[at] = c
				}
				want := n
				if at < n {
					want = at
				}
				assert.Equal(t, want, geminiStop(data, 0), "%q", data)
			}
		}
	}
}

func TestGeminiCursorValueEndsValuesAsTheScannerDoes(t *testing.T) {
	for _, v := range []string{
		`0`, `7`, `12`, `0.5`, `1e3`, `1E3`, `1e+3`, `1.5E-03`, `-1`, `-0`, `-`, `-a`, `01`, `0x`, `12}`, `12,`, `12 `, `1.`, `1.e`, `1e`, `1e+`, `-0.0e0`, `00`,
		`""`, `"a\"b"`, `"\\"`, `"\\\"`, `"unterminated`, `"` + strings.Repeat("x", 40) + `\\" `, `"` + strings.Repeat(`\"`, 20) + `"`,
		`true`, `tru`, `null`, `{"a":1}`, `[1,2]`, `{`, `[`, ` 5`, "\t\"s\"",
	} {
		c := geminiCursor{data: []byte(v)}
		got := c.value()
		end, err := jsonscan.SkipValue([]byte(v), 0)
		if err != nil {
			assert.Error(t, c.err, v)
			continue
		}
		require.NoError(t, c.err, v)
		assert.Equal(t, end, c.i, v)
		assert.Equal(t, strings.TrimSpace(v[:end]), string(got), v)
	}
}

func TestGeminiStreamEncodeWritesTheUsageKnownAtEachEvent(t *testing.T) {
	// The encoder keeps the end of its events (usage, model, id) written:
	// each event must still carry the usage known when it goes out.
	got := geminiEncodeEach(nil,
		Event{Kind: EventStart, ID: "i", Model: "m", Usage: provider.Usage{InputTokens: 3}},
		Event{Kind: EventText, Text: "a"},
		Event{Kind: EventText, Text: "b"},
		Event{Kind: EventUsage, Usage: provider.Usage{InputTokens: 3, OutputTokens: 1}},
		Event{Kind: EventText, Text: "c"},
		Event{Kind: EventUsage, Usage: provider.Usage{InputTokens: 3, OutputTokens: 1}},
		Event{Kind: EventText, Text: "d"},
		Event{Kind: EventUsage, Usage: provider.Usage{InputTokens: 3, OutputTokens: 2}},
		Event{Kind: EventDone},
	)
	event := func(text, usage string) string {
		return `data: {"candidates":[{"content":{"parts":[{"text":"` + text + `"}],"role":"model"},"index":0}],"usageMetadata":` + usage + `,"modelVersion":"m","responseId":"i"}` + "\n\n"
	}
	assert.Equal(t, []string{
		"",
		"",
		event("a", `{"promptTokenCount":3,"totalTokenCount":3}`),
		"",
		event("b", `{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4}`),
		"",
		event("c", `{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4}`),
		"",
		event("d", `{"promptTokenCount":3,"candidatesTokenCount":2,"totalTokenCount":5}`),
	}, got)
}

// geminiJSONValues are JSON texts (and near misses) for the compactor:
// schemas, arguments, results as callers write them.
var geminiJSONValues = []string{
	`{"type":"object","properties":{"city":{"type":"string"},"date":{"type":"string","format":"date"},"unit":{"enum":["celsius","fahrenheit"]}},"required":["city","date"]}`,
	"{\n  \"type\": \"object\",\n  \"properties\": {\n    \"q\": {\"type\": \"string\", \"description\": \"What to \\\"find\\\", in words\"}\n  },\n  \"additionalProperties\": false\n}\n",
	`{"city": "Paris", "days": [1, 2.5, -3e2, 0], "ok": true, "no": false, "none": null, "nested": {"a": [{}, [], ""]}}`,
	"{\"text\":\"a\tb\nc\x01\\\x02\"}",
	`{"\u0074ext":"\ud83d\ude00 \"q\" \\"}`,
	`  [ 1 , 2 ]  `, `"just a string"`, `12`, `-0.5e-3`, `true`, `null`, `{}`, `[]`,
	strings.Repeat("[", 40) + strings.Repeat("]", 40),
	strings.Repeat("[", 64) + strings.Repeat("]", 64), strings.Repeat(`[{"a":`, 40) + "1" + strings.Repeat("}]", 40),
	strings.Repeat("[ ", 70) + strings.Repeat("]", 70), strings.Repeat("[", 70) + strings.Repeat("]", 69),
	strings.Repeat(`{"a":`, 33) + "1" + strings.Repeat("}", 33),
	`{"a":1,}`, `[1,]`, `{"a" 1}`, `{"a":1 "b":2}`, `{a:1}`, `[01]`, `[1.]`, `[.5]`, `[1e]`, `[-]`, `"open`, `{"a":"b\"}`, `{} {}`, `{}x`, `tru`, `nul`, `[1 2]`, ``, ` `,
}

func TestGeminiAppendValidCompactsAsCheckingThenCompacting(t *testing.T) {
	check := func(v []byte) {
		t.Helper()
		prefix := []byte("x:")
		got, ok := geminiAppendValid(prefix, v)
		want, wantOK := prefix, jsonscan.Valid(v)
		if wantOK {
			want = geminiCompact(prefix, v)
		}
		require.Equal(t, wantOK, ok, "%q", v)
		require.Equal(t, string(want), string(got), "%q", v)
	}
	for _, v := range geminiJSONValues {
		check([]byte(v))
		// Cut short and changed at every byte.
		for n := range len(v) {
			check([]byte(v[:n]))
			for _, b := range []byte("\"\\{}[],: 0-1.eE+tfnu\t\x01") {
				data := []byte(v)
				data[n] = b
				check(data)
			}
		}
	}
}

func TestGeminiCheckStringSaysWhatCompactingChanges(t *testing.T) {
	for n := range 24 {
		for at := -1; at < n; at++ {
			for _, c := range []byte{0x00, 0x1f, 0x20, 0x7f, 0x80, '\\', '"'} {
				body := []byte(strings.Repeat("\xa0", n))
				if at >= 0 {
					body[at] = c
				}
				for _, tail := range []string{`"`, `\"`, `\"x"`, ``} {
					data := []byte(`"` + string(body) + tail)
					want := jsonscan.StringEnd(data, 0)
					end, ctl := geminiCheckString(data, 0)
					require.Equal(t, want, end, "%q", data)
					if end > 0 {
						changed := string(geminiCompact(nil, data[:end])) != string(data[:end])
						assert.Equal(t, changed, ctl, "%q", data)
					}
				}
			}
		}
	}
}

func TestGeminiRequestDecoderReadsStringsAsJSONScanDoes(t *testing.T) {
	values := []string{
		`""`, `"plain"`, `"é and ü"`, `"a\"b"`, `"\u00e9\n\t\\"`, `"\ud83d\ude00"`, `"\ud800 lone"`,
		`"bad \q escape"`, `"\"`, `"cut \u00"`, "\"raw \xff byte\"", "\"\xc3\"", "\"esc \\n and \xff\"",
		`"` + strings.Repeat("long plain text ", 8) + `"`, `5`, `null`, `"unterminated`, `x"`,
	}
	for _, v := range values {
		own := []byte(v)
		d := geminiRequestDecoder{arena: make([]byte, 0, 4)}
		want, wantOK := jsonscan.String(own)
		got, ok := d.unquote(own)
		assert.Equal(t, wantOK, ok, v)
		assert.Equal(t, string(want), got, v)
		assert.Equal(t, geminiString(own), d.str(own), v)
	}
}

func TestGeminiRequestDecoderCompactsAsGeminiCompact(t *testing.T) {
	for _, v := range geminiJSONValues {
		if !jsonscan.Valid([]byte(v)) {
			continue
		}
		v = strings.TrimSpace(v) // as the cursor gives values
		d := geminiRequestDecoder{}
		got := d.compact([]byte(v))
		assert.Equal(t, string(geminiCompact(nil, []byte(v))), string(got), v)
		assert.Equal(t, len(got), cap(got), "room after a value would let an append overwrite what follows")
	}
}

func TestGeminiDecodeRequestKeepsNothingOfTheCallersBody(t *testing.T) {
	body := []byte(geminiFullRequest)
	r, err := geminiCodec{}.DecodeRequest(body, RequestMeta{})
	require.NoError(t, err)
	want := geminiDecodeForTest(t, geminiFullRequest)
	want.Model = ""
	for i := range body {
		body[i] = 'x'
	}
	assert.Equal(t, want, r)
}

func TestGeminiDecodeRequestReadsCallsAndResultsAsBefore(t *testing.T) {
	// What the codec read before it read calls and results in one pass
	// (with jsonscan's iterators): keys with escapes, bad escapes (a
	// call's name keeps what comes before one, a key keeps it as it is),
	// repeated keys, results that are not objects.
	r := geminiDecodeForTest(t, `{"contents":[`+
		`{"role":"model","parts":[{"functionCall":{"n\u0061me":"f","i\u0064":"c1","args":{"a" : [1, {"b":"\u00e9\n"}]}},"thoughtSignature":"c2ln"},{"functionCall":{"name":"g","args":null,"name\q":"no"}},{"functionCall":{"name":"x\qy"}}]},`+
		`{"role":"user","parts":[{"functionResponse":{"id":"c1","name":"f","response":{"result":"ok \"x\""},"parts":[]}},{"function_response":{"name":"g","response":{"output":{"a":1}}}},`+
		`{"functionResponse":{"name":"h","response":"str"}},{"functionResponse":{"name":"g","response":{"error":"bad","other":1}}},{"functionResponse":{"name":"x","response":{"output\q":"no"},"parts":[{"a":1}],"parts":[]}}]}]}`)
	g := geminiRequestCallID(0, 1, "g")
	assert.Equal(t, []Message{
		{Role: RoleAssistant, Parts: []Part{
			{Kind: PartThinking, Signature: "gemini:c2ln"},
			{Kind: PartToolCall, ID: "c1", Name: "f", Arguments: `{"a":[1,{"b":"\u00e9\n"}]}`},
			{Kind: PartToolCall, ID: g, Name: "g", Arguments: "{}"},
			{Kind: PartToolCall, ID: geminiRequestCallID(0, 2, "x"), Name: "x", Arguments: "{}"},
		}},
		{Role: RoleUser, Parts: []Part{
			{Kind: PartToolResult, ID: "c1", Name: "f", Text: `ok "x"`},
			{Kind: PartToolResult, ID: g, Name: "g", Text: `{"output":{"a":1}}`, JSON: true},
			{Kind: PartToolResult, ID: geminiRequestCallID(1, 2, "h"), Name: "h", Text: `"str"`, JSON: true},
			{Kind: PartToolResult, ID: geminiRequestCallID(1, 3, "g"), Name: "g", Text: `{"error":"bad","other":1}`, JSON: true},
			{Kind: PartToolResult, ID: geminiRequestCallID(0, 2, "x"), Name: "x", Text: `{"output\q":"no"}`, JSON: true},
		}},
	}, r.Messages)
	assert.Equal(t, []string{"contents.parts.functionResponse.parts"}, r.Unsupported)

	// Refusals, as before, word for word.
	for _, tc := range []struct{ body, err string }{
		{`{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a":1,}}}]}]}`, "jsonscan: expected object key at offset 80 at offset 54"},
		{`{"contents":[{"role":"model","parts":[{"functionCall":5}]}]}`, "functionCall: jsonscan: expected object at offset 0"},
		{`{"contents":[{"role":"model","parts":[{"functionCall":{"args":{}}}]}]}`, "functionCall without a name"},
		{`{"contents":[{"parts":[{"functionResponse":["x"]}]}]}`, "functionResponse: jsonscan: expected object at offset 0"},
		{`{"contents":[{"parts":[{"functionResponse":{"name":"f","response":{"a":1,}}}]}]}`, "jsonscan: expected object key at offset 73 at offset 43"},
	} {
		_, err := geminiCodec{}.DecodeRequest([]byte(tc.body), RequestMeta{})
		assert.EqualError(t, err, "translate: not Gemini's generateContent format: "+tc.err, tc.body)
	}
}

func TestGeminiRequestTranslationAllocatesAFew(t *testing.T) {
	body := []byte(geminiBenchRequest)
	var r *Request
	decode := testing.AllocsPerRun(50, func() {
		var err error
		if r, err = (geminiCodec{}).DecodeRequest(body, RequestMeta{}); err != nil {
			t.Fatal(err)
		}
	})
	encode := testing.AllocsPerRun(50, func() {
		if _, err := (geminiCodec{}).EncodeRequest(r, "gemini-2.5-flash"); err != nil {
			t.Fatal(err)
		}
	})
	// The body's copy (with room for what decoding makes), the request
	// with its lists and parts; the body written.
	assert.LessOrEqual(t, decode, 2.0)
	assert.LessOrEqual(t, encode, 1.0)
	assert.LessOrEqual(t, unsafe.Sizeof(geminiRequestBlock{}), uintptr(2048), "the block outgrew its size class")
}
