package aigateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"slices"

	"github.com/aigateway-go/aigateway/pricing"
	"github.com/aigateway-go/aigateway/provider"
)

// LayerCall is a Call as a layer's Handler sees it: the Call's request
// facts, and what only layers do with it (read the prepared body, record
// how they answered, find the record of an attempt, route attempts).
// Users of the stack see the Call alone, and cannot make a LayerCall of
// it; a layer gets its LayerCall from Layer, and may keep it for as long
// as the Call. The Call's read-only accessors (Model, Format, Metadata
// ...) are the LayerCall's too.
type LayerCall struct {
	*callView
}

// callView is Call under a name of the package's own, so that the field
// LayerCall embeds it in is unexported: a LayerCall{...} literal outside
// the package does not compile.
type callView = Call

// Call returns the Call, as its users see it.
func (lc LayerCall) Call() *Call { return lc.callView }

// Body returns the prepared request body, as the caller sent it. It is
// shared: callers must not modify it.
func (lc LayerCall) Body() []byte { return lc.body }

// AttemptBody returns the body of a request a layer makes from req for one
// of its attempts (a router's, to a target): req's own body when it is the
// body the stack prepared and nothing has read from it, the first time a
// layer asks (req's body is the layer's to send, as a RoundTripper's
// request body is; later attempts, which may overlap the first one's
// writing of it, get their own), else a replay from req.GetBody. The
// common call, one attempt, so costs no second reader of the body.
func (lc LayerCall) AttemptBody(req *http.Request) (io.ReadCloser, error) {
	c := lc.callView
	if buf := bodyBuffer(req.Body); buf != nil && buf == &c.firstBody && !c.firstBodyTaken.Load() &&
		sameBytes(buf.Bytes(), c.upstreamBody()) && c.firstBodyTaken.CompareAndSwap(false, true) {
		return req.Body, nil
	}
	if req.GetBody == nil {
		return nil, errNoGetBody
	}
	return req.GetBody()
}

var errNoGetBody = errors.New("aigateway: the request body cannot be replayed (no GetBody)")

// Parsed reports whether the request body was a JSON object the stack could
// read. An unparsed body still goes upstream untouched; layers that need the
// request's content (a cache key) should leave such calls alone.
func (lc LayerCall) Parsed() bool { return lc.parsed }

// Prices is the price table every answer of the call is priced with: the
// Gateway's (Gateway.Prices), else pricing.Default(). A layer that prices
// before any answer (a budget's estimate) uses it too, so that it agrees
// with what the answer is charged.
func (lc LayerCall) Prices() *pricing.Table {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return lc.prices
}

// OnComplete registers fn to run when the Call completes, with its final
// Result. Callbacks run synchronously, last registered first (so the
// innermost layer, which registers last on the way in, runs first), before
// the Read or Close that completed the Call returns: they must be quick.
// A callback registered after completion runs at once.
func (lc LayerCall) OnComplete(fn func(Result)) { lc.OnCompleteWith(completeFunc(fn)) }

// Completer is a layer's per-call state that the Call tells when it
// completes (see LayerCall.OnCompleteWith).
type Completer interface {
	// CallComplete is called once, with the Call's final Result, as an
	// OnComplete callback is.
	CallComplete(Result)
}

// completeFunc makes an OnComplete callback a Completer.
type completeFunc func(Result)

func (f completeFunc) CallComplete(r Result) { f(r) }

// OnCompleteWith is OnComplete for a layer whose per-call state has a
// method for it: it registers c, which is told as an OnComplete callback
// is. A pointer costs no allocation here, where a closure or a method
// value (state.settle) costs one per call.
func (lc LayerCall) OnCompleteWith(c Completer) {
	call := lc.callView
	call.mu.Lock()
	if !call.finished {
		if call.onDone == nil {
			call.onDone = call.onDoneBuf[:0]
		}
		call.onDone = append(call.onDone, c)
		call.mu.Unlock()
		return
	}
	r := call.result
	call.mu.Unlock()
	c.CallComplete(r)
}

// SetCacheStatus records how a cache layer answered.
func (lc LayerCall) SetCacheStatus(s CacheStatus) {
	lc.mu.Lock()
	lc.result.CacheStatus = s
	lc.mu.Unlock()
}

// Replayed records that a layer answered the call from storage (a cache
// hit, or an identical call's answer): the provider that gave the stored
// answer and the model it reported ("" for none known), and the usage it
// had (when known). ctx is the request's the layer answered. The usage
// counts as saved, not spent, and is priced like an upstream answer: for
// that provider (else the one ctx's request was routed to, see RouteOf),
// at that model (else the one asked for).
func (lc LayerCall) Replayed(ctx context.Context, providerName, model string, usage provider.Usage, usageKnown bool) {
	route := lc.RouteOf(ctx)
	prov := providerName
	if prov == "" {
		prov = route.Provider.Name()
	}
	if prov == "" {
		prov = lc.callView.provider
	}
	c := lc.callView
	c.mu.Lock()
	defer c.mu.Unlock()
	c.saved = true
	r := &c.result
	if model != "" {
		r.ResponseModel = model
	}
	if !usageKnown {
		return
	}
	r.Usage, r.UsageKnown = usage, true
	r.Cost, r.CostKnown = c.price(prov, model, route.Model, usage)
}

// SetTarget records the name of the target that answered, and whether it
// was a fallback rather than the first choice.
func (lc LayerCall) SetTarget(name string, fallback bool) {
	lc.mu.Lock()
	lc.result.Target, lc.result.Fallback = name, fallback
	lc.mu.Unlock()
}

