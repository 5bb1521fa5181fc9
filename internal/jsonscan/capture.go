package jsonscan

import "bytes"

// MaxCaptureKeys is how many member names one Capturer can watch.
const MaxCaptureKeys = 8

// DefaultCaptureLimit is the per-member size bound Reset uses for limit <= 0.
const DefaultCaptureLimit = 64 << 10

// Capturer follows one JSON document fed in pieces of any size and keeps
// the raw bytes of chosen top-level members ("usage", "model", "error" ...),
// without buffering the document: an embeddings response of several MB costs
// only the few members asked for. When the document is an array, the members
// of the objects directly inside it count as top-level too (Gemini's
// non-SSE streamGenerateContent answers with such an array).
//
// Member names are matched by their decoded value ("\u0075sage" is "usage"),
// as a JSON decoder reads them; names of up to 64 bytes can be watched. When
// a member occurs more than once, under any spelling, the last complete
// occurrence wins. A member larger than the limit is dropped. The Capturer is
// lenient: it tracks strings, escapes and nesting but does not validate the
// document.
//
// The zero value is not ready; call Reset. A Capturer is not safe for
// concurrent use; its buffers are reused across Resets.
type Capturer struct {
	keys     []string
	limit    int
	vals     [MaxCaptureKeys][]byte
	elems    []element // the watched array's current occurrence's elements, the first MaxElements
	elemVals []byte    // the bytes of their captured values

	// The ValueReader of ReadWith, the key whose values it reads (-1:
	// none), and what it read of the last.
	reader  ValueReader
	readKey int
	readSt  ReadState

	// Scratch for one key at a time, out of capState: Reset need not
	// clear its 448 bytes for each document.
	keyBuf [maxRawKey]byte
	keyDec [maxInlineKey]byte // keyBuf decoded, when it holds escapes

	capState
}

// capState is what a Capturer knows of the document being read: Reset
// starts it afresh in one assignment.
type capState struct {
	have [MaxCaptureKeys]bool
	read [MaxCaptureKeys]bool // the value was read by its ValueReader (see Read)

	// keyLens has bit n set when a watched name (or the watched array's)
	// is n bytes long, bit 63 for 63 or more; elemKeyLens likewise for
	// the element keys: most keys are told apart by their length alone,
	// without a compare per name.
	keyLens, elemKeyLens uint64

	depth       int
	memberDepth int // depth of the containers whose members are top-level; 0 until the root opens
	inObj       bool
	inString    bool
	escape      bool
	expectKey   bool
	keyString   bool
	keyLen      int  // -1: longer than keyBuf, matches nothing
	matched     int  // key index named by the member key just read, or -1
	pending     bool // a wanted member's value starts at the next token
	pendingKey  int  // its key index
	cur         int  // key index whose value is being captured, or -1
	curKind     uint8
	curOver     bool
	done        bool
	root        byte // '{' or '[': the top-level value's first byte
	junk        bool // something outside the top-level value (see Junk)
	completed   int

	// The watched array (see WatchElements).
	elemName    string
	elemKeys    []string
	elemsHave   bool // elems is a complete occurrence
	arrayNamed  bool // the member key just read names the watched array
	arrayNext   bool // the watched array's value starts at the next token
	inArray     bool // inside an occurrence of the watched array
	elemNext    bool // a new element starts at the next token inside the array
	elemObj     bool // the current element is an object: its members are watched
	elemKept    bool // the current element is in elems
	elemKey     bool // inside the element, the next string is a member key
	elemMatched int  // key index named by the element member key just read, or -1
	elemPending bool // a watched element member's value starts at the next token
	elemPendKey int  // its key index
	elemCur     int  // key index whose element value is being captured, or -1
	elemKind    uint8
	elemOver    bool
	elemStart   int // where that value starts in elemVals
}

// Bounds of WatchElements: the elements kept of one occurrence of the
// array, the member names watched in each, the bytes of one value, and of
// every value of one occurrence together.
const (
	MaxElements     = 128
	MaxElementKeys  = 4
	MaxElementValue = 1 << 10
	maxElementBytes = 64 << 10
)

