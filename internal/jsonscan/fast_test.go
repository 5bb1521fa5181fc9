package jsonscan

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastTestPieces are what the word-at-a-time loops must stop at, or must
// not: quotes, backslashes (runs of them), escapes good and bad,
// surrogates, control bytes, multi-byte and invalid UTF-8.
var fastTestPieces = []string{
	"a", "plain text ", "12345678", `"`, `\`, `\\`, `\\\`, `\"`, `\n`, `\t`, `\/`, `\b`, `\f`, `\r`,
	`\u0041`, `\u00e9`, `\u20AC`, `\ud83d\ude00`, `\ud800`, `\udc00`, `\ud800\u0041`, `\ud800\ud800\udc00`,
	`\u12`, `\x`, `\u00G1`, "\x00", "\x1f", "\t", "\n", "\x7f", "é", "漢", "🙂", "\xff", "\xe6\x97", "\xed\xa0\x80",
	"\u2028", "<>&", "\xef\xbf\xbd",
}

// fastTestStrings returns n random strings made of fastTestPieces.
func fastTestStrings(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]string, 0, n+len(fastTestPieces))
	out = append(out, fastTestPieces...)
	for range n {
		var b bytes.Buffer
		for k := r.IntN(12); k >= 0; k-- {
			b.WriteString(fastTestPieces[r.IntN(len(fastTestPieces))])
		}
		out = append(out, b.String())
	}
	return out
}

// fastTestEveryByte returns base with each byte value at each of the
// offsets that sit on and around the word boundaries.
func fastTestEveryByte(base string) []string {
	var out []string
	for c := 0; c < 256; c++ {
		for _, at := range []int{0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, len(base)} {
			if at <= len(base) {
				out = append(out, base[:at]+string([]byte{byte(c)})+base[at:])
			}
		}
	}
	return out
}

func checkStringEnd(t *testing.T, data []byte, i int) {
	t.Helper()
	want, err := SkipValue(data, i)
	if err != nil {
		want = -1
	}
	require.Equal(t, want, StringEnd(data, i), "%q at %d", data, i)
}

// StringEnd ends a string where SkipValue does, whatever it holds, closed
// or not.
func TestStringEndEndsWhereSkipValueDoes(t *testing.T) {
	bodies := append(fastTestStrings(3000), fastTestEveryByte("The quick brown fox jumps")...)
	for _, body := range bodies {
		for _, pre := range []string{"", "x", "1234567"} {
			data := []byte(pre + `"` + body)
			// Closed, followed by more JSON, and cut anywhere.
			checkStringEnd(t, append(bytes.Clone(data), `"`...), len(pre))
			checkStringEnd(t, append(bytes.Clone(data), `","next":"value"}`...), len(pre))
			for cut := len(pre) + 1; cut <= len(data); cut += 3 {
				checkStringEnd(t, data[:cut], len(pre))
			}
		}
	}
}

// PlainLen stops at the first backslash or byte beyond ASCII, wherever
// it falls against the words.
func TestPlainLenStopsAtTheFirstEscapeOrNonASCII(t *testing.T) {
	for _, s := range append(fastTestStrings(3000), fastTestEveryByte("The quick brown fox jumps")...) {
		want := 0
		for want < len(s) && s[want] != '\\' && s[want] < utf8.RuneSelf {
			want++
		}
		require.Equal(t, want, PlainLen([]byte(s)), "%q", s)
	}
}

// AppendText appends what String returns, after whatever dst holds, for
// every mix of escapes and UTF-8; on an invalid escape it returns dst as
// it came, as String refuses it.
func TestAppendTextReadsWhatStringReads(t *testing.T) {
	bodies := append(fastTestStrings(5000), fastTestEveryByte(`say \"hi\" to é`)...)
	bodies = append(bodies, fastTestEveryByte(`The quick brown fox jumps over the lazy dog, twice over`)...)
	for _, body := range bodies {
		v := []byte(`"` + body + `"`)
		want, wantOK := String(v)
		got, ok := AppendText([]byte("prefix"), v)
		require.Equal(t, wantOK, ok, "%q", v)
		if !ok {
			require.Equal(t, "prefix", string(got), "%q", v)
			continue
		}
		require.Equal(t, "prefix"+string(want), string(got), "%q", v)
	}
	for _, v := range []string{``, `"`, `x`, `"a`, `a"`, `1`} {
		got, ok := AppendText([]byte("p"), []byte(v))
		assert.False(t, ok, v)
		assert.Equal(t, "p", string(got), v)
	}
}

