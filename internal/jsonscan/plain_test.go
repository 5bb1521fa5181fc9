package jsonscan

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// plainTestInputs returns runs of whitespace (spaces above all, as
// indentation) and other bytes, of every length around the word size.
func plainTestInputs(n int) [][]byte {
	pieces := []string{" ", "  ", "        ", "\n", "\t", "\r", "\r\n", "\n      ", "\"", "\\", "a", "{", "}", ":", ",", "1", "\x00", "\x0b", "\x0c", "!", "\xff", "é"}
	r := rand.New(rand.NewPCG(3, 4))
	var out [][]byte
	for _, p := range pieces {
		for k := range 20 {
			out = append(out, bytes.Repeat([]byte(p), k))
		}
	}
	for range n {
		var b []byte
		for k := r.IntN(16); k >= 0; k-- {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		out = append(out, b)
	}
	return out
}

func TestSkipIndentStopsWhereSkipSpaceDoes(t *testing.T) {
	for _, data := range plainTestInputs(5000) {
		for i := 0; i <= len(data); i++ {
			if !assert.Equal(t, SkipSpace(data, i), SkipIndent(data, i), "%q from %d", data, i) {
				return
			}
		}
	}
	// Every byte value after a run of spaces, at each offset in a word.
	for c := range 256 {
		for n := range 20 {
			data := append(bytes.Repeat([]byte(" "), n), byte(c), ' ')
			assert.Equal(t, SkipSpace(data, 0), SkipIndent(data, 0), "%q", data)
		}
	}
}

// plainStringEndWant is PlainStringEnd byte by byte.
func plainStringEndWant(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '"':
			return j + 1
		case '\\':
			return -1
		}
	}
	return -1
}

func TestPlainStringEndEndsAtTheFirstQuoteAndRefusesEscapes(t *testing.T) {
	for _, body := range plainTestInputs(5000) {
		data := append([]byte{'"'}, body...)
		want := plainStringEndWant(data, 0)
		assert.Equal(t, want, PlainStringEnd(data, 0), "%q", data)
		if want > 0 {
			end, err := SkipValue(data, 0)
			assert.NoError(t, err)
			assert.Equal(t, want, end, "where SkipValue ends it: %q", data)
		}
	}
	for c := range 256 {
		for n := range 20 {
			data := append([]byte{'"'}, bytes.Repeat([]byte("k"), n)...)
			data = append(data, byte(c), 'x', '"')
			assert.Equal(t, plainStringEndWant(data, 0), PlainStringEnd(data, 0), "%q", data)
		}
	}
}

func FuzzPlainScans(f *testing.F) {
	f.Add([]byte("\n        \"prompt_tokens\": 21,"), 0)
	f.Add([]byte(`"key\"x": 1`), 0)
	f.Fuzz(func(t *testing.T, data []byte, i int) {
		if i < 0 || i > len(data) {
			return
		}
		if SkipIndent(data, i) != SkipSpace(data, i) {
			t.Fatalf("SkipIndent(%q, %d) = %d, SkipSpace %d", data, i, SkipIndent(data, i), SkipSpace(data, i))
		}
		if got, want := bracketEnd(data, i), bracketEndWant(data, i); got != want {
			t.Fatalf("bracketEnd(%q, %d) = %d, want %d", data, i, got, want)
		}
		if got, want := structuralEnd(data, i), structuralEndWant(data, i); got != want {
			t.Fatalf("structuralEnd(%q, %d) = %d, want %d", data, i, got, want)
		}
		if obj := append([]byte{'{'}, data...); containerEndWant(obj, 0) >= 0 {
			if end, open := containerEnd(obj, 0); end != containerEndWant(obj, 0) || open != 0 {
				t.Fatalf("containerEnd(%q) = %d, %d; want %d, 0", obj, end, open, containerEndWant(obj, 0))
			}
		}
		a, aok := PlainString(data)
		if b, bok := String(data); aok != bok || string(a) != string(b) {
			t.Fatalf("PlainString(%q) = %q, %v; String %q, %v", data, a, aok, b, bok)
		}
		if i < len(data) && data[i] == '"' && PlainStringEnd(data, i) != plainStringEndWant(data, i) {
			t.Fatalf("PlainStringEnd(%q, %d) = %d, want %d", data, i, PlainStringEnd(data, i), plainStringEndWant(data, i))
		}
	})
}

// structuralEndWant is structuralEnd byte by byte.
func structuralEndWant(p []byte, i int) int {
	for i < len(p) && !structural[p[i]] {
		i++
	}
	return i
}

