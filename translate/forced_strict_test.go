package translate

import (
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