func TestAppendTextAllocatesNothingInABufferThatFits(t *testing.T) {
	v := []byte(`"{\"city\": \"Paris\", \"note\": \"caf\u00e9 \ud83d\ude00\"} and ` + "\xff\"")
	buf := make([]byte, 0, 256)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		if _, ok := AppendText(buf[:0], v); !ok {
			t.Fatal("not read")
		}
	}))
}

// AppendQuoteFast writes what AppendQuoteNoHTML writes, for every byte
// at every place against the words, and for every mix of what needs
// escaping.
func TestAppendQuoteFastWritesWhatAppendQuoteNoHTMLWrites(t *testing.T) {
	ss := append(fastTestStrings(5000), fastTestEveryByte(`{"city": "Paris", "days": 7}`)...)
	ss = append(ss, "", "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk")
	for _, s := range ss {
		require.Equal(t, string(AppendQuoteNoHTML(nil, s)), string(AppendQuoteFast(nil, s)), "%q", s)
		require.Equal(t, string(AppendQuoteNoHTML([]byte("x"), s)), string(AppendQuoteFast([]byte("x"), s)), "%q after a prefix", s)
	}
}

// swarQuoteStop's lowest flag is the first byte AppendQuoteFast must
// look at, for every pair of neighbouring bytes (a byte beyond ASCII
// carries into the one above it) at every place in the word.
func TestSwarQuoteStopFlagsTheFirstByteToLookAt(t *testing.T) {
	look := func(c byte) bool { return c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf }
	for a := range 256 {
		for b := range 256 {
			for at := range 7 {
				w := []byte("plainASC")
				w[at], w[at+1] = byte(a), byte(b)
				want := -1
				for i, c := range w {
					if look(c) {
						want = i
						break
					}
				}
				got := -1
				if m := swarQuoteStop(binary.LittleEndian.Uint64(w)); m != 0 {
					got = bits.TrailingZeros64(m) >> 3
				}
				if got != want {
					t.Fatalf("%q: first flag %d, want %d", w, got, want)
				}
			}
		}
	}
}

// fastTestValues are JSON values, nested, spaced, and broken.
var fastTestValues = []string{
	`{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","minimum":1,"maximum":14}},"required":["city"]}`,
	` { "a" : [ 1 , -2.5e3 , true , false , null , "x\"y" , { } , [ ] ] , "b" : { "c" : { } } } `,
	`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	`{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":[]}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}`,
	`"plain"`, `0`, `-0`, `12`, `01`, `1.`, `1e5`, `-`, `tru`, `nul`, `nulll`, `{`, `[`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`,
	`{"a":1 "b":2}`, `{1:2}`, `{"a" 1}`, `"abc`, `{"a":"b"`, `[{"a":[{"b":"\u00e9"}]}]`, `x`, ``,
}

// ValueEnd ends a value where SkipValue does, and fails where it fails,
// spaced or nested past its own depth, whole or cut or changed anywhere.
func TestValueEndEndsWhereSkipValueDoes(t *testing.T) {
	check := func(data []byte) {
		t.Helper()
		requireValueEndAsSkipValue(t, data)
	}
	for _, n := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
		check([]byte(strings.Repeat(`[{"a":`, n/2) + strings.Repeat(`[`, n%2) + `1` + strings.Repeat(`]`, n%2) + strings.Repeat(`}]`, n/2)))
		check([]byte(strings.Repeat(`[`, n) + strings.Repeat(`]`, n)))
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	const alphabet = "{}[]\",: \\0-1.eEtrufalsn\xff"
	for _, v := range fastTestValues {
		check([]byte(v))
		check([]byte(v + ",next"))
		for cut := 0; cut < len(v); cut++ {
			check([]byte(v[:cut]))
		}
		for range 300 {
			b := []byte(v)
			if len(b) == 0 {
				break
			}
			b[rnd.IntN(len(b))] = alphabet[rnd.IntN(len(alphabet))]
			check(b)
		}
	}
}

func FuzzValueEnd(f *testing.F) {
	for _, v := range fastTestValues {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		data := []byte(v)
		want, err := SkipValue(data, 0)
		if err != nil {
			want = -1
		}
		if got := ValueEnd(data, 0); got != want {
			t.Fatalf("%q: %d, want %d", v, got, want)
		}
	})
}

