package jsonscan

import (
	"encoding/binary"
	"math/bits"
)

// SkipIndent returns the index of the first non-whitespace byte at or
// after i, as SkipSpace does, for pretty-printed JSON: after a
// whitespace byte it looks at the next eight at once, so that a run of
// spaces (the indentation of an answer written with indent, as OpenAI
// writes its JSON answers) costs a word compare per eight bytes, not a
// branch per byte. A lone space (": ") or no space at all costs a
// compare or two.
func SkipIndent(data []byte, i int) int {
	for i < len(data) {
		// One compare for the byte after a key or a value, most often
		// punctuation (no whitespace is above ' ').
		if c := data[i]; c > ' ' || spaceBits>>c&1 == 0 {
			return i
		}
		if i++; i < len(data) && data[i] > ' ' {
			return i // a lone space, as after a colon
		}
		for len(data)-i >= 8 {
			// The lanes that are not a space are the non-zero bytes of
			// y: the lowest is exact (no borrows, unlike swarEq).
			y := binary.LittleEndian.Uint64(data[i:]) ^ swarOnes*' '
			if y != 0 {
				i += bits.TrailingZeros64(y) >> 3
				break
			}
			i += 8
		}
	}
	return i
}

// spaceBits has bit c set for each JSON whitespace byte c.
const spaceBits uint64 = 1<<' ' | 1<<'\t' | 1<<'\n' | 1<<'\r'

// PlainStringEnd returns the index just past the string that starts at
// data[i] (a quote) when it holds no backslash, and -1 when it holds one
// or is not closed: for a reader that compares keys as they are spelled
// and leaves escaped ones to a decoding reader (Members). It looks at
// eight bytes at a time: keys are a word or three long, where a call to
// bytes.IndexByte costs more than the search.
func PlainStringEnd(data []byte, i int) int {
	j := i + 1
	for len(data)-j >= 8 {
		x := binary.LittleEndian.Uint64(data[j:])
		if m := swarQuoteOrBackslash(x); m != 0 {
			k := j + bits.TrailingZeros64(m)>>3
			if data[k] == '"' {
				return k + 1
			}
			return -1
		}
		j += 8
	}
	for ; j < len(data); j++ {
		switch data[j] {
		case '"':
			return j + 1
		case '\\':
			return -1
		}
	}
	return -1
}

// bracketEnd returns the index of the first bracket at or after i that
// is not in a string, or of the opening quote of a string that does not
// end in p, or len(p): the Capturer's skip through a value it does not
// look into, where only brackets (its depth) matter. It looks at eight
// bytes at a time, in strings and between them, in one loop: a skipped
// value (a message, a usage object's details) is mostly short keys and
// values, where a call per string and per run between strings costs
// more than the search. A long run of text in a string (a message's
// content) goes to the next quote at memory speed.
func bracketEnd(p []byte, i int) int {
	for len(p)-i >= 8 {
		x := binary.LittleEndian.Uint64(p[i:])
		l := x | swarOnes*0x20
		m := swarEq(x, '"') | swarEq(l, '{') | swarEq(l, '}')
		if m == 0 {
			i += 8
			continue
		}
		k := i + bits.TrailingZeros64(m)>>3
		if p[k] != '"' {
			return k
		}
		if i = stringEnd(p, k); i < 0 {
			return k
		}
	}
	for {
		for i < len(p) && !structural[p[i]] {
			i++
		}
		if i == len(p) || p[i] != '"' {
			return i
		}
		end := StringEnd(p, i)
		if end < 0 {
			return i
		}
		i = end
	}
}

// structuralEnd returns the index of the first byte at or after i that
// structural holds (a quote or a bracket), or len(p), eight bytes at a
// time. Brackets are found as the two lower case ones in x|0x20, which
// maps '[' and ']' (and only them) onto '{' and '}'.
func structuralEnd(p []byte, i int) int {
	for len(p)-i >= 8 {
		x := binary.LittleEndian.Uint64(p[i:])
		l := x | swarOnes*0x20
		if m := swarEq(x, '"') | swarEq(l, '{') | swarEq(l, '}'); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(p) && !structural[p[i]] {
		i++
	}
	return i
}

// scalarEnd returns the index of the first byte at or after i that
// Capturer.Write does something with (whitespace, punctuation, a quote,
// a bracket), or len(p): the end of a scalar's bytes, which are read
// whole when it starts.
func scalarEnd(p []byte, i int) int {
	for i < len(p) && !tokenByte[p[i]] {
		i++
	}
	return i
}

// tokenByte marks the bytes that end a scalar in Capturer.Write.
var tokenByte = [256]bool{
	'"': true, '{': true, '}': true, '[': true, ']': true, ',': true, ':': true,
	' ': true, '\t': true, '\n': true, '\r': true,
}

// containerEnd returns the index past the object or array that starts
// at p[i] (a bracket), where the Capturer's walk would close it, and 0;
// or, when it does not close in p, where the walk would next stop (the
// end of p, or the opening quote of a string that goes on past it) and
// how many brackets are open there. As the walk, it counts brackets, not
// their kinds: ']' closes '{' as well.
func containerEnd(p []byte, i int) (end, open int) {
	depth := 1
	for i++; ; i++ {
		if i = bracketEnd(p, i); i == len(p) || p[i] == '"' {
			return i, depth
		}
		if p[i] == '{' || p[i] == '[' {
			depth++
		} else if depth--; depth == 0 {
			return i + 1, 0
		}
	}
}

// PlainString is String for the short string values of an answer (a
// model, an id, a finish reason): contents of ASCII without escapes,
// the usual case, are returned in one pass over their words, where String
// calls a search for a backslash and a UTF-8 check; anything else is
// String's to read.
func PlainString(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return String(v)
	}
	body := v[1 : len(v)-1]
	i := 0
	for ; len(body)-i >= 8; i += 8 {
		x := binary.LittleEndian.Uint64(body[i:])
		if x&swarHighs != 0 || swarEq(x, '\\') != 0 {
			return String(v)
		}
	}
	for ; i < len(body); i++ {
		if body[i] >= 0x80 || body[i] == '\\' {
			return String(v)
		}
	}
	return body, true
}
