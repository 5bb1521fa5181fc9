package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aigateway-go/aigateway/provider"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestParseRequest(t *testing.T) {
	chat := mustURL("https://api.openai.com/v1/chat/completions")
	cases := []struct {
		name string
		f    provider.Format
		u    *url.URL
		body string
		want Request
	}{
		{"chat", provider.FormatOpenAIChat, chat,
			`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi \"there\""}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":256}`,
			Request{Model: "gpt-4o-mini", Stream: true, MaxTokens: 256, IncludeUsage: true}},
		{"max_completion_tokens wins", provider.FormatOpenAIChat, chat,
			`{"max_completion_tokens":1000,"model":"o3-mini","max_tokens":10}`,
			Request{Model: "o3-mini", MaxTokens: 1000}},
		{"include_usage false, stream false", provider.FormatOpenAIChat, chat,
			`{"model":"m","stream":false,"stream_options":{"include_usage":false}}`,
			Request{Model: "m"}},
		{"null stream_options and model", provider.FormatOpenAIChat, chat,
			`{"model":null,"stream_options":null,"stream":null,"max_tokens":null}`,
			Request{}},
		{"whitespace everywhere", provider.FormatOpenAIChat, chat,
			" {\n \"model\" : \"gpt-4o\" ,\n \"stream\" : true \n} \n",
			Request{Model: "gpt-4o", Stream: true}},
		{"escaped model", provider.FormatOpenAIChat, chat,
			`{"model":"gpt\u002d4o"}`,
			Request{Model: "gpt-4o"}},
		{"responses", provider.FormatOpenAIResponses, mustURL("https://api.openai.com/v1/responses"),
			`{"model":"gpt-4.1","input":"Tell me a story","max_output_tokens":500,"stream":true}`,
			Request{Model: "gpt-4.1", Stream: true, MaxTokens: 500}},
		{"embeddings", provider.FormatOpenAIEmbeddings, mustURL("https://api.openai.com/v1/embeddings"),
			`{"input":["a","b"],"model":"text-embedding-3-small","encoding_format":"float"}`,
			Request{Model: "text-embedding-3-small"}},
		{"anthropic", provider.FormatAnthropicMessages, mustURL("https://api.anthropic.com/v1/messages"),
			`{"model":"claude-sonnet-4-5","max_tokens":1024,"system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"Hello"}],"stream":true}`,
			Request{Model: "claude-sonnet-4-5", Stream: true, MaxTokens: 1024}},
		{"gemini stream from path", provider.FormatGemini, mustURL("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"),
			`{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"temperature":0.2,"maxOutputTokens":800}}`,
			Request{Model: "gemini-2.5-flash", Stream: true, MaxTokens: 800}},
		{"gemini generateContent, snake case config", provider.FormatGemini, mustURL("http://127.0.0.1:9999/v1beta/models/gemini-2.0-flash:generateContent"),
			`{"contents":[{"parts":[{"text":"Hi"}]}],"generation_config":{"max_output_tokens":64}}`,
			Request{Model: "gemini-2.0-flash", MaxTokens: 64}},
		{"gemini without URL", provider.FormatGemini, nil, `{"contents":[]}`, Request{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRequest(tc.f, tc.u, []byte(tc.body))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseRequestRejectsMalformed(t *testing.T) {
	full := `{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}],"stream":true}`
	for i := 0; i < len(full); i++ {
		_, err := ParseRequest(provider.FormatOpenAIChat, nil, []byte(full[:i]))
		require.Error(t, err, "truncated at %d", i)
		assert.True(t, errors.Is(err, ErrNotJSONObject))
	}
	for _, body := range []string{``, `[]`, `"x"`, `null`, `{"model":"a"}{}`, `{"model":"a",}`, `{"messages":[1,]}`, `{"a":01}`, "\xEF\xBB\xBF{}"} {
		_, err := ParseRequest(provider.FormatOpenAIChat, nil, []byte(body))
		assert.Error(t, err, body)
	}
}

// request1KB is a realistic 1 KB chat request.
var request1KB = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant that answers questions about the weather. Keep answers short, cite the source, and never invent data you do not have."},{"role":"user","content":"What is the weather like in Paris today? I am planning to walk along the Seine in the afternoon and want to know whether I need an umbrella, a coat, or sunscreen."},{"role":"assistant","content":"Let me check the forecast for Paris.","tool_calls":[{"id":"call_abc123","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris, France\",\"unit\":\"celsius\"}"}}]},{"role":"tool","tool_call_id":"call_abc123","content":"{\"temperature\":18,\"condition\":\"light rain\",\"precipitation_probability\":0.7,\"wind_kph\":14}"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Get the current weather for a location","parameters":{"type":"object","properties":{"location":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}}}],"temperature":0.2,"max_completion_tokens":300,"stream":true,"stream_options":{"include_usage":true},"user":"u-42"}`)

func TestParseRequestAllocs(t *testing.T) {
	require.True(t, json.Valid(request1KB))
	allocs := testing.AllocsPerRun(100, func() {
		r, err := ParseRequest(provider.FormatOpenAIChat, nil, request1KB)
		if err != nil || r.Model == "" {
			t.Fatal(r, err)
		}
	})
	assert.Zero(t, allocs, "a model read lately is not copied again")
}

// Model names are kept in a small table, so that a service's few cost no
// allocation per request; the table never changes what is read.
func TestParseRequestModelNames(t *testing.T) {
	for i := range 2000 { // more names than slots: they take each other's
		name := fmt.Sprintf("model-%d", i%700)
		if i%3 == 0 {
			name = strings.Repeat("m", maxInternedModel+1+i%5) // too long to keep
		}
		r, err := ParseRequest(provider.FormatOpenAIChat, nil, []byte(`{"model":"`+name+`"}`))
		require.NoError(t, err)
		require.Equal(t, name, r.Model)
	}
	body := []byte(`{"model":"gpt-4o-mini-2024-07-18"}`)
	first, err := ParseRequest(provider.FormatOpenAIChat, nil, body)
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(50, func() {
		again, _ := ParseRequest(provider.FormatOpenAIChat, nil, body)
		if again.Model != first.Model {
			t.Fatal(again.Model)
		}
	}))
	body[len(body)-3] = 'X' // the caller's bytes change after: the name read does not
	assert.Equal(t, "gpt-4o-mini-2024-07-18", first.Model)
}

