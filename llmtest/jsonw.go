package llmtest

import (
	"bytes"
	"strconv"
	"sync"
)

// The bodies are built by appending to a byte slice: encoding/json would
// cost more than the gateway layers the benchmarks measure against it.

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// appendPadded appends n in decimal, left-padded with zeros to width digits.
func appendPadded(b []byte, n uint64, width int) []byte {
	var tmp [20]byte
	d := strconv.AppendUint(tmp[:0], n, 10)
	for i := len(d); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

// jsonStyle is how a provider lays out its JSON.
type jsonStyle uint8

const (
	styleCompact    jsonStyle = iota // {"a":1,"b":[2]}: SSE data, Anthropic bodies
	styleColonSpace                  // {"a": 1,"b": [2]}: Gemini's SSE chunks
	styleIndent2                     // two-space indented: OpenAI and Gemini bodies
	styleIndent4                     // four-space indented: OpenAI error bodies
)

// appendStyled appends the compact JSON src laid out in style. src must be
// compact JSON as this package builds it (no whitespace outside strings).
func appendStyled(dst, src []byte, style jsonStyle) []byte {
	if style == styleCompact {
		return append(dst, src...)
	}
	unit := 0
	switch style {
	case styleIndent2:
		unit = 2
	case styleIndent4:
		unit = 4
	}
	depth := 0
	newline := func(b []byte) []byte {
		if unit == 0 {
			return b
		}
		b = append(b, '\n')
		for j := 0; j < depth*unit; j++ {
			b = append(b, ' ')
		}
		return b
	}
	start := 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			i = stringEnd(src, i) - 1
		case '{', '[':
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				i++ // empty: {} and [] stay on one line
				continue
			}
			dst = append(dst, src[start:i+1]...)
			depth++
			dst = newline(dst)
			start = i + 1
		case '}', ']':
			dst = append(dst, src[start:i]...)
			depth--
			dst = newline(dst)
			dst = append(dst, c)
			start = i + 1
		case ',':
			dst = append(dst, src[start:i+1]...)
			dst = newline(dst)
			start = i + 1
		case ':':
			dst = append(dst, src[start:i+1]...)
			dst = append(dst, ' ')
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
}

// stringEnd returns the index just after the JSON string starting at
// src[i] (a quote), or len(src) when it is unterminated.
func stringEnd(src []byte, i int) int {
	for j := i + 1; ; {
		q := bytes.IndexByte(src[j:], '"')
		if q < 0 {
			return len(src)
		}
		q += j
		bs := 0
		for k := q - 1; k > i && src[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
}

// scratch holds the compact form of bodies that go out indented.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// styled builds compact JSON with build, in a pooled buffer, and returns
// it laid out in style, in a buffer of its own.
func styled(style jsonStyle, build func(b []byte) []byte) []byte {
	sp := scratch.Get().(*[]byte)
	b := build((*sp)[:0])
	out := appendStyled(make([]byte, 0, len(b)+len(b)/2+256), b, style)
	if cap(b) <= 64<<10 {
		*sp = b[:0]
		scratch.Put(sp)
	}
	return out
}
