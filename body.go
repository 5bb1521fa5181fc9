package aigateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aigateway-go/aigateway/internal/coding"
	"github.com/aigateway-go/aigateway/internal/redact"
	"github.com/aigateway-go/aigateway/internal/sse"
	"github.com/aigateway-go/aigateway/internal/wire"
)

var (
	// ErrIncompleteStream is the Result.Err of a stream that ended before its
	// terminator ([DONE], message_stop, response.completed ...).
	ErrIncompleteStream = errors.New("aigateway: stream ended before its terminator")
	// ErrClosedEarly is the Result.Err of a call whose caller closed the
	// response body before reading it to the end.
	ErrClosedEarly = errors.New("aigateway: response body closed before its end")
	// ErrMalformedResponse is the Result.Err of a 2xx answer, read to its
	// end, that is not a well-formed answer of its format: an empty or
	// cut JSON body, a body that is not one JSON object, stream events
	// whose data is not JSON, a compressed body that does not inflate.
	// Such an answer is never cached.
	ErrMalformedResponse = errors.New("aigateway: upstream answer is malformed")
	// ErrEventTooLarge is the Result.Err of a stream that held an event
	// larger than MaxEventBytes, or never ended one: the stack keeps at
	// most that much of an event, so the body's Read fails with it there,
	// after handing on the events before it.
	ErrEventTooLarge = errors.New("aigateway: stream event larger than 16 MiB (or never ended)")
)

// MaxEventBytes bounds what the stack holds of one SSE event while a
// stream passes through it (each of its scanners, and the filter that drops
// a usage chunk the caller did not ask for): 16 MiB.
const MaxEventBytes = 16 << 20

// The scanners' own bound is this one: the build fails if they differ.
const _ = uint(MaxEventBytes-wire.MaxEventSize) + uint(wire.MaxEventSize-MaxEventBytes)

// clientBody is the body the caller reads. It records time to first byte and
// first chunk and completes the Call once: at the stream's terminator, at
// EOF, on a read error, on Close, or when the request's context ends. When
// the stack asked upstream for stream usage the caller did not ask for, it
// drops that usage chunk, holding back at most one incomplete event.
type clientBody struct {
	rc     io.ReadCloser
	call   *Call
	up     *upstream   // the record of the upstream request the body answers; nil for a layer's own answer
	stop   func() bool // stops the context.AfterFunc; under mu
	stream bool
	status int
	length int64 // Content-Length, -1 if unknown
	closed atomic.Bool

	mu         sync.Mutex
	read       int64
	chunked    bool // the first chunk with content went by
	terminated bool
	sse        *sse.Scanner // streams only
	// errs reads an error answer (status >= 400) as the caller does: the
	// call's error is the answer's, whether the upstream's or the stack's
	// own (a limiter's 429, a refusal). From scanners; nil once completed.
	errs *wire.ResponseScanner

	tooLarge bool // a streamed event went over MaxEventBytes: Reads fail; reading goroutine only
	encoded  bool // compressed (the caller asked for it): not read here, see terminatedLocked

	// filtering state, used only by the reading goroutine
	filter bool
	in     []byte      // bytes read, not yet split into complete events
	inCR   bool        // in holds a '\r': events may end in "\r\n\r\n" or "\r\r"
	search eventSearch // where the search for the end of the event in in resumes
	out    []byte      // complete events ready for the caller
	outPos int
	inErr  error
}

