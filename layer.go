package aigateway

import (
	"errors"
	"net/http"
)

var errNoResponse = errors.New("aigateway: a layer returned neither a response nor an error")

// Handler is one layer's work on a recognised request: it gets the request's
// Call, the request (with the Call in its context, body replayable through
// GetBody) and the next RoundTripper, and returns the response for the layer
// above. It follows the http.RoundTripper rules: it never mutates req (clone
// first), and closes every body it does not return.
type Handler func(call *Call, req *http.Request, next http.RoundTripper) (*http.Response, error)

// Layer turns a Handler into the RoundTripper a Middleware's Wrap returns, so
// that every layer behaves the same way alone and in a stack:
//
//   - A request that already carries a Call goes straight to handle.
//   - Otherwise this layer is the outermost to meet it: it prepares the Call
//     (reading the body once, bounded by DefaultMaxRequestBytes), hands it to
//     handle, and wraps the response body the caller reads so the Call
//     completes exactly once (see Call.OnComplete). A request the stack
//     refuses (an oversized body gets a provider-shaped 413) still goes to
//     handle, but nothing sends it (see Call.Refused).
//   - A request the stack does not recognise goes to next untouched.
//
// Usage is scanned once per upstream response, at the innermost point that
// sees it: inside a Gateway that is the Gateway's base transport; without a
// Gateway it is the next of the innermost Layer the request went through.
//
// The returned RoundTripper is safe for concurrent use if handle is.
func Layer(next http.RoundTripper, handle Handler) http.RoundTripper {
	l := &layer{next: next, handle: handle}
	l.scanning.l = l
	return l
}

type layer struct {
	next     http.RoundTripper
	handle   Handler
	scanning scanningNext
}

func (l *layer) RoundTrip(req *http.Request) (*http.Response, error) {
	if call := CallFrom(req.Context()); call != nil {
		// Claim the scan: a layer further out must not scan what this one
		// answers, whether it answers itself or from further in. (Inside a
		// Gateway, its base transport claims last and scans.)
		call.scanOwner.Store(l)
		return l.handle(call, req, &l.scanning)
	}
	call, out, err := prepare(req, DefaultMaxRequestBytes, false)
	switch {
	case err != nil:
		return nil, err
	case call == nil:
		return l.next.RoundTrip(req)
	}
	resp, err := l.handle(call, out, &l.scanning)
	return finishOwned(call, out, resp, err)
}

// finishOwned is the preparing layer's side of a call: a failed round trip
// completes the Call at once; a response gets the caller-facing body.
func finishOwned(call *Call, req *http.Request, resp *http.Response, err error) (*http.Response, error) {
	if err == nil && resp == nil {
		err = errNoResponse
	}
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close() // a RoundTripper returns a response or an error, not both
		}
		call.complete(err)
		return nil, err
	}
	own(call, req, resp)
	return resp, nil
}

// scanningNext is a layer's next, seen by its Handler. It scans the
// upstream response when nothing further in (a layer, or a Gateway's base
// transport) claimed the scan.
type scanningNext struct{ l *layer }

func (s *scanningNext) RoundTrip(req *http.Request) (*http.Response, error) {
	call := CallFrom(req.Context())
	if call == nil {
		return s.l.next.RoundTrip(req)
	}
	if call.Refused() {
		return passRefused(call, req, s.l.next)
	}
	call.scanOwner.Store(s.l)
	resp, err := s.l.next.RoundTrip(req)
	if call.scanOwner.Load() != s.l {
		return resp, err // a layer further in scanned it
	}
	return scanUpstream(call, req, resp, err)
}

// passRefused takes a refused call one step further in: to next when next
// is a Layer, a Gateway or a Gateway's base transport (the layers further
// in want to see the refusal, and the innermost point answers it); anything
// else would send it, so it is answered here.
func passRefused(call *Call, req *http.Request, next http.RoundTripper) (*http.Response, error) {
	switch next.(type) {
	case *layer, *Gateway, *upstream:
		return next.RoundTrip(req)
	}
	return call.refusalResponse(req), nil
}
