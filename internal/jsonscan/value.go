package jsonscan

import (
	"bytes"
	"encoding/binary"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// Int returns the integer in the raw number value v. A fraction of zeros
// ("12.0") is accepted; an exponent, a non-zero fraction, overflow or any
// other kind of value is not.
func Int(v []byte) (int64, bool) {
	i, neg := 0, false
	if len(v) > 0 && v[0] == '-' {
		neg, i = true, 1
	}
	if i >= len(v) || !isDigit(v[i]) {
		return 0, false
	}
	var n uint64
	for ; i < len(v) && isDigit(v[i]); i++ {
		d := uint64(v[i] - '0')
		if n > (1<<63-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if i < len(v) && v[i] == '.' {
		i++
		if i == len(v) {
			return 0, false
		}
		for ; i < len(v); i++ {
			if v[i] != '0' {
				return 0, false
			}
		}
	}
	if i != len(v) {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

// Bool returns the value of the raw literal v (true or false).
func Bool(v []byte) (value, ok bool) {
	switch string(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// IsNull reports whether v is the literal null.
func IsNull(v []byte) bool { return string(v) == "null" }

// IsObject reports whether the raw value v is an object (by its first byte).
func IsObject(v []byte) bool { return len(v) > 0 && v[0] == '{' }

// String returns the contents of the raw string value v with its escape
// sequences decoded, and, as encoding/json decodes them, each byte that is
// not part of valid UTF-8 replaced by U+FFFD: what an SDK reads, and text
// that telemetry exporters accept (OTLP refuses a batch holding invalid
// UTF-8). Without escapes or invalid bytes the result is a subslice of v
// and nothing is allocated; otherwise it is a new slice. ok is false when v
// is not a string or holds an invalid escape.
func String(v []byte) (s []byte, ok bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil, false
	}
	body := v[1 : len(v)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		if utf8.Valid(body) {
			return body, true
		}
		return validUTF8(body), true
	}
	s, ok = AppendString(make([]byte, 0, len(body)), v)
	if ok && !utf8.Valid(s) {
		s = validUTF8(s)
	}
	return s, ok
}

// validUTF8 returns a copy of b with each byte that is not part of valid
// UTF-8 replaced by U+FFFD, as encoding/json replaces them.
func validUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out
}

// AppendString appends the decoded contents of the raw string value v to
// dst, for callers that keep a buffer.
func AppendString(dst, v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return dst, false
	}
	return appendUnescaped(dst, v[1:len(v)-1])
}

// appendUnescaped appends the decoded contents of a string (body: the bytes
// between its quotes) to dst.
func appendUnescaped(dst, body []byte) ([]byte, bool) {
	// Decoding never lengthens: the result fits in len(body) bytes.
	dst = slices.Grow(dst, len(body))
	n, ok := unescape(dst[len(dst):len(dst)+len(body)], body)
	return dst[:len(dst)+n], ok
}

// unescape writes the decoded contents of a string (body: the bytes between
// its quotes) to dst and returns their length. ok is false on an invalid
// escape, with n the length decoded before it; n is -1 when dst is too
// short. A lone surrogate escape becomes U+FFFD, as encoding/json decodes it.
// shortEscape decodes the character of a two-byte escape ("\\n", "\\/" ...):
// ok is false for 'u' and for a character JSON does not escape.
func shortEscape(c byte) (byte, bool) {
	switch c {
	case '"', '\\', '/':
		return c, true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	}
	return 0, false
}

func unescape(dst, body []byte) (n int, ok bool) {
	for len(body) > 0 {
		k := bytes.IndexByte(body, '\\')
		if k < 0 {
			k = len(body)
		}
		if n+k > len(dst) {
			return -1, false
		}
		n += copy(dst[n:], body[:k])
		body = body[k:]
		if len(body) == 0 {
			break
		}
		if len(body) < 2 {
			return n, false
		}
		c, single := shortEscape(body[1])
		switch {
		case single:
		case body[1] == 'u':
			r, ok := hex4(body[2:])
			if !ok {
				return n, false
			}
			body = body[6:]
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(body) >= 6 && body[0] == '\\' && body[1] == 'u' {
					if x, ok := hex4(body[2:]); ok {
						r2 = x
					}
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					body = body[6:]
				} else {
					r = utf8.RuneError
				}
			}
			if n+utf8.RuneLen(r) > len(dst) {
				return -1, false
			}
			n += utf8.EncodeRune(dst[n:], r)
			continue
		default:
			return n, false
		}
		if n >= len(dst) {
			return -1, false
		}
		dst[n] = c
		n++
		body = body[2:]
	}
	return n, true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// plainASCII8 reports whether the eight bytes of w are ASCII that needs no
// escape in JSON (none below 0x20, none '"' or '\\'). The has-less and
// has-zero tests set the high bit of a byte below 0x20 or equal to '"' or
// '\\' (bytes above the first such one may be flagged too, never none when
// there is one); w's own high bits are the bytes of multi-byte
// characters.
func plainASCII8(w string) bool {
	_ = w[7] // one bounds check; the loads merge into one
	return plainWord(uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56)
}

// plainWord is plainASCII8 of the eight bytes of x.
func plainWord(x uint64) bool {
	q, b := x^(swarOnes*'"'), x^(swarOnes*'\\')
	return ((x-swarOnes*0x20)&^x|(q-swarOnes)&^q|(b-swarOnes)&^b|x)&swarHighs == 0
}

// Plain reports whether b is printable ASCII without a quote or a
// backslash: a string body JSON spells as it is, to take or write without
// decoding or escaping. It looks at eight bytes at a time.
func Plain(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if !plainWord(binary.LittleEndian.Uint64(b[i:])) {
			return false
		}
	}
	if i < len(b) && len(b) >= 8 {
		// The rest as the last eight bytes, again in part.
		return plainWord(binary.LittleEndian.Uint64(b[len(b)-8:]))
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// AppendQuote appends s to dst as a JSON string, escaping what JSON
// requires and the HTML-sensitive <, >, & (and U+2028, U+2029) as
// encoding/json does.
func AppendQuote(dst []byte, s string) []byte { return appendQuote(dst, s, true) }

// AppendQuoteNoHTML appends s to dst as a JSON string, escaping only what JSON
// requires, as the providers' own encoders do (<, >, & stay as they are).
func AppendQuoteNoHTML(dst []byte, s string) []byte { return appendQuote(dst, s, false) }

func appendQuote(dst []byte, s string, html bool) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if !html {
			// Eight bytes at a time while none needs a look (most text,
			// all of base64): quoting is most of what writing a
			// translated request or stream event costs.
			for i+8 <= len(s) && plainASCII8(s[i:i+8]) {
				i += 8
			}
			if i == len(s) {
				break
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!html || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendEscaped(dst, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if html && (r == '\u2028' || r == '\u2029') {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendEscaped appends the JSON escape of an ASCII byte that cannot stand
// in a string as it is (a quote, a backslash, a control character, or an
// HTML character when escaping those).
func appendEscaped(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	const hexDigits = "0123456789abcdef"
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}
