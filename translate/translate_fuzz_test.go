package translate

import (
	"errors"
	"net/url"
	"testing"

	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/provider"
)

var fuzzFormats = [...]provider.Format{provider.FormatOpenAIChat, provider.FormatAnthropicMessages, provider.FormatGemini}

// Any body, in any of the three formats, translated to each other: no
// panic, and the translation either reads as a request of the target
// format (as the stack reads requests) or is refused with an error (the
// stack answers it with a 400 in the caller's format).
func FuzzTranslateRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":50,"temperature":0.2,"stop":["\n"]}`,
		`{"model":"gpt-4o-mini","stream":true,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"messages":[{"role":"user","content":"Hi"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}]}`,
		`{"model":"claude-haiku-4-5","max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}],"thinking":{"type":"enabled","budget_tokens":2048}}`,
		`{"contents":[{"role":"user","parts":[{"text":"Hi"}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"r":1}}}]}],"systemInstruction":{"parts":[{"text":"Be brief."}]},"generationConfig":{"maxOutputTokens":64}}`,
		`{"model":"gpt-4o-mini","tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"g"}}]}},"messages":[{"role":"user","content":"Hi"}]}`,
		`{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"tools":[{"functionDeclarations":[{"name":"f"},{"name":"g"},{"name":"h"}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f","h"]}}}`,
		`{}`, `[]`, `{"messages":null}`, ``,
	} {
		for i := range fuzzFormats {
			for j := range fuzzFormats {
				f.Add(uint8(i), uint8(j), []byte(s))
			}
		}
	}
	f.Fuzz(func(t *testing.T, from, to uint8, body []byte) {
		src, dst := fuzzFormats[int(from)%len(fuzzFormats)], fuzzFormats[int(to)%len(fuzzFormats)]
		if src == dst {
			return
		}
		out, _, err := TranslateRequest(src, dst, body, RequestMeta{Model: "m", Stream: from&8 != 0}, "target-model")
		if err != nil {
			var ue *UnsupportedError
			_ = errors.As(err, &ue) // a refusal, or a body that is not src's request: both are 400s
			return
		}
		u := &url.URL{Path: "/v1/chat/completions"}
		switch dst {
		case provider.FormatAnthropicMessages:
			u.Path = "/v1/messages"
		case provider.FormatGemini:
			u.Path = "/v1beta/models/target-model:generateContent"
		}
		if _, perr := wire.ParseRequest(dst, u, out); perr != nil {
			t.Fatalf("%s -> %s: the translation does not read as a %s request: %v\nin:  %s\nout: %s", src, dst, dst, perr, body, out)
		}
	})
}