// element is one element of the watched array: whether it is an object,
// and where each watched member's value is in elemVals.
type element struct {
	object bool
	have   [MaxElementKeys]bool
	vals   [MaxElementKeys][2]int32
}

// maxRawKey bounds the raw bytes of a key the Capturer compares: enough for
// any spelling of a 64-byte name (an escape takes at most six bytes per
// decoded byte, as in \u0075 for u).
const maxRawKey = 6 * maxInlineKey

const (
	capScalar uint8 = iota + 1
	capString
	capContainer
)

// structural marks the bytes that matter inside nested values that are not
// being examined: everything else is skipped in a tight loop.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// Reset prepares c for a new document, watching the top-level members named
// by keys (at most MaxCaptureKeys; extra names are ignored) and keeping at
// most limit bytes of each (limit <= 0: DefaultCaptureLimit). c keeps keys.
func (c *Capturer) Reset(limit int, keys []string) {
	if len(keys) > MaxCaptureKeys {
		keys = keys[:MaxCaptureKeys]
	}
	if limit <= 0 {
		limit = DefaultCaptureLimit
	}
	c.keys, c.limit = keys, limit
	c.reader, c.readKey = nil, -1
	c.elems, c.elemVals = c.elems[:0], c.elemVals[:0]
	for i := range c.vals {
		c.vals[i] = c.vals[i][:0]
	}
	c.capState = capState{matched: -1, cur: -1, elemMatched: -1, elemCur: -1, keyLens: nameLens(keys)}
}

// nameLens returns the lengths of names as a bit set (see keyLens).
func nameLens(names []string) uint64 {
	var m uint64
	for _, n := range names {
		m |= lenBit(len(n))
	}
	return m
}

// lenBit is the bit of a name n bytes long in keyLens.
func lenBit(n int) uint64 { return 1 << min(n, 63) }

// A ValueReader reads the value of a watched member as it passes: it
// returns the index past the value that starts at p[i] when it has read
// it whole there, and what it learnt of it, or -1 when it leaves it to
// the Capturer (a value that goes on past p, or one it does not read).
// A reader that returns an end must end the value where the Capturer
// would: at the end of the JSON value, read as a decoder does.
//
// The reader is a plain function that returns its state, not a closure
// over its caller's nor one handed the Capturer's: a Capturer inside
// its caller's struct that held a closure over that struct, or passed a
// pointer into itself to a function it cannot see, would make every
// such struct escape to the heap.
type ValueReader func(p []byte, i int) (end int, st ReadState)

// ReadState is where a ValueReader keeps what it read of a value, in a
// layout of its own.
type ReadState [20]uint64

// ReadWith makes c hand the values of the watched member key that are
// objects or arrays to r when it can (a value that starts in a Write in
// the usual layout: a member of the top-level object whose key and
// colon it read whole), so that the caller learns what the value holds
// in the same pass over it; Read returns what r read. One key has a
// reader at a time (the last ReadWith's). Call it after Reset, which
// forgets it.
func (c *Capturer) ReadWith(key string, r ValueReader) {
	c.reader, c.readKey = nil, -1
	for i, k := range c.keys {
		if k == key {
			c.reader, c.readKey = r, i
			return
		}
	}
}

// Read returns what the ValueReader of ReadWith kept of the value Value
// returns for key, and false when it did not read that value (then st
// means nothing).
func (c *Capturer) Read(key string) (st *ReadState, ok bool) {
	for i, k := range c.keys {
		if k == key && c.have[i] {
			return &c.readSt, c.read[i]
		}
	}
	return &c.readSt, false
}

// WatchElements makes c keep, besides the members Reset named, what the
// elements of the top-level member named array say: for each object in
// it, the values of its members named by keys (at most MaxElementKeys),
// as they pass, without keeping the rest of the array (a choice's
// message). The last complete occurrence of the array counts, and within
// an element the last of duplicate members; the first MaxElements
// elements are kept, a value over MaxElementValue bytes is dropped (and
// values beyond 64 KiB in all). Call it after Reset, before the first
// Write; c keeps keys.
func (c *Capturer) WatchElements(array string, keys []string) {
	if len(keys) > MaxElementKeys {
		keys = keys[:MaxElementKeys]
	}
	c.elemName, c.elemKeys = array, keys
	c.elemKeyLens = nameLens(keys)
	if array != "" {
		c.keyLens |= lenBit(len(array))
	}
}