// own wraps resp's body for the Call's completion and stops watching ctx
// when the call completes.
func own(call *Call, req *http.Request, resp *http.Response) {
	up := call.answered(resp)
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// The upstream took the Upgrade the caller asked for: the body is
		// the connection now, the caller's to use as it is. The call ends
		// here.
		call.complete(nil)
		return
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	call.mu.Lock()
	var b *clientBody
	if call.parts != nil {
		b = &call.parts.body
	} else {
		b = new(clientBody)
	}
	call.mu.Unlock()
	b.rc, b.call, b.up, b.status, b.length = resp.Body, call, up, resp.StatusCode, resp.ContentLength
	b.stream = resp.StatusCode < 300 && wire.IsStreamAnswer(call.stream, resp.Header)
	// A compressed answer (the caller asked for it) passes as it is: what
	// the stack knows of it (its terminator, its error) comes from the
	// upstream scan, which inflates a copy, or from the cache that stored
	// it whole.
	b.encoded = coding.Of(resp) != coding.Identity
	if b.stream && !b.encoded {
		b.sse = new(sse.Scanner)
	}
	if resp.StatusCode >= 400 && !b.encoded {
		b.errs = scanners.Get().(*wire.ResponseScanner)
		b.errs.Reset(call.format, false, resp.StatusCode)
	}
	if b.sse != nil && call.hideStreamUsage(up) {
		b.filter = true
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
	}
	resp.Body = b
	if req.Context().Done() != nil {
		ctx := req.Context()
		// The callback may run at once, on its own goroutine, if ctx has
		// already ended: stop is written under mu, as complete reads it.
		b.mu.Lock()
		b.stop = context.AfterFunc(ctx, func() {
			// Nobody can use the body now: release the upstream's, first,
			// so that what the upstream reported before the end (usage
			// in an early event) is in the Result the call completes
			// with.
			if b.closed.CompareAndSwap(false, true) {
				b.rc.Close()
			}
			b.complete(ctx.Err())
		})
		b.mu.Unlock()
	}
}

func (b *clientBody) complete(err error) {
	b.mu.Lock()
	if b.errs != nil {
		b.call.setAnswerError(b.errs.Err())
		scanners.Put(b.errs)
		b.errs = nil
	}
	stop := b.stop
	b.mu.Unlock()
	if b.call.complete(err) && stop != nil {
		stop()
	}
}

func (b *clientBody) Read(p []byte) (int, error) {
	if b.filter {
		return b.readFiltered(p)
	}
	if b.tooLarge {
		return 0, ErrEventTooLarge
	}
	n, err := b.rc.Read(p)
	if n > 0 {
		b.mu.Lock()
		done := b.observeLocked(p[:n])
		tooLarge := b.sse != nil && b.sse.Err() != nil
		b.mu.Unlock()
		if done {
			b.complete(nil)
		}
		if tooLarge && err == nil {
			b.tooLarge, err = true, ErrEventTooLarge
		}
	}
	if err != nil {
		b.end(err)
	}
	return n, err
}

// observeLocked records timing and, for streams, watches events go by. It
// reports whether these bytes held the stream's terminator. (An event over
// the bound stops the scanner: see sse.Scanner.Err.)
func (b *clientBody) observeLocked(p []byte) (terminated bool) {
	var now lazyNow
	if b.read == 0 {
		b.call.markFirstByte(now.get())
	}
	b.read += int64(len(p))
	if b.errs != nil {
		b.errs.Write(p)
	}
	if b.sse == nil {
		return false
	}
	b.sse.Feed(p)
	for b.sse.Next() {
		if b.classifyLocked(b.sse.Event(), &now) == wire.EventTerminator {
			terminated = true
		}
	}
	return terminated
}

// lazyNow reads the clock once, when first asked: most reads of a body
// are neither its first byte nor its first chunk, and need no time.
type lazyNow struct{ t time.Time }

func (n *lazyNow) get() time.Time {
	if n.t.IsZero() {
		n.t = time.Now()
	}
	return n.t
}

// classifyLocked classifies one event and notes the first chunk and the
// terminator.
func (b *clientBody) classifyLocked(ev sse.Event, now *lazyNow) wire.EventKind {
	k := wire.ClassifyEvent(b.call.format, ev.Name, ev.Data)
	switch k {
	case wire.EventChunk:
		if !b.chunked && wire.HasContent(b.call.format, ev.Name, ev.Data) {
			b.chunked = true
			b.call.markFirstChunk(now.get())
		}
	case wire.EventTerminator:
		b.terminated = true
	}
	return k
}

// terminatedLocked reports whether the stream's terminator went by: seen
// here, or, for a compressed stream this body cannot read, seen by the
// upstream scan (or stored whole by the cache that replays it).
func (b *clientBody) terminatedLocked() bool {
	if !b.encoded {
		return b.terminated
	}
	complete, _ := b.call.answerState(b.up)
	return complete || b.call.Result().CacheStatus.Saved()
}

// answerComplete reports whether the upstream scan saw the answer arrive
// whole (false for a layer's own answer).
func (b *clientBody) answerComplete() bool {
	complete, _ := b.call.answerState(b.up)
	return complete
}

