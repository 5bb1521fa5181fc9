package jsonscan

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The functions here look at eight bytes at a time (SWAR: one 64-bit
// word as eight lanes) for the bytes a string must stop at, and go byte
// by byte only from there: a stream event's text, a request's messages
// and the JSON inside tool arguments are most of the bytes a codec reads
// and writes, and the loops byte by byte were most of its time.
//
// The lane tests: (x - ones*k) &^ x & highs flags the lanes below k,
// and (y - ones) &^ y & highs with y = x ^ ones*c the lanes equal to c.
// A borrow can flag a lane above a flagged one, never below, and never
// when none is: the lowest flag is always exact, which is all the loops
// use (bits.TrailingZeros64 / 8). Words are read little-endian, so that
// the lowest lane is the first byte on every platform.
const (
	swarOnes  = 0x0101010101010101
	swarHighs = 0x8080808080808080
)

// wordAt returns data[j:j+8] as a little-endian word, for a caller
// that has checked j >= 0 and j+8 <= len(data): the loops that read a
// word at a time pay for no bounds check of their own.
func wordAt(data []byte, j int) uint64 {
	w := (*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(data)), j))
	return binary.LittleEndian.Uint64(w[:])
}

// swarQuoteOrBackslash flags the lanes of x that hold '"' or '\\': two
// swarEq sharing their masks (x ^ '"' and x ^ '\\' have the high bits
// of x).
func swarQuoteOrBackslash(x uint64) uint64 {
	q, b := x^(swarOnes*'"'), x^(swarOnes*'\\')
	return ((q - swarOnes) | (b - swarOnes)) &^ x & swarHighs
}

// swarEq flags the lanes of x equal to c (see above).
func swarEq(x uint64, c byte) uint64 {
	y := x ^ swarOnes*uint64(c)
	return (y - swarOnes) &^ y & swarHighs
}

// StringEnd returns the index just past the string value that starts at
// data[i] (a quote), where SkipValue ends it (the first quote not escaped
// by an odd run of backslashes, its escapes not checked), or -1 when it
// is not closed: for a reader that keeps its own errors, without
// SkipValue's dispatch on the value's kind, a word at a time where
// escapes are close together and at memory speed between them.
func StringEnd(data []byte, i int) int {
	if i < -1 {
		// stringEnd reads words at unchecked indexes from i+1: one
		// before data panics here, as slicing data did.
		panic("jsonscan: StringEnd before the data")
	}
	return stringEnd(data, i)
}

// stringEnd is StringEnd for a caller that has checked i >= -1 (one that
// has read data[i], the quote).
func stringEnd(data []byte, i int) int {
	j := i + 1
	plainWords := 0
	for len(data)-j >= 8 {
		if m := swarQuoteOrBackslash(wordAt(data, j)); m != 0 {
			// The first quote or backslash since the last escape: a
			// quote ends the string, a backslash escapes the next byte
			// (JSON inside a string has one every few bytes).
			k := j + bits.TrailingZeros64(m)>>3
			if data[k] == '"' {
				return k + 1
			}
			j = k + 2
			continue
		}
		// Eight plain bytes. Names, ids and short values end within a
		// few words: a call to IndexByte costs more than reading them.
		if plainWords++; plainWords < stringEndWords {
			j += 8
			continue
		}
		// A run of text, to the next quote at memory speed; it ends the
		// string unless an odd run of backslashes escapes it, as
		// skipString reads it.
		k := bytes.IndexByte(data[j+8:], '"')
		if k < 0 {
			return -1
		}
		q := j + 8 + k
		n := 0
		for p := q - 1; p > i && data[p] == '\\'; p-- {
			n++
		}
		if n&1 == 0 {
			return q + 1
		}
		j = q + 1
	}
	for ; j < len(data); j++ {
		switch data[j] {
		case '"':
			return j + 1
		case '\\':
			j++
		}
	}
	return -1
}

// stringEndWords is how many plain words StringEnd reads one by one
// before it looks for the closing quote with IndexByte.
const stringEndWords = 2

// ValueEnd returns the index just past the JSON value that starts at
// data[i] (leading space allowed), where SkipValue ends it, or -1 where
// SkipValue finds it malformed: for a reader that keeps its own errors,
// and quicker on objects (tool schemas, nested metadata) for reading
// their strings with StringEnd.
func ValueEnd(data []byte, i int) int {
	end := valueEnd(data, SkipSpace(data, i), 0)
	if end == -2 {
		// Nested deeper than quickDepth: SkipValue's walk, which
		// bounds the depth its own way.
		var err error
		if end, err = SkipValue(data, i); err != nil {
			return -1
		}
	}
	return end
}

