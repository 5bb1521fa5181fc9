package jsonscan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValid(t *testing.T) {
	valid := []string{
		`{}`, ` { } `, `[]`, `"x"`, `0`, `-0`, `12.5e-3`, `1E+2`, `true`, `false`, `null`,
		`{"a":1,"b":[1,2,{"c":"d\"}"}],"e":null}`,
		`"\\"`, `"\\\\"`, `"a\\\"b"`, `[[[[]]]]`, "\t\r\n[1 , 2 ]\n",
	}
	for _, s := range valid {
		assert.True(t, Valid([]byte(s)), s)
		assert.True(t, json.Valid([]byte(s)), "test case must be valid JSON: %s", s)
	}
	invalid := []string{
		``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a":1 "b":2}`,
		`"abc`, `"abc\"`, `tru`, `nul`, `01`, `-`, `1.`, `1e`, `.5`, `+1`, `{"a":1}x`,
		`{"a":"b"`, `[`, `{1:2}`, `{"a" 1}`, `nulll`, `True`,
	}
	for _, s := range invalid {
		assert.False(t, Valid([]byte(s)), s)
	}
}

func TestSkipValueError(t *testing.T) {
	_, err := SkipValue([]byte(`{"a":[1,2`), 0)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrSyntax))
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 9, se.Offset)
	assert.Contains(t, err.Error(), "offset 9")
}

func TestDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+10) + strings.Repeat("]", maxDepth+10)
	assert.False(t, Valid([]byte(deep)))
	ok := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	assert.True(t, Valid([]byte(ok)))
}

func TestMembers(t *testing.T) {
	data := []byte(` {"model" : "gpt-4o", "n":2, "o":{"x":[1,{"y":"}"}]}, "s":"a\"b", "e":[] } `)
	var keys, vals []string
	it := Members(data)
	for it.Next() {
		keys = append(keys, string(it.Key()))
		vals = append(vals, string(it.Value()))
		assert.Equal(t, string(it.Value()), string(data[it.ValueOffset():it.ValueOffset()+len(it.Value())]))
	}
	require.NoError(t, it.Err())
	assert.Equal(t, []string{"model", "n", "o", "s", "e"}, keys)
	assert.Equal(t, []string{`"gpt-4o"`, `2`, `{"x":[1,{"y":"}"}]}`, `"a\"b"`, `[]`}, vals)
	assert.Equal(t, len(data)-2, it.CloseOffset())
	assert.False(t, it.Next(), "Next after the end stays false")
}

func TestMembersErrors(t *testing.T) {
	for _, s := range []string{``, `[]`, `{"a":1`, `{"a":1,`, `{"a":1}{`, `{"a":tru}`, `{"a" 1}`, `{"a":1 "b":2}`, `{,}`} {
		it := Members([]byte(s))
		for it.Next() {
		}
		assert.Error(t, it.Err(), s)
		assert.Equal(t, -1, it.CloseOffset(), s)
	}
	it := Members([]byte(`{}`))
	assert.False(t, it.Next())
	assert.NoError(t, it.Err())
	assert.Equal(t, 1, it.CloseOffset())
}

// The iterators end each value where skipValue does, and fail with its
// error: past valueEnd's depth, and where a value is malformed.
func TestMembersValuesEndWhereSkipValueDoes(t *testing.T) {
	deep := strings.Repeat(`[`, quickDepth+8) + `"x\"y"` + strings.Repeat(`]`, quickDepth+8)
	for _, v := range []string{
		`"a\"b"`, `{"k":"v\\"}`, `[1,{"b":[2,"\u00e9"]}]`, `-0.5e3`, `null`, deep,
		`[1,]`, `{"k" "v"}`, `"unterminated`, `[tru]`, `{"k":1,}`, deep[:len(deep)-1],
		strings.Repeat(`[`, 20000) + strings.Repeat(`]`, 20000),
	} {
		body := []byte(`{"before":1,"v":` + v + `}`)
		at := len(`{"before":1,"v":`)
		wantEnd, wantErr := skipValue(body, at, 1) // a member's value is one level in
		it := Members(body)
		var got []byte
		for it.Next() {
			if string(it.Key()) == "v" {
				got = it.Value()
			}
		}
		if wantErr != nil {
			assert.Equal(t, wantErr, it.Err(), "%.40s", v)
			continue
		}
		require.NoError(t, it.Err(), "%.40s", v)
		assert.Equal(t, string(body[at:wantEnd]), string(got))
	}
}

func TestElements(t *testing.T) {
	it := Elements([]byte(`[1, "a", {"b":[2]}, null]`))
	var got []string
	for it.Next() {
		got = append(got, string(it.Value()))
	}
	require.NoError(t, it.Err())
	assert.Equal(t, []string{`1`, `"a"`, `{"b":[2]}`, `null`}, got)
	it = Elements([]byte(`{}`))
	assert.False(t, it.Next())
	assert.Error(t, it.Err())
}

