package translate

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/provider"
)

// openAIStrictViolation names the first place where schema leaves
// OpenAI's strict subset (every object closed with additionalProperties
// false, every property required), which OpenAI answers with a 400
// "Invalid schema", or "" when it is within it.
func openAIStrictViolation(at string, schema any) string {
	m, ok := schema.(map[string]any)
	if !ok {
		return ""
	}
	types, _ := m["type"].([]any)
	if props, ok := m["properties"].(map[string]any); ok || m["type"] == "object" || slices.Contains(types, any("object")) {
		if m["additionalProperties"] != false {
			return at + ": additionalProperties is not false"
		}
		req, _ := m["required"].([]any)
		for k, p := range props {
			if !slices.Contains(req, any(k)) {
				return at + ": property " + k + " is not required"
			}
			if v := openAIStrictViolation(at+"."+k, p); v != "" {
				return v
			}
		}
	}
	if v := openAIStrictViolation(at+"[]", m["items"]); v != "" {
		return v
	}
	for _, kw := range []string{"anyOf", "$defs", "definitions"} {
		switch sub := m[kw].(type) {
		case []any:
			for i, s := range sub {
				if v := openAIStrictViolation(fmt.Sprintf("%s.%s[%d]", at, kw, i), s); v != "" {
					return v
				}
			}
		case map[string]any:
			for k, s := range sub {
				if v := openAIStrictViolation(at+"."+kw+"."+k, s); v != "" {
					return v
				}
			}
		}
	}
	return ""
}