// Elements returns how many elements (objects or not, at most MaxElements)
// the last complete occurrence of the watched array held, and false when
// none completed. A watched member that is not an array completes with
// none.
func (c *Capturer) Elements() (int, bool) {
	if !c.elemsHave {
		return 0, false
	}
	return len(c.elems), true
}

// ElementIsObject reports whether element i of the watched array is an
// object.
func (c *Capturer) ElementIsObject(i int) bool { return c.elems[i].object }

// ElementValue returns the raw value of element i's member keys[k], and
// false when the element has none (or it was too long).
func (c *Capturer) ElementValue(i, k int) ([]byte, bool) {
	e := &c.elems[i]
	if !e.have[k] {
		return nil, false
	}
	return c.elemVals[e.vals[k][0]:e.vals[k][1]], true
}

// Value returns the last complete value captured for key.
func (c *Capturer) Value(key string) ([]byte, bool) {
	for i, k := range c.keys {
		if k == key && c.have[i] {
			return c.vals[i], true
		}
	}
	return nil, false
}

// Completed returns how many member values have been captured so far: when
// it has not changed, neither has any Value.
func (c *Capturer) Completed() int { return c.completed }

// Done reports whether the top-level value has been closed.
func (c *Capturer) Done() bool { return c.done }

// Root returns the first byte of the top-level value, '{' or '[', or 0
// when the document has not started with either.
func (c *Capturer) Root() byte { return c.root }

// Junk reports whether the document held something outside its one
// top-level object or array: a scalar or a string in its place, a second
// value, stray punctuation. (Whitespace around the value is fine.) The
// Capturer does not validate what is inside the value.
func (c *Capturer) Junk() bool { return c.junk }