// end completes the call on a read error or EOF.
func (b *clientBody) end(err error) {
	if err != io.EOF {
		b.complete(err)
		return
	}
	b.mu.Lock()
	if b.sse != nil {
		b.sse.Flush()
		var now lazyNow
		for b.sse.Next() {
			b.classifyLocked(b.sse.Event(), &now)
		}
	}
	// A stream the stack did not read (compressed in a coding it cannot
	// inflate, or past the bound) is not known to be cut.
	_, opaque := b.call.answerState(b.up)
	cut := b.stream && !b.terminatedLocked() && b.call.format.Terminated() && !(b.encoded && opaque)
	b.mu.Unlock()
	if cut {
		b.complete(ErrIncompleteStream)
	} else {
		b.complete(nil)
	}
}

func (b *clientBody) Close() error {
	if !b.closed.CompareAndSwap(false, true) {
		return nil
	}
	err := b.rc.Close()
	b.mu.Lock()
	var outcome error
	switch {
	case b.stream:
		if !b.terminatedLocked() {
			outcome = ErrClosedEarly
		}
	case b.length >= 0:
		if b.read < b.length {
			outcome = ErrClosedEarly
		}
	case b.status != http.StatusNoContent && !b.answerComplete():
		// Length unknown (chunked, or unzipped by the transport): the body
		// was whole only if the upstream scan saw its JSON value end. (The
		// scan committed when rc.Close closed the upstream body above.)
		outcome = ErrClosedEarly
	}
	b.mu.Unlock()
	b.complete(outcome)
	return err
}

// readFiltered passes whole events through, dropping the usage-only chunk.
func (b *clientBody) readFiltered(p []byte) (int, error) {
	for {
		if b.outPos < len(b.out) {
			n := copy(p, b.out[b.outPos:])
			b.outPos += n
			if b.outPos == len(b.out) {
				b.out, b.outPos = b.out[:0], 0
			}
			return n, nil
		}
		if b.inErr != nil {
			return 0, b.inErr
		}
		if len(b.in) == cap(b.in) {
			// Doubling, to one byte past the bound at most (slices.Grow
			// could round a 16 MiB buffer up to 32).
			grown := make([]byte, len(b.in), len(b.in)+min(max(4096, len(b.in)), MaxEventBytes+1-len(b.in)))
			b.in = grown[:copy(grown, b.in)]
		}
		// Never more than one byte past the bound: an event that long is
		// refused, whatever comes after it.
		n, err := b.rc.Read(b.in[len(b.in):min(cap(b.in), MaxEventBytes+1)])
		b.in = b.in[:len(b.in)+n]
		if n > 0 {
			b.mu.Lock()
			done := b.splitLocked(n, err != nil)
			b.mu.Unlock()
			if done {
				b.complete(nil)
			}
		}
		if err == nil && (len(b.in) > MaxEventBytes || b.sse.Err() != nil) {
			// An event over the bound, or one that never ends: the events
			// before it are the caller's, it is not.
			b.in = nil
			err = ErrEventTooLarge
		}
		if err == ErrEventTooLarge {
			b.in = nil // an inner scanner refused the event: so does the filter
		}
		if err != nil {
			if len(b.in) > 0 { // an incomplete last event: hand it on as it is
				b.mu.Lock()
				b.sse.Feed(b.in)
				b.mu.Unlock()
				b.out = append(b.out, b.in...)
				b.in = b.in[:0]
			}
			b.inErr = err
			b.end(err)
		}
	}
}

// splitLocked moves each complete event from in to out, unless it is the
// usage chunk the caller did not ask for. It reports whether the terminator
// went by. fresh is how many bytes at the end of in the last read brought:
// in held no complete event before them, so only they are searched (with
// the line they continue); an event of megabytes that arrives in small
// reads costs a pass over its bytes, not one per read.
// outGrowth bounds how far splitLocked grows the filter's output ahead of
// the events it appends: more than one read of a stream brings.
const outGrowth = 64 << 10