// A schema that reaches OpenAI with strict: true from another format must
// be one OpenAI's strict mode takes, or the call that worked at the
// caller's own provider (and, before strict was carried, at OpenAI) is
// answered 400 there: typical Gemini and Anthropic schemas, whose formats
// neither close objects nor require every property.
func TestStrictFromOtherFormatsFitsOpenAIsStrictSubset(t *testing.T) {
	tests := []struct {
		name string
		from provider.Format
		body string
	}{
		{"Gemini responseSchema", provider.FormatGemini,
			`{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json","responseSchema":{"type":"OBJECT","properties":{"a":{"type":"STRING"},"b":{"type":"INTEGER","nullable":true}},"required":["a"]}}}`},
		{"Gemini VALIDATED tools", provider.FormatGemini,
			`{"toolConfig":{"functionCallingConfig":{"mode":"VALIDATED"}},"contents":[{"role":"user","parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"get_weather","parameters":{"type":"OBJECT","properties":{"city":{"type":"STRING"},"unit":{"type":"STRING"}},"required":["city"]}}]}]}`},
		{"Anthropic output_config with an optional field", provider.FormatAnthropicMessages,
			`{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":"x"}],"output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["a"],"additionalProperties":false}}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := TranslateRequest(tc.from, provider.FormatOpenAIChat, []byte(tc.body), RequestMeta{Model: "m"}, "gpt-4o")
			require.NoError(t, err)
			var req struct {
				Tools []struct {
					Function struct {
						Parameters any  `json:"parameters"`
						Strict     bool `json:"strict"`
					} `json:"function"`
				} `json:"tools"`
				ResponseFormat struct {
					JSONSchema struct {
						Schema any  `json:"schema"`
						Strict bool `json:"strict"`
					} `json:"json_schema"`
				} `json:"response_format"`
			}
			require.NoError(t, json.Unmarshal(out, &req), string(out))
			if js := req.ResponseFormat.JSONSchema; js.Strict {
				assert.Empty(t, openAIStrictViolation("schema", js.Schema), string(out))
			}
			for _, tool := range req.Tools {
				if tool.Function.Strict {
					assert.Empty(t, openAIStrictViolation("parameters", tool.Function.Parameters), string(out))
				}
			}
		})
	}
}

// openAIStrictSchema takes exactly the schemas OpenAI's strict mode
// takes, as openAIStrictViolation (the test's own reading, with
// encoding/json) judges them, and refuses what it cannot follow.
func TestOpenAIStrictSchema(t *testing.T) {
	deep := strings.Repeat(`{"type":"array","items":`, 70) + `{"type":"string"}` + strings.Repeat(`}`, 70)
	tests := []struct {
		schema string
		want   bool
	}{
		{`{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}`, true},
		{`{"type":"object","additionalProperties":false}`, true},
		{`{"type":"string"}`, true},
		{`{"type":["object","null"],"properties":{},"additionalProperties":false}`, true},
		{`{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}`, false}, // a not required
		{`{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`, false},             // open
		{`{"type":"object"}`, false},                                                    // open
		{`{"type":["object","null"]}`, false},                                           // open
		{`{"properties":{"a":{}},"required":["a"],"additionalProperties":true}`, false}, // open
		{`{"type":"object","properties":{"a":{"type":"object"}},"required":["a"],"additionalProperties":false}`, false}, // nested open
		{`{"type":"array","items":{"type":"object","properties":{"x":{}},"required":["x"],"additionalProperties":false}}`, true},
		{`{"type":"array","items":{"type":"object"}}`, false},
		{`{"anyOf":[{"type":"string"},{"type":"object","additionalProperties":false}]}`, true},
		{`{"anyOf":[{"type":"string"},{"type":"object"}]}`, false},
		{`{"$defs":{"p":{"type":"object","additionalProperties":false}},"type":"object","properties":{"p":{"$ref":"#/$defs/p"}},"required":["p"],"additionalProperties":false}`, true},
		{`{"$defs":{"p":{"type":"object"}},"type":"string"}`, false},
		{`{"definitions":{"p":{"type":"object"}},"type":"string"}`, false},
		{`{"oneOf":[{"type":"string"}]}`, false},
		{`{"allOf":[{"type":"string"}]}`, false},
		{`{"type":"object","additionalProperties":true,"additionalProperties":false}`, true}, // the last counts
		{`{"type":"object","addition\u0061lProperties":false}`, true},                        // as decoded
		{`{"type":"object","properties":{"a\u0062":{}},"required":["ab"],"additionalProperties":false}`, true},
		{deep, false}, // deeper than the check follows
		{`{"type":"object",`, false},
		{``, false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, openAIStrictSchema([]byte(tc.schema)), tc.schema)
		var v any
		if tc.schema != deep && json.Unmarshal([]byte(tc.schema), &v) == nil && !strings.Contains(tc.schema, "Of") {
			assert.Equal(t, tc.want, openAIStrictViolation("schema", v) == "", "the test's reading: %s", tc.schema)
		}
	}
}

// A schema another format sends that fits OpenAI's strict subset keeps
// its guarantee there: strict: true.
func TestStrictSchemaWithinTheSubsetStaysStrict(t *testing.T) {
	body := `{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":"x"}],"output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}}}}`
	out, _, err := TranslateRequest(provider.FormatAnthropicMessages, provider.FormatOpenAIChat, []byte(body), RequestMeta{Model: "m"}, "gpt-4o")
	require.NoError(t, err)
	assert.Contains(t, string(out), `"strict":true`)
}

// A subschema member written twice (items, anyOf, $defs) is not strict
// unless both are: unlike additionalProperties, where the last counts,
// the check does not drop the first.
func TestOpenAIStrictSchemaDuplicateSubschemasEachPass(t *testing.T) {
	for _, schema := range []string{
		`{"type":"array","items":{"type":"object"},"items":{"type":"string"}}`,
		`{"anyOf":[{"type":"object"}],"anyOf":[{"type":"string"}]}`,
		`{"$defs":{"p":{"type":"object"}},"$defs":{},"type":"string"}`,
	} {
		assert.False(t, openAIStrictSchema([]byte(schema)), schema)
	}
	assert.True(t, openAIStrictSchema([]byte(`{"type":"array","items":{"type":"string"},"items":{"type":"integer"}}`)))
}
