package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/aigateway-go/aigateway/provider"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The stack must read every document as the provider (for a request) or
// the SDK (for a response) reads it: keys by their decoded value, exact
// case, the last of duplicate keys winning. A body that says one thing to
// the gateway and another to the upstream defeats metering, limits and the
// cache (issue 10: `"str\u0065am": true` was a stream only the upstream saw).

func TestParseRequestReadsKeysAsTheProviderDoes(t *testing.T) {
	chat := mustURL("https://api.openai.com/v1/chat/completions")
	cases := []struct {
		name string
		f    provider.Format
		body string
		want Request
	}{
		{"escaped stream key", provider.FormatOpenAIChat, `{"model":"gpt-4o","str\u0065am":true}`, Request{Model: "gpt-4o", Stream: true}},
		{"escaped model key", provider.FormatOpenAIChat, `{"mod\u0065l":"gpt-4o"}`, Request{Model: "gpt-4o"}},
		{"escaped stream_options key", provider.FormatOpenAIChat, `{"stream":true,"stream_opti\u006fns":{"include_usage":true}}`, Request{Stream: true, IncludeUsage: true}},
		{"escaped include_usage key", provider.FormatOpenAIChat, `{"stream_options":{"include_\u0075sage":true}}`, Request{IncludeUsage: true}},
		{"escaped max_tokens key", provider.FormatOpenAIChat, `{"max_t\u006fkens":12}`, Request{MaxTokens: 12}},
		{"escaped max_completion_tokens key", provider.FormatOpenAIChat, `{"max_tokens":1,"max_completion_t\u006fkens":12}`, Request{MaxTokens: 12}},
		{"escaped generationConfig keys", provider.FormatGemini, `{"generati\u006fnConfig":{"max\u004futputTokens":5}}`, Request{MaxTokens: 5}},
		{"duplicate stream: last true", provider.FormatOpenAIChat, `{"stream":false,"stream":true}`, Request{Stream: true}},
		{"duplicate stream: last false", provider.FormatOpenAIChat, `{"stream":true,"str\u0065am":false}`, Request{}},
		{"duplicate stream: last not a bool", provider.FormatOpenAIChat, `{"stream":true,"stream":null}`, Request{}},
		{"duplicate model: last wins", provider.FormatOpenAIChat, `{"model":"a","mod\u0065l":"b"}`, Request{Model: "b"}},
		{"duplicate model: last not a string", provider.FormatOpenAIChat, `{"model":"a","model":null}`, Request{}},
		{"duplicate stream_options: last read", provider.FormatOpenAIChat, `{"stream_options":{"include_usage":true},"stream_options":{}}`, Request{}},
		{"duplicate include_usage: last read", provider.FormatOpenAIChat, `{"stream_options":{"include_usage":true,"include_usage":false}}`, Request{}},
		{"duplicate max_tokens: last wins", provider.FormatOpenAIChat, `{"max_tokens":5,"max_tokens":9}`, Request{MaxTokens: 9}},
		{"duplicate max_tokens: last not an int", provider.FormatOpenAIChat, `{"max_tokens":5,"max_tokens":"9"}`, Request{}},
		{"duplicate generationConfig: the last has no limit", provider.FormatGemini, `{"generationConfig":{"maxOutputTokens":5},"generationConfig":{"temperature":1}}`, Request{}},
		{"duplicate maxOutputTokens: last wins", provider.FormatGemini, `{"generationConfig":{"maxOutputTokens":5,"maxOutputTokens":7}}`, Request{MaxTokens: 7}},
		{"max tokens fields in either order: max_tokens first", provider.FormatOpenAIChat, `{"max_output_tokens":7,"max_tokens":5}`, Request{MaxTokens: 5}},
		{"max tokens fields in either order: max_tokens last", provider.FormatOpenAIChat, `{"max_tokens":5,"max_output_tokens":7}`, Request{MaxTokens: 5}},
		{"generationConfig and a top-level limit", provider.FormatOpenAIChat, `{"max_output_tokens":7,"generationConfig":{"maxOutputTokens":3}}`, Request{MaxTokens: 7}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.True(t, json.Valid([]byte(tc.body)))
			u := chat
			if tc.f == provider.FormatGemini {
				u = nil
			}
			got, err := ParseRequest(tc.f, u, []byte(tc.body))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.want, referenceRequest(t, []byte(tc.body)), "what encoding/json reads")
		})
	}
}

