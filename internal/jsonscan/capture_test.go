package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var captureKeys = []string{"usage", "model", "error", "id", "n", "s"}

func captureAll(c *Capturer, data []byte, pieces ...int) {
	c.Reset(0, captureKeys)
	for _, n := range pieces {
		c.Write(data[:n])
		data = data[n:]
	}
	c.Write(data)
}

func captured(c *Capturer) map[string]string {
	m := map[string]string{}
	for _, k := range captureKeys {
		if v, ok := c.Value(k); ok {
			m[k] = string(v)
		}
	}
	return m
}

func TestCapturer(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want map[string]string
		done bool
	}{
		{
			name: "openai chat completion",
			doc: `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06",` +
				`"choices":[{"index":0,"message":{"role":"assistant","content":"a \"usage\": {} \\"},"finish_reason":"stop"}],` +
				`"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0}},"system_fingerprint":"fp"}`,
			want: map[string]string{
				"id":    `"chatcmpl-1"`,
				"model": `"gpt-4o-2024-08-06"`,
				"usage": `{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0}}`,
			},
			done: true,
		},
		{
			name: "whitespace and scalars",
			doc:  "{\n  \"n\" : 42 ,\n  \"s\":\t\"x\\\\\" ,\"error\" : null\n}\n",
			want: map[string]string{"n": "42", "s": `"x\\"`, "error": "null"},
			done: true,
		},
		{
			name: "scalar last member",
			doc:  `{"a":[1,2],"n":-1.5e3}`,
			want: map[string]string{"n": "-1.5e3"},
			done: true,
		},
		{
			name: "nested keys of the same name are not top-level",
			doc:  `{"data":{"usage":1,"model":"inner"},"x":[{"n":1}],"model":"outer"}`,
			want: map[string]string{"model": `"outer"`},
			done: true,
		},
		{
			name: "last occurrence wins",
			doc:  `{"n":1,"usage":{"a":1},"n":2,"usage":null}`,
			want: map[string]string{"n": "2", "usage": "null"},
			done: true,
		},
		{
			name: "root array of objects (gemini without alt=sse)",
			doc:  `[{"model":"a","n":1},{"model":"b","usage":{"x":[1]}}, 3, [{"n":9}]]`,
			want: map[string]string{"model": `"b"`, "n": "1", "usage": `{"x":[1]}`},
			done: true,
		},
		{
			name: "keys inside strings are ignored",
			doc:  `{"s":"{\"n\":1, \"model\":\"x\"}","z":"\\\"n\\\":2"}`,
			want: map[string]string{"s": `"{\"n\":1, \"model\":\"x\"}"`},
			done: true,
		},
		{
			name: "truncated document keeps completed members",
			doc:  `{"model":"m","usage":{"prompt_tokens":1`,
			want: map[string]string{"model": `"m"`},
		},
		{
			name: "anthropic error",
			doc:  `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			want: map[string]string{"error": `{"type":"overloaded_error","message":"Overloaded"}`},
			done: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.doc)
			var c Capturer
			captureAll(&c, data)
			assert.Equal(t, tc.want, captured(&c))
			assert.Equal(t, tc.done, c.Done())
			for i := 0; i <= len(data); i++ {
				captureAll(&c, data, i)
				require.Equal(t, tc.want, captured(&c), "split at %d", i)
				for j := i; j <= len(data); j += 7 {
					captureAll(&c, data, i, j-i)
					require.Equal(t, tc.want, captured(&c), "split at %d and %d", i, j)
				}
			}
			c.Reset(0, captureKeys)
			for i := range data {
				c.Write(data[i : i+1])
			}
			assert.Equal(t, tc.want, captured(&c), "one byte at a time")
			assert.Equal(t, tc.done, c.Done())
		})
	}
}

func TestCapturerLimit(t *testing.T) {
	big := `"` + strings.Repeat("x", 200) + `"`
	doc := []byte(`{"model":` + big + `,"n":1,"s":"short"}`)
	var c Capturer
	c.Reset(100, captureKeys)
	c.Write(doc)
	_, ok := c.Value("model")
	assert.False(t, ok, "a member over the limit is dropped")
	v, _ := c.Value("s")
	assert.Equal(t, `"short"`, string(v))

	// the same, fed in small pieces
	c.Reset(100, captureKeys)
	for i := 0; i < len(doc); i += 13 {
		c.Write(doc[i:min(i+13, len(doc))])
	}
	_, ok = c.Value("model")
	assert.False(t, ok)
	v, _ = c.Value("n")
	assert.Equal(t, "1", string(v))
}

func TestCapturerLargeBody(t *testing.T) {
	// an embeddings response of a few MB: nothing but the members is kept
	var b strings.Builder
	b.WriteString(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[`)
	for i := range 300000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("-0.0123456")
	}
	b.WriteString(`]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`)
	doc := []byte(b.String())
	var c Capturer
	c.Reset(0, captureKeys)
	allocs := testing.AllocsPerRun(3, func() {
		c.Reset(0, captureKeys)
		for i := 0; i < len(doc); i += 32 << 10 {
			c.Write(doc[i:min(i+32<<10, len(doc))])
		}
	})
	assert.Zero(t, allocs, "buffers are reused across Resets")
	v, _ := c.Value("usage")
	assert.Equal(t, `{"prompt_tokens":8,"total_tokens":8}`, string(v))
	v, _ = c.Value("model")
	assert.Equal(t, `"text-embedding-3-small"`, string(v))
	assert.True(t, c.Done())
}