func FuzzStringEnd(f *testing.F) {
	for _, s := range fastTestPieces {
		f.Add(`"` + s + `"`)
	}
	f.Add(`"12345678\"abcdefgh\\"tail`)
	f.Fuzz(func(t *testing.T, s string) {
		data := []byte(`"` + s)
		checkStringEnd(t, data, 0)
	})
}

func FuzzAppendText(f *testing.F) {
	for _, s := range fastTestPieces {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		v := []byte(`"` + body + `"`)
		want, wantOK := String(v)
		got, ok := AppendText([]byte("p"), v)
		if ok != wantOK || ok && string(got) != "p"+string(want) || !ok && string(got) != "p" {
			t.Fatalf("%q: %q %v, want %q %v", v, got, ok, want, wantOK)
		}
	})
}

func FuzzAppendQuoteFast(f *testing.F) {
	for _, s := range fastTestPieces {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(AppendQuoteFast(nil, s)), string(AppendQuoteNoHTML(nil, s)); got != want {
			t.Fatalf("%q: %s, want %s", s, got, want)
		}
	})
}

func BenchmarkFastPaths(b *testing.B) {
	args := `{\"city\": \"Paris\", \"days\": 7, \"units\": \"metric\"}`
	text := "Mild: highs around 18-20°C with little rain early in the week. The Fête de la Musique is on Saturday."
	b.Run("StringEnd", func(b *testing.B) {
		data := []byte(`"` + args + `"`)
		for b.Loop() {
			StringEnd(data, 0)
		}
	})
	b.Run("PlainLen", func(b *testing.B) {
		data := []byte(text)
		for b.Loop() {
			PlainLen(data)
		}
	})
	b.Run("SkipValue", func(b *testing.B) {
		data := []byte(`"` + args + `"`)
		for b.Loop() {
			_, _ = SkipValue(data, 0)
		}
	})
	b.Run("AppendText", func(b *testing.B) {
		v, buf := []byte(`"`+args+`"`), make([]byte, 0, 256)
		for b.Loop() {
			AppendText(buf[:0], v)
		}
	})
	b.Run("AppendString", func(b *testing.B) {
		v, buf := []byte(`"`+args+`"`), make([]byte, 0, 256)
		for b.Loop() {
			AppendString(buf[:0], v)
		}
	})
	for _, s := range []string{text, `{"city": "Paris", "days": 7, "units": "metric"}`} {
		b.Run("AppendQuoteFast", func(b *testing.B) {
			buf := make([]byte, 0, 256)
			for b.Loop() {
				AppendQuoteFast(buf[:0], s)
			}
		})
		b.Run("AppendQuoteNoHTML", func(b *testing.B) {
			buf := make([]byte, 0, 256)
			for b.Loop() {
				AppendQuoteNoHTML(buf[:0], s)
			}
		})
	}
}