func TestWithStreamUsageEditsTheMemberTheProviderReads(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"escaped stream_options key", `{"stream_opti\u006fns":{"include_usage":false},"model":"m"}`, `{"stream_opti\u006fns":{"include_usage":true},"model":"m"}`},
		{"escaped stream_options key, null", `{"stream_opti\u006fns":null}`, `{"stream_opti\u006fns":{"include_usage":true}}`},
		{"escaped include_usage key", `{"stream_options":{"include_\u0075sage":false}}`, `{"stream_options":{"include_\u0075sage":true}}`},
		{"escaped duplicate of stream_options after a plain one", `{"stream_options":{},"stream_opti\u006fns":{"x":1}}`, `{"stream_options":{},"stream_opti\u006fns":{"include_usage":true,"x":1}}`},
		{"duplicate include_usage: the last is set", `{"stream_options":{"include_usage":true,"include_usage":false}}`, `{"stream_options":{"include_usage":true,"include_usage":true}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := WithStreamUsage([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
			assert.True(t, referenceRequest(t, got).IncludeUsage, "what encoding/json reads")
		})
	}
}

// referenceRequest reads body as ParseRequest documents it, with
// encoding/json: map keys are exact, escapes decoded, the last duplicate
// kept. Only FormatOpenAIChat without a URL (no path for Gemini).
func referenceRequest(t testing.TB, body []byte) Request {
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &m))
	var r Request
	if v, ok := m["model"]; ok {
		_ = json.Unmarshal(v, &r.Model) // not a string: ""
	}
	if v, ok := m["stream"]; ok {
		_ = json.Unmarshal(v, &r.Stream)
	}
	if v, ok := m["stream_options"]; ok {
		var opts map[string]json.RawMessage
		if json.Unmarshal(v, &opts) == nil {
			_ = json.Unmarshal(opts["include_usage"], &r.IncludeUsage)
		}
	}
	// The limit: the first of these that holds a non-zero integer.
	limit := func(v json.RawMessage) int64 {
		var n json.Number
		if len(v) == 0 || v[0] == '"' || json.Unmarshal(v, &n) != nil {
			return 0 // json.Number takes "9" too; the gateway does not
		}
		s := n.String()
		if i := strings.IndexByte(s, '.'); i >= 0 && strings.Trim(s[i+1:], "0") == "" {
			s = s[:i] // 12.0 is an integer to the gateway
		}
		i, _ := strconv.ParseInt(s, 10, 64)
		return i
	}
	gen := func(key string) json.RawMessage {
		var cfg map[string]json.RawMessage
		if json.Unmarshal(m[key], &cfg) != nil {
			return nil
		}
		if v, ok := cfg["maxOutputTokens"]; ok {
			return v
		}
		return cfg["max_output_tokens"]
	}
	for _, v := range []json.RawMessage{m["max_completion_tokens"], m["max_tokens"], m["max_output_tokens"], gen("generationConfig"), gen("generation_config")} {
		if n := limit(v); n != 0 {
			r.MaxTokens = n
			break
		}
	}
	return r
}

// escapeKeys respells the keys of the JSON in body (any string followed by
// a colon) with \u escapes, as an encoder may: mode 0 escapes each key's
// first byte, mode 1 its last, mode 2 every byte. Only printable ASCII is
// escaped. It works line by line, so that it also respells the data lines
// of an SSE stream.
func escapeKeys(body []byte, mode int) []byte {
	var out bytes.Buffer
	for line := range bytes.Lines(body) {
		i := 0
		for i < len(line) {
			if line[i] != '"' {
				out.WriteByte(line[i])
				i++
				continue
			}
			end := i + 1
			for end < len(line) && line[end] != '"' {
				if line[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(line) { // unterminated: leave the rest alone
				out.Write(line[i:])
				break
			}
			j := end + 1
			for j < len(line) && (line[j] == ' ' || line[j] == '\t' || line[j] == '\r') {
				j++
			}
			s := line[i+1 : end]
			if j == len(line) || line[j] != ':' || len(s) == 0 {
				out.Write(line[i : end+1])
				i = end + 1
				continue
			}
			out.WriteByte('"')
			for k := 0; k < len(s); {
				c := s[k]
				if c == '\\' { // an escape already: copied whole
					n := 2
					if k+1 < len(s) && s[k+1] == 'u' {
						n = 6
					}
					n = min(n, len(s)-k)
					out.Write(s[k : k+n])
					k += n
					continue
				}
				if c >= 0x20 && c < 0x7f && c != '"' && (mode == 2 || mode == 0 && k == 0 || mode == 1 && k == len(s)-1) {
					out.WriteString(`\u00`)
					out.WriteByte("0123456789abcdef"[c>>4])
					out.WriteByte("0123456789abcdef"[c&0xF])
				} else {
					out.WriteByte(c)
				}
				k++
			}
			out.WriteByte('"')
			i = end + 1
		}
	}
	return out.Bytes()
}

func TestEscapeKeys(t *testing.T) {
	in := []byte("data: {\"usage\":{\"a\":1},\"s\":\"v:\",\"x\" : \"y\"}\n\nevent: e\n")
	assert.Equal(t, "data: {\"\\u0075sage\":{\"\\u0061\":1},\"\\u0073\":\"v:\",\"\\u0078\" : \"y\"}\n\nevent: e\n", string(escapeKeys(in, 0)))
	assert.Equal(t, "data: {\"usag\\u0065\":{\"\\u0061\":1},\"\\u0073\":\"v:\",\"\\u0078\" : \"y\"}\n\nevent: e\n", string(escapeKeys(in, 1)))
	assert.Equal(t, `{"\u00e9\u0078":1,"\n\u0079":2}`, string(escapeKeys([]byte(`{"\u00e9x":1,"\ny":2}`), 2)), "escapes kept whole")
	var a, b any
	require.NoError(t, json.Unmarshal([]byte(openAIReasoningJSON), &a))
	require.NoError(t, json.Unmarshal(escapeKeys([]byte(openAIReasoningJSON), 2), &b))
	assert.Equal(t, a, b)
}

// TestResponseScannerEscapedKeys: every scan case, its keys respelled with
// escapes, scans to the same result, whole and split in two anywhere.
func TestResponseScannerEscapedKeys(t *testing.T) {
	for _, tc := range scanCases {
		for mode, spelling := range []string{"first byte", "last byte", "every byte"} {
			t.Run(tc.name+"/"+spelling, func(t *testing.T) {
				body := escapeKeys([]byte(tc.body), mode)
				if tc.body != "" && tc.status < 500 {
					require.NotEqual(t, tc.body, string(body), "the case has keys to respell")
				}
				want := tc.want
				if want.Err != nil && strings.HasPrefix(want.Err.Message, "{") {
					// a message that is not a string is kept as raw JSON
					e := *want.Err
					e.Message = string(escapeKeys([]byte(e.Message), mode))
					want.Err = &e
				}
				var s ResponseScanner
				assert.Equal(t, want, scan(&s, tc.f, tc.stream, tc.status, body), "whole body")
				for i := 0; i <= len(body); i += 7 {
					require.Equal(t, want, scan(&s, tc.f, tc.stream, tc.status, body[:i], body[i:]), "split at %d", i)
				}
			})
		}
	}
}

func TestClassifyEventEscapedKeys(t *testing.T) {
	cases := []struct {
		f          provider.Format
		name, data string
		want       EventKind
	}{
		{provider.FormatOpenAIChat, "", `{"id":"1","choices":[],"\u0075sage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`, EventUsageOnly},
		{provider.FormatOpenAIChat, "", `{"id":"1","choices":[],"usag\u0065":{"prompt_tokens":1}}`, EventUsageOnly},
		{provider.FormatOpenAIChat, "", `{"id":"1","choices":[],"usage":null,"\u0075sage":{"prompt_tokens":1}}`, EventUsageOnly},
		{provider.FormatOpenAIChat, "", `{"id":"1","ch\u006fices":[],"usage":{"prompt_tokens":1}}`, EventUsageOnly},
		{provider.FormatOpenAIChat, "", `{"\u0065rror":{"message":"boom","type":"server_error"}}`, EventError},
		{provider.FormatOpenAIChat, "", `{"erro\u0072":{"message":"boom"}}`, EventError},
		{provider.FormatOpenAIResponses, "", `{"typ\u0065":"response.completed","response":{}}`, EventTerminator},
		{provider.FormatAnthropicMessages, "", `{"\u0074ype":"message_stop"}`, EventTerminator},
		{provider.FormatAnthropicMessages, "", `{"\u0074ype":"ping"}`, EventOther},
		{provider.FormatGemini, "", `{"\u0065rror":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}`, EventError},
	}
	for _, tc := range cases {
		var name []byte
		if tc.name != "" {
			name = []byte(tc.name)
		}
		assert.Equal(t, tc.want, ClassifyEvent(tc.f, name, []byte(tc.data)), "%s %s", tc.f, tc.data)
	}
}

