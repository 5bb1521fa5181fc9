// Package jsonscan reads JSON by hand, without allocating, for the few
// fields the gateway needs on its hot path (model, stream, usage ...).
//
// encoding/json needs about 2.6 µs just to validate 1 KB; the scanner here
// walks the same kilobyte in a fraction of that because it skips strings with
// bytes.IndexByte and never builds values. It checks structure (brackets,
// commas, colons, literals, the shape of numbers) but not the contents of
// strings: invalid UTF-8 or a bad escape inside a string is accepted, which is
// what a gateway that only reads a few fields and passes the body on wants.
//
// Object keys are read as the decoders providers and SDKs use read them
// (Python's json, Go's encoding/json, JavaScript's JSON.parse): by their
// decoded value ("str\u0065am" is "stream"), case included, and the last of
// duplicate keys wins. Reading a key differently from the provider would let
// a request say one thing to the gateway and another to the upstream.
//
// Values are raw byte slices into the caller's data; helpers (Int, String,
// Bool, IsNull) interpret them. Capturer follows a body fed in pieces and
// keeps only chosen top-level members.
package jsonscan

import (
	"bytes"
	"errors"
	"strconv"
)

// ErrSyntax is wrapped by every error this package reports about malformed
// JSON; a body that ends early is malformed too.
var ErrSyntax = errors.New("jsonscan: invalid JSON")

// SyntaxError reports malformed JSON and the byte offset where it was found.
type SyntaxError struct {
	Offset int
	Msg    string
}

// Error returns the message with its offset.
func (e *SyntaxError) Error() string {
	return "jsonscan: " + e.Msg + " at offset " + strconv.Itoa(e.Offset)
}

// Unwrap returns ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

func syntaxErr(off int, msg string) error { return &SyntaxError{Offset: off, Msg: msg} }

// maxDepth bounds nesting so that hostile input cannot grow the stack
// without limit; real request bodies nest a handful of levels.
const maxDepth = 10000

// SkipSpace returns the index of the first non-whitespace byte at or after i.
func SkipSpace(data []byte, i int) int {
	// Compact JSON has no space at all: one comparison tells the
	// usual byte, above ' ', from the four spaces (all at or below).
	for i < len(data) {
		if c := data[i]; c > ' ' || spaceMask>>c&1 == 0 {
			return i
		}
		i++
	}
	return i
}

// spaceMask has bit c set for the four bytes c JSON reads as space. It is
// a uint64: untyped, shifted by a byte it would be an int, which bit ' '
// overflows where int has 32 bits.
const spaceMask uint64 = 1<<' ' | 1<<'\t' | 1<<'\n' | 1<<'\r'

// SkipValue returns the index just past the JSON value that starts at
// data[i] (leading whitespace allowed), checking its structure.
func SkipValue(data []byte, i int) (int, error) {
	return skipValue(data, SkipSpace(data, i), 0)
}

// Valid reports whether data is exactly one JSON value, surrounded by
// optional whitespace.
func Valid(data []byte) bool {
	end, err := SkipValue(data, 0)
	return err == nil && SkipSpace(data, end) == len(data)
}

func skipValue(data []byte, i, depth int) (int, error) {
	if i >= len(data) {
		return i, syntaxErr(i, "unexpected end of input")
	}
	switch c := data[i]; c {
	case '"':
		return skipString(data, i)
	case '{':
		return skipObject(data, i, depth+1)
	case '[':
		return skipArray(data, i, depth+1)
	default:
		return skipScalar(data, i)
	}
}

// skipScalar returns the index past the literal or number at data[i]
// (i < len(data)): the values that are neither strings nor containers,
// copied or skipped as they are.
func skipScalar(data []byte, i int) (int, error) {
	switch c := data[i]; c {
	case 't':
		return skipLiteral(data, i, "true")
	case 'f':
		return skipLiteral(data, i, "false")
	case 'n':
		return skipLiteral(data, i, "null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return skipNumber(data, i)
		}
		return i, syntaxErr(i, "invalid character "+strconv.QuoteRune(rune(c)))
	}
}

// skipString returns the index past the string starting at data[i] == '"'.
// A quote ends the string unless an odd run of backslashes precedes it.
func skipString(data []byte, i int) (int, error) {
	j := i + 1
	// Most strings are short keys and values: look at them byte by byte
	// before paying for a call to IndexByte.
short:
	for end := min(j+16, len(data)); j < end; j++ {
		switch data[j] {
		case '"':
			return j + 1, nil
		case '\\':
			break short
		}
	}
	for {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return len(data), syntaxErr(len(data), "unterminated string")
		}
		q := j + k
		n := 0
		for p := q - 1; p > i && data[p] == '\\'; p-- {
			n++
		}
		if n&1 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
}

func skipLiteral(data []byte, i int, lit string) (int, error) {
	if len(data)-i < len(lit) {
		if string(data[i:]) == lit[:len(data)-i] {
			return len(data), syntaxErr(len(data), "unexpected end of input")
		}
		return i, syntaxErr(i, "invalid literal")
	}
	if string(data[i:i+len(lit)]) != lit {
		return i, syntaxErr(i, "invalid literal")
	}
	return i + len(lit), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipNumber checks the JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(data []byte, i int) (int, error) {
	start := i
	if data[i] == '-' {
		i++
	}
	if i >= len(data) {
		return i, syntaxErr(i, "unexpected end of input")
	}
	switch {
	case data[i] == '0':
		i++
	case isDigit(data[i]):
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	default:
		return i, syntaxErr(start, "invalid number")
	}
	if i < len(data) && data[i] == '.' {
		i++
		d := i
		for i < len(data) && isDigit(data[i]) {
			i++
		}
		if i == d {
			return i, syntaxErr(start, "invalid number")
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		d := i
		for i < len(data) && isDigit(data[i]) {
			i++
		}
		if i == d {
			return i, syntaxErr(start, "invalid number")
		}
	}
	return i, nil
}

func skipObject(data []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return i, syntaxErr(i, "nesting too deep")
	}
	i = SkipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(data) {
			return i, syntaxErr(i, "unexpected end of input")
		}
		if data[i] != '"' {
			return i, syntaxErr(i, "expected object key")
		}
		var err error
		if i, err = skipString(data, i); err != nil {
			return i, err
		}
		i = SkipSpace(data, i)
		if i >= len(data) {
			return i, syntaxErr(i, "unexpected end of input")
		}
		if data[i] != ':' {
			return i, syntaxErr(i, "expected ':'")
		}
		if i, err = skipValue(data, SkipSpace(data, i+1), depth); err != nil {
			return i, err
		}
		i = SkipSpace(data, i)
		if i >= len(data) {
			return i, syntaxErr(i, "unexpected end of input")
		}
		switch data[i] {
		case ',':
			i = SkipSpace(data, i+1)
		case '}':
			return i + 1, nil
		default:
			return i, syntaxErr(i, "expected ',' or '}'")
		}
	}
}

func skipArray(data []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return i, syntaxErr(i, "nesting too deep")
	}
	i = SkipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if i, err = skipValue(data, i, depth); err != nil {
			return i, err
		}
		i = SkipSpace(data, i)
		if i >= len(data) {
			return i, syntaxErr(i, "unexpected end of input")
		}
		switch data[i] {
		case ',':
			i = SkipSpace(data, i+1)
		case ']':
			return i + 1, nil
		default:
			return i, syntaxErr(i, "expected ',' or ']'")
		}
	}
}