// bracketEndWant is bracketEnd byte by byte.
func bracketEndWant(p []byte, i int) int {
	for i < len(p) {
		switch p[i] {
		case '{', '}', '[', ']':
			return i
		case '"':
			j := i + 1
			for j < len(p) && p[j] != '"' {
				if p[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(p) {
				return i // not closed in p
			}
			i = j + 1
			continue
		}
		i++
	}
	return len(p)
}

// bracketEnd stops at the first bracket outside strings, or at a string
// that does not end, as a walk byte by byte does.
func TestBracketEndStopsAtTheFirstBracketOutsideStrings(t *testing.T) {
	pieces := []string{`"`, `\`, `\"`, `"a"`, `"a\"b"`, "{", "}", "[", "]", " ", ",", ":", "1", "null", "        ", "\n", strings.Repeat("-0.0123,", 5)}
	r := rand.New(rand.NewPCG(5, 6))
	for range 50000 {
		var p []byte
		for k := r.IntN(12); k >= 0; k-- {
			p = append(p, pieces[r.IntN(len(pieces))]...)
		}
		for i := 0; i <= len(p); i++ {
			if !assert.Equal(t, bracketEndWant(p, i), bracketEnd(p, i), "%q from %d", p, i) {
				return
			}
		}
	}
}

// structuralEnd stops where the loop over structural does: at every byte
// value, at every offset in and around the words, after runs of every
// length.
func TestStructuralEndStopsAtTheFirstQuoteOrBracket(t *testing.T) {
	want := structuralEndWant
	for c := range 256 {
		for n := range 40 {
			p := append(bytes.Repeat([]byte(" 1,"), n)[:n], byte(c), '"')
			for i := 0; i <= len(p); i++ {
				if !assert.Equal(t, want(p, i), structuralEnd(p, i), "%q from %d", p, i) {
					return
				}
			}
		}
	}
	for _, p := range plainTestInputs(5000) {
		assert.Equal(t, want(p, 0), structuralEnd(p, 0), "%q", p)
	}
}

// scalarEnd stops at the first byte Capturer.Write's switch has a case
// for, which is where its byte-by-byte walk would next do something.
func TestScalarEndStopsAtTheFirstByteWriteActsOn(t *testing.T) {
	acts := func(b byte) bool {
		switch b {
		case '"', '{', '}', '[', ']', ',', ':', ' ', '\t', '\n', '\r':
			return true
		}
		return false
	}
	for _, data := range plainTestInputs(2000) {
		for i := 0; i <= len(data); i++ {
			want := i
			for want < len(data) && !acts(data[want]) {
				want++
			}
			if !assert.Equal(t, want, scalarEnd(data, i), "%q from %d", data, i) {
				return
			}
		}
	}
}

// containerEndWant is containerEnd byte by byte: brackets counted
// outside strings, escapes followed.
func containerEndWant(p []byte, i int) int {
	depth := 0
	for ; i < len(p); i++ {
		switch p[i] {
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		case '"':
			for i++; i < len(p) && p[i] != '"'; i++ {
				if p[i] == '\\' {
					i++
				}
			}
			if i >= len(p) {
				return -1
			}
		}
	}
	return -1
}

// containerEnd closes a container where counting its brackets outside
// strings does, or stops where the walk would, with the brackets open.
func TestContainerEndClosesWhereCountingBracketsDoes(t *testing.T) {
	pieces := []string{`"`, `\`, `\"`, `"a"`, `"a\"b]"`, "{", "}", "[", "]", " ", ",", ":", "1", "null", "        ", "\n", `"` + strings.Repeat("x", 40) + `"`}
	r := rand.New(rand.NewPCG(7, 8))
	for range 50000 {
		p := []byte{"{["[r.IntN(2)]}
		for k := r.IntN(14); k >= 0; k-- {
			p = append(p, pieces[r.IntN(len(pieces))]...)
		}
		end, open := containerEnd(p, 0)
		if want := containerEndWant(p, 0); want >= 0 {
			if !assert.Equal(t, []int{want, 0}, []int{end, open}, "%q", p) {
				return
			}
			continue
		}
		// Open: where the walk stops, and the brackets it counted.
		stop, depth := 0, 0
		for stop < len(p) {
			if stop = bracketEnd(p, stop); stop == len(p) || p[stop] == '"' {
				break
			}
			if p[stop] == '{' || p[stop] == '[' {
				depth++
			} else {
				depth--
			}
			stop++
		}
		if !assert.Equal(t, []int{stop, depth}, []int{end, open}, "%q", p) {
			return
		}
	}
}

// PlainString reads every value as String does: strings plain and
// escaped, ASCII and not, valid UTF-8 and not, and values that are not
// strings.
func TestPlainStringReadsWhatStringReads(t *testing.T) {
	var values []string
	for _, s := range fastTestStrings(3000) {
		values = append(values, `"`+s+`"`)
	}
	for _, s := range fastTestEveryByte(strings.Repeat("m", 24)) {
		values = append(values, `"`+s+`"`)
	}
	values = append(values, ``, `"`, `x`, `"a`, `a"`, `null`, `12`, `"a"b"`, `""`)
	for _, v := range values {
		want, wok := String([]byte(v))
		got, ok := PlainString([]byte(v))
		if !assert.Equal(t, wok, ok, "%q", v) || !assert.Equal(t, string(want), string(got), "%q", v) {
			return
		}
	}
}
