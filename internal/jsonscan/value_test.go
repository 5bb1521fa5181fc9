package jsonscan

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzString: String reads a JSON string as encoding/json does, invalid
// UTF-8 replaced byte by byte with U+FFFD.
func FuzzString(f *testing.F) {
	for _, s := range []string{`"abc"`, "\"a\xffb\"", `"\u00e9\ud800x"`, "\"\xe2\x82\"", `"\"\\\/"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		var want string
		if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' || json.Unmarshal(v, &want) != nil {
			return // the scanner hands String raw values, never padded
		}
		got, ok := String(v)
		require.True(t, ok, "%q", v)
		require.Equal(t, want, string(got), "%q", v)
		require.True(t, utf8.Valid(got))
	})
}

// quoteOracle is what the providers' encoders write for s, one character
// at a time: only what JSON requires escaped (\n, \r, \t, '"', '\\'
// by name, other control bytes as \u00XX), each invalid UTF-8 byte as
// \ufffd. It is checked against encoding/json's reading below.
func quoteOracle(t testing.TB, s string) string {
	t.Helper()
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	var back string
	require.NoError(t, json.Unmarshal([]byte(b.String()), &back))
	want, _ := json.Marshal(s) // encoding/json's reading of s: invalid bytes as U+FFFD
	var wantBack string
	require.NoError(t, json.Unmarshal(want, &wantBack))
	require.Equal(t, wantBack, back, "the oracle writes what encoding/json reads back")
	return b.String()
}

// AppendQuoteNoHTML escapes every byte as the oracle does wherever it
// stands: on the eight-bytes-at-a-time path, at its edges, and off it.
func TestAppendQuoteNoHTMLEveryByteEverywhere(t *testing.T) {
	base := "The quick brown fox jumps over the lazy dog, twice over."
	for c := 0; c < 256; c++ {
		for _, at := range []int{0, 1, 7, 8, 9, 15, 16, 17, 40, len(base)} {
			s := base[:at] + string([]byte{byte(c)}) + base[at:]
			require.Equal(t, quoteOracle(t, s), string(AppendQuoteNoHTML(nil, s)), "byte %#x at %d", c, at)
		}
	}
	for _, s := range []string{"", "a", "12345678", "1234567\"", "12345678\\", "1234567\x80", "é à ü 漢字 🙂 and more ASCII after it",
		"\u2028\u2029<>&", "invalid \xff\xfe bytes", "\xe6\x97", "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"} {
		assert.Equal(t, quoteOracle(t, s), string(AppendQuoteNoHTML(nil, s)), "%q", s)
		assert.Equal(t, "x"+quoteOracle(t, s), string(AppendQuoteNoHTML([]byte("x"), s)), "%q after a prefix", s)
	}
}

func FuzzAppendQuoteNoHTML(f *testing.F) {
	for _, s := range []string{"", "plain ASCII text, long enough for two words", "tab\tquote\"back\\slash é \xff", "12345678\"abcdefgh", "\u2028 <&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(AppendQuoteNoHTML(nil, s)), quoteOracle(t, s); got != want {
			t.Fatalf("%q: %s, want %s", s, got, want)
		}
	})
}
