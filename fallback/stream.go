package fallback

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aigateway-go/aigateway/internal/coding"
	"github.com/aigateway-go/aigateway/internal/sse"
	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/provider"
)

// maxPeek bounds the bytes held back before a stream's first content event:
// a stream that sends more preamble than this is handed over as it is.
const maxPeek = 64 << 10

type peeked struct {
	buf []byte // the bytes read, to replay to the caller
	err error  // why the stream cannot be the answer (an error event, an early end)
}

// peek reads a stream until its first content event, so an error that comes
// first (Anthropic's overloaded event after HTTP 200) or a stream that ends
// before any content can still fall back. It reads nothing past the read
// that brought that event. A compressed stream (c: the caller asked for it)
// is read inflated, and its bytes are kept as they came; one in a coding
// the router cannot read is handed over as it is.
func peek(f provider.Format, body io.Reader, c coding.Coding) peeked {
	switch c {
	case coding.Opaque:
		return peeked{}
	case coding.Gzip, coding.Deflate:
		return peekCompressed(f, body, c)
	}
	var sc sse.Scanner
	buf := make([]byte, 0, 4096)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		sc.Feed(buf[len(buf) : len(buf)+n])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			sc.Flush()
		}
		if over, perr := firstContent(f, &sc, buf); over {
			return peeked{buf: buf, err: perr}
		}
		switch {
		case err == io.EOF:
			return peeked{buf: buf, err: ErrNoContent}
		case err != nil:
			return peeked{buf: buf, err: err}
		case len(buf) >= maxPeek:
			return peeked{buf: buf}
		}
	}
}

// peekCompressed is peek for a gzip or deflate stream: the events are read
// from an inflated copy, the bytes kept are the compressed ones. Both are
// bounded by maxPeek.
func peekCompressed(f provider.Format, body io.Reader, c coding.Coding) peeked {
	raw := &recording{r: body, buf: make([]byte, 0, 4096)}
	// cut tells why the inflated copy ended: the upstream's error, the end
	// before any content, or a body that does not inflate (handed over as
	// it is: the caller's own decoder will say so).
	cut := func(err error) peeked {
		switch {
		case raw.err != nil && raw.err != io.EOF:
			return peeked{buf: raw.buf, err: raw.err}
		case err == io.EOF || err == io.ErrUnexpectedEOF && raw.err == io.EOF:
			return peeked{buf: raw.buf, err: ErrNoContent}
		}
		return peeked{buf: raw.buf}
	}
	r, err := coding.NewReader(c, raw)
	if err != nil {
		return cut(err)
	}
	var sc sse.Scanner
	text := make([]byte, 0, 4096) // inflated
	for {
		if len(text) == cap(text) {
			text = append(text, 0)[:len(text)]
		}
		n, err := r.Read(text[len(text):cap(text)])
		sc.Feed(text[len(text) : len(text)+n])
		text = text[:len(text)+n]
		if err == io.EOF {
			sc.Flush()
		}
		if over, perr := firstContent(f, &sc, text); over {
			return peeked{buf: raw.buf, err: perr}
		}
		switch {
		case err != nil:
			return cut(err)
		case len(raw.buf) >= maxPeek || len(text) >= maxPeek:
			return peeked{buf: raw.buf}
		}
	}
}

// firstContent reads the events sc holds, and reports whether the peek is
// over: once the answer has begun (wire.StreamStart), or at an error event
// before it, whose error it returns (read from text, the stream so far).
func firstContent(f provider.Format, sc *sse.Scanner, text []byte) (over bool, err error) {
	for sc.Next() {
		ev := sc.Event()
		switch wire.StreamStart(f, ev.Name, ev.Data) {
		case wire.StartAnswer:
			return true, nil
		case wire.StartError:
			return true, parseError(f, true, http.StatusOK, text)
		}
	}
	return false, nil
}

// answerBody is the body of the answer the router returns: the bytes it
// peeked, then the rest of the upstream body as it arrives. Closing it ends
// the attempt's context; the idle timer runs only while a Read waits for
// the upstream.
type answerBody struct {
	pending []byte
	rc      io.ReadCloser
	ctx     context.Context         // the attempt's
	cancel  context.CancelCauseFunc // nil when the attempt has no context of its own
	idle    time.Duration
	timer   *time.Timer // ends the attempt's context with ErrIdleTimeout; stopped between Reads
	closed  atomic.Bool
}

// armIdle sets up the idle timeout (none when d is zero).
func (b *answerBody) armIdle(d time.Duration) {
	if d <= 0 || b.cancel == nil {
		return
	}
	cancel := b.cancel
	b.idle = d
	b.timer = time.AfterFunc(d, func() { cancel(ErrIdleTimeout) })
	b.timer.Stop()
}

func (b *answerBody) Read(p []byte) (int, error) {
	if len(b.pending) > 0 {
		n := copy(p, b.pending)
		b.pending = b.pending[n:]
		return n, nil
	}
	if b.timer == nil {
		return b.rc.Read(p)
	}
	b.timer.Reset(b.idle)
	n, err := b.rc.Read(p)
	b.timer.Stop()
	// The cause, not whether the timer had fired: a Close or the caller's
	// context may have ended the read, and the timer may fire just as
	// bytes arrive (the next Read then fails with it).
	if err != nil && err != io.EOF && context.Cause(b.ctx) == ErrIdleTimeout {
		err = ErrIdleTimeout
	}
	return n, err
}

func (b *answerBody) Close() error {
	if !b.closed.CompareAndSwap(false, true) {
		return nil
	}
	if b.timer != nil {
		b.timer.Stop()
	}
	err := b.rc.Close()
	if b.cancel != nil {
		b.cancel(nil)
	}
	return err
}
