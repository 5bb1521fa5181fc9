package jsonscan

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// canonical returns the canonical form of doc, or the error.
func canonical(doc string, skip func([]byte) bool) (string, error) {
	var buf bytes.Buffer
	err := WriteCanonical(&buf, []byte(doc), skip)
	return buf.String(), err
}

func TestCanonicalForm(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{}`, `{}`},
		{` [ ] `, `[]`},
		{`{"b":1,"a":2}`, `{"a":2,"b":1}`},
		{"{\n  \"model\" : \"gpt-4o\",\t\"n\" : [ 1 , 2 ]\r\n}", `{"model":"gpt-4o","n":[1,2]}`},
		{`{"b":{"d":[{"z":1,"y":2}],"c":null},"a":[3,{"x":true,"w":false}]}`, `{"a":[3,{"w":false,"x":true}],"b":{"c":null,"d":[{"y":2,"z":1}]}}`},
		{`"caf\u00e9 \u00E9 é"`, `"café é é"`},
		{`"a\/b/c"`, `"a/b/c"`},
		{`"\u0041\u0022\u005c\u002f"`, `"A\"\\/"`},
		{`"\b\f\n\r\t\u0008\u000C\u000a\u000D\u0009"`, `"\b\f\n\r\t\b\f\n\r\t"`},
		{`"\u0000\u001f\u007f"`, "\"\\u0000\\u001f\x7f\""},
		{`"\ud83d\ude00 😀"`, `"😀 😀"`},
		{`"\ud800x\uDC00\ud800\ud800\ud83d"`, `"\ud800x\udc00\ud800\ud800\ud83d"`}, // lone surrogates stay escapes
		{"\"\xff\xfe\"", "\"\xff\xfe\""},                                           // invalid UTF-8 kept as it is
		{`"<&>\u003c\u2028"`, "\"<&><\u2028\""},
		{`[1, 1.0, 1e0, 1E+0, -0, 0.10]`, `[1,1.0,1e0,1E+0,-0,0.10]`},
		{`{"a":1,"b":2,"a":3}`, `{"a":1,"a":3,"b":2}`}, // duplicates kept, in order
		{`{"a\u0062":1,"ab":2,"aa":3}`, `{"aa":3,"ab":1,"ab":2}`},
		{`{"\"":1,"!":2,"#":3}`, `{"!":2,"#":3,"\"":1}`}, // keys compare in canonical form: \" sorts as '\\'
		{`true`, `true`},
		{` null `, `null`},
	} {
		got, err := canonical(tc.in, nil)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

// TestCanonicalEquality: documents in a group are the same value; documents
// in different groups are not.
func TestCanonicalEquality(t *testing.T) {
	groups := [][]string{
		{`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`,
			`{"messages":[{"content":"hi","role":"user"}],"model":"gpt-4o"}`,
			"{ \"messages\" : [ { \"content\" : \"h\\u0069\", \"role\":\"user\" } ] ,\n \"model\" : \"gpt\\u002d4o\" }",
			`{"\u006dodel":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`},
		{`{"model":"gpt-4o","messages":[{"role":"user","content":"hi "}]}`},
		{`{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}`},
		{`{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o","temperature":1}`},
		{`{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o","temperature":1.0}`},
		{`{"model":"gpt-4o","messages":[{"content":"hi","role":"user"},{"content":"hi","role":"user"}]}`},
		{`{"a":[1,2]}`, `{"a":[1, 2]}`},
		{`{"a":[2,1]}`},
		{`{"a":"1"}`},
		{`{"a":1}`},
		{`{"a":{}}`, `{"a":{ }}`},
		{`{"a":[]}`},
		{`{"a":null}`},
		{`{"a":"\u00e9"}`, `{"a":"é"}`, `{"a":"\u00E9"}`},
		{`{"a":"e\u0301"}`}, // the same glyph, not the same string
		{`{"a":"/"}`, `{"a":"\/"}`},
		{`{"a":"\ud800"}`},
		{`{"a":"\ufffd"}`, `{"a":"�"}`},
		{`{"a":1,"a":2}`},
		{`{"a":2,"a":1}`},
		{`{"a":2}`},
		{`{"a":{"b":1},"c":2}`, `{"c":2,"a":{"b":1}}`},
		{`{"a":{"b":1,"c":2}}`},
		{`{"ab":1}`},
		{`{"a":"b1"}`},
	}
	seen := map[string]int{}
	for g, docs := range groups {
		for _, d := range docs {
			c, err := canonical(d, nil)
			require.NoError(t, err, d)
			if prev, ok := seen[c]; ok {
				assert.Equal(t, g, prev, "%s: same canonical form as group %d", d, prev)
			}
			seen[c] = g
			first, _ := canonical(docs[0], nil)
			assert.Equal(t, first, c, "%s and %s", docs[0], d)
		}
	}
}

func TestCanonicalSkip(t *testing.T) {
	skipped := []string{"stream_options", "metadata", "user", "store"}
	skip := func(k []byte) bool { return slices.Contains(skipped, string(k)) }
	for _, tc := range []struct{ in, want string }{
		{`{"model":"m","user":"u-1","stream_options":{"include_usage":true},"n":1}`, `{"model":"m","n":1}`},
		{`{"user":"u-1"}`, `{}`},
		{`{"us\u0065r":"u-1","a":1}`, `{"a":1}`}, // decoded key
		{`{"a":{"user":"nested stays"},"user":"x"}`, `{"a":{"user":"nested stays"}}`},
		{`[{"user":"not top-level"}]`, `[{"user":"not top-level"}]`},
		{`{"store":true,"store":false,"z":0}`, `{"z":0}`},
	} {
		got, err := canonical(tc.in, skip)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}

	// A skipped member is still checked.
	_, err := canonical("{\"user\":\"a\x01\",\"a\":1}", skip)
	assert.ErrorIs(t, err, ErrSyntax)

	// skip sees each top-level key once, in document order.
	var keys []string
	_, err = canonical(`{"b":{"x":1},"a":[{"y":2}],"\u0063":3}`, func(k []byte) bool {
		keys = append(keys, string(k))
		return false
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "a", "c"}, keys)
}

// countingWriter counts the calls to Write.
type countingWriter struct {
	calls int
	bytes.Buffer
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.calls++
	return w.Buffer.Write(p)
}

func TestCanonicalInvalid(t *testing.T) {
	invalid := []string{
		``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a":1 "b":2}`,
		`"abc`, `"abc\"`, `tru`, `nul`, `01`, `-`, `1.`, `1e`, `.5`, `+1`, `{"a":1}x`, `{} {}`,
		`{"a":"b"`, `[`, `{1:2}`, `{"a" 1}`, `nulll`, `True`, `'a'`,
		"\"a\x00b\"", "\"tab\there\"", "\"line\nbreak\"", "{\"k\x1f\":1}",
		`"\x"`, `"\u12"`, `"\u12g4"`, `"\ud800\u12"`, `"\`, `"\u`, `"abc\`, `"\'"`, `"\U0041"`,
		`{"a":[1,{"b":"\q"}]}`,
	}
	for _, s := range invalid {
		require.False(t, json.Valid([]byte(s)), "test case must be invalid JSON: %q", s)
		var w countingWriter
		err := WriteCanonical(&w, []byte(s), nil)
		assert.ErrorIs(t, err, ErrSyntax, "%q", s)
		assert.Zero(t, w.calls, "%q: wrote on error", s)
	}
}

func TestCanonicalDepth(t *testing.T) {
	ok := strings.Repeat(`[{"a":`, 100) + "1" + strings.Repeat(`}]`, 100)
	_, err := canonical(ok, nil)
	assert.NoError(t, err)

	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	_, err = canonical(deep, nil)
	assert.ErrorIs(t, err, ErrSyntax)
	deep = strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)
	_, err = canonical(deep, nil)
	assert.ErrorIs(t, err, ErrSyntax)
}

// TestCanonicalManyMembers covers the sort used past the insertion sort's
// range, duplicates included.
func TestCanonicalManyMembers(t *testing.T) {
	var in, want []string
	for i := 99; i >= 0; i-- {
		in = append(in, fmt.Sprintf(`"k%02d":%d`, i, i))
	}
	in = append(in, `"k50":"again"`)
	for i := range 100 {
		want = append(want, fmt.Sprintf(`"k%02d":%d`, i, i))
		if i == 50 {
			want = append(want, `"k50":"again"`)
		}
	}
	got, err := canonical("{"+strings.Join(in, ",")+"}", nil)
	require.NoError(t, err)
	assert.Equal(t, "{"+strings.Join(want, ",")+"}", got)
}

type failingWriter struct{}

var errWrite = errors.New("write failed")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestCanonicalWriterError(t *testing.T) {
	assert.ErrorIs(t, WriteCanonical(failingWriter{}, []byte(`{}`), nil), errWrite)
}

func TestCanonicalizerReuse(t *testing.T) {
	var c Canonicalizer
	var a, b bytes.Buffer
	require.NoError(t, c.Write(&a, request1KB, nil))
	require.Error(t, c.Write(io.Discard, []byte(`{"x":[1,2,{"y":`), nil)) // fails halfway
	require.NoError(t, c.Write(&b, request1KB, nil))
	assert.Equal(t, a.String(), b.String())
	assert.True(t, json.Valid(a.Bytes()))
}

func TestCanonicalizerAllocs(t *testing.T) {
	var c Canonicalizer
	h := sha256.New()
	skip := func(k []byte) bool { return string(k) == "user" || string(k) == "stream_options" }
	require.NoError(t, c.Write(h, request1KB, skip))
	allocs := testing.AllocsPerRun(100, func() {
		h.Reset()
		_ = c.Write(h, request1KB, skip)
	})
	assert.Zero(t, allocs)
}

// refCanonical is the reference for the fuzz test: the canonical form built
// with encoding/json (UseNumber, members sorted by decoded key, duplicates
// kept in order), as a string to compare for equality only. dups reports
// duplicate keys, which a decode into a map would lose.
func refCanonical(doc []byte, skip func(string) bool) (canon string, dups bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var sb strings.Builder
	dups, err = refValue(dec, &sb, skip)
	return sb.String(), dups, err
}

func refValue(dec *json.Decoder, sb *strings.Builder, skip func(string) bool) (dups bool, err error) {
	tok, err := dec.Token()
	if err != nil {
		return false, err
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			sb.WriteByte('[')
			for n := 0; dec.More(); n++ {
				if n > 0 {
					sb.WriteByte(',')
				}
				d, err := refValue(dec, sb, nil)
				if err != nil {
					return false, err
				}
				dups = dups || d
			}
			_, err = dec.Token()
			sb.WriteByte(']')
			return dups, err
		}
		type pair struct{ k, v string }
		var pairs []pair
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return false, err
			}
			k := kt.(string)
			var sub strings.Builder
			d, err := refValue(dec, &sub, nil)
			if err != nil {
				return false, err
			}
			dups = dups || d || slices.ContainsFunc(pairs, func(p pair) bool { return p.k == k })
			if skip == nil || !skip(k) {
				pairs = append(pairs, pair{k, sub.String()})
			}
		}
		slices.SortStableFunc(pairs, func(a, b pair) int { return strings.Compare(a.k, b.k) })
		sb.WriteByte('{')
		for i, p := range pairs {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(strconv.Quote(p.k) + ":" + p.v)
		}
		sb.WriteByte('}')
		_, err = dec.Token()
		return dups, err
	case string:
		sb.WriteString(strconv.Quote(v))
	case json.Number:
		sb.WriteString(string(v))
	case bool:
		sb.WriteString(strconv.FormatBool(v))
	case nil:
		sb.WriteString("null")
	}
	return false, nil
}

// lossy reports whether encoding/json would replace something in doc by
// U+FFFD (invalid UTF-8, a lone surrogate escape) where the canonical form
// keeps it distinct: the reference cannot judge such documents.
func lossy(doc []byte) bool {
	if !utf8.Valid(doc) {
		return true
	}
	isHex4 := func(b []byte) (rune, bool) {
		if len(b) < 4 {
			return 0, false
		}
		r, err := strconv.ParseUint(string(b[:4]), 16, 32)
		return rune(r), err == nil
	}
	for i := 0; i < len(doc); i++ {
		if doc[i] != '\\' || i+1 >= len(doc) {
			continue
		}
		if doc[i+1] != 'u' {
			i++ // the escaped character, which may be a backslash
			continue
		}
		r, ok := isHex4(doc[i+2:])
		if !ok || r < 0xD800 || r > 0xDFFF {
			i += 5
			continue
		}
		if r >= 0xDC00 || i+12 > len(doc) || doc[i+6] != '\\' || doc[i+7] != 'u' {
			return true
		}
		if lo, ok := isHex4(doc[i+8:]); !ok || lo < 0xDC00 || lo > 0xDFFF {
			return true
		}
		i += 11
	}
	return false
}

// asciiEncode writes v as JSON with every non-ASCII character and '/'
// escaped, and object members in Go's random map order: another spelling of
// the same value.
func asciiEncode(sb *strings.Builder, v any) {
	switch v := v.(type) {
	case map[string]any:
		sb.WriteString("{ ")
		n := 0
		for k, e := range v {
			if n > 0 {
				sb.WriteString(" ,\n")
			}
			n++
			asciiEncode(sb, k)
			sb.WriteString(" : ")
			asciiEncode(sb, e)
		}
		sb.WriteString("}")
	case []any:
		sb.WriteString("[")
		for i, e := range v {
			if i > 0 {
				sb.WriteString(",\t")
			}
			asciiEncode(sb, e)
		}
		sb.WriteString("]")
	case string:
		sb.WriteByte('"')
		for _, r := range v {
			switch {
			case r == '/':
				sb.WriteString(`\/`)
			case r >= 0x20 && r < 0x7f && r != '"' && r != '\\':
				sb.WriteRune(r)
			case r > 0xFFFF:
				r1, r2 := 0xD800+(r-0x10000)>>10, 0xDC00+(r-0x10000)&0x3FF
				fmt.Fprintf(sb, `\u%04X\u%04x`, r1, r2)
			default:
				fmt.Fprintf(sb, `\u%04x`, r)
			}
		}
		sb.WriteByte('"')
	case json.Number:
		sb.WriteString(string(v))
	default:
		b, _ := json.Marshal(v)
		sb.Write(b)
	}
}

// FuzzCanonical checks the canonical form against the reference built with
// encoding/json: it accepts exactly the documents encoding/json accepts; a
// document, re-spelled by encoding/json or with escapes and members in random
// order, keeps its canonical form; and two documents have the same canonical
// form exactly when the reference says they are the same value.
func FuzzCanonical(f *testing.F) {
	seeds := []string{
		`{}`, `[]`, `{"a":1,"b":[true,false,null]}`, `{"b":1,"a":2}`, `{"a":1,"a":2}`,
		`{"a":"\u00e9\/\ud83d\ude00\n"}`, `{"a":"é/😀\u000a"}`, `"\ud800"`, "\"\xff\"",
		`[1,1.0,-0,1e5,1E+5]`, `{"user":"x","model":"m"}`, `{"model":"m"}`,
		`{"x":{"z":[{"b":1,"a":2}]},"y":"<>&"}`, string(request1KB),
	}
	for _, a := range seeds {
		for _, b := range seeds[:4] {
			f.Add([]byte(a), []byte(b))
		}
	}
	skip := func(k []byte) bool { return string(k) == "user" }
	refSkip := func(k string) bool { return k == "user" }
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ca, errA := canonical(string(a), skip)
		if valid := json.Valid(a); valid != (errA == nil) {
			t.Fatalf("%q: json.Valid %v, canonical error %v", a, valid, errA)
		}
		if errA != nil {
			return
		}
		refA, dupsA, err := refCanonical(a, refSkip)
		require.NoError(t, err)
		if !json.Valid([]byte(ca)) {
			t.Fatalf("%q: canonical form %q is not valid JSON", a, ca)
		}
		if lossy(a) {
			return
		}
		// The canonical form is a spelling of the same value.
		refCa, _, err := refCanonical([]byte(ca), refSkip)
		require.NoError(t, err)
		require.Equal(t, refA, refCa, "%q: canonical form %q is another value", a, ca)
		// Re-spellings of a keep its canonical form.
		if !dupsA {
			dec := json.NewDecoder(bytes.NewReader(a))
			dec.UseNumber()
			var v any
			require.NoError(t, dec.Decode(&v))
			marshalled, err := json.Marshal(v)
			require.NoError(t, err)
			var sb strings.Builder
			asciiEncode(&sb, v)
			for _, r := range []string{string(marshalled), sb.String()} {
				cr, err := canonical(r, skip)
				require.NoError(t, err, "%q", r)
				require.Equal(t, ca, cr, "%q and its re-spelling %q", a, r)
			}
		}
		// Against a second document: same value iff same canonical form.
		if lossy(b) || !json.Valid(b) {
			return
		}
		cb, err := canonical(string(b), skip)
		require.NoError(t, err)
		refB, _, err := refCanonical(b, refSkip)
		require.NoError(t, err)
		if (refA == refB) != (ca == cb) {
			t.Fatalf("%q and %q: reference equal %v, canonical equal %v (%q, %q)", a, b, refA == refB, ca == cb, ca, cb)
		}
	})
}

// BenchmarkCanonical1KB measures the canonical form of a 1 KB chat request
// hashed with SHA-256, as the cache computes its keys, next to hashing the
// raw bytes alone.
func BenchmarkCanonical1KB(b *testing.B) {
	skip := func(k []byte) bool {
		switch string(k) {
		case "stream_options", "metadata", "user", "store", "service_tier":
			return true
		}
		return false
	}
	h := sha256.New()
	var sum [sha256.Size]byte
	b.Run("sha256-raw", func(b *testing.B) {
		b.SetBytes(int64(len(request1KB)))
		b.ReportAllocs()
		for b.Loop() {
			h.Reset()
			h.Write(request1KB)
			h.Sum(sum[:0])
		}
	})
	b.Run("canonical-discard", func(b *testing.B) {
		var c Canonicalizer
		b.SetBytes(int64(len(request1KB)))
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Write(io.Discard, request1KB, skip); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("canonical-sha256", func(b *testing.B) {
		var c Canonicalizer
		b.SetBytes(int64(len(request1KB)))
		b.ReportAllocs()
		for b.Loop() {
			h.Reset()
			if err := c.Write(h, request1KB, skip); err != nil {
				b.Fatal(err)
			}
			h.Sum(sum[:0])
		}
	})
	b.Run("WriteCanonical-sha256", func(b *testing.B) {
		b.SetBytes(int64(len(request1KB)))
		b.ReportAllocs()
		for b.Loop() {
			h.Reset()
			if err := WriteCanonical(h, request1KB, skip); err != nil {
				b.Fatal(err)
			}
			h.Sum(sum[:0])
		}
	})
}