// Write feeds the next bytes of the document. It never fails.
func (c *Capturer) Write(p []byte) (int, error) {
	i, from := 0, 0 // from: where the current capture's bytes start in p
	efrom := 0      // where the current element value's bytes start in p
	for i < len(p) {
		if c.inString {
			start := i
			end, closed := c.scanString(p, i)
			if c.keyString {
				stop := end
				if closed {
					stop--
				}
				c.appendKey(p[start:stop])
			}
			if !closed {
				i = len(p)
				break
			}
			c.inString = false
			i = end
			if c.keyString {
				c.keyString = false
				c.matchKey()
				continue
			}
			c.stringEnd(p, i, from, efrom)
			continue
		}
		if c.memberDepth > 0 && c.depth > c.memberDepth && !c.watching() {
			// Inside a value not looked into only brackets matter:
			// strings and what is between them are passed over in one
			// call.
			if i = bracketEnd(p, i); i == len(p) {
				break
			}
		} else if !c.scalarOpen() {
			// Whitespace only ends a scalar: the indentation of a pretty
			// answer (OpenAI's) is skipped a word at a time.
			i = SkipIndent(p, i)
			if i == len(p) {
				break
			}
		}
		ch := p[i]
		if c.inArray || c.arrayNext {
			efrom = c.element(p, i, efrom)
		}
		switch ch {
		case '"':
			if c.depth == 0 {
				c.junk = true // a string where the document's object or array should be
			}
			// A string wholly in p, the usual case, is read in one step:
			// a key without escapes is compared where it is, a value
			// skipped a word at a time; one that goes on past p (or a
			// key with escapes) is followed byte by byte (scanString).
			if c.depth == c.memberDepth && c.inObj && c.expectKey && c.cur < 0 && !c.pending && !c.inArray && !c.arrayNext {
				// A member of the top-level object, no capture open: the
				// members nobody watches go by in one call.
				if j, at := c.members(p, i); j != i {
					if at >= 0 {
						from = at
					}
					i = j
					continue
				}
			}
			if c.inArray && c.depth == c.memberDepth+2 && c.elemObj && c.elemKey && c.elemCur < 0 && !c.elemPending {
				// A member of an element of the watched array, likewise.
				if j := c.elemMembers(p, i); j != i {
					i = j
					continue
				}
			}
			if c.depth == c.memberDepth && c.inObj && c.expectKey ||
				c.inArray && c.depth == c.memberDepth+2 && c.elemObj && c.elemKey {
				if c.depth == c.memberDepth {
					c.expectKey = false
				} else {
					c.elemKey = false
				}
				if end := PlainStringEnd(p, i); end >= 0 {
					c.matchName(p[i+1 : end-1])
					i = end
					continue
				}
				c.keyString, c.keyLen = true, 0
			} else {
				if c.pending {
					from = c.start(i, capString)
				}
				if end := StringEnd(p, i); end >= 0 {
					i = end
					c.stringEnd(p, i, from, efrom)
					continue
				}
			}
			c.inString = true
		case '{', '[':
			if c.pending {
				from = c.start(i, capContainer)
			}
			if c.depth == 0 {
				if c.done {
					c.junk = true // a second top-level value
				} else {
					c.root = ch
				}
			}
			c.depth++
			if c.depth == 1 {
				c.memberDepth = 1
				if ch == '[' {
					c.memberDepth = 2
				}
			}
			if c.depth == c.memberDepth {
				c.inObj = ch == '{'
				c.expectKey = c.inObj
			}
		case '}', ']':
			if c.cur >= 0 && c.curKind == capScalar && c.depth == c.memberDepth {
				c.finish(p[from:i])
			}
			c.pending = false
			if c.depth == 0 {
				c.junk = true // a close with nothing open
				break
			}
			c.depth--
			if c.cur >= 0 && c.curKind == capContainer && c.depth == c.memberDepth {
				c.finish(p[from : i+1])
			}
			if c.depth == 0 {
				c.done = true
			}
		case ',':
			if c.depth == 0 {
				c.junk = true
			}
			if c.depth == c.memberDepth {
				if c.cur >= 0 && c.curKind == capScalar {
					c.finish(p[from:i])
				}
				c.pending = false
				c.expectKey = c.inObj
			}
		case ':':
			if c.depth == 0 {
				c.junk = true
			}
			if c.depth == c.memberDepth && c.inObj && c.matched >= 0 {
				c.pending, c.pendingKey = true, c.matched
				c.matched = -1
			}
			if c.depth == c.memberDepth && c.inObj && c.arrayNamed {
				c.arrayNext, c.arrayNamed = true, false
			}
		case ' ', '\t', '\n', '\r':
			if c.cur >= 0 && c.curKind == capScalar && c.depth == c.memberDepth {
				c.finish(p[from:i])
			}
		default:
			if c.pending {
				from = c.start(i, capScalar)
			} else if c.depth == 0 {
				c.junk = true // a bare word or number at the top level
			}
			// The rest of a scalar (a count's digits, null) does nothing
			// but end at the next byte that means something: it is passed
			// over in one loop, not dispatched byte by byte.
			i = scalarEnd(p, i+1)
			continue
		}
		i++
	}
	if c.cur >= 0 {
		c.appendCur(p[from:i])
	}
	if c.elemCur >= 0 {
		c.appendElem(p[efrom:i])
	}
	return len(p), nil
}

