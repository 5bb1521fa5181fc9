package jsonscan

import (
	"bytes"
	"math/bits"
	"strings"
	"unicode/utf8"
)

// Iter walks the members of one JSON object (Members) or the elements of one
// JSON array (Elements) without allocating. Every value it passes over is
// checked for structure, so an iteration that ends with a nil Err has seen a
// well-formed container with nothing but whitespace after it.
//
// Keys are read as a JSON decoder reads them: by their decoded value. When
// a loop over the members keeps what it finds in each (overwriting on a
// duplicate), the last occurrence of a key wins, as in Python's json, Go's
// encoding/json and JavaScript, the decoders providers and SDKs use.
//
//	it := jsonscan.Members(data)
//	for it.Next() {
//		switch string(it.Key()) { ... it.Value() ... }
//	}
//	if err := it.Err(); err != nil { ... }
type Iter struct {
	data    []byte
	pos     int // next byte to read
	closeAt int // index of the closing bracket once seen, else -1
	key     []byte
	// keyBuf holds the current key decoded, when it has escapes and fits:
	// Key returns keyBuf[:keyLen] then (keyLen >= 0), key otherwise. key
	// never points into keyBuf, so that a copied Iter keeps its own key and
	// an Iter does not have to live on the heap.
	keyBuf [maxInlineKey]byte
	keyLen int
	val    []byte
	valOff int
	err    error
	state  uint8
	array  bool
}

// maxInlineKey is the longest decoded key an Iter holds without allocating;
// the names the gateway reads are far shorter.
const maxInlineKey = 64

const (
	iterStart uint8 = iota
	iterMore
	iterDone
)

// Members returns an iterator over the members of the object in data. data
// must hold exactly one object, with optional whitespace around it.
func Members(data []byte) Iter {
	return Iter{data: data, closeAt: -1, keyLen: -1}
}

// Elements returns an iterator over the elements of the array in data. data
// must hold exactly one array, with optional whitespace around it.
func Elements(data []byte) Iter {
	return Iter{data: data, closeAt: -1, keyLen: -1, array: true}
}

// Next advances to the next member (or element); it returns false at the
// end of the container or on malformed input (see Err).
func (it *Iter) Next() bool {
	data := it.data
	open, close := byte('{'), byte('}')
	if it.array {
		open, close = '[', ']'
	}
	i := it.pos
	switch it.state {
	case iterDone:
		return false
	case iterStart:
		i = SkipSpace(data, 0)
		if i >= len(data) {
			return it.fail(i, "unexpected end of input")
		}
		if data[i] != open {
			if it.array {
				return it.fail(i, "expected array")
			}
			return it.fail(i, "expected object")
		}
		i = SkipSpace(data, i+1)
		if i < len(data) && data[i] == close {
			return it.finish(i)
		}
		it.state = iterMore
	case iterMore:
		i = SkipSpace(data, i)
		if i >= len(data) {
			return it.fail(i, "unexpected end of input")
		}
		switch data[i] {
		case ',':
			i = SkipSpace(data, i+1)
		case close:
			return it.finish(i)
		default:
			if it.array {
				return it.fail(i, "expected ',' or ']'")
			}
			return it.fail(i, "expected ',' or '}'")
		}
	}
	if !it.array {
		if i >= len(data) {
			return it.fail(i, "unexpected end of input")
		}
		if data[i] != '"' {
			return it.fail(i, "expected object key")
		}
		end, escaped, err := skipKey(data, i)
		if err != nil {
			it.err, it.state = err, iterDone
			return false
		}
		it.key, it.keyLen = data[i+1:end-1], -1
		if escaped {
			it.decodeKey()
		}
		i = SkipSpace(data, end)
		if i >= len(data) {
			return it.fail(i, "unexpected end of input")
		}
		if data[i] != ':' {
			return it.fail(i, "expected ':'")
		}
		i = SkipSpace(data, i+1)
	}
	// valueEnd (strings a word at a time) ends a value where skipValue
	// does; skipValue walks again only to say what is wrong, or past
	// valueEnd's depth.
	end := valueEnd(data, i, 1)
	if end < 0 {
		var err error
		if end, err = skipValue(data, i, 1); err != nil {
			it.err, it.state = err, iterDone
			return false
		}
	}
	it.val, it.valOff, it.pos = data[i:end], i, end
	return true
}

func (it *Iter) fail(off int, msg string) bool {
	it.err, it.state = syntaxErr(off, msg), iterDone
	return false
}