func (b *clientBody) splitLocked(fresh int, atEOF bool) (terminated bool) {
	var now lazyNow
	if b.read == 0 {
		b.call.markFirstByte(now.get())
	}
	old := len(b.in) - fresh
	if !b.inCR && bytes.IndexByte(b.in[old:], '\r') >= 0 {
		b.inCR = true
		b.search.lines(b.in)
	}
	lfOnly := !b.inCR
	// Room, at once, for the complete events in, which are all the caller
	// gets of it: as much as in holds, up to outGrowth (in may hold an
	// incomplete event of up to MaxEventBytes, none of which goes out).
	b.out = slices.Grow(b.out, min(len(b.in), outGrowth))
	start := 0
	for {
		end := b.search.end(b.in[start:], atEOF, lfOnly)
		if end < 0 {
			break
		}
		raw := b.in[start : start+end]
		b.read += int64(len(raw))
		keep := true
		switch b.classifyRawLocked(raw, &now) {
		case wire.EventUsageOnly:
			keep = false
		case wire.EventTerminator:
			terminated = true
		}
		if keep {
			b.out = append(b.out, raw...)
		}
		start += end
	}
	if start > 0 {
		// What is left began after the last event's end, in the fresh
		// bytes: looking at it again for a '\r' is no second pass.
		b.in = b.in[:copy(b.in, b.in[start:])]
		b.inCR = b.inCR && bytes.IndexByte(b.in, '\r') >= 0
	}
	return terminated
}

// classifyRawLocked classifies one complete event given as its raw bytes. The
// common shape, one "data:" line ended by "\n\n", is read in place; any other
// goes through the SSE scanner.
func (b *clientBody) classifyRawLocked(raw []byte, now *lazyNow) wire.EventKind {
	if len(raw) > 7 && string(raw[:5]) == "data:" && bytes.IndexByte(raw, '\n') == len(raw)-2 && raw[len(raw)-1] == '\n' {
		data := raw[5 : len(raw)-2]
		if len(data) > 0 && data[0] == ' ' {
			data = data[1:]
		}
		return b.classifyLocked(sse.Event{Data: data}, now)
	}
	kind := wire.EventOther
	b.sse.Feed(raw)
	b.sse.Flush()
	for b.sse.Next() {
		if k := b.classifyLocked(b.sse.Event(), now); k > kind {
			kind = k
		}
	}
	return kind
}

var lflf = []byte("\n\n")

// eventEnd returns the length of the first complete SSE event in p,
// including the blank line that ends it, or -1. lfOnly says p holds no '\r'.
// A "\r" at the very end of p may be the first half of "\r\n", so it ends
// nothing until more arrives.
func eventEnd(p []byte, atEOF, lfOnly bool) int {
	var s eventSearch
	return s.end(p, atEOF, lfOnly)
}

// eventSearch is a search for the end of the event at the start of a
// buffer that grows between searches: it resumes where the last one
// stopped instead of looking at the same bytes again. Its zero value
// starts at the beginning.
type eventSearch struct {
	pos       int // the bytes before it hold no end of the event
	lineStart int // where the line that pos is in began (searches that read '\r')
}

// end returns the length of the first complete event in p, including the
// blank line that ends it, or -1; p is what it was at the last search,
// with more bytes after. Once it found an end, the next search starts
// anew, at the start of the next event.
func (s *eventSearch) end(p []byte, atEOF, lfOnly bool) int {
	if lfOnly {
		if s.pos == 0 && len(p) > 0 && p[0] == '\n' {
			return 1
		}
		from := max(s.pos-1, 0) // the first '\n' of "\n\n" may have ended the last search
		if i := bytes.Index(p[from:], lflf); i >= 0 {
			*s = eventSearch{}
			return from + i + 2
		}
		s.pos = len(p)
		return -1
	}
	lineStart := s.lineStart
	for i := s.pos; i < len(p); i++ {
		c := p[i]
		if c != '\n' && c != '\r' {
			continue
		}
		next := i + 1
		if c == '\r' {
			if next == len(p) && !atEOF {
				s.pos, s.lineStart = i, lineStart // look at it again with what follows
				return -1
			}
			if next < len(p) && p[next] == '\n' {
				next++
			}
		}
		if i == lineStart { // an empty line ends the event
			*s = eventSearch{}
			return next
		}
		lineStart = next
		i = next - 1
	}
	s.pos, s.lineStart = len(p), lineStart
	return -1
}

// lines prepares a search that has so far looked only for "\n\n" (p held
// no '\r') to go on line by line: the line it stopped in began after the
// last '\n' before pos.
func (s *eventSearch) lines(p []byte) {
	s.lineStart = bytes.LastIndexByte(p[:s.pos], '\n') + 1
}

// redactError keeps credentials out of Result.Err, which reaches spans,
// request logs and the caller's own logs (see redact.Error).
func redactError(err error) error { return redact.Error(err) }
