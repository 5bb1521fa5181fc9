package llmtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// TransportURL is a base URL for requests to a [Transport]. Any URL
// works: a Transport answers by path alone, so a test can also use a real
// provider's base URL (https://api.openai.com/v1) to look like it.
const TransportURL = "http://llmtest.invalid"

// Transport is a [Fake] as an in-memory http.RoundTripper: no sockets,
// no goroutines. A whole body is served from memory; a stream's body
// produces one event per Read, waiting inside Read for the fault's
// delays and gate, so closing the body or ending the request's context
// stops the stream at once. Its methods are the Fake's, plus RoundTrip,
// Client and OpenBodies. A Transport is safe for concurrent use.
type Transport struct {
	*Fake
	// URL is TransportURL, for symmetry with Server.URL.
	URL string

	open atomic.Int64
}

var _ http.RoundTripper = (*Transport)(nil)

// NewTransport returns a fake upstream as an in-memory RoundTripper.
func NewTransport(opts ...Option) *Transport {
	return &Transport{Fake: New(opts...), URL: TransportURL}
}

// Client returns an http.Client that sends its requests to t.
func (t *Transport) Client() *http.Client { return &http.Client{Transport: t} }

// OpenBodies reports how many response bodies t returned that have not
// been closed yet: a test can check that every body was closed.
func (t *Transport) OpenBodies() int { return int(t.open.Load()) }

// RoundTrip answers req as the fake's handler would over a socket, with
// the same status, headers (Content-Length and Transfer-Encoding aside)
// and body bytes. It reads and closes req.Body and does not modify req.
// It returns the context's error when req's context has ended or ends
// while it waits for the headers (DelayHeaders, Gate); afterwards, the
// body's Read returns it. The caller closes the response body.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	st := stops{ctx: req.Context(), closed: t.closed}
	if err := st.check(); err != nil {
		return nil, err // the request never reaches the fake, as over a network
	}
	u := req.URL
	if t.cfg.needsRequest() {
		c := *req.URL // a kept record must not share the caller's URL
		u = &c
	}
	x := t.prepare(req, u, body)
	if err := x.holdHeaders(st); err != nil {
		return nil, err
	}
	resp := &http.Response{
		Status:     statusLine(x.status),
		StatusCode: x.status,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     x.header,
		Request:    req,
	}
	t.open.Add(1)
	if x.events == nil {
		resp.ContentLength = int64(len(x.body))
		x.header["Content-Length"] = []string{strconv.Itoa(len(x.body))}
		b := &bytesBody{open: &t.open, ctx: req.Context()}
		if x.cutBody() {
			b.r.Reset(x.body[:len(x.body)/2])
			b.tail = io.ErrUnexpectedEOF
		} else {
			b.r.Reset(x.body)
		}
		resp.Body = b
		return resp, nil
	}
	resp.ContentLength = -1
	resp.TransferEncoding = []string{"chunked"}
	sb := &streamBody{open: &t.open, closed: make(chan struct{})}
	st.body = sb.closed
	sb.src = eventSource{x: x, st: st}
	resp.Body = sb
	return resp, nil
}

// readBody reads and closes the request body.
func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	if n := req.ContentLength; n > 0 && n < 64<<20 {
		b := make([]byte, n)
		if _, err := io.ReadFull(req.Body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(req.Body)
}

// statusLine is the Status a client gets from Go's server for code.
func statusLine(code int) string {
	if code == http.StatusOK {
		return "200 OK"
	}
	text := http.StatusText(code)
	if text == "" {
		text = "status code " + strconv.Itoa(code)
	}
	return strconv.Itoa(code) + " " + text
}

// bytesBody is a whole body in memory; tail is the error after its bytes
// (io.ErrUnexpectedEOF for a cut body, else io.EOF).
type bytesBody struct {
	r      bytes.Reader
	tail   error
	ctx    context.Context
	open   *atomic.Int64
	closed atomic.Bool
}

func (b *bytesBody) Read(p []byte) (int, error) {
	if b.closed.Load() {
		return 0, errBodyClosed
	}
	if done := b.ctx.Done(); done != nil {
		select {
		case <-done:
			return 0, b.ctx.Err()
		default:
		}
	}
	n, err := b.r.Read(p)
	if err == io.EOF && b.tail != nil {
		err = b.tail
	}
	return n, err
}

func (b *bytesBody) Close() error {
	if b.closed.CompareAndSwap(false, true) {
		b.open.Add(-1)
	}
	return nil
}

// streamBody produces a stream one event per Read, pacing it there.
type streamBody struct {
	src    eventSource
	cur    []byte // the rest of the current event
	err    error  // sticky: how the stream ended
	open   *atomic.Int64
	once   sync.Once
	closed chan struct{}
}

func (b *streamBody) Read(p []byte) (int, error) {
	if len(b.cur) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		ev, err := b.src.next()
		if err != nil {
			if errors.Is(err, errCut) {
				err = io.ErrUnexpectedEOF
			}
			b.err = err
			return 0, err
		}
		b.cur = ev
	} else if err := b.src.st.check(); err != nil {
		b.err, b.cur = err, nil
		return 0, err
	}
	n := copy(p, b.cur)
	b.cur = b.cur[n:]
	return n, nil
}

// Close stops the stream: a Read waiting for a delay or a gate returns,
// and later Reads fail.
func (b *streamBody) Close() error {
	b.once.Do(func() {
		close(b.closed)
		b.open.Add(-1)
	})
	return nil
}