// members reads the members of the top-level object from the key at
// p[i] on, while no capture is open, as the walk byte by byte would: a
// key, its colon, its value (captured when watched, read by its
// ValueReader when it has one), then the comma and the next key. It
// stops, the state as the walk would leave it, where that needs more
// than it does: the end of p, a key with escapes, the watched array, a
// string or scalar that goes on past p, anything out of place; and
// returns where the walk goes on: i itself, the state untouched, for a
// first key it leaves to the walk. A container that goes on past p it
// follows to the end of p, as the walk would, and then returns at too:
// where in p the capture of its value opened, when it is watched (else
// -1).
func (c *Capturer) members(p []byte, i int) (next, at int) {
	for {
		// A key (the walk's quote case at the members' depth).
		end := PlainStringEnd(p, i)
		if end < 0 {
			return i, -1
		}
		c.expectKey = false
		c.matchName(p[i+1 : end-1])
		if i = SkipIndent(p, end); i == len(p) || p[i] != ':' {
			return i, -1
		}
		// Its colon.
		if c.matched >= 0 {
			c.pending, c.pendingKey = true, c.matched
			c.matched = -1
		}
		if c.arrayNamed {
			c.arrayNext, c.arrayNamed = true, false
		}
		if i = SkipIndent(p, i+1); i == len(p) || c.arrayNext {
			return i, -1
		}
		// The value: a string or a container whole in p, or a scalar
		// that a comma or whitespace ends in p, is captured (when
		// watched) or passed over in one step, the capture opened and
		// closed where the walk opens it (the value's first byte) and
		// closes it (its end).
		kind, read := capString, false
		switch p[i] {
		case '"':
			if end = StringEnd(p, i); end < 0 {
				return i, -1
			}
		case '{', '[':
			kind = capContainer
			if c.pending && c.pendingKey == c.readKey {
				end, c.readSt = c.reader(p, i)
				read = end >= 0
			}
			if !read {
				var open int
				if end, open = containerEnd(p, i); open > 0 {
					// It goes on past p: the walk takes it from
					// there, the capture (if any) open.
					at = -1
					if c.pending {
						at = c.start(i, capContainer)
					}
					c.depth += open
					return end, at
				}
			}
		case '}', ']', ',', ':':
			return i, -1
		default:
			end, kind = scalarEnd(p, i+1), capScalar
			if c.pending && (end == len(p) || !scalarClose[p[end]]) {
				// A scalar the walk closes after p, or at a bracket
				// (which closes the object too), or never (a quote
				// or a colon goes into it).
				return i, -1
			}
		}
		if c.pending {
			k := c.pendingKey
			c.start(i, kind)
			c.finish(p[i:end])
			c.read[k] = read
		}
		i = end
		// Its comma, and the next key.
		if i = SkipIndent(p, i); i == len(p) || p[i] != ',' {
			return i, -1
		}
		c.expectKey = true
		if i = SkipIndent(p, i+1); i == len(p) || p[i] != '"' {
			return i, -1
		}
	}
}

// elemMembers is members for the members of an object in the watched
// array: it reads them from the key at p[i] on as the walk and element
// would, capturing the values of the watched ones, and stops where
// members stops (the end of p, a key with escapes, a value that goes on
// past p, anything out of place); i itself, the state untouched, for a
// first key it leaves to the walk.
func (c *Capturer) elemMembers(p []byte, i int) int {
	for {
		end := PlainStringEnd(p, i)
		if end < 0 {
			return i
		}
		c.elemKey = false
		c.matchName(p[i+1 : end-1])
		if i = SkipIndent(p, end); i == len(p) || p[i] != ':' {
			return i
		}
		if c.elemMatched >= 0 {
			c.elemPending, c.elemPendKey, c.elemMatched = true, c.elemMatched, -1
		}
		if i = SkipIndent(p, i+1); i == len(p) {
			return i
		}
		kind := capString
		switch p[i] {
		case '"':
			if end = StringEnd(p, i); end < 0 {
				return i
			}
		case '{', '[':
			if c.elemPending {
				return i // a watched container: the walk captures it
			}
			var open int
			if end, open = containerEnd(p, i); open > 0 {
				c.depth += open // it goes on past p, as the walk follows it
				return end
			}
		case '}', ']', ',', ':':
			return i
		default:
			end, kind = scalarEnd(p, i+1), capScalar
			if c.elemPending && (end == len(p) || !scalarClose[p[end]]) {
				return i
			}
		}
		if c.elemPending {
			c.elemBegin(i, kind)
			c.elemFinish(p[i:end])
		}
		if i = SkipIndent(p, end); i == len(p) || p[i] != ',' {
			return i
		}
		c.elemPending, c.elemKey = false, true
		if i = SkipIndent(p, i+1); i == len(p) || p[i] != '"' {
			return i
		}
	}
}

// scalarClose marks the bytes after a scalar at which the walk closes
// its capture and the member with it.
var scalarClose = [256]bool{',': true, ' ': true, '\t': true, '\n': true, '\r': true}

// scalarOpen reports whether a scalar value being captured ends at the
// next whitespace.
func (c *Capturer) scalarOpen() bool {
	return c.cur >= 0 && c.curKind == capScalar || c.elemCur >= 0 && c.elemKind == capScalar
}