// TestReadersTakeTheLastDuplicate: within one JSON object, the last of
// duplicate keys is what the SDK decodes, so it is what the stack reads.
func TestReadersTakeTheLastDuplicate(t *testing.T) {
	t.Run("chat chunk usage then null", func(t *testing.T) {
		body := sseBody(`data: {"id":"1","model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2},"usage":null}`, `data: [DONE]`)
		var s ResponseScanner
		got := scan(&s, provider.FormatOpenAIChat, true, 200, []byte(body))
		assert.False(t, got.UsageOK)
		assert.Equal(t, EventChunk, ClassifyEvent(provider.FormatOpenAIChat, nil, []byte(`{"choices":[],"usage":{"prompt_tokens":1},"usage":null}`)))
	})
	t.Run("chat chunk error then null", func(t *testing.T) {
		data := `{"id":"1","choices":[],"error":{"message":"x"},"error":null}`
		var s ResponseScanner
		got := scan(&s, provider.FormatOpenAIChat, true, 200, []byte(sseBody(`data: `+data)))
		assert.Nil(t, got.Err)
		assert.Equal(t, EventChunk, ClassifyEvent(provider.FormatOpenAIChat, nil, []byte(data)))
		assert.Equal(t, EventChunk, ClassifyEvent(provider.FormatGemini, nil, []byte(`{"error":{"code":1},"error":null}`)))
	})
	t.Run("chat chunk ids and models", func(t *testing.T) {
		body := sseBody(`data: {"id":"a","id":"b","model":"x","model":"y","choices":[{"index":0,"finish_reason":"stop","finish_reason":"length"}]}`, `data: [DONE]`)
		var s ResponseScanner
		got := scan(&s, provider.FormatOpenAIChat, true, 200, []byte(body))
		assert.Equal(t, "b", got.ID)
		assert.Equal(t, "y", got.Model)
		assert.Equal(t, []string{"length"}, got.Reasons)
	})
	t.Run("choice index", func(t *testing.T) {
		body := sseBody(`data: {"choices":[{"index":3,"index":1,"finish_reason":"stop"},{"index":0,"finish_reason":"length"}]}`)
		var s ResponseScanner
		got := scan(&s, provider.FormatOpenAIChat, true, 200, []byte(body))
		assert.Equal(t, []string{"length", "stop"}, got.Reasons)
	})
	t.Run("gemini ids", func(t *testing.T) {
		body := sseBody(`data: {"responseId":"a","responseId":"b","modelVersion":"m","usageMetadata":{"promptTokenCount":1},"usageMetadata":{"promptTokenCount":2}}`)
		var s ResponseScanner
		got := scan(&s, provider.FormatGemini, true, 200, []byte(body))
		assert.Equal(t, "b", got.ID)
		assert.Equal(t, int64(2), got.Usage.InputTokens)
	})
	t.Run("responses terminal event", func(t *testing.T) {
		body := sseBody(`event: response.completed` + "\n" + `data: {"type":"response.completed","response":{"id":"a","id":"b","model":"m","status":"completed","usage":{"input_tokens":1,"output_tokens":1},"usage":null}}`)
		var s ResponseScanner
		got := scan(&s, provider.FormatOpenAIResponses, true, 200, []byte(body))
		assert.Equal(t, "b", got.ID)
		assert.False(t, got.UsageOK)
	})
	t.Run("anthropic message_start", func(t *testing.T) {
		body := sseBody(`event: message_start` + "\n" + `data: {"type":"message_start","message":{"id":"a","id":"b","model":"x","model":"y","usage":{"input_tokens":5,"output_tokens":1},"usage":{"input_tokens":7,"output_tokens":1}}}`)
		var s ResponseScanner
		got := scan(&s, provider.FormatAnthropicMessages, true, 200, []byte(body))
		assert.Equal(t, "b", got.ID)
		assert.Equal(t, "y", got.Model)
		assert.Equal(t, int64(7), got.Usage.InputTokens)
	})
	t.Run("error body", func(t *testing.T) {
		var s ResponseScanner
		got := scan(&s, provider.FormatOpenAIChat, false, 400, []byte(`{"error":{"message":"a","message":"b","type":"t1","type":"t2","code":"c1","code":null}}`))
		assert.Equal(t, &provider.Error{Status: 400, Type: "t2", Message: "b"}, got.Err)
	})
}