// quickDepth is the nesting valueEnd walks before it leaves a value to
// SkipValue.
const quickDepth = 32

// valueEnd is skipValue's walk, strings by StringEnd: the index past the
// value, -1 when it is malformed, -2 when it nests deeper than
// quickDepth. It walks in one loop, the open containers' kinds kept as
// bits of a word, where a call per value (most values are short
// strings and numbers) cost more than reading the value.
func valueEnd(data []byte, i, depth int) int {
	var objects uint64 // bit n-1: the innermost open container is an object
	n, room := 0, quickDepth-depth
	key := false // a member's key and colon come first
	for {
		if key {
			if i >= len(data) || data[i] != '"' {
				return -1
			}
			if i = stringEnd(data, i); i < 0 {
				return -1
			}
			i = SkipSpace(data, i)
			if i >= len(data) || data[i] != ':' {
				return -1
			}
			i = SkipSpace(data, i+1)
		}
		if i >= len(data) {
			return -1
		}
		switch c := data[i]; c {
		case '"':
			if i = stringEnd(data, i); i < 0 {
				return -1
			}
		case '{', '[':
			if n >= room {
				return -2
			}
			i = SkipSpace(data, i+1)
			close := byte('}')
			if c == '[' {
				close = ']'
			}
			if i < len(data) && data[i] == close {
				i++
				break
			}
			key = c == '{'
			if key {
				objects |= 1 << (n & 63)
			} else {
				objects &^= 1 << (n & 63)
			}
			n++
			continue
		default:
			end, err := skipScalar(data, i)
			if err != nil {
				return -1
			}
			i = end
		}
		// Past a value: a comma and the next one, or closing brackets.
		for {
			if n == 0 {
				return i
			}
			i = SkipSpace(data, i)
			if i >= len(data) {
				return -1
			}
			key = objects>>((n-1)&63)&1 != 0
			close := byte(']')
			if key {
				close = '}'
			}
			if c := data[i]; c == ',' {
				i = SkipSpace(data, i+1)
				break
			} else if c != close {
				return -1
			}
			i++
			n--
		}
	}
}

// PlainLen returns the length of the plain ASCII at the start of b: the
// bytes below 0x80 other than a backslash, which a string holds as they
// are. A string whose body (the bytes between its quotes) is all plain
// ASCII has that body for contents, valid UTF-8: its reader can take it
// as it is, without a copy.
func PlainLen(b []byte) int {
	j := 0
	for j+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[j:])
		if m := swarEq(x, '\\') | x&swarHighs; m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
		j += 8
	}
	for j < len(b) && b[j] != '\\' && b[j] < utf8.RuneSelf {
		j++
	}
	return j
}

// AppendText appends the contents of the string value v to dst as String
// returns them (escapes decoded; each byte that is not part of valid
// UTF-8 replaced by U+FFFD, as encoding/json decodes it), for callers
// that keep a buffer. Where String takes a pass to find the escapes, one
// to decode them and one to check the UTF-8, it goes once: runs of text
// at memory speed, escapes close together (\" above all: streamed tool
// arguments are JSON inside a string) eight bytes at a time. ok is
// false, and dst returned as it came, when v is not a string (no quote
// at either end) or holds an invalid escape.
func AppendText(dst, v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return dst, false
	}
	start := len(dst)
	body := v[1 : len(v)-1]
	// Decoding never lengthens a string, but for the U+FFFD of an
	// invalid byte: out has room for the whole body, and n (written)
	// never passes i (read), so that a word written whole at out[n:]
	// fits whatever follows it.
	dst = slices.Grow(dst, len(body))
	out := dst[start : start+len(body)]
	n, i := 0, 0
	for i < len(body) {
		if i+8 <= len(body) {
			x := binary.LittleEndian.Uint64(body[i:])
			m := swarEq(x, '\\') | x&swarHighs
			if m == 0 {
				// Eight plain bytes: a run of text, to the next
				// backslash, found, checked and copied at memory speed.
				j := len(body)
				if k := bytes.IndexByte(body[i+8:], '\\'); k >= 0 {
					j = i + 8 + k
				}
				if !utf8.Valid(body[i+8 : j]) {
					return appendTextGrowing(dst[:start], body)
				}
				n += copy(out[n:], body[i:j])
				i = j
				continue
			}
			// Escapes close together (JSON inside a string): the word
			// is written whole, then cut to its plain bytes.
			binary.LittleEndian.PutUint64(out[n:], x)
			k := bits.TrailingZeros64(m) >> 3
			n, i = n+k, i+k
		} else if c := body[i]; c != '\\' && c < utf8.RuneSelf {
			out[n] = c
			n, i = n+1, i+1
			continue
		}
		if body[i] != '\\' {
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size == 1 {
				return appendTextGrowing(dst[:start], body)
			}
			n += copy(out[n:], body[i:i+size])
			i += size
			continue
		}
		r, size := escapeAt(body, i)
		if size == 0 {
			return dst[:start], false
		}
		if r < utf8.RuneSelf {
			out[n] = byte(r)
			n++
		} else {
			n += utf8.EncodeRune(out[n:], r)
		}
		i += size
	}
	return dst[:start+n], true
}

