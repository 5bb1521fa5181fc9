package jsonscan

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
		end, err := skipString(data, i)
		if err != nil {
			it.err, it.state = err, iterDone
			return false
		}
		it.setKey(data[i+1 : end-1])
		i = SkipSpace(data, end)
		if i >= len(data) {
			return it.fail(i, "unexpected end of input")
		}
		if data[i] != ':' {
			return it.fail(i, "expected ':'")
		}
		i = SkipSpace(data, i+1)
	}
	end, err := skipValue(data, i, 1)
	if err != nil {
		it.err, it.state = err, iterDone
		return false
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

// setKey makes raw, the bytes between a key's quotes, the current key.
func (it *Iter) setKey(raw []byte) {
	it.key, it.keyLen = raw, -1
	if !hasBackslash(raw) {
		return
	}
	n, ok := unescape(it.keyBuf[:], raw)
	switch {
	case ok && n >= 0:
		it.keyLen = n
	case n < 0: // longer than keyBuf decoded: rare enough to allocate
		if k, ok := appendUnescaped(nil, raw); ok {
			it.key = k
		}
	}
	// An invalid escape leaves the key raw: with its backslash it
	// matches none of the plain names callers compare it with.
}

// hasBackslash reports whether the key b holds an escape. Keys are short:
// a loop beats a call to bytes.IndexByte.
func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
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
// keys the last one wins, as in the decoders providers use. Each object on
// the path is read to its end (to find the last duplicate), but not checked
// further: malformed data after a match still yields that match.
func Get(data []byte, path ...string) ([]byte, bool) {
	for _, key := range path {
		it := Members(data)
		found := false
		for it.Next() {
			if string(it.Key()) == key {
				data, found = it.Value(), true
			}
		}
		if !found {
			return nil, false
		}
	}
	return data, true
}