func BenchmarkParseRequest(b *testing.B) {
	b.Run("1KB", func(b *testing.B) {
		b.SetBytes(int64(len(request1KB)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseRequest(provider.FormatOpenAIChat, nil, request1KB); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("1KB-encoding-json-valid", func(b *testing.B) {
		b.SetBytes(int64(len(request1KB)))
		b.ReportAllocs()
		for b.Loop() {
			if !json.Valid(request1KB) {
				b.Fatal("invalid")
			}
		}
	})
}

func TestWithStreamUsage(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"model":"m","stream":true}`, `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`},
		{`{}`, `{"stream_options":{"include_usage":true}}`},
		{"{ \n }", "{\"stream_options\":{\"include_usage\":true} \n }"},
		{"{\"model\":\"m\"\n}\n", "{\"model\":\"m\",\"stream_options\":{\"include_usage\":true}\n}\n"},
		{`{"stream_options":null,"model":"m"}`, `{"stream_options":{"include_usage":true},"model":"m"}`},
		{`{"stream_options":{"include_usage":false},"model":"m"}`, `{"stream_options":{"include_usage":true},"model":"m"}`},
		{`{"stream_options":{"include_obfuscation":false},"model":"m"}`, `{"stream_options":{"include_usage":true,"include_obfuscation":false},"model":"m"}`},
		{`{"stream_options":{"include_obfuscation":false,"include_usage":null}}`, `{"stream_options":{"include_obfuscation":false,"include_usage":true}}`},
		{`{"stream_options":{}}`, `{"stream_options":{"include_usage":true}}`},
		{`{"stream_options":{"include_usage":true}}`, `{"stream_options":{"include_usage":true}}`},
		{`{"stream_options":"bogus"}`, `{"stream_options":{"include_usage":true}}`},
		{`{"stream_options":{"include_usage":false},"stream_options":{"x":1}}`, `{"stream_options":{"include_usage":false},"stream_options":{"include_usage":true,"x":1}}`},
		{`{"messages":[{"content":"stream_options \"include_usage\":false"}]}`, `{"messages":[{"content":"stream_options \"include_usage\":false"}],"stream_options":{"include_usage":true}}`},
	}
	for _, tc := range cases {
		in := []byte(tc.in)
		orig := strings.Clone(tc.in)
		got, err := WithStreamUsage(in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, string(got), tc.in)
		assert.Equal(t, orig, string(in), "input not modified")
		assert.True(t, json.Valid(got), string(got))
		r, err := ParseRequest(provider.FormatOpenAIChat, nil, got)
		require.NoError(t, err)
		assert.True(t, r.IncludeUsage, tc.in)
	}
	for _, bad := range []string{``, `[]`, `{"a":`, `{"stream_options":{"include_usage":}}`} {
		_, err := WithStreamUsage([]byte(bad))
		assert.ErrorIs(t, err, ErrNotJSONObject, bad)
	}
}

func TestWithStreamUsageKeepsMembers(t *testing.T) {
	got, err := WithStreamUsage(request1KB)
	require.NoError(t, err)
	var before, after map[string]any
	require.NoError(t, json.Unmarshal(request1KB, &before))
	require.NoError(t, json.Unmarshal(got, &after))
	before["stream_options"] = map[string]any{"include_usage": true}
	assert.Equal(t, before, after)
}

// FuzzParseRequest holds ParseRequest and WithStreamUsage to what the
// provider reads: for every body encoding/json accepts as an object, the
// facts equal those read with encoding/json (referenceRequest: exact keys,
// escapes decoded, the last duplicate kept), and WithStreamUsage makes
// include_usage true for it while changing nothing else it reads.
//
// encoding/json writes U+FFFD for invalid UTF-8 in strings, where the
// gateway keeps the bytes; bodies that are not valid UTF-8 are left out of
// the comparison (lone surrogate escapes decode to U+FFFD in both).
func FuzzParseRequest(f *testing.F) {
	f.Add(request1KB)
	for _, s := range []string{
		`{"stream_options":{"include_usage":false},"model":"m"}`,
		`{"generationConfig":{"maxOutputTokens":3}}`,
		`{"model":"gpt-4o","str\u0065am":true}`,
		`{"mod\u0065l":"a","model":"b","\u006d\u006f\u0064\u0065\u006c":"c"}`,
		`{"stream":false,"stream":true,"stream":null}`,
		`{"stream_opti\u006fns":{"include_\u0075sage":true},"stream_options":{"include_usage":false}}`,
		`{"stream_options":{"include_usage":true,"include_usage":false}}`,
		`{"max_tokens":5,"max_t\u006fkens":"9","max_completion_tokens":0,"max_output_tokens":7.0}`,
		`{"generati\u006fnConfig":{"max\u004futputTokens":5},"generation_config":{"max_output_tokens":6}}`,
		`{"generationConfig":{"maxOutputTokens":5},"generationConfig":{}}`,
		`{"Stream":true,"MODEL":"m","\ud83d\ude00":1,"\ud800":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseRequest(provider.FormatOpenAIChat, nil, body)
		valid := json.Valid(body) && len(body) > 0
		if err == nil {
			require.True(t, strings.HasPrefix(strings.TrimLeft(string(body), " \t\r\n"), "{"))
		}
		var m map[string]json.RawMessage
		object := valid && json.Unmarshal(body, &m) == nil && m != nil // null decodes to a nil map
		if object && ambiguous(m) {
			require.ErrorIs(t, err, ErrAmbiguousRequest, "%q", body)
			return
		}
		if object {
			require.NoError(t, err, "encoding/json reads %q", body)
			if utf8.Valid(body) {
				require.Equal(t, referenceRequest(t, body), r, "%s", body)
			}
		}
		if err != nil {
			return
		}
		out, err := WithStreamUsage(body)
		require.NoError(t, err)
		r2, err := ParseRequest(provider.FormatOpenAIChat, nil, out)
		require.NoError(t, err, "%s", out)
		require.True(t, r2.IncludeUsage, "%s", out)
		r.IncludeUsage = true
		require.Equal(t, r, r2, "%s", out)
		if valid {
			require.True(t, json.Valid(out), "%s", out)
		}
		if object && utf8.Valid(body) {
			require.Equal(t, r, referenceRequest(t, out), "%s", out)
		}
	})
}

// ambiguous reports whether a decoded object has a key that spells one of
// the members ParseRequest reads in another ASCII case.
func ambiguous(m map[string]json.RawMessage) bool {
	for key := range m {
		for _, k := range requestKeys {
			if key != k && strings.EqualFold(key, k) {
				return true
			}
		}
	}
	return false
}

func TestWithStreamUsageAllocs(t *testing.T) {
	for _, body := range [][]byte{request1KB, []byte(`{"model":"m","stream":true}`), []byte(`{"stream_options":{"include_usage":false}}`)} {
		assert.Equal(t, 1.0, testing.AllocsPerRun(50, func() {
			if _, err := WithStreamUsage(body); err != nil {
				t.Fatal(err)
			}
		}), string(body))
	}
}

// A key that spells a member the stack reads in another case is read one
// way by OpenAI (exactly) and another by a server decoding with Go's
// encoding/json (folding case): the body is left unparsed rather than read
// one way while the upstream reads it the other.
func TestParseRequestCaseVariantsAreAmbiguous(t *testing.T) {
	for _, body := range []string{
		`{"model":"gpt-4o","Stream":true}`,
		`{"MODEL":"x","model":"gpt-4o"}`,
		`{"model":"gpt-4o","stream":true,"Stream_Options":{"include_usage":true}}`,
		`{"model":"gpt-4o","Max_Tokens":100000}`,
		`{"contents":[],"GenerationConfig":{"maxOutputTokens":5}}`,
		// Letters encoding/json folds to ASCII ones: the long s and the
		// Kelvin sign.
		`{"model":"gpt-4o","ſtream":true}`,
		`{"model":"gpt-4o","max_toKens":7}`,
		`{"model":"gpt-4o","max_to\u212aens":7}`,
	} {
		_, err := ParseRequest(provider.FormatOpenAIChat, nil, []byte(body))
		assert.ErrorIs(t, err, ErrAmbiguousRequest, body)
	}
	for _, body := range []string{
		`{"model":"gpt-4o","Messages":[],"TEMPERATURE":1}`, // keys the stack does not read
		`{"model":"gpt-4o","stream":true}`,
	} {
		_, err := ParseRequest(provider.FormatOpenAIChat, nil, []byte(body))
		assert.NoError(t, err, body)
	}
}

// readsOtherCase tells most keys apart by their length and first letter
// before it compares them: every member ParseRequest reads, in each of
// its other cases, still makes the body ambiguous, and keys of the same
// lengths or first letters that spell none of them still do not.
func TestReadsOtherCaseKnowsEveryRequestKey(t *testing.T) {
	for _, k := range requestKeys {
		for _, other := range []string{strings.ToUpper(k), strings.ToUpper(k[:1]) + k[1:], k[:len(k)-1] + strings.ToUpper(k[len(k)-1:])} {
			assert.True(t, readsOtherCase([]byte(other)), other)
		}
		assert.False(t, readsOtherCase([]byte(k)), k)
		assert.False(t, readsOtherCase([]byte("x"+k[1:])), "x"+k[1:])
		assert.False(t, readsOtherCase([]byte(k+"s")), k+"s")
	}
	for _, k := range []string{"", "m", "S", "messages", "MESSAGES", "tools", "temperature", "user", strings.Repeat("M", 40)} {
		assert.False(t, readsOtherCase([]byte(k)), k)
	}
}

// The members that do not change the answer are left out of a cache key;
// every other member, and every member of a format the stack does not
// know, is kept.
func TestAnswerNeutral(t *testing.T) {
	cases := []struct {
		f       provider.Format
		neutral []string
		kept    []string
	}{
		{provider.FormatOpenAIChat,
			[]string{"stream", "stream_options", "store", "metadata", "service_tier", "user", "safety_identifier", "prompt_cache_key"},
			[]string{"model", "messages", "temperature", "seed", "tools", "Stream", "n"}},
		{provider.FormatOpenAIResponses,
			[]string{"stream", "stream_options", "store", "metadata", "service_tier", "user", "safety_identifier", "prompt_cache_key"},
			[]string{"model", "input", "instructions", "background"}},
		{provider.FormatOpenAIEmbeddings, []string{"user"}, []string{"model", "input", "dimensions", "stream"}},
		{provider.FormatAnthropicMessages, []string{"stream", "metadata", "service_tier"}, []string{"model", "messages", "system", "max_tokens", "user"}},
		{provider.FormatGemini, nil, []string{"contents", "generationConfig", "stream"}},
	}
	for _, tc := range cases {
		t.Run(tc.f.String(), func(t *testing.T) {
			skip := AnswerNeutral(tc.f)
			require.NotNil(t, skip)
			for _, k := range tc.neutral {
				assert.True(t, skip([]byte(k)), k)
			}
			for _, k := range tc.kept {
				assert.False(t, skip([]byte(k)), k)
			}
			long := []byte("a_member_name_longer_than_thirty_two_bytes")
			assert.Zero(t, testing.AllocsPerRun(100, func() { skip(long) }), "no allocation per member")
		})
	}
	assert.Nil(t, AnswerNeutral(provider.FormatUnknown), "every member of an unknown format is kept")
	assert.Nil(t, AnswerNeutral(provider.Format(99)))
}

func TestBackground(t *testing.T) {
	cases := []struct {
		name string
		f    provider.Format
		body string
		want bool
	}{
		{"responses in the background", provider.FormatOpenAIResponses, `{"model":"o3","background":true}`, true},
		{"responses in the foreground", provider.FormatOpenAIResponses, `{"model":"o3","background":false}`, false},
		{"responses without the member", provider.FormatOpenAIResponses, `{"model":"o3"}`, false},
		{"not a boolean", provider.FormatOpenAIResponses, `{"background":"true"}`, false},
		{"other formats have no background", provider.FormatOpenAIChat, `{"background":true}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Background(tc.f, []byte(tc.body)))
		})
	}
}