func TestGet(t *testing.T) {
	data := []byte(`{"a":{"b":{"c":42}},"x":"y","a2":null}`)
	v, ok := Get(data, "a", "b", "c")
	require.True(t, ok)
	assert.Equal(t, "42", string(v))
	_, ok = Get(data, "a", "z")
	assert.False(t, ok)
	_, ok = Get(data, "x", "y")
	assert.False(t, ok, "a string has no members")
	v, ok = Get(data)
	assert.True(t, ok)
	assert.Equal(t, data, v)
}

func TestInt(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"42", 42, true}, {"-7", -7, true}, {"12.0", 12, true}, {"12.00", 12, true},
		{"9223372036854775807", 1<<63 - 1, true}, {"-9223372036854775808", -1 << 63, true},
		{"9223372036854775808", 0, false}, {"99999999999999999999", 0, false},
		{"12.5", 0, false}, {"1e3", 0, false}, {"12.", 0, false}, {"", 0, false}, {"-", 0, false},
		{`"12"`, 0, false}, {"null", 0, false}, {"true", 0, false},
	}
	for _, c := range cases {
		n, ok := Int([]byte(c.in))
		assert.Equal(t, c.ok, ok, c.in)
		assert.Equal(t, c.want, n, c.in)
	}
}

func TestBoolNull(t *testing.T) {
	b, ok := Bool([]byte("true"))
	assert.True(t, b && ok)
	b, ok = Bool([]byte("false"))
	assert.True(t, !b && ok)
	_, ok = Bool([]byte("null"))
	assert.False(t, ok)
	assert.True(t, IsNull([]byte("null")))
	assert.False(t, IsNull([]byte("nul")))
	assert.True(t, IsObject([]byte("{}")))
	assert.False(t, IsObject(nil))
}

func TestString(t *testing.T) {
	cases := []struct{ in, want string }{
		{`"plain"`, "plain"},
		{`""`, ""},
		{`"a\"b"`, `a"b`},
		{`"\\\/\b\f\n\r\t"`, "\\/\b\f\n\r\t"},
		{`"\u00e9\u4e2d"`, "é中"},
		{`"\ud83d\ude00"`, "😀"},
		{`"\ud83d x"`, "\uFFFD x"},
		{`"héllo"`, "héllo"},
	}
	for _, c := range cases {
		got, ok := String([]byte(c.in))
		require.True(t, ok, c.in)
		assert.Equal(t, c.want, string(got), c.in)
		var want string
		if json.Unmarshal([]byte(c.in), &want) == nil {
			assert.Equal(t, want, string(got), "agrees with encoding/json: %s", c.in)
		}
	}
	for _, bad := range []string{`x`, `"`, `"abc`, `"\q"`, `"\u12"`, `"\u12zz"`, `12`} {
		_, ok := String([]byte(bad))
		assert.False(t, ok, bad)
	}
}

func TestStringNoAlloc(t *testing.T) {
	v := []byte(`"gpt-4o-mini"`)
	allocs := testing.AllocsPerRun(100, func() {
		s, _ := String(v)
		_ = s
	})
	assert.Zero(t, allocs)
}

func TestAppendQuote(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "nl\n\r\t", "\x00\x1f", "<&>", "é中😀", "\u2028\u2029", "bad\xffutf8"} {
		got := AppendQuote(nil, s)
		want, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), "%q", s)
	}
}

func TestMembersNoAlloc(t *testing.T) {
	data := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"hello \"world\""}],"stream":true,"max_tokens":100}`)
	allocs := testing.AllocsPerRun(100, func() {
		it := Members(data)
		for it.Next() {
		}
		_, _ = Get(data, "max_tokens")
	})
	assert.Zero(t, allocs)
}

// FuzzValid compares the structural check with encoding/json: every valid
// document is accepted, and a document accepted here but refused there must
// owe it to string contents, which this package does not check.
func FuzzValid(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"\\"`, `[1e5,-0.5,true]`, `{"a":"\u00e9"}`, `{"a":1`, `01`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		ours, std := Valid(doc), json.Valid(doc)
		if std {
			require.True(t, ours, "encoding/json accepts %q", doc)
		}
		if ours && !std {
			lenient := strings.ContainsRune(string(doc), '\\')
			for _, c := range doc {
				if c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r' {
					lenient = true
				}
			}
			if !lenient {
				// control characters inside strings (tab, newline) are
				// refused by encoding/json too
				lenient = strings.ContainsAny(string(doc), "\t\n\r")
			}
			require.True(t, lenient, "accepted %q that encoding/json refuses", doc)
		}
		if ours && IsObject(doc) {
			it := Members(doc)
			for it.Next() {
			}
			require.NoError(t, it.Err())
		}
	})
}

func TestAppendQuoteNoHTML(t *testing.T) {
	for s, want := range map[string]string{
		"<&>":          `"<&>"`,
		"q\"b\\\n\x01": `"q\"b\\\n\u0001"`,
		"\u2028é":      "\"\u2028é\"",
		"bad\xff":      `"bad\ufffd"`,
	} {
		assert.Equal(t, want, string(AppendQuoteNoHTML(nil, s)), "%q", s)
	}
}