// watching reports whether the bytes at the current depth matter to the
// watched array: its own level (where its elements start) and the members
// of an element that is an object. Deeper values are skipped.
func (c *Capturer) watching() bool {
	return c.inArray && (c.depth == c.memberDepth+1 || c.depth == c.memberDepth+2 && c.elemObj)
}

// element follows the watched array through byte ch at p[i], before Write
// does: where an occurrence starts and ends, where each element starts,
// and the watched members of an object element, whose value it captures
// from efrom (returned, moved when a value starts here).
func (c *Capturer) element(p []byte, i, efrom int) int {
	ch := p[i]
	array, members := c.memberDepth+1, c.memberDepth+2
	if c.arrayNext && c.depth == c.memberDepth {
		switch ch {
		case ' ', '\t', '\n', '\r':
			return efrom
		case ',', ':', '}', ']':
			c.arrayNext = false // no value: no occurrence
			return efrom
		}
		// The watched member's value: an occurrence of the array, or of
		// something else, which holds no elements.
		c.arrayNext = false
		c.elems, c.elemVals, c.elemsHave = c.elems[:0], c.elemVals[:0], false
		c.elemCur, c.elemPending = -1, false
		if ch != '[' {
			c.elemsHave = true
			c.completed++
			return efrom
		}
		c.inArray, c.elemNext = true, true
		return efrom
	}
	if !c.inArray {
		return efrom
	}
	switch {
	case c.depth == array:
		switch ch {
		case ' ', '\t', '\n', '\r', ':':
		case ',':
			c.elemNext = true
		case ']', '}':
			// The occurrence ends (Write closes the array, whatever
			// closes it).
			c.inArray, c.elemsHave, c.elemCur = false, true, -1
			c.completed++
		default:
			if c.elemNext {
				c.elemNext = false
				c.elemKept = len(c.elems) < MaxElements
				if c.elemKept {
					c.elems = append(c.elems, element{object: ch == '{'})
				}
				c.elemObj, c.elemKey, c.elemMatched, c.elemPending = ch == '{', ch == '{', -1, false
			}
		}
	case c.depth == members && c.elemObj:
		switch ch {
		case ' ', '\t', '\n', '\r':
			if c.elemCur >= 0 && c.elemKind == capScalar {
				c.elemFinish(p[efrom:i])
			}
		case ',':
			if c.elemCur >= 0 && c.elemKind == capScalar {
				c.elemFinish(p[efrom:i])
			}
			c.elemPending, c.elemKey = false, true
		case ':':
			if c.elemMatched >= 0 {
				c.elemPending, c.elemPendKey, c.elemMatched = true, c.elemMatched, -1
			}
		case '}', ']':
			if c.elemCur >= 0 && c.elemKind == capScalar {
				c.elemFinish(p[efrom:i])
			}
			c.elemPending, c.elemObj = false, false
		case '"':
			if c.elemPending && !c.elemKey {
				return c.elemBegin(i, capString)
			}
		case '{', '[':
			if c.elemPending {
				return c.elemBegin(i, capContainer)
			}
		default:
			if c.elemPending {
				return c.elemBegin(i, capScalar)
			}
		}
	case c.depth == members+1 && c.elemCur >= 0 && c.elemKind == capContainer && (ch == '}' || ch == ']'):
		// A watched member's object or array value closes (Write closes
		// it): only its structural bytes reach here.
		c.elemFinish(p[efrom : i+1])
	}
	return efrom
}

// elemBegin starts capturing the value of the pending element member at
// p[i], and returns where its bytes start.
func (c *Capturer) elemBegin(i int, kind uint8) int {
	k := c.elemPendKey
	c.elemPending = false
	c.elemCur, c.elemKind, c.elemOver = k, kind, false
	c.elemStart = len(c.elemVals)
	if c.elemKept {
		c.elems[len(c.elems)-1].have[k] = false // the last of duplicates counts
	}
	return i
}

func (c *Capturer) appendElem(b []byte) {
	if c.elemOver || !c.elemKept {
		return
	}
	if len(c.elemVals)-c.elemStart+len(b) > MaxElementValue || len(c.elemVals)+len(b) > maxElementBytes {
		c.elemOver = true
		c.elemVals = c.elemVals[:c.elemStart]
		return
	}
	c.elemVals = append(c.elemVals, b...)
}

