package translate

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/provider"
)

// A forced call (Gemini's ANY) is refused for a strict tool only when the
// model may call that tool: a strict tool left out of the allowed subset,
// or other than the one forced, cannot be called, so ANY over the tools
// that can keeps every guarantee the caller asked for.
func TestGeminiForcedCallRefusesOnlyCallableStrictTools(t *testing.T) {
	const schema = `{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}`
	body := func(choice string) string {
		return `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather?"}],"tools":[` +
			`{"type":"function","function":{"name":"get_weather","parameters":` + schema + `,"strict":true}},` +
			`{"type":"function","function":{"name":"get_time"}},{"type":"function","function":{"name":"search"}}],` +
			`"tool_choice":` + choice + `}`
	}
	tests := []struct {
		name   string
		choice string
		want   string // the functionCallingConfig sent; "": refused naming strict
	}{
		{"a required subset without the strict tool", `{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"get_time"}},{"type":"function","function":{"name":"search"}}]}}`,
			`"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_time","search"]}`},
		{"a forced tool that is not strict", `{"type":"function","function":{"name":"get_time"}}`,
			`"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_time"]}`},
		{"a required subset with the strict tool", `{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"get_weather"}},{"type":"function","function":{"name":"search"}}]}}`, ""},
		{"the strict tool forced", `{"type":"function","function":{"name":"get_weather"}}`, ""},
		{"required over every tool", `"required"`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := TranslateRequest(provider.FormatOpenAIChat, provider.FormatGemini, []byte(body(tc.choice)), RequestMeta{}, "gemini-2.5-flash")
			if tc.want == "" {
				var ue *UnsupportedError
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, "strict", ue.Param)
				return
			}
			require.NoError(t, err)
			assert.Contains(t, string(out), tc.want)
		})
	}
}

// A function Gemini's allowedFunctionNames lists twice is one function:
// ANY over it alone forces it, and a subset keeps each name once.
func TestGeminiAllowedNamesListedTwice(t *testing.T) {
	const tools = `"tools":[{"functionDeclarations":[{"name":"f"},{"name":"g"}]}]`
	for _, tc := range []struct {
		name, config string
		want         ToolChoice
	}{
		{"ANY over one name twice", `{"mode":"ANY","allowedFunctionNames":["f","f"]}`, ToolChoice{Mode: ToolChoiceTool, Name: "f"}},
		{"ANY over two, one twice", `{"mode":"ANY","allowedFunctionNames":["g","f","g"]}`, ToolChoice{Mode: ToolChoiceRequired, Allowed: []string{"g", "f"}}},
		{"VALIDATED", `{"mode":"VALIDATED","allowedFunctionNames":["f","f"]}`, ToolChoice{Mode: ToolChoiceAuto, Allowed: []string{"f"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := geminiDecodeForTest(t, `{"contents":[{"parts":[{"text":"hi"}]}],`+tools+`,"toolConfig":{"functionCallingConfig":`+tc.config+`}}`)
			assert.Equal(t, tc.want, r.ToolChoice)
		})
	}
}

// A subset of the tools reaches OpenAI (or an encoder told no target) as
// allowed_tools; the other providers of the format, which do not document
// it, get only the subset's tools, with the choice's mode.
func TestOpenAIFormatSubsetPerTarget(t *testing.T) {
	tools := []Tool{{Name: "f"}, {Name: "g"}, {Name: "h"}}
	for _, tc := range []struct {
		name   string
		target provider.Provider
		mode   ToolChoiceMode
		want   string // the tools' names and the tool choice, as sent
	}{
		{"openai", provider.OpenAI, ToolChoiceRequired, `["f","g","h"] {"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"g"}},{"type":"function","function":{"name":"h"}}]}}`},
		{"no target", provider.Provider{}, ToolChoiceAuto, `["f","g","h"] {"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"g"}},{"type":"function","function":{"name":"h"}}]}}`},
		{"groq, required", provider.Groq, ToolChoiceRequired, `["g","h"] "required"`},
		{"mistral, auto", provider.Mistral, ToolChoiceAuto, `["g","h"] "auto"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Request{Model: "m", Messages: []Message{{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: "hi"}}}},
				Tools: tools, ToolChoice: ToolChoice{Mode: tc.mode, Allowed: []string{"g", "h"}}}
			b, err := openAICodec{}.encodeRequestFor(r, "m", tc.target)
			require.NoError(t, err)
			var sent struct {
				Tools []struct {
					Function struct{ Name string } `json:"function"`
				} `json:"tools"`
				ToolChoice json.RawMessage `json:"tool_choice"`
			}
			require.NoError(t, json.Unmarshal(b, &sent))
			var names []string
			for _, tl := range sent.Tools {
				names = append(names, tl.Function.Name)
			}
			got, _ := json.Marshal(names)
			assert.Equal(t, tc.want, string(got)+" "+string(sent.ToolChoice))
		})
	}
}