func TestCapturerTooManyKeys(t *testing.T) {
	var c Capturer
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}
	c.Reset(0, keys)
	c.Write([]byte(`{"a":1,"h":8,"i":9}`))
	v, ok := c.Value("h")
	assert.True(t, ok)
	assert.Equal(t, "8", string(v))
	_, ok = c.Value("i")
	assert.False(t, ok, "keys beyond MaxCaptureKeys are ignored")
}

// FuzzCapturer checks that any split of a document captures the same
// members, and that for valid objects they are the members encoding/json sees.
func FuzzCapturer(f *testing.F) {
	f.Add([]byte(`{"model":"gpt-4o","usage":{"prompt_tokens":1},"n":3}`), uint16(5), uint16(11))
	f.Add([]byte(`[{"model":"a"},{"usage":{"x":"\"}"}}]`), uint16(1), uint16(2))
	f.Add([]byte(`{"s":"\\","n":1}`), uint16(3), uint16(4))
	f.Add([]byte(`{"error":{"message":"a\u00e9"}, "id" : "x" }`), uint16(9), uint16(30))
	f.Add([]byte(`{"\u0075sage":{"a":1},"mod\u0065l":"m","model":"n","i\u0064":"x"}`), uint16(3), uint16(9))
	f.Add([]byte(`{"usage":1,"\u0075sage":2,"\u0075\u0073\u0061\u0067\u0065":3}`), uint16(14), uint16(20))
	f.Add([]byte(`{"\usage":1,"mod\el":2,"Usage":3}`), uint16(2), uint16(8))
	f.Fuzz(func(t *testing.T, doc []byte, a, b uint16) {
		var whole, split Capturer
		whole.Reset(0, captureKeys)
		whole.Write(doc)
		i, j := int(a)%(len(doc)+1), int(b)%(len(doc)+1)
		if i > j {
			i, j = j, i
		}
		split.Reset(0, captureKeys)
		split.Write(doc[:i])
		split.Write(doc[i:j])
		split.Write(doc[j:])
		require.Equal(t, captured(&whole), captured(&split))
		require.Equal(t, whole.Done(), split.Done())
		require.Equal(t, whole.Root(), split.Root())
		require.Equal(t, whole.Junk(), split.Junk())
		if json.Valid(doc) {
			// One JSON value: junk exactly when it is not an object or
			// an array, and then it has no root.
			first := doc[SkipSpace(doc, 0)]
			container := first == '{' || first == '['
			require.Equal(t, !container, whole.Junk(), "%q", doc)
			if container {
				require.Equal(t, first, whole.Root())
				require.True(t, whole.Done())
			}
		}

		if !json.Valid(doc) || !IsObject(doc) {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(doc, &m) != nil {
			return
		}
		// Map keys are matched exactly, escapes decoded, the last duplicate
		// kept: what a provider's decoder reads. encoding/json writes U+FFFD
		// for invalid UTF-8 in a key, which the Capturer keeps as it is (a key
		// no wanted name matches either way): such documents are left out.
		if !utf8.Valid(doc) {
			return
		}
		got := captured(&whole)
		want := map[string]string{}
		for _, k := range captureKeys {
			if raw, ok := m[k]; ok {
				want[k] = string(raw)
			}
		}
		require.Equal(t, want, got)
	})
}

// Root and Junk tell a document that is one object (or array) from one
// with something else at its top level, which no provider answers with.
func TestCapturerRootAndJunk(t *testing.T) {
	cases := []struct {
		doc  string
		root byte
		junk bool
	}{
		{`{"a":1}`, '{', false},
		{" \n{\"a\":[1,2,\"x\"]}\r\n ", '{', false},
		{`[{"a":1},{"b":2}]`, '[', false},
		{`{"s":"}{,:[] junk"}`, '{', false},
		{`"text"`, 0, true},
		{`42`, 0, true},
		{`null`, 0, true},
		{`{"a":1} x`, '{', true},
		{`{"a":1}{"b":2}`, '{', true},
		{`{"a":1},`, '{', true},
		{`x{"a":1}`, '{', true},
		{`)]}'` + "\n" + `{"a":1}`, '{', true},
		{``, 0, false},
	}
	for _, tc := range cases {
		for _, n := range []int{1, 3, len(tc.doc) + 1} {
			var c Capturer
			c.Reset(0, []string{"a"})
			for _, piece := range splitEvery([]byte(tc.doc), n) {
				c.Write(piece)
			}
			assert.Equal(t, tc.root, c.Root(), "%q in pieces of %d", tc.doc, n)
			assert.Equal(t, tc.junk, c.Junk(), "%q in pieces of %d", tc.doc, n)
		}
	}
}

func splitEvery(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n])
		b = b[n:]
	}
	return append(out, b)
}