// RecordAttempt appends one attempt to the call's Result.AttemptLog. A
// routing layer records each attempt it makes, in order, once its outcome
// is decided.
func (lc LayerCall) RecordAttempt(a Attempt) {
	if a.Err != nil {
		a.Err = redactError(a.Err)
	}
	lc.mu.Lock()
	if lc.result.AttemptLog == nil {
		// Most calls make one attempt: it is kept in the Call.
		lc.attempt0[0] = a
		lc.result.AttemptLog = lc.attempt0[:]
	} else {
		// Clipped: a snapshot's AttemptLog (Result) shares this array,
		// and a caller's append to it must not write where the next
		// attempt goes.
		lc.result.AttemptLog = slices.Clip(append(lc.result.AttemptLog, a))
	}
	lc.mu.Unlock()
}

// SetHeader sets a header of a response a layer hands on (the cache's
// status, a router's target and attempts ...) to value, the value's slice
// cut from an array the call's layers share: the few headers a stack adds
// to an answer cost one allocation, not one each. key is made canonical, as
// http.Header.Set makes it.
func (lc LayerCall) SetHeader(h http.Header, key, value string) {
	switch key {
	case HeaderCache, HeaderTarget, HeaderAttempts, "Age", "Content-Length":
		// The names the stack sets, canonical already.
	default:
		key = textproto.CanonicalMIMEHeaderKey(key)
	}
	c := lc.callView
	c.mu.Lock()
	if len(c.headerValues) == 0 {
		c.headerValues = make([]string, headerValues)
	}
	v := c.headerValues[:1:1]
	c.headerValues = c.headerValues[1:]
	c.mu.Unlock()
	v[0] = value
	h[key] = v
}

// headerValues is how many header values SetHeader cuts from one array:
// what a full stack adds to an answer (cache status, target, attempts, a
// replay's age and length).
const headerValues = 6

// TagAnswer says what kind of failure resp is, an answer a layer made
// itself (a rate limiter's refusal): when resp is the answer the caller
// gets, the call's Result.Err unwraps to kind (errors.Is(r.Err,
// ratelimit.ErrLimited)) as well as to what it was already (the
// *provider.Error of the answer, for errors.As). An answer a layer further
// out replaced (a router that moved on to another target) leaves no trace.
func (lc LayerCall) TagAnswer(resp *http.Response, kind error) {
	lc.mu.Lock()
	lc.answerTags = append(lc.answerTags, answerTag{resp, kind})
	lc.mu.Unlock()
}

// Route starts one attempt of a routing layer (a fallback target): the
// requests made with the returned context go to r's provider and model, in
// its format, and the records of those that go upstream are the attempt's
// (Routed.Upstream), priced for the provider that answered. Layers further
// in read the route with RouteOf. A routing layer sends a call's attempts
// one after another: two attempts of one call in flight at once (a hedge)
// share the claim on which point of the stack records them (the innermost
// one each passes), and one record may be lost.
func (lc LayerCall) Route(ctx context.Context, r Route) (context.Context, *Routed) {
	outer := routeOf(ctx)
	rc := &routeContext{Context: ctx}
	rc.r = Routed{Route: lc.resolve(r, outer), call: lc.callView, parent: outer}
	return rc, &rc.r
}

// RouteRequest is Route for one request of the attempt: it returns req
// with the attempt's context (as req.WithContext returns it, a shallow
// copy), made in one allocation with that context.
func (lc LayerCall) RouteRequest(ctx context.Context, req *http.Request, r Route) (*http.Request, *Routed) {
	outer := routeOf(ctx)
	rr := &routedRequest{rc: routeContext{Context: ctx}}
	rr.rc.r = Routed{Route: lc.resolve(r, outer), call: lc.callView, parent: outer}
	rr.req = *req.WithContext(&rr.rc)
	return &rr.req, &rr.rc.r
}

// routedRequest is a request of an attempt and the attempt's context.
type routedRequest struct {
	req http.Request
	rc  routeContext
}

// RouteOf returns where a request made with ctx goes: the provider, model
// and format a routing layer's attempt set (see Route), else the call's
// own.
func (lc LayerCall) RouteOf(ctx context.Context) Route {
	return lc.resolve(Route{}, routeOf(ctx))
}

// Upstream returns the record of the upstream request resp, a response
// the layer's next returned (or a copy of it, with the same body), answers,
// and false when resp was made by a layer further in (a refusal, a cache
// hit, a router's saved error). Asked again once resp's body has been
// read, it holds what the answer said. It finds records until the call's
// completion callbacks have run; see Answer for the record of the answer
// the caller got.
func (lc LayerCall) Upstream(resp *http.Response) (Upstream, bool) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if u := lc.upstreamOfLocked(resp); u != nil {
		return u.snapshot(), true
	}
	return Upstream{}, false
}

// Answer returns the record of the upstream request whose response the
// caller got, and false when a layer made that answer (a cache hit, a
// refusal, a router's saved error). It is known once the response reached
// the caller: in OnComplete callbacks, say.
func (lc LayerCall) Answer() (Upstream, bool) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.answer == nil {
		return Upstream{}, false
	}
	return lc.answer.snapshot(), true
}

// AppendUpstreams appends to dst, in order, the records of the upstream
// requests made with ctx: those of the routing layer's attempt ctx belongs
// to (see Route), or every one of the call's when it belongs to none. A
// layer passes the context of the request it handled, and so reads its own
// attempts' records, wherever it sits in the stack. (A small array of the
// caller's as dst keeps it from allocating.)
func (lc LayerCall) AppendUpstreams(dst []Upstream, ctx context.Context) []Upstream {
	r := routeOf(ctx)
	lc.mu.Lock()
	defer lc.mu.Unlock()
	for _, u := range lc.ups {
		if u.within(r) {
			dst = append(dst, u.snapshot())
		}
	}
	return dst
}