// Plain agrees with a byte-by-byte reading for every byte value at every
// place of bodies from 0 to 17 bytes long (a word, a word and a tail, the
// tail read again as the last word).
func TestPlainMatchesByteLoop(t *testing.T) {
	byByte := func(b []byte) bool {
		for _, c := range b {
			if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
				return false
			}
		}
		return true
	}
	for n := 0; n <= 17; n++ {
		b := bytes.Repeat([]byte("a"), n)
		require.True(t, Plain(b), "%d plain bytes", n)
		for at := range n {
			for c := range 256 {
				b[at] = byte(c)
				if got, want := Plain(b), byByte(b); got != want {
					t.Fatalf("Plain(%q) = %v, want %v", b, got, want)
				}
			}
			b[at] = 'a'
		}
	}
}

// valueEnd keeps the kind of each open container as one bit of a word:
// every closing bracket must match its own opener, at every depth up to
// and past quickDepth, closed well, with the other kind, or cut short.
func TestValueEndMatchesEachBracketToItsOpener(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	check := func(data []byte) {
		t.Helper()
		want, err := requireValueEndAsSkipValue(t, data)
		// Inside an object, as Members reads its values (one level down).
		doc := append(append([]byte(`{"k":`), data...), '}')
		it := Members(doc)
		for it.Next() {
		}
		assert.Equal(t, err == nil && want == len(data), it.Err() == nil, "%q", doc)
	}
	for depth := 1; depth <= quickDepth+3; depth++ {
		for range 40 {
			objects := make([]bool, depth)
			var open strings.Builder
			for d := range depth {
				objects[d] = rnd.IntN(2) == 0
				if objects[d] {
					open.WriteString(`{"a":`)
				} else {
					open.WriteString(`[0,`)
				}
			}
			closers := func(wrongAt int) string {
				var b strings.Builder
				for d := depth - 1; d >= 0; d-- {
					if objects[d] != (d == wrongAt) {
						b.WriteByte('}')
					} else {
						b.WriteByte(']')
					}
				}
				return b.String()
			}
			check([]byte(open.String() + `"v"` + closers(-1)))
			check([]byte(open.String() + `"v"` + closers(rnd.IntN(depth))))
			whole := open.String() + `"v"` + closers(-1)
			check([]byte(whole[:rnd.IntN(len(whole))]))
		}
	}
}

// skipKey reads a key a word at a time: it ends it where skipString does
// and tells an escaped key from a plain one, whatever the key's length
// and wherever its first quote or backslash falls in a word, closed or cut.
func TestSkipKeyEndsWhereSkipStringDoes(t *testing.T) {
	bodies := append(fastTestStrings(500), fastTestEveryByte("abcdefghijklmnopqrstuvwxyz0123456789")...)
	for _, body := range bodies {
		for _, tail := range []string{`":1}`, `"`, ``, `\`, `\"`} {
			data := []byte(`{"` + body + tail)
			for cut := len(data); cut >= 2; cut -= 1 + len(data)/16 {
				d := data[:cut]
				end, escaped, err := skipKey(d, 1)
				wantEnd, wantErr := skipString(d, 1)
				require.Equal(t, wantErr == nil, err == nil, "%q", d)
				if err != nil {
					continue
				}
				require.Equal(t, wantEnd, end, "%q", d)
				assert.Equal(t, bytes.IndexByte(d[2:end-1], '\\') >= 0, escaped, "%q", d)
			}
		}
	}
}

// StringEnd reads words without a bounds check of their own: an index
// before the data panics, as the slicing it replaced did, rather than
// reading memory that is not data's.
func TestStringEndPanicsBeforeTheData(t *testing.T) {
	data := []byte(`"a long enough string to read in words"`)
	for _, i := range []int{-2, -9, -100} {
		assert.Panics(t, func() { StringEnd(data, i) }, "%d", i)
	}
	assert.Equal(t, len(data), StringEnd(data, 0))
}

// requireValueEndAsSkipValue fails t unless ValueEnd ends the value at
// the start of data where SkipValue does, or fails where it fails (-1),
// and returns what SkipValue said.
func requireValueEndAsSkipValue(t *testing.T, data []byte) (int, error) {
	t.Helper()
	want, err := SkipValue(data, 0)
	if err != nil {
		want = -1
	}
	require.Equal(t, want, ValueEnd(data, 0), "%q", data)
	return want, err
}
