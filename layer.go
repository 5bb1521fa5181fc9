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
type Handler func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error)

// LayerOption changes how Layer treats the calls that reach it.
type LayerOption interface{ apply(*layer) }

type layerOption func(*layer)

func (f layerOption) apply(l *layer) { f(l) }

// SeeRefused makes a Layer's Handler see the calls the stack refused while
// preparing them (see Call.Refused), which Layer otherwise passes on
// without it: a meter that records every call wants them. Such a Handler
// must hand them to next as they are: the innermost point of the stack
// answers them, and nothing sends them.
func SeeRefused() LayerOption { return layerOption(func(l *layer) { l.seeRefused = true }) }

// Layer turns a Handler into the RoundTripper a Middleware's Wrap returns, so
// that every layer behaves the same way alone and in a stack:
//
//   - A request that already carries a Call goes straight to handle.
//   - Otherwise this layer is the outermost to meet it: it prepares the Call
//     (reading the body once, bounded by DefaultMaxRequestBytes), hands it to
//     handle, and wraps the response body the caller reads so the Call
//     completes exactly once (see LayerCall.OnComplete).
//   - A request the stack refused while preparing it (an oversized body
//     gets a provider-shaped 413) passes on without handle, unless the
//     layer asks to see it (SeeRefused): nothing sends it, and no layer
//     can replace the stack's answer by accident.
//   - A request the stack does not recognise goes to next untouched.
//
// Each request that goes upstream is recorded once (see Upstream), at the
// innermost point that sends it: inside a Gateway that is the Gateway's
// transport; without a Gateway it is the next of the innermost Layer the
// request went through.
//
// The returned RoundTripper is safe for concurrent use if handle is.
func Layer(next http.RoundTripper, handle Handler, opts ...LayerOption) http.RoundTripper {
	l := &layer{next: next, handle: handle}
	for _, o := range opts {
		o.apply(l)
	}
	l.scanning.l = l
	return l
}

type layer struct {
	next       http.RoundTripper
	handle     Handler
	scanning   scanningNext
	seeRefused bool
}

func (l *layer) RoundTrip(req *http.Request) (*http.Response, error) {
	if call := CallFrom(req.Context()); call != nil {
		// Claim the record: a layer further out must not record what this
		// one answers, whether it answers itself or from further in.
		// (Inside a Gateway, its transport claims last and records.)
		call.scanOwner.Store(l)
		if call.Refused() && !l.seeRefused {
			return passRefused(call, req, l.next)
		}
		return l.handle(LayerCall{call}, req, &l.scanning)
	}
	call, out, err := prepare(req, DefaultMaxRequestBytes, false, nil)
	switch {
	case err != nil:
		return nil, err
	case call == nil:
		return l.next.RoundTrip(req)
	}
	var resp *http.Response
	if call.Refused() && !l.seeRefused {
		resp, err = passRefused(call, out, l.next)
	} else {
		resp, err = l.handle(LayerCall{call}, out, &l.scanning)
	}
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
