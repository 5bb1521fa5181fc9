package llmtest

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
)

// Server is a [Fake] listening on a loopback address: point an SDK's base
// URL at it (URL + "/v1" for openai-go, URL for anthropic-sdk-go and
// Gemini). Its methods are the Fake's, plus Close and Client.
type Server struct {
	*Fake
	// URL is the server's base URL, http://127.0.0.1:port, without a
	// trailing slash.
	URL string

	srv *httptest.Server
}

// NewServer starts a fake upstream on a loopback address. Close it when done.
func NewServer(opts ...Option) *Server {
	f := New(opts...)
	srv := httptest.NewServer(f)
	return &Server{Fake: f, URL: srv.URL, srv: srv}
}

// Client returns an HTTP client for the server, which it closes with it.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close ends held streams and waits (delays, gates), closes the
// connections still open and shuts the server down. It blocks until every
// handler has returned.
func (s *Server) Close() {
	s.Fake.Close()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// ServeHTTP answers one request. Streams are flushed after every event. A
// cut ([Fault].CutAt), or closing the fake while an answer is held,
// aborts the connection with http.ErrAbortHandler, so the client sees the
// body end without its terminator.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	if r.TLS != nil {
		u.Scheme = "https"
	}
	x := f.prepare(r, &u, body)
	st := stops{ctx: r.Context(), closed: f.closed}
	if err := x.holdHeaders(st); err != nil {
		abortIfClosed(err)
		return
	}
	h := w.Header()
	for k, v := range x.header {
		h[k] = v
	}
	rc := http.NewResponseController(w)
	if x.events == nil {
		h["Content-Length"] = []string{strconv.Itoa(len(x.body))}
		w.WriteHeader(x.status)
		if x.cutBody() {
			_, _ = w.Write(x.body[:len(x.body)/2])
			_ = rc.Flush()
			panic(http.ErrAbortHandler)
		}
		_, _ = w.Write(x.body)
		return
	}
	w.WriteHeader(x.status)
	if rc.Flush() != nil {
		return
	}
	src := eventSource{x: x, st: st}
	for {
		ev, err := src.next()
		if errors.Is(err, errCut) {
			panic(http.ErrAbortHandler)
		}
		if err != nil {
			abortIfClosed(err)
			return
		}
		if _, err := w.Write(ev); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// abortIfClosed breaks the connection when the fake was closed while an
// answer was held: returning would send a clean (empty or terminated)
// response instead.
func abortIfClosed(err error) {
	if errors.Is(err, errClosed) {
		panic(http.ErrAbortHandler)
	}
}
