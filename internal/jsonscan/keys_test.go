package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every reading of a document here must be the one a provider's decoder
// makes (Python's json, Go's encoding/json, JavaScript): keys compared by
// their decoded value, exact case, and the last of duplicate keys wins. The
// tests below hold each reader to that, with encoding/json as the reference.

// escapeAll spells every byte of the ASCII string s as a \u00XX escape.
func escapeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteString(`\u00`)
		b.WriteByte("0123456789abcdef"[s[i]>>4])
		b.WriteByte("0123456789abcdef"[s[i]&0xF])
	}
	return b.String()
}

func TestMembersKeyIsDecoded(t *testing.T) {
	long := strings.Repeat("k", 70)
	cases := []struct {
		name, doc string
		want      []string
	}{
		{"plain", `{"stream":true}`, []string{"stream"}},
		{"one escaped letter", `{"str\u0065am":true}`, []string{"stream"}},
		{"upper-case hex", `{"\u0055SAGE":1}`, []string{"USAGE"}},
		{"every letter escaped", `{"` + escapeAll("usage") + `":1}`, []string{"usage"}},
		{"escaped key longer than 64 bytes raw, short decoded", `{"` + escapeAll("incomplete_details") + `":1}`, []string{"incomplete_details"}},
		{"escaped key longer than 64 bytes decoded", `{"` + long + `\u0021":1}`, []string{long + "!"}},
		{"short escapes", `{"a\"b\\c\/d\n":1}`, []string{"a\"b\\c/d\n"}},
		{"surrogate pair", `{"\ud83d\ude00":1}`, []string{"😀"}},
		{"lone surrogate", `{"\ud800x":1}`, []string{"\uFFFDx"}},
		{"several members, mixed", `{"model":"m","mod\u0065l":"n","x":{"\u0079":1}}`, []string{"model", "model", "x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.True(t, json.Valid([]byte(tc.doc)), "test case must be valid JSON")
			var keys []string
			it := Members([]byte(tc.doc))
			for it.Next() {
				keys = append(keys, string(it.Key()))
			}
			require.NoError(t, it.Err())
			assert.Equal(t, tc.want, keys)
			assert.Equal(t, tc.want, referenceKeys(t, []byte(tc.doc)), "agrees with encoding/json")
		})
	}
}

func TestMembersKeyWithInvalidEscapeMatchesNothing(t *testing.T) {
	for _, doc := range []string{`{"str\eam":true}`, `{"stre\u00":1}`, `{"\u12zz":1}`, `{"a\`} {
		it := Members([]byte(doc))
		for it.Next() {
			assert.Contains(t, string(it.Key()), `\`, "kept raw: %s", doc)
		}
	}
}

// TestMembersKeySurvivesCopy: the decoded key lives in the Iter; an Iter
// copied after Next still reports its own key.
func TestMembersKeySurvivesCopy(t *testing.T) {
	it := Members([]byte(`{"str\u0065am":true,"b":1}`))
	require.True(t, it.Next())
	cp := it
	require.True(t, it.Next())
	assert.Equal(t, "stream", string(cp.Key()))
	assert.Equal(t, "b", string(it.Key()))
}

func TestMembersEscapedKeysNoAlloc(t *testing.T) {
	data := []byte(`{"mod\u0065l":"gpt-4o","` + escapeAll("incomplete_details") + `":1,"str\u0065am":true,"max_tokens":100}`)
	var n int
	allocs := testing.AllocsPerRun(100, func() {
		it := Members(data)
		for it.Next() {
			n += len(it.Key())
		}
		_, _ = Get(data, "stream")
	})
	assert.Zero(t, allocs)
}

func TestGetLastDuplicateWins(t *testing.T) {
	cases := []struct {
		name, doc string
		path      []string
		want      string
		ok        bool
	}{
		{"raw duplicates", `{"a":1,"a":2}`, []string{"a"}, "2", true},
		{"escaped duplicate after raw", `{"stream":false,"str\u0065am":true}`, []string{"stream"}, "true", true},
		{"raw duplicate after escaped", `{"str\u0065am":true,"stream":false}`, []string{"stream"}, "false", true},
		{"nested: the last parent is the one read", `{"a":{"b":1},"a":{"c":2}}`, []string{"a", "b"}, "", false},
		{"nested duplicates", `{"a":{"b":1,"b":3},"x":0}`, []string{"a", "b"}, "3", true},
		{"escaped path", `{"\u0062ackground":true}`, []string{"background"}, "true", true},
		{"case matters", `{"Background":true}`, []string{"background"}, "", false},
		{"duplicate escaped after the first byte", `{"ab":1,"x":{"ab":0},"a\u0062":2}`, []string{"ab"}, "2", true},
		{"duplicate escaped in upper-case hex", `{"type":"a","t\u0059pe":"x","\u0074\u0079\u0070\u0045":"y","typ\u0065":"b"}`, []string{"type"}, `"b"`, true},
		{"duplicate of a key with a slash", `{"a/b":1,"a\/b":2}`, []string{"a/b"}, "2", true},
		{"an escaped backslash is not an escape", `{"u":1,"s":"\\u0075"}`, []string{"u"}, "1", true},
		{"first of many members", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}`, []string{"type"}, `"message_delta"`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := Get([]byte(tc.doc), tc.path...)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, string(v))
		})
	}
}

