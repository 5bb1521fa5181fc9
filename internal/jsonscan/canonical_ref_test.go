package jsonscan

// The Canonicalizer as it was before the fifth part of issue 14 (keys
// compared byte by byte, strings scanned by a call per run), kept as the
// reference the faster one must match byte for byte, error for error.

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/bits"
	"slices"
	"unicode/utf8"
)

type refCanonicalizer struct {
	buf     []byte
	members []refMember
}

// refMember is one object refMember written to buf: its whole span (a leading
// comma, the key, a colon, the value) and the key's contents inside it.
type refMember struct {
	start, end       int
	keyStart, keyEnd int
}

// Write writes the canonical form of the JSON document in data to w, in one
// call to w.Write (w is typically a hash.Hash). When skip is not nil, it is
// called with the key of every refMember of the top-level object, in canonical
// form (see refCanonicalizer; for refPlain ASCII names, the name itself), and the
// members it returns true for are left out, though still checked. skip is not
// called for nested objects, nor when data is not an object.
//
// For a document that is not valid JSON, Write returns an error wrapping
// ErrSyntax and writes nothing. Otherwise it returns w's error, if any.
func (c *refCanonicalizer) Write(w io.Writer, data []byte, skip func(key []byte) bool) error {
	c.buf, c.members = c.buf[:0], c.members[:0]
	end, err := c.value(data, SkipSpace(data, 0), 0, skip)
	if err != nil {
		return err
	}
	if j := SkipSpace(data, end); j != len(data) {
		return syntaxErr(j, "data after the top-level value")
	}
	_, err = w.Write(c.buf)
	return err
}

func (c *refCanonicalizer) value(data []byte, i, depth int, skip func([]byte) bool) (int, error) {
	if i >= len(data) {
		return i, syntaxErr(i, "unexpected end of input")
	}
	switch data[i] {
	case '"':
		var end int
		var err error
		c.buf, end, err = refAppendCanonicalString(c.buf, data, i)
		return end, err
	case '{':
		return c.object(data, i, depth+1, skip)
	case '[':
		return c.array(data, i, depth+1)
	}
	end, err := skipScalar(data, i)
	if err != nil {
		return end, err
	}
	c.buf = append(c.buf, data[i:end]...)
	return end, nil
}

// object writes the object at data[i] == '{'. Each refMember goes to buf as
// ",key:value" as it is read (nested objects sorted already); at the end the
// spans are put in key order if they are not, and the first comma becomes
// the opening brace.
func (c *refCanonicalizer) object(data []byte, i, depth int, skip func([]byte) bool) (int, error) {
	if depth > maxDepth {
		return i, syntaxErr(i, "nesting too deep")
	}
	out := len(c.buf)
	m0 := len(c.members) // members of enclosing objects stay below m0
	i = SkipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		c.buf = append(c.buf, '{', '}')
		return i + 1, nil
	}
	for {
		if i >= len(data) {
			return i, syntaxErr(i, "unexpected end of input")
		}
		if data[i] != '"' {
			return i, syntaxErr(i, "expected object key")
		}
		start := len(c.buf)
		c.buf = append(c.buf, ',')
		var err error
		if c.buf, i, err = refAppendCanonicalString(c.buf, data, i); err != nil {
			return i, err
		}
		keyEnd := len(c.buf) - 1
		i = SkipSpace(data, i)
		if i >= len(data) {
			return i, syntaxErr(i, "unexpected end of input")
		}
		if data[i] != ':' {
			return i, syntaxErr(i, "expected ':'")
		}
		c.buf = append(c.buf, ':')
		if i, err = c.value(data, SkipSpace(data, i+1), depth, nil); err != nil {
			return i, err
		}
		if skip != nil && skip(c.buf[start+2:keyEnd]) {
			c.buf = c.buf[:start]
		} else {
			c.members = append(c.members, refMember{start: start, end: len(c.buf), keyStart: start + 2, keyEnd: keyEnd})
		}
		i = SkipSpace(data, i)
		if i >= len(data) {
			return i, syntaxErr(i, "unexpected end of input")
		}
		switch data[i] {
		case ',':
			i = SkipSpace(data, i+1)
		case '}':
			c.finishObject(out, c.members[m0:])
			c.members = c.members[:m0]
			return i + 1, nil
		default:
			return i, syntaxErr(i, "expected ',' or '}'")
		}
	}
}

func (c *refCanonicalizer) finishObject(out int, ms []refMember) {
	if len(ms) == 0 { // every refMember skipped
		c.buf = append(c.buf[:out], '{', '}')
		return
	}
	buf := c.buf
	after := func(a, b refMember) bool { return refKeyAfter(buf[a.keyStart:a.keyEnd], buf[b.keyStart:b.keyEnd]) }
	sorted := true
	for j := 1; j < len(ms); j++ {
		if after(ms[j-1], ms[j]) {
			sorted = false
			break
		}
	}
	if !sorted {
		if len(ms) <= 12 {
			for j := 1; j < len(ms); j++ { // insertion sort: stable, and quick for the usual handful
				for k := j; k > 0 && after(ms[k-1], ms[k]); k-- {
					ms[k-1], ms[k] = ms[k], ms[k-1]
				}
			}
		} else {
			slices.SortStableFunc(ms, func(a, b refMember) int {
				return bytes.Compare(buf[a.keyStart:a.keyEnd], buf[b.keyStart:b.keyEnd])
			})
		}
		// Lay the spans out in order after the end, then move them back.
		end := len(buf)
		for _, m := range ms {
			buf = append(buf, buf[m.start:m.end]...)
		}
		n := copy(buf[out:], buf[end:])
		buf = buf[:out+n]
	}
	buf[out] = '{'
	c.buf = append(buf, '}')
}

