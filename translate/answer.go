package translate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aigateway-go/aigateway/internal/sse"
	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/provider"
)

// MaxAnswerBytes bounds a whole (non-streamed) answer, or an error body,
// read to translate it: a chat answer is far smaller. A larger one is
// refused (ErrAnswerTooLarge), never cut.
const MaxAnswerBytes = 32 << 20

// ErrAnswerTooLarge is the read error of a translated answer whose
// upstream body is larger than MaxAnswerBytes.
var ErrAnswerTooLarge = errors.New("translate: answer larger than 32 MiB")

// Supported reports whether requests of format f can be translated (chat
// in OpenAI's, Anthropic's or Gemini's format).
func Supported(f provider.Format) bool { return For(f) != nil }

// TranslateRequest reads body, a request in format from, and writes it in
// format to, for model (the target's; "" keeps the request's own) and
// meta.Target (the provider it goes to, when known). It
// returns the request as read too: the answer's translation needs it
// (Answer). A request to can not carry is an *UnsupportedError.
func TranslateRequest(from, to provider.Format, body []byte, meta RequestMeta, model string) ([]byte, *Request, error) {
	src, dst := For(from), For(to)
	if src == nil || dst == nil {
		return nil, nil, fmt.Errorf("translate: no translation from %s to %s", from, to)
	}
	r, err := src.DecodeRequest(body, meta)
	if err != nil {
		return nil, nil, err
	}
	if model == "" {
		model = r.Model
	}
	var out []byte
	if te, ok := dst.(targetEncoder); ok {
		out, err = te.encodeRequestFor(r, model, meta.Target)
	} else {
		out, err = dst.EncodeRequest(r, model)
	}
	if err != nil {
		return nil, r, err
	}
	return out, r, nil
}

// Answer makes resp, an answer in format from to req (a request the caller
// made in format to), read in format to: a stream event by event as it
// arrives, a whole answer once it is read (bounded by MaxAnswerBytes), an
// error answer as to's error (status and Retry-After kept). resp's body
// is replaced; its headers lose what no longer holds (Content-Length,
// Content-Encoding: the answer is read decoded). The request's Accept-Encoding
// must not have asked for a compressed answer the stack cannot read: the
// transport sends translated attempts without one.
func Answer(resp *http.Response, from, to provider.Format, req *Request) {
	src, dst := For(from), For(to)
	if src == nil || dst == nil || resp.Body == nil || from == to {
		return
	}
	stream := resp.StatusCode < 300 && req != nil && req.Stream && wire.IsStreamAnswer(true, resp.Header)
	resp.Header = resp.Header.Clone()
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	switch {
	case stream:
		resp.Body = &streamBody{rc: resp.Body, dec: src.NewStreamDecoder(), enc: dst.NewStreamEncoder(req), terminated: from.Terminated()}
		resp.Header.Set("Content-Type", "text/event-stream")
	case resp.StatusCode >= 300:
		resp.Body = &wholeBody{rc: resp.Body, convert: func(b []byte) ([]byte, error) {
			e := readError(from, resp.StatusCode, b)
			return dst.EncodeError(e), nil
		}}
		resp.Header.Set("Content-Type", "application/json")
	default:
		resp.Body = &wholeBody{rc: resp.Body, convert: func(b []byte) ([]byte, error) {
			r, err := src.DecodeResponse(b)
			if err != nil {
				return nil, err
			}
			return dst.EncodeResponse(r)
		}}
		resp.Header.Set("Content-Type", "application/json")
	}
}

// readError reads the error an error answer of format f carries, or makes
// one of its status when it carries none.
func readError(f provider.Format, status int, body []byte) *provider.Error {
	var s wire.ResponseScanner
	s.Reset(f, false, status)
	s.Write(body)
	s.Finish()
	if e := s.Err(); e != nil {
		c := *e
		if c.Status == 0 {
			c.Status = status
		}
		return &c
	}
	return &provider.Error{Status: status, Message: http.StatusText(status)}
}

// wholeBody reads the whole upstream body at the first Read, converts it,
// and serves the result.
type wholeBody struct {
	rc      io.ReadCloser
	convert func([]byte) ([]byte, error)
	out     *bytes.Reader
	err     error
}

func (b *wholeBody) Read(p []byte) (int, error) {
	if b.out == nil && b.err == nil {
		raw, err := io.ReadAll(io.LimitReader(b.rc, MaxAnswerBytes+1))
		switch {
		case err != nil:
			b.err = err
		case len(raw) > MaxAnswerBytes:
			b.err = ErrAnswerTooLarge
		default:
			out, cerr := b.convert(raw)
			if cerr != nil {
				b.err = fmt.Errorf("translate: upstream answer: %w", cerr)
			} else {
				b.out = bytes.NewReader(out)
			}
		}
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.out.Read(p)
}

func (b *wholeBody) Close() error { return b.rc.Close() }

// streamBody translates an upstream stream as it is read: each read of the
// upstream is split into events, each event decoded and encoded in the
// caller's format at once.
type streamBody struct {
	rc         io.ReadCloser
	dec        StreamDecoder
	enc        StreamEncoder
	sc         sse.Scanner
	buf        []byte
	out        []byte
	pos        int
	err        error // the error to return once out is served
	done       bool  // EventDone went by: the caller's stream is over
	finished   bool  // EventFinish went by (a Gemini stream's end is its EOF)
	terminated bool  // the upstream format has a terminator: EOF without it is a cut
	emitFn     func(*Event)
}

func (b *streamBody) emit(e *Event) {
	if b.done {
		return
	}
	switch e.Kind {
	case EventDone:
		b.done = true
	case EventFinish:
		b.finished = true
	}
	b.out = b.enc.Encode(b.out, e)
}

func (b *streamBody) Read(p []byte) (int, error) {
	if b.emitFn == nil {
		b.emitFn = b.emit
	}
	for b.pos == len(b.out) {
		b.out, b.pos = b.out[:0], 0
		if b.err != nil {
			return 0, b.err
		}
		if b.buf == nil {
			b.buf = make([]byte, 32<<10)
		}
		n, err := b.rc.Read(b.buf)
		if n > 0 {
			b.sc.Feed(b.buf[:n])
		}
		if err == io.EOF {
			b.sc.Flush()
		}
		for b.sc.Next() {
			ev := b.sc.Event()
			if derr := b.dec.Decode(ev.Name, ev.Data, b.emitFn); derr != nil {
				b.err = fmt.Errorf("translate: upstream stream: %w", derr)
				break
			}
		}
		if b.err == nil && b.sc.Err() != nil {
			b.err = b.sc.Err()
		}
		if err == io.EOF && b.err == nil {
			// A Gemini stream ends at its EOF, once it said why; a stream
			// of another format that ends without its terminator is cut,
			// and the caller's is left cut too.
			if !b.done && !b.terminated && b.finished {
				b.emit(&Event{Kind: EventDone})
			}
			b.err = io.EOF
		} else if err != nil && b.err == nil {
			b.err = err
		}
	}
	n := copy(p, b.out[b.pos:])
	b.pos += n
	return n, nil
}

func (b *streamBody) Close() error { return b.rc.Close() }