func (c *Capturer) elemFinish(b []byte) {
	c.appendElem(b)
	if c.elemKept && !c.elemOver {
		e := &c.elems[len(c.elems)-1]
		e.have[c.elemCur] = true
		e.vals[c.elemCur] = [2]int32{int32(c.elemStart), int32(len(c.elemVals))}
	}
	c.elemCur = -1
}

// scanString advances through string contents from p[i] and returns the
// index past the closing quote, or len(p) and false when the string goes on.
func (c *Capturer) scanString(p []byte, i int) (int, bool) {
	if c.escape {
		if i >= len(p) {
			return i, false
		}
		c.escape = false
		i++
	}
	q := -1 // index of the next quote, len(p) if none; recomputed once passed
	for {
		if q < i {
			if k := bytes.IndexByte(p[i:], '"'); k >= 0 {
				q = i + k
			} else {
				q = len(p)
			}
		}
		b := bytes.IndexByte(p[i:q], '\\')
		if b < 0 {
			if q == len(p) {
				return len(p), false
			}
			return q + 1, true
		}
		i += b + 2
		if i > len(p) {
			c.escape = true
			return len(p), false
		}
	}
}

func (c *Capturer) appendKey(b []byte) {
	if c.keyLen < 0 {
		return
	}
	if c.keyLen+len(b) > len(c.keyBuf) {
		c.keyLen = -1
		return
	}
	c.keyLen += copy(c.keyBuf[c.keyLen:], b)
}

// stringEnd does what the end of a string value at p[i-1] ends: the
// capture of a member or of an element member whose value it is.
func (c *Capturer) stringEnd(p []byte, i, from, efrom int) {
	if c.cur >= 0 && c.curKind == capString && c.depth == c.memberDepth {
		c.finish(p[from:i])
	}
	if c.elemCur >= 0 && c.elemKind == capString && c.depth == c.memberDepth+2 {
		c.elemFinish(p[efrom:i])
	}
}

// matchKey matches the key gathered in keyBuf, its escapes decoded.
func (c *Capturer) matchKey() {
	key := c.keyBuf[:max(c.keyLen, 0)]
	if c.keyLen < 0 {
		key = nil // longer than keyBuf: matches nothing
	} else if hasBackslash(key) {
		n, ok := unescape(c.keyDec[:], key)
		if !ok { // an invalid escape, or longer than any watched name
			key = nil
		} else {
			key = c.keyDec[:n]
		}
	}
	c.matchName(key)
}

// matchName notes which watched member (or element member) the key just
// read names; key nil names none.
func (c *Capturer) matchName(key []byte) {
	elem := c.inArray && c.depth == c.memberDepth+2
	if elem {
		c.elemMatched = -1
	} else {
		c.matched, c.arrayNamed = -1, false
	}
	if key == nil || len(key) > maxRawKey {
		return
	}
	if elem {
		if c.elemKeyLens&lenBit(len(key)) == 0 {
			return
		}
		for i, k := range c.elemKeys {
			if string(key) == k {
				c.elemMatched = i
				return
			}
		}
		return
	}
	if c.keyLens&lenBit(len(key)) == 0 {
		return
	}
	c.arrayNamed = c.elemName != "" && string(key) == c.elemName
	for i, k := range c.keys {
		if string(key) == k {
			c.matched = i
			return
		}
	}
}

// start begins capturing the value of the pending member at p[i].
func (c *Capturer) start(i int, kind uint8) int {
	k := c.pendingKey
	c.pending = false
	c.cur, c.curKind, c.curOver = k, kind, false
	c.have[k], c.read[k] = false, false
	c.vals[k] = c.vals[k][:0]
	return i
}

func (c *Capturer) appendCur(b []byte) {
	if c.curOver {
		return
	}
	v := c.vals[c.cur]
	if len(v)+len(b) > c.limit {
		c.curOver = true
		c.vals[c.cur] = v[:0]
		return
	}
	c.vals[c.cur] = append(v, b...)
}

func (c *Capturer) finish(b []byte) {
	c.appendCur(b)
	if !c.curOver {
		c.have[c.cur] = true
		c.completed++
	}
	c.cur = -1
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