var elementKeys = []string{"index", "finish_reason"}

// elementsOf returns what c kept of the watched array's elements: per
// element, "object" or "other", and the watched members' values.
func elementsOf(c *Capturer) []map[string]string {
	n, ok := c.Elements()
	if !ok {
		return nil
	}
	out := make([]map[string]string, n)
	for i := range n {
		m := map[string]string{}
		if c.ElementIsObject(i) {
			m[""] = "object"
		}
		for k, name := range elementKeys {
			if v, ok := c.ElementValue(i, k); ok {
				m[name] = string(v)
			}
		}
		out[i] = m
	}
	return out
}

// The members of each element of a watched array are taken as the bytes
// pass: nothing else of the array is kept, keys are read by their decoded
// value and at their own level only, the last duplicate and the last
// complete occurrence count.
func TestCapturerElements(t *testing.T) {
	long := strings.Repeat("x", MaxElementValue)
	cases := []struct {
		name string
		doc  string
		want []map[string]string // nil: no complete occurrence
	}{
		{
			name: "openai choices",
			doc: `{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"a \"finish_reason\":\"no\" {]","finish_reason":"inner"},"logprobs":null,"finish_reason":"stop"},` +
				`{"index":1,"message":{"content":"b"},"finish_reason":"length"}],"usage":{"prompt_tokens":1}}`,
			want: []map[string]string{
				{"": "object", "index": "0", "finish_reason": `"stop"`},
				{"": "object", "index": "1", "finish_reason": `"length"`},
			},
		},
		{
			name: "whitespace, escapes, duplicates, other values",
			doc: "{ \"choices\" : [ { \"finish\\u005freason\" : \"a\" , \"index\" : 3 , \"finish_reason\" : null } ,\n" +
				" 7 , \"s\" , [ {\"finish_reason\":\"deep\"} ] , { \"finish_reason\" : { \"x\" : [1, 2] } , \"index\":-1} ] }",
			want: []map[string]string{
				{"": "object", "index": "3", "finish_reason": "null"},
				{}, {}, {},
				{"": "object", "index": "-1", "finish_reason": `{ "x" : [1, 2] }`},
			},
		},
		{
			name: "the last complete occurrence",
			doc:  `{"choices":[{"finish_reason":"first"}],"x":{"choices":[{"finish_reason":"nested"}]},"choices":[{"finish_reason":"second"},{}]}`,
			want: []map[string]string{{"": "object", "finish_reason": `"second"`}, {"": "object"}},
		},
		{
			name: "not an array",
			doc:  `{"choices":[{"finish_reason":"first"}],"choices":{"finish_reason":"x"}}`,
			want: []map[string]string{},
		},
		{
			name: "cut",
			doc:  `{"choices":[{"finish_reason":"stop"}`,
		},
		{
			name: "a value over the bound",
			doc:  `{"choices":[{"index":0,"finish_reason":"` + long + `"}]}`,
			want: []map[string]string{{"": "object", "index": "0"}},
		},
		{
			name: "an array of objects at the top",
			doc:  `[{"choices":[{"finish_reason":"a"}]},{"choices":[{"finish_reason":"b","index":2}]}]`,
			want: []map[string]string{{"": "object", "finish_reason": `"b"`, "index": "2"}},
		},
	}
	for _, tc := range cases {
		for _, n := range []int{1, 2, 7, len(tc.doc) + 1} {
			var c Capturer
			c.Reset(0, captureKeys)
			c.WatchElements("choices", elementKeys)
			for _, piece := range splitEvery([]byte(tc.doc), n) {
				c.Write(piece)
			}
			assert.Equal(t, tc.want, elementsOf(&c), "%s, in pieces of %d", tc.name, n)
		}
	}

	// The first MaxElements elements are kept.
	many := `{"choices":[` + strings.Repeat(`{"index":1},`, MaxElements) + `{"index":2}]}`
	var c Capturer
	c.Reset(0, nil)
	c.WatchElements("choices", elementKeys)
	c.Write([]byte(many))
	n, ok := c.Elements()
	assert.True(t, ok)
	assert.Equal(t, MaxElements, n)

	// The top-level members are captured as before, the array too when
	// it is one of them.
	c.Reset(0, []string{"choices", "id"})
	c.WatchElements("choices", elementKeys)
	doc := `{"choices":[{"finish_reason":"stop"}],"id":"x"}`
	c.Write([]byte(doc))
	v, _ := c.Value("choices")
	assert.Equal(t, `[{"finish_reason":"stop"}]`, string(v))
	v, _ = c.Value("id")
	assert.Equal(t, `"x"`, string(v))
	v, ok = c.ElementValue(0, 1)
	assert.True(t, ok)
	assert.Equal(t, `"stop"`, string(v))

	// Buffers are reused across Resets.
	first := []byte(cases[0].doc)
	assert.Zero(t, testing.AllocsPerRun(20, func() {
		c.Reset(0, captureKeys)
		c.WatchElements("choices", elementKeys)
		c.Write(first)
	}))
}

