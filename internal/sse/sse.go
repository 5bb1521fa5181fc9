// Package sse splits a Server-Sent Events byte stream into events, as the
// WHATWG "event stream interpretation" describes, for the gateway's
// pass-through readers: the bytes reach the application unchanged while the
// scanner looks at them.
//
// The Scanner parses events in place, in the slice it was fed; it copies only
// the bytes of an event that is still incomplete when its slice ends, into
// buffers it reuses. Once those buffers have grown it allocates nothing.
package sse

import (
	"bytes"
	"errors"
)

// Event is one dispatched SSE event. Its slices are valid until the next
// call to Feed, Next or Flush.
type Event struct {
	Name []byte // value of the last "event:" line; nil if none
	Data []byte // "data:" lines joined by "\n"; nil if none
}

// Scanner splits a stream fed in arbitrary pieces into events. Events may be
// separated by "\n\n", "\r\n\r\n" (or "\r\r"); ":" comment lines and
// "retry:"/"id:" lines are skipped; one leading space after the colon is
// dropped. No allocation per event once its buffer has grown.
//
// As the SSE specification says, a block without any "data:" line dispatches
// no event.
//
// An event is bounded: once its lines (comments included, line ends not
// counted) add up to more than MaxEvent bytes, the scanner stops with
// ErrEventTooLarge (see Err) and keeps nothing more, however the stream goes
// on. So a stream that never ends an event costs at most that much memory.
//
// A Scanner is not safe for concurrent use; its zero value is ready.
type Scanner struct {
	// MaxEvent bounds one event, in bytes; zero means MaxEventSize. Reset
	// keeps it.
	MaxEvent int

	p   []byte // the slice being parsed: the caller's, or own after a Feed that interrupted parsing
	pos int

	line    []byte // an incomplete trailing line, carried over to the next Feed
	partial bool
	size    int   // bytes of the event's lines so far
	err     error // ErrEventTooLarge, once the event went over the bound
	skipLF  bool  // the last line ended with '\r' at the end of p: a leading '\n' belongs to it
	started bool  // the leading byte order mark has been dealt with
	bomLen  int   // bytes of a leading byte order mark seen so far
	flushed bool

	// the event being assembled; name and data point into p or line
	// ("borrowed") until they are copied into nameBuf and dataBuf.
	name      []byte
	data      []byte
	hasData   bool
	nameOwned bool
	dataOwned bool
	nameBuf   []byte
	dataBuf   []byte
	own       []byte

	ev Event
}

var empty = []byte{}

// MaxEventSize is the default bound of one event: 16 MiB, room for the
// largest events providers send (a Responses stream's response.completed
// repeats the whole answer, images in base64 included) and far more than a
// chat chunk needs.
const MaxEventSize = 16 << 20

// ErrEventTooLarge is the Err of a Scanner whose stream held an event
// larger than its bound.
var ErrEventTooLarge = errors.New("sse: event larger than the limit")

// Err returns ErrEventTooLarge once an event went over the bound (nothing
// more is parsed then), else nil.
func (s *Scanner) Err() error { return s.err }

func (s *Scanner) max() int {
	if s.MaxEvent > 0 {
		return s.MaxEvent
	}
	return MaxEventSize
}

// grow counts n more bytes of the current event's lines, and stops the
// scanner when they go over the bound.
func (s *Scanner) grow(n int) bool {
	s.size += n
	if s.size <= s.max() {
		return true
	}
	s.err = ErrEventTooLarge
	// Keep nothing of it: the buffers may hold up to the bound.
	s.p, s.pos, s.line, s.dataBuf, s.nameBuf, s.own = nil, 0, nil, nil, nil, nil
	s.name, s.data, s.hasData, s.partial = nil, nil, false, false
	return false
}

// appendCapped appends p to b like append, but grows b's capacity no
// further than the event bound when the result fits in it: the scanner's
// buffers hold one event at most, and doubling would let them reach twice
// the bound.
func (s *Scanner) appendCapped(b, p []byte) []byte {
	need := len(b) + len(p)
	if need <= cap(b) {
		return append(b, p...)
	}
	c := min(max(2*cap(b), need, 512), max(s.max(), need))
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return append(nb, p...)
}

// Feed hands the scanner the next bytes of the stream. The scanner does not
// keep p after the next Feed: it copies only an incomplete trailing event.
func (s *Scanner) Feed(p []byte) {
	if len(p) == 0 || s.err != nil {
		return
	}
	if !s.started {
		if p = s.skipBOM(p); len(p) == 0 {
			return
		}
	}
	if s.pos < len(s.p) {
		// The caller feeds again before Next drained the previous slice:
		// keep its unparsed rest, in front of p, in a buffer of our own.
		s.keep()
		s.own = append(s.own[:0], s.p[s.pos:]...) // may overlap s.own: append copies with memmove
		s.own = append(s.own, p...)
		s.p, s.pos = s.own, 0
		return
	}
	s.p, s.pos = p, 0
}

var bom = []byte("\xEF\xBB\xBF")