// refKeyAfter reports whether key a sorts after key b. Keys are short and
// mostly differ early: a loop here beats a call to bytes.Compare.
func refKeyAfter(a, b []byte) bool {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return len(a) > len(b)
}

func (c *refCanonicalizer) array(data []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return i, syntaxErr(i, "nesting too deep")
	}
	c.buf = append(c.buf, '[')
	i = SkipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		c.buf = append(c.buf, ']')
		return i + 1, nil
	}
	for {
		var err error
		if i, err = c.value(data, i, depth, nil); err != nil {
			return i, err
		}
		i = SkipSpace(data, i)
		if i >= len(data) {
			return i, syntaxErr(i, "unexpected end of input")
		}
		switch data[i] {
		case ',':
			c.buf = append(c.buf, ',')
			i = SkipSpace(data, i+1)
		case ']':
			c.buf = append(c.buf, ']')
			return i + 1, nil
		default:
			return i, syntaxErr(i, "expected ',' or ']'")
		}
	}
}

// refPlain marks the bytes a string's canonical form copies as they are:
// everything but the quote, the backslash and the control characters, which
// JSON does not allow raw in a string.
var refPlain = func() (t [256]bool) {
	for i := range t {
		t[i] = i >= 0x20 && i != '"' && i != '\\'
	}
	return t
}()

const (
	refOnes  = 0x0101010101010101
	refHighs = 0x8080808080808080
)

// refPlainPrefix returns the length of the run of refPlain bytes at the start of
// b. It looks at eight bytes at a time: in a word x, the bytes below 0x20
// and those equal to '"' or '\\' are the refOnes whose high bit ends up set in
// (x - 0x20..) &^ x, or in the same with x XOR the character and 0x01..
// (the classic has-less / has-zero tests). Borrows can mark bytes above a
// marked one, never below, so the lowest mark is exact.
func refPlainPrefix(b []byte) int {
	k := 0
	for ; len(b)-k >= 8; k += 8 {
		x := binary.LittleEndian.Uint64(b[k:])
		q := x ^ ('"' * refOnes)
		s := x ^ ('\\' * refOnes)
		m := ((x - 0x20*refOnes) &^ x) | ((q - refOnes) &^ q) | ((s - refOnes) &^ s)
		if m &= refHighs; m != 0 {
			return k + bits.TrailingZeros64(m)>>3
		}
	}
	for k < len(b) && refPlain[b[k]] {
		k++
	}
	return k
}

// refAppendCanonicalString appends the canonical form of the string that starts
// at data[i] == '"' and returns the index past its closing quote.
//
// The escapes \" \\ \b \f \n \r \t are their own canonical form, so only
// \/ and \u make the output differ from the input: the raw bytes from
// "from" on are copied in one go when one of those, or the end, is reached.
func refAppendCanonicalString(dst, data []byte, i int) ([]byte, int, error) {
	from := i
	k := i + 1
	for {
		k += refPlainPrefix(data[k:])
		if k >= len(data) {
			return dst, k, syntaxErr(k, "unterminated string")
		}
		switch data[k] {
		case '"':
			return append(dst, data[from:k+1]...), k + 1, nil
		case '\\':
		default:
			return dst, k, syntaxErr(k, "control character in string")
		}
		if k+1 >= len(data) {
			return dst, k + 1, syntaxErr(k+1, "unterminated string")
		}
		switch e := data[k+1]; e {
		case '"', '\\', 'b', 'f', 'n', 'r', 't':
			k += 2
			continue
		case '/':
			dst = append(dst, data[from:k]...)
			dst = append(dst, '/')
			k += 2
		case 'u':
			r, ok := hex4(data[k+2:])
			if !ok {
				return dst, k, syntaxErr(k, "invalid escape")
			}
			dst = append(dst, data[from:k]...)
			k += 6
			switch {
			case r < 0x20 || r == '"' || r == '\\':
				dst = refAppendEscapedASCII(dst, byte(r))
			case r < 0xD800 || r > 0xDFFF:
				dst = utf8.AppendRune(dst, r)
			case r < 0xDC00 && len(data) >= k+6 && data[k] == '\\' && data[k+1] == 'u':
				if lo, ok := hex4(data[k+2:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					dst = utf8.AppendRune(dst, 0x10000+(r-0xD800)<<10+(lo-0xDC00))
					k += 6
					break
				}
				dst = refAppendUnicodeEscape(dst, r)
			default: // a lone surrogate: no character to write, keep it distinct
				dst = refAppendUnicodeEscape(dst, r)
			}
		default:
			return dst, k, syntaxErr(k, "invalid escape")
		}
		from = k
	}
}

// refAppendEscapedASCII appends the canonical escape of a quote, a backslash or
// a control character.
func refAppendEscapedASCII(dst []byte, b byte) []byte {
	switch b {
	case '"', '\\':
		return append(dst, '\\', b)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return refAppendUnicodeEscape(dst, rune(b))
}

func refAppendUnicodeEscape(dst []byte, r rune) []byte {
	const hexDigits = "0123456789abcdef"
	return append(dst, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
}