// appendTextGrowing is AppendText for a body with invalid UTF-8, whose
// U+FFFD can make the text longer than the body.
func appendTextGrowing(dst, body []byte) ([]byte, bool) {
	start := len(dst)
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c < utf8.RuneSelf && c != '\\':
			dst = append(dst, c)
			i++
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, "\uFFFD"...)
			} else {
				dst = append(dst, body[i:i+size]...)
			}
			i += size
		default:
			r, size := escapeAt(body, i)
			if size == 0 {
				return dst[:start], false
			}
			dst = utf8.AppendRune(dst, r)
			i += size
		}
	}
	return dst, true
}

// escapeAt decodes the escape at body[i] (a backslash) as unescape
// decodes it: its character and length, 0 when it is not a valid one. A
// surrogate pair of \u escapes is one character, a lone surrogate
// U+FFFD.
func escapeAt(body []byte, i int) (r rune, size int) {
	if i+1 == len(body) {
		return 0, 0
	}
	if c, ok := shortEscape(body[i+1]); ok {
		return rune(c), 2
	}
	if body[i+1] != 'u' {
		return 0, 0
	}
	r, ok := hex4(body[i+2:])
	if !ok {
		return 0, 0
	}
	if !utf16.IsSurrogate(r) {
		return r, 6
	}
	r2 := rune(-1)
	if len(body) >= i+12 && body[i+6] == '\\' && body[i+7] == 'u' {
		if x, ok := hex4(body[i+8:]); ok {
			r2 = x
		}
	}
	if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
		return d, 12
	}
	return utf8.RuneError, 6
}

// swarQuoteStop flags the lanes of x a JSON string cannot hold as they
// are: below 0x20, '"', '\\', and beyond ASCII (to be checked as UTF-8).
// A lane is plain when lane+0x60, (lane^'"')+0x7F and (lane^'\\')+0x7F
// all reach bit 7: an ASCII lane from 0x20 but for the two, and no lane
// beyond ASCII (0x80-0x9F fail the second sum, 0xA0-0xFF the first,
// which wraps). Only lanes beyond ASCII carry into the lane above, so
// that the lowest flag is exact.
func swarQuoteStop(x uint64) uint64 {
	const low7 = 0x7F7F7F7F7F7F7F7F
	plain := (x + swarOnes*0x60) & ((x ^ swarOnes*'"') + low7) & ((x ^ swarOnes*'\\') + low7)
	return ^plain & swarHighs
}

// quotePlain marks the bytes a JSON string holds as they are: ASCII from
// 0x20, but for '"' and '\\'.
var quotePlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendQuoteFast appends s to dst as a JSON string, byte for byte as
// AppendQuoteNoHTML does (only what JSON requires escaped, invalid UTF-8
// as \ufffd). It looks for the next byte to escape eight bytes at a time
// from wherever it is, where AppendQuoteNoHTML, after an escape, goes
// byte by byte to the next multiple of eight: JSON inside a string (tool
// arguments and results) has a quote every few bytes.
func AppendQuoteFast(dst []byte, s string) []byte {
	// A view of s, read only.
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	dst = append(dst, '"')
	start, i := 0, 0
	for {
		for ; len(b)-i >= 8; i += 8 {
			if m := swarQuoteStop(binary.LittleEndian.Uint64(b[i : i+8])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto look
			}
		}
		for i < len(b) && quotePlain[b[i]] {
			i++
		}
		if i == len(b) {
			break
		}
	look:
		c := b[i]
		if c >= utf8.RuneSelf {
			// Valid UTF-8 stays in the run; an invalid byte is U+FFFD.
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				start = i + 1
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = appendEscaped(dst, c)
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