// FuzzCapturerElements checks that any split of a document keeps the same
// elements, and that for valid objects they are what encoding/json reads.
func FuzzCapturerElements(f *testing.F) {
	f.Add([]byte(`{"choices":[{"index":0,"message":{"content":"x"},"finish_reason":"stop"},{"index":1,"finish_reason":null}]}`), uint16(5), uint16(40))
	f.Add([]byte(`{"choices":[1,"a",[{"finish_reason":"x"}],{"finish\u005freason":"e"}],"choices":[]}`), uint16(3), uint16(19))
	f.Add([]byte(`[{"choices":[{"index":2}]},{"choices":{"a":1}}]`), uint16(1), uint16(30))
	f.Add([]byte(`{"choices" : [ { "index" : 1 , "finish_reason" : {"a":[1,{"b":"}"}]} } ] }`), uint16(20), uint16(50))
	f.Fuzz(func(t *testing.T, doc []byte, a, b uint16) {
		var whole, split Capturer
		whole.Reset(0, captureKeys)
		whole.WatchElements("choices", elementKeys)
		whole.Write(doc)
		i, j := int(a)%(len(doc)+1), int(b)%(len(doc)+1)
		if i > j {
			i, j = j, i
		}
		split.Reset(0, captureKeys)
		split.WatchElements("choices", elementKeys)
		split.Write(doc[:i])
		split.Write(doc[i:j])
		split.Write(doc[j:])
		require.Equal(t, elementsOf(&whole), elementsOf(&split))
		require.Equal(t, captured(&whole), captured(&split), "watching elements changes no member")

		if !json.Valid(doc) || !IsObject(doc) || !utf8.Valid(doc) {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(doc, &m) != nil {
			return
		}
		raw, ok := m["choices"]
		if !ok {
			return
		}
		var elems []json.RawMessage
		if json.Unmarshal(raw, &elems) != nil {
			require.Equal(t, []map[string]string{}, elementsOf(&whole), "a member that is not an array: no elements")
			return
		}
		if len(elems) > MaxElements || len(raw) > maxElementBytes {
			return
		}
		want := make([]map[string]string, len(elems))
		for i, e := range elems {
			want[i] = map[string]string{}
			var em map[string]json.RawMessage
			if json.Unmarshal(e, &em) != nil || !IsObject(e) {
				continue
			}
			want[i][""] = "object"
			for _, k := range elementKeys {
				if v, ok := em[k]; ok && len(v) <= MaxElementValue {
					want[i][k] = string(v)
				}
			}
		}
		require.Equal(t, want, elementsOf(&whole), "%s", doc)
	})
}