func (it *Iter) finish(closeAt int) bool {
	it.state, it.closeAt = iterDone, closeAt
	if j := SkipSpace(it.data, closeAt+1); j != len(it.data) {
		it.err = syntaxErr(j, "data after the top-level value")
	}
	it.key, it.keyLen, it.val = nil, -1, nil
	return false
}

// decodeKey decodes the current key, which holds an escape.
func (it *Iter) decodeKey() {
	n, ok := unescape(it.keyBuf[:], it.key)
	switch {
	case ok && n >= 0:
		it.keyLen = n
	case n < 0: // longer than keyBuf decoded: rare enough to allocate
		if k, ok := appendUnescaped(nil, it.key); ok {
			it.key = k
		}
	}
	// An invalid escape leaves the key raw: with its backslash it
	// matches none of the plain names callers compare it with.
}

// keyStop marks the bytes that end a plain key: its closing quote, or a
// backslash that makes it one to decode.
var keyStop = [256]bool{'"': true, '\\': true}

// skipKey returns the index past the key string starting at data[i] == '"'
// and whether it holds an escape. Keys are short: the first quote or
// backslash, eight bytes at a time, tells which.
func skipKey(data []byte, i int) (end int, escaped bool, err error) {
	j := i + 1
	for len(data)-j >= 8 {
		if m := swarQuoteOrBackslash(wordAt(data, j)); m != 0 {
			if j += bits.TrailingZeros64(m) >> 3; data[j] == '"' {
				return j + 1, false, nil
			}
			end, err = skipString(data, i)
			return end, true, err
		}
		j += 8
	}
	for j < len(data) && !keyStop[data[j]] {
		j++
	}
	if j < len(data) && data[j] == '"' {
		return j + 1, false, nil
	}
	end, err = skipString(data, i)
	return end, true, err
}

// Key returns the current member's key, its escape sequences decoded
// ("str\u0065am" is "stream"). A key with an invalid escape is returned as
// it appears between its quotes, backslash included. The slice is valid
// until the next call to Next and must not be modified.
func (it *Iter) Key() []byte {
	if it.keyLen >= 0 {
		return it.keyBuf[:it.keyLen]
	}
	return it.key
}

// Value returns the current member's (or element's) raw value.
func (it *Iter) Value() []byte { return it.val }

// ValueOffset returns the offset of Value in the iterated data.
func (it *Iter) ValueOffset() int { return it.valOff }

// CloseOffset returns the offset of the container's closing bracket once
// Next has returned false without error, else -1.
func (it *Iter) CloseOffset() int {
	if it.err != nil {
		return -1
	}
	return it.closeAt
}

// Err returns the syntax error that ended the iteration, if any.
func (it *Iter) Err() error { return it.err }

// Get follows path through nested objects in data and returns the raw value
// found there. Keys are matched by their decoded value, and with duplicate
// keys the last one wins, as in the decoders providers use. After a match,
// an object is read on only when the rest of it could spell the key again;
// what Get does not read is not checked.
func Get(data []byte, path ...string) ([]byte, bool) {
	for _, key := range path {
		it := Members(data)
		found := false
		for it.Next() {
			if string(it.Key()) == key {
				data, found = it.Value(), true
				if !mayHoldKey(it.data[it.pos:], key) {
					break
				}
			}
		}
		if !found {
			return nil, false
		}
	}
	return data, true
}

// mayHoldKey reports whether rest may hold key as an object key, spelled as
// it is or with escapes: either `"key"` is in rest, or an escape in rest
// decodes to a byte of key (or to a non-ASCII character, when key has any).
// It errs towards yes, and reads rest at memory speed.
func mayHoldKey(rest []byte, key string) bool {
	if len(key) == 0 {
		return true
	}
	for off := 0; ; {
		i := bytes.IndexByte(rest[off:], key[0])
		if i < 0 {
			break
		}
		i += off
		if i > 0 && rest[i-1] == '"' && len(rest)-i > len(key) &&
			string(rest[i:i+len(key)]) == key && rest[i+len(key)] == '"' {
			return true
		}
		off = i + 1
	}
	for r := rest; ; {
		i := bytes.IndexByte(r, '\\')
		if i < 0 || i+1 >= len(r) {
			return false
		}
		c := r[i+1]
		r = r[i+2:]
		if c == 'u' {
			x, ok := hex4(r)
			if !ok {
				continue
			}
			if x >= utf8.RuneSelf {
				if !isASCII(key) {
					return true
				}
				continue
			}
			c = byte(x)
		} else if d, ok := shortEscape(c); ok {
			c = d
		}
		if strings.IndexByte(key, c) >= 0 {
			return true
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