// TestErrorInfoTypeDecoded: the @type of a Gemini ErrorInfo detail is read
// by its decoded value, like every other string.
func TestErrorInfoTypeDecoded(t *testing.T) {
	body := `{"error":{"code":400,"message":"m","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.Error\u0049nfo","reason":"API_KEY_INVALID"}]}}`
	var s ResponseScanner
	got := scan(&s, provider.FormatGemini, false, 400, []byte(body))
	require.NotNil(t, got.Err)
	assert.Equal(t, "API_KEY_INVALID", got.Err.Code)
}

// TestMayHaveEscapedKeySparesRealTraffic: the escapes encoders write on
// their own (HTML-safe \u003c \u003e \u0026, control characters, non-ASCII
// text from ensure_ascii) keep events on the fast path; an escaped ASCII
// letter or underscore does not.
func TestMayHaveEscapedKeySparesRealTraffic(t *testing.T) {
	for _, data := range []string{
		`{"content":"a \u003cb\u003e \u0026 c"}`, `{"content":"caf\u00e9 \u00C9 \u4e2d \ud83d\ude00"}`,
		`{"content":"line\nnext \"quoted\" \\ \/ \u0000\u001f"}`, `{"content":"\\u0065 \\\\u0065"}`, `{}`, `[DONE]`,
	} {
		assert.False(t, mayHaveEscapedKey([]byte(data)), data)
	}
	for _, data := range []string{`{"\u0075sage":1}`, `{"usag\u0065":1}`, `{"finish\u005freason":"stop"}`, `{"\u0041":1}`, `{"x":"\u007f"}`, `{"\\\u0075sage":1}`} {
		assert.True(t, mayHaveEscapedKey([]byte(data)), data)
	}
	for _, tc := range scanCases {
		if tc.stream {
			assert.False(t, mayHaveEscapedKey([]byte(tc.body)), tc.name)
		}
	}
	assert.False(t, mayHaveEscapedKey([]byte(benchStream(10))))
}