// skipBOM drops a UTF-8 byte order mark at the start of the stream, even
// one split across Feeds.
func (s *Scanner) skipBOM(p []byte) []byte {
	for len(p) > 0 && s.bomLen < len(bom) && p[0] == bom[s.bomLen] {
		p = p[1:]
		s.bomLen++
	}
	if s.bomLen == len(bom) {
		s.started = true
		return p
	}
	if len(p) == 0 {
		return p // still possibly a mark
	}
	s.started = true
	if s.bomLen > 0 {
		// Not a mark after all: its first bytes are data.
		s.own = append(append(s.own[:0], bom[:s.bomLen]...), p...)
		p = s.own
	}
	return p
}

// Next advances to the next complete event in what was fed; false when none.
func (s *Scanner) Next() bool {
	if s.err != nil {
		return false
	}
	for {
		line, ok := s.nextLine()
		if !ok {
			break
		}
		if len(line) == 0 {
			s.size = 0
			if s.dispatch() {
				return true
			}
			continue
		}
		s.field(line)
	}
	if s.err != nil {
		return false
	}
	if s.flushed {
		s.flushed = false
		if s.partial {
			if len(s.line) > 0 {
				s.field(s.line)
			}
			s.partial = false
		}
		s.skipLF, s.size = false, 0
		return s.dispatch()
	}
	return false
}

// Event returns the current event.
func (s *Scanner) Event() Event { return s.ev }

// Flush, at end of stream, makes a trailing event without its blank line
// available to Next.
func (s *Scanner) Flush() { s.flushed = true }

// Reset empties the scanner for reuse; it keeps MaxEvent.
func (s *Scanner) Reset() {
	*s = Scanner{MaxEvent: s.MaxEvent, line: s.line[:0], nameBuf: s.nameBuf[:0], dataBuf: s.dataBuf[:0], own: s.own[:0]}
}

// nextLine returns the next complete line of s.p without its terminator.
// At the end of s.p it stores an unterminated rest in s.line and reports
// false.
func (s *Scanner) nextLine() ([]byte, bool) {
	p := s.p
	if s.skipLF && s.pos < len(p) {
		s.skipLF = false
		if p[s.pos] == '\n' {
			s.pos++
		}
	}
	if s.pos >= len(p) {
		// The slice is used up, and the caller may reuse it once Next
		// returns: what the event being assembled borrows from it is
		// copied now, and the slice let go of.
		s.keep()
		s.p, s.pos = nil, 0
		return nil, false
	}
	rest := p[s.pos:]
	end := bytes.IndexByte(rest, '\n')
	head := rest
	if end >= 0 {
		head = rest[:end]
	}
	next := end + 1
	if cr := bytes.IndexByte(head, '\r'); cr >= 0 {
		end, next = cr, cr+1
		if next < len(rest) {
			if rest[next] == '\n' {
				next++
			}
		} else {
			s.skipLF = true
		}
	}
	if end < 0 {
		// No terminator: the line continues in the next Feed.
		if !s.grow(len(rest)) {
			return nil, false
		}
		s.keep()
		if s.partial {
			s.line = s.appendCapped(s.line, rest)
		} else {
			s.partial = true
			s.line = s.appendCapped(s.line[:0], rest)
		}
		s.p, s.pos = nil, 0
		return nil, false
	}
	if !s.grow(end) {
		return nil, false
	}
	s.pos += next
	if s.partial {
		s.partial = false
		s.line = s.appendCapped(s.line, rest[:end])
		return s.line, true
	}
	return rest[:end], true
}

// keep copies the borrowed parts of the event being assembled into the
// scanner's own buffers, before the bytes they point into go away.
func (s *Scanner) keep() {
	if s.name != nil && !s.nameOwned {
		s.nameBuf = s.appendCapped(s.nameBuf[:0], s.name)
		s.name, s.nameOwned = s.nameBuf, true
		if s.name == nil {
			s.name = empty // present, but empty
		}
	}
	if s.hasData && !s.dataOwned {
		s.dataBuf = s.appendCapped(s.dataBuf[:0], s.data)
		s.data, s.dataOwned = s.dataBuf, true
	}
}

func (s *Scanner) field(line []byte) {
	if line[0] == ':' {
		return // comment
	}
	var name, value []byte
	if c := bytes.IndexByte(line, ':'); c >= 0 {
		name, value = line[:c], line[c+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	} else {
		name, value = line, line[len(line):]
	}
	switch string(name) {
	case "data":
		if !s.hasData {
			s.data, s.hasData, s.dataOwned = value, true, false
			return
		}
		if !s.dataOwned {
			s.dataBuf = s.appendCapped(s.dataBuf[:0], s.data)
			s.dataOwned = true
		}
		s.dataBuf = s.appendCapped(append(s.dataBuf, '\n'), value)
		s.data = s.dataBuf
	case "event":
		s.name, s.nameOwned = value, false
	}
}

func (s *Scanner) dispatch() bool {
	if !s.hasData {
		s.name, s.nameOwned = nil, false
		return false
	}
	s.ev = Event{Name: s.name, Data: s.data}
	if s.ev.Data == nil {
		s.ev.Data = empty
	}
	s.name, s.data, s.hasData, s.nameOwned, s.dataOwned = nil, nil, false, false, false
	return true
}