func TestReplaceMemberEveryOccurrence(t *testing.T) {
	cases := []struct {
		name, body, key, value, want string
	}{
		{"escaped duplicate replaced too", `{"model":"a","mod\u0065l":"b"}`, "model", `"c"`, `{"model":"c","mod\u0065l":"c"}`},
		{"escaped only", `{"x":1,"mod\u0065l":"b"}`, "model", `"c"`, `{"x":1,"mod\u0065l":"c"}`},
		{"three occurrences", `{"model":1,"x":0,"model":2,"model":3}`, "model", `"c"`, `{"model":"c","x":0,"model":"c","model":"c"}`},
		{"remove every occurrence", `{"a":1,"stream_options":1,"b":2,"stream_opti\u006fns":2}`, "stream_options", "", `{"a":1,"b":2}`},
		{"remove a leading run", `{"s":1 , "s":2 , "b":3}`, "s", "", `{ "b":3}`},
		{"remove a leading run and a later one", `{"s":1,"s":2,"b":3,"s":4,"c":5,"s":6}`, "s", "", `{"b":3,"c":5}`},
		{"remove all members", `{ "s":1, "\u0073":2 }`, "s", "", `{}`},
		{"remove adjacent ones after a kept member", `{"a":0,"s":1,"s":2}`, "s", "", `{"a":0}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v []byte
			if tc.value != "" {
				v = []byte(tc.value)
			}
			got, ok := ReplaceMember([]byte(tc.body), tc.key, v)
			require.True(t, ok)
			assert.Equal(t, tc.want, string(got))
			require.True(t, json.Valid(got), string(got))
			var m map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(got, &m))
			if v == nil {
				assert.NotContains(t, m, tc.key)
			} else {
				assert.Equal(t, tc.value, string(m[tc.key]), "what a decoder reads")
			}
		})
	}
}

func TestReplaceMemberMalformed(t *testing.T) {
	for _, body := range []string{`{"model":"a",`, `{"model":"a"} x`, `[]`, ``} {
		got, ok := ReplaceMember([]byte(body), "model", []byte(`"b"`))
		assert.False(t, ok, body)
		assert.Equal(t, body, string(got), body)
	}
}

func TestCapturerKeyIsDecoded(t *testing.T) {
	keys := []string{"usage", "model", "usageMetadata", "incomplete_details"}
	cases := []struct {
		name, doc string
		want      map[string]string
	}{
		{"escaped letters", `{"\u0075sage":{"a":1},"mod\u0065l":"m"}`, map[string]string{"usage": `{"a":1}`, "model": `"m"`}},
		{"raw longer than 64 bytes, decoded short", `{"` + escapeAll("usageMetadata") + `":1,"` + escapeAll("incomplete_details") + `":2}`,
			map[string]string{"usageMetadata": "1", "incomplete_details": "2"}},
		{"escaped duplicate after raw wins", `{"usage":1,"\u0075sage":2}`, map[string]string{"usage": "2"}},
		{"raw duplicate after escaped wins", `{"\u0075sage":1,"usage":2}`, map[string]string{"usage": "2"}},
		{"invalid escape matches nothing", `{"\usage":1,"mod\el":2}`, map[string]string{}},
		{"case matters", `{"Usage":1,"MODEL":2}`, map[string]string{}},
		{"escaped quote in a key", `{"us\"age":1,"model":2}`, map[string]string{"model": "2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := []byte(tc.doc)
			for cut := 0; cut <= len(doc); cut++ { // an escape may straddle two Writes
				var c Capturer
				c.Reset(0, keys)
				c.Write(doc[:cut])
				c.Write(doc[cut:])
				got := map[string]string{}
				for _, k := range keys {
					if v, ok := c.Value(k); ok {
						got[k] = string(v)
					}
				}
				require.Equal(t, tc.want, got, "cut at %d", cut)
			}
		})
	}
}

func TestCapturerEscapedKeyNoAlloc(t *testing.T) {
	doc := []byte(`{"` + escapeAll("usageMetadata") + `":{"a":1},"mod\u0065l":"m"}`)
	var c Capturer
	keys := []string{"usageMetadata", "model"}
	allocs := testing.AllocsPerRun(20, func() {
		c.Reset(0, keys)
		c.Write(doc)
	})
	assert.Zero(t, allocs)
	_, ok := c.Value("usageMetadata")
	assert.True(t, ok)
}

// TestCanonicalEscapedKeys: the cache key sees a key by its decoded value,
// and so does the function that leaves members out of it.
func TestCanonicalEscapedKeys(t *testing.T) {
	a, err := canonical(`{"str\u0065am":true,"model":"m"}`, nil)
	require.NoError(t, err)
	b, err := canonical(`{"model":"m","stream":true}`, nil)
	require.NoError(t, err)
	assert.Equal(t, b, a)

	var seen []string
	skip := func(k []byte) bool {
		seen = append(seen, string(k))
		return string(k) == "stream_options"
	}
	c, err := canonical(`{"stream_opti\u006fns":{"include_usage":true},"str\u0065am":true}`, skip)
	require.NoError(t, err)
	assert.Equal(t, `{"stream":true}`, c)
	assert.Equal(t, []string{"stream_options", "stream"}, seen)
}

// referenceKeys returns the top-level keys of the object doc in order, as
// encoding/json decodes them.
func referenceKeys(t testing.TB, doc []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(doc))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return keys
}

// FuzzMembers holds the member readers to encoding/json on every object it
// accepts: Iter yields the keys it decodes, in order; Get finds the value it
// keeps (the last of duplicates); ReplaceMember changes (or removes) the
// member it reads and nothing else.
//
// encoding/json writes U+FFFD for invalid UTF-8 in a key, which this package
// keeps as it is (a key no provider field matches either way); documents that
// are not valid UTF-8 are left out. Lone surrogate escapes both decode to
// U+FFFD.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,2,{"b":null}]}`, `{"model":"a","mod\u0065l":"b"}`, `{"stream":false,"stream":true}`,
		`{"str\u0065am":true,"stream":false}`, `{"\u0075sage":{"x":1},"usage":null}`,
		`{"` + escapeAll("stream_options") + `":{"include_usage":true}}`, `{"\ud83d\ude00":1,"\ud800":2}`,
		`{"a\"b":1,"a\\b":2,"a\/b":3}`, `{ "s" : 1 , "s" : 2 }`, `{}`, string(request1KB),
		`{"type":"a","t\u0059pe":"x","typ\u0065":"b","x":{"type":"c"}}`, `{"u":1,"s":"\\u0075","\\u0075":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if !json.Valid(doc) || !IsObject(bytes.TrimLeft(doc, " \t\r\n")) || !utf8.Valid(doc) {
			return
		}
		want := referenceKeys(t, doc)
		var keys []string
		it := Members(doc)
		for it.Next() {
			keys = append(keys, string(it.Key()))
		}
		require.NoError(t, it.Err())
		require.Equal(t, want, keys)

		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(doc, &m))
		for _, k := range keys {
			v, ok := Get(doc, k)
			require.True(t, ok, "%q", k)
			require.Equal(t, string(m[k]), string(v), "Get(%q)", k)
		}
		if len(keys) == 0 {
			return
		}
		k := keys[len(keys)/2]
		for _, value := range []json.RawMessage{[]byte(`"new"`), nil} {
			out, ok := ReplaceMember(doc, k, value)
			require.True(t, ok)
			var after map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(out, &after), "%s", out)
			wantAfter := map[string]json.RawMessage{}
			for key, v := range m {
				wantAfter[key] = v
			}
			if value == nil {
				delete(wantAfter, k)
			} else {
				wantAfter[k] = value
			}
			require.Equal(t, wantAfter, after, "%s", out)
		}
	})
}
