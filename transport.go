package aigateway

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/aigateway-go/aigateway/internal/coding"
	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/pricing"
	"github.com/aigateway-go/aigateway/provider"
	"github.com/aigateway-go/aigateway/translate"
)

// This file is the upstream edge of the stack: where each attempt of a call
// leaves the process, and where what comes back is read. A request goes
//
//	Gateway.RoundTrip (gateway.go) → prepare (prepare.go) → the layers
//	(layer.go) → transport.RoundTrip (here) → the base transport
//
// and its answer comes back through upstreamBody (here: the attempt's own
// record), the layers, and clientBody (body.go: the Call's completion).
//
// Every request that goes upstream gets its own record (upstream), made by
// the innermost point that sends it: its route (the provider, model and
// wire format it is sent as), and what its answer said (usage, model, id,
// finish reasons, error, price), scanned in the attempt's own format.
// Layers read their attempt's record (LayerCall.Upstream,
// LayerCall.AppendUpstreams, LayerCall.Answer, Routed.Upstream); the Call's Result adds them up.
//
// Stream usage is decided here too: an OpenAI chat stream whose caller did
// not ask for usage is sent asking for it (include_usage), when the
// attempt's provider accepts that, so that the call is metered; the
// caller's body drops that usage chunk again (clientBody's filter, when
// the answer's record says it was asked for: see hideStreamUsage).

// Upstream is one request that went upstream for a call, and what its
// answer said: one per attempt (a retry or a fallback makes several).
type Upstream struct {
	// Format is the wire format the request was sent in, and its answer
	// read in.
	Format provider.Format
	// Provider is the gen_ai.provider.name of the provider it went to: the
	// call's own, or a routing layer's target (see Route).
	Provider string
	// Model is the model it asked for: the call's own, or a routing
	// layer's target's.
	Model string
	// Status is the HTTP status of its answer (0 for a transport error).
	Status int
	// ResponseModel, ResponseID and FinishReasons are what the answer
	// reported (see Result); FinishReasons is shared: do not modify it.
	ResponseModel string
	ResponseID    string
	FinishReasons []string
	// Usage is the tokens the answer reported; UsageKnown is false when it
	// reported none (or the stack could not read it).
	Usage      provider.Usage
	UsageKnown bool
	// Cost is the answer's price in USD: its Usage priced for Provider and
	// the model it reported, or, when it reported none the price table
	// knows, the model it asked for. CostKnown is false when neither is
	// priced, or the usage is not known.
	Cost      float64
	CostKnown bool
	// Complete reports whether the answer arrived whole: its JSON value
	// ended, or its stream's terminator came, and it was well-formed. (A
	// Gemini stream has no terminator: false.)
	Complete bool
	// Err is the transport's error, or the error the answer carried (an
	// error status, an error event mid-stream, a 2xx whose body is an error
	// object), as a *provider.Error. Like Result.Err, it carries no
	// credential.
	Err error
}

// upstream is the record of one upstream request, under its Call's mu.
type upstream struct {
	Upstream
	resp      *http.Response // the answer, to find the record by (LayerCall.Upstream)
	route     *Routed        // the routing layer's attempt it was made for; nil for none
	injected  bool           // the stack asked for stream usage the caller did not
	committed bool           // the answer was read (or failed): its fields are final
	released  bool           // its body was closed: it is no answer a layer hands on
	perr      *provider.Error
	malformed bool // a 2xx answer that is not well-formed in its format
	json      bool // a JSON body the stack read: Complete says whether it was whole
	opaque    bool // a body the stack did not read (a coding it cannot decode, or inflated past the bound)
}

// Route is where a routing layer sends one attempt of a call: a provider,
// model and wire format that may differ from the call's own. A zero field
// means the call's own (or, inside another routing layer's attempt, that
// attempt's).
type Route struct {
	Provider provider.Provider
	Model    string
	Format   provider.Format
}

// Routed is one attempt a routing layer made with LayerCall.Route: the
// upstream requests the layers further in and the transport made for it
// are its own.
type Routed struct {
	Route
	call   *Call
	parent *Routed
}

type routeKey struct{}

// routeContext is the context of an attempt's requests: its parent's, with
// the attempt as a value (one allocation for both).
type routeContext struct {
	context.Context
	r Routed
}

func (c *routeContext) Value(key any) any {
	if key == (routeKey{}) {
		return &c.r
	}
	return c.Context.Value(key)
}

// routeOf returns the attempt that requests made with ctx belong to, or
// nil.
func routeOf(ctx context.Context) *Routed {
	r, _ := ctx.Value(routeKey{}).(*Routed)
	return r
}

// resolve returns r with its zero fields filled from the attempt it is nested
// in, or the call's own.
func (c *Call) resolve(r Route, outer *Routed) Route {
	if outer != nil {
		if r.Provider.IsZero() {
			r.Provider = outer.Provider
		}
		if r.Model == "" {
			r.Model = outer.Model
		}
		if r.Format == provider.FormatUnknown {
			r.Format = outer.Format
		}
		return r
	}
	if r.Provider.IsZero() {
		r.Provider = c.preset
	}
	if r.Model == "" {
		r.Model = c.model
	}
	if r.Format == provider.FormatUnknown {
		r.Format = c.format
	}
	return r
}

// within reports whether u was made for attempt r, or an attempt nested in
// it; every request is within a nil r.
func (u *upstream) within(r *Routed) bool {
	if r == nil {
		return true
	}
	for a := u.route; a != nil; a = a.parent {
		if a == r {
			return true
		}
	}
	return false
}

// Upstream returns the record of the latest request that went upstream for
// this attempt, and false when none did: a layer further in answered it
// itself (a rate limiter's refusal) and the target is not at fault.
func (r *Routed) Upstream() (Upstream, bool) {
	c := r.call
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.ups) - 1; i >= 0; i-- {
		if c.ups[i].within(r) {
			return c.ups[i].snapshot(), true
		}
	}
	return Upstream{}, false
}

func (u *upstream) snapshot() Upstream {
	s := u.Upstream
	if u.perr != nil && s.Err == nil {
		s.Err = u.perr
	}
	return s
}

// transport is the innermost transport of a Gateway: it sends each attempt
// through the base transport (in SDKMiddleware mode, attempts to the SDK's
// origin through the SDK's next) and records it.
type transport struct {
	base http.RoundTripper
	// mark is this Gateway's claim on the record (see Layer): when
	// Gateways or layers are nested, only the innermost point records.
	mark *layer
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	call := CallFrom(req.Context())
	if call == nil {
		return t.base.RoundTrip(req)
	}
	if call.Refused() {
		return passRefused(call, req, t.base) // base may be another stack
	}
	return call.send(t.mark, req, func(out *http.Request) (*http.Response, error) {
		if call.sdkNext != nil && sameOrigin(out, call.sdkOrigin) {
			return call.sdkNext(out)
		}
		return t.base.RoundTrip(out)
	})
}

// scanningNext is a layer's next, seen by its Handler: the upstream edge of
// a Layer used without a Gateway. It records the attempts it sends when
// nothing further in (a layer, or a Gateway's transport) did.
type scanningNext struct{ l *layer }

func (s *scanningNext) RoundTrip(req *http.Request) (*http.Response, error) {
	call := CallFrom(req.Context())
	if call == nil {
		return s.l.next.RoundTrip(req)
	}
	if call.Refused() {
		return passRefused(call, req, s.l.next)
	}
	return call.send(s.l, req, s.l.next.RoundTrip)
}

// send sends one attempt of c through rt and records it, unless a point
// further in (a nested Layer or Gateway) recorded it: the innermost point
// that sees an attempt is the one that claims it last.
func (c *Call) send(mark *layer, req *http.Request, rt func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	c.scanOwner.Store(mark)
	route := routeOf(req.Context())
	r := c.resolve(Route{}, route)
	if r.Format != c.format && req.Context().Value(translatedKey{}) == nil {
		return c.sendTranslated(mark, req, route, r, rt)
	}
	out, injected := c.askStreamUsage(req, r)
	resp, err := rt(out)
	if c.scanOwner.Load() != mark {
		return resp, err // a point further in recorded it
	}
	return c.record(route, r, injected, resp, err)
}

// translatedKey marks the context of an attempt the transport translated:
// a stack nested further in sends it as it is.
type translatedKey struct{}

// sendTranslated sends an attempt whose route speaks another wire format
// than the caller (a fallback target of another provider): the request
// goes in the route's format, for its model, and the answer comes back in
// the caller's, a stream event by event (see package translate). The
// attempt's record is the upstream answer's, read in the route's format.
// A request the route's format cannot carry (OpenAI's n > 1 to Anthropic,
// say) is not sent: the caller gets a provider-shaped 400 naming what.
func (c *Call) sendTranslated(mark *layer, req *http.Request, route *Routed, r Route, rt func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	refuse := func(msg string) (*http.Response, error) {
		return provider.NewErrorResponse(req, c.format, provider.ErrorSpec{
			Status: http.StatusBadRequest, Type: "invalid_request_error", Message: msg,
		}), nil
	}
	if !c.parsed || !translate.Supported(c.format) || !translate.Supported(r.Format) {
		return refuse("aigateway: a " + c.format.String() + " request cannot be translated to " + r.Format.String())
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, ok := c.attemptBody(req.Body)
		if !ok {
			return refuse("aigateway: the request body could not be read to translate it")
		}
		body = b
	}
	tb, tr, err := translate.TranslateRequest(c.format, r.Format, body, translate.RequestMeta{Model: c.model, Stream: c.stream, Target: r.Provider}, r.Model)
	if err != nil {
		return refuse(err.Error())
	}
	// The caller's own request says whether it gets the stream's usage,
	// not the prepared body, which may ask for it on the stack's behalf.
	tr.StreamUsage = c.clientUsage
	if r.Format == provider.FormatOpenAIChat && c.stream && !r.Provider.StreamUsage() {
		// The encoder asks for the stream's usage; this provider rejects
		// the field.
		if b, ok := jsonscan.ReplaceMember(tb, "stream_options", nil); ok {
			tb = b
		}
	}
	out := req.WithContext(context.WithValue(req.Context(), translatedKey{}, true))
	out.Body = newBodyReader(tb)
	out.ContentLength = int64(len(tb))
	out.GetBody = func() (io.ReadCloser, error) { return newBodyReader(tb), nil }
	out.Header = out.Header.Clone()
	out.Header.Del("Content-Length")
	// The answer is read to translate it: net/http negotiates gzip itself
	// and hands over plain bytes.
	out.Header.Del("Accept-Encoding")
	resp, err := rt(out)
	if c.scanOwner.Load() != mark {
		if err == nil && resp != nil {
			translate.Answer(resp, r.Format, c.format, tr)
		}
		return resp, err // a point further in recorded it
	}
	resp, err = c.record(route, r, false, resp, err)
	if err == nil && resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		translate.Answer(resp, r.Format, c.format, tr)
	}
	return resp, err
}

// wantsStreamUsage reports whether the stack asks upstream for the usage of
// this call's stream on the caller's behalf: an OpenAI chat stream whose
// caller did not ask for it itself, so that the call is metered. The
// caller's body drops that usage chunk again (see hideStreamUsage).
func (c *Call) wantsStreamUsage() bool {
	return c.stream && !c.clientUsage && c.parsed && c.format == provider.FormatOpenAIChat
}

// prepareStreamUsage makes, once, the body that asks for stream usage,
// when the provider the call is addressed to accepts stream_options: the
// prepared request carries it, so that the common attempt (to the call's
// own provider) goes as it is. An attempt to another provider gets the
// body its provider takes (see askStreamUsage).
func (c *Call) prepareStreamUsage() {
	if !c.wantsStreamUsage() || !c.preset.StreamUsage() {
		return
	}
	if b, err := wire.WithStreamUsage(c.body); err == nil {
		c.injected = b
	}
}

// upstreamBody is the body the prepared request carries: the caller's, or
// the one asking for stream usage.
func (c *Call) upstreamBody() []byte {
	if c.injected != nil {
		return c.injected
	}
	return c.body
}

// askStreamUsage returns req as it goes upstream on route r, and whether it
// asks for stream usage on the caller's behalf: the prepared body asks for
// it when the call's own provider accepts stream_options (see
// prepareStreamUsage); an attempt to a provider that does not gets the
// caller's own body, and one to a provider that does gets the field added
// to the body it carries (a router's, with a target's model). A request
// that asks for it asks for no compressed answer either: the filter reads
// the stream (net/http then negotiates gzip itself and hands over plain
// bytes).
func (c *Call) askStreamUsage(req *http.Request, r Route) (*http.Request, bool) {
	if !c.wantsStreamUsage() || req.Body == nil || req.Body == http.NoBody {
		return req, false
	}
	accept := r.Format == provider.FormatOpenAIChat && r.Provider.StreamUsage()
	bb, known := bodyBytes(req.Body)
	prepared := known && c.injected != nil && sameBytes(bb, c.injected)
	var b []byte
	switch {
	case accept && prepared:
		return req, true // the common case: as prepared
	case !accept && (prepared || known && sameBytes(bb, c.body)):
		if !prepared {
			return req, false // the caller's own body
		}
		b = c.body // the provider rejects the field: the caller's own body
	case !accept && c.injected == nil:
		return req, false // the stack asked for nothing: whatever the body is, it is not the stack's doing
	case !accept:
		// A body a layer built (re-wrapped what it read, or a router's
		// with a target's model) from the prepared one, which asks for
		// usage: the provider rejects the field, so the stack's
		// stream_options give way to the caller's own (none, or one
		// without include_usage).
		var ok bool
		if b, ok = c.attemptBody(req.Body); !ok {
			return req, false
		}
		own, _ := jsonscan.Get(c.body, "stream_options")
		if r, changed := jsonscan.ReplaceMember(b, "stream_options", own); changed {
			b = r
		}
	default:
		var ok bool
		if b, ok = c.attemptBody(req.Body); !ok {
			return req, false
		}
		injected, err := wire.WithStreamUsage(b)
		if err != nil {
			// Not a JSON object after all: sent as it is (the body was
			// read: it goes as read).
			accept, injected = false, b
		}
		b = injected
	}
	out := new(http.Request)
	*out = *req
	out.Body = newBodyReader(b)
	out.ContentLength = int64(len(b))
	out.GetBody = func() (io.ReadCloser, error) { return newBodyReader(b), nil }
	if accept && out.Header.Get("Accept-Encoding") != "" {
		out.Header = out.Header.Clone()
		out.Header.Del("Accept-Encoding")
	}
	return out, accept
}

func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// attemptBody reads the body of an attempt that is not the prepared one (a
// router's, with a target's model), in memory. It reports false for a body
// it could not read whole.
func (c *Call) attemptBody(rc io.ReadCloser) ([]byte, bool) {
	if b, ok := bodyBytes(rc); ok {
		return b, true
	}
	b, err := io.ReadAll(io.LimitReader(rc, int64(len(c.body))+DefaultMaxRequestBytes))
	rc.Close()
	return b, err == nil
}

// hideStreamUsage reports whether the body the caller reads drops the
// usage-only chunk of an OpenAI chat stream: the caller did not ask for
// it, and the stack did (u, the answer's record, says so), or the answer
// is a stored one (a cache replays what an attempt that asked got).
func (c *Call) hideStreamUsage(u *upstream) bool {
	if c.clientUsage || c.format != provider.FormatOpenAIChat {
		return false
	}
	if u != nil {
		return u.injected
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.saved
}

// record makes the record of one attempt (route r, within attempt a) and
// wraps its body for scanning.
func (c *Call) record(a *Routed, r Route, injected bool, resp *http.Response, err error) (*http.Response, error) {
	c.mu.Lock()
	u := &c.up0
	if len(c.ups) > 0 {
		u = new(upstream)
	}
	if c.ups == nil {
		c.ups = c.upsBuf[:0]
	}
	c.ups = append(c.ups, u)
	c.result.Attempts = len(c.ups)
	u.Format, u.Provider, u.Model, u.route, u.injected = r.Format, r.Provider.Name(), r.Model, a, injected
	if u.Provider == "" {
		u.Provider = c.provider
	}
	if err != nil || resp == nil || resp.Body == nil || resp.StatusCode == http.StatusSwitchingProtocols {
		// Nothing to scan: a transport error, or a 101 whose body is the
		// connection.
		if err != nil {
			u.Err = redactError(err)
		}
		if resp != nil {
			u.resp, u.Status = resp, resp.StatusCode
		}
		u.committed = true
		c.mu.Unlock()
		return resp, err
	}
	u.resp, u.Status = resp, resp.StatusCode
	var b *upstreamBody
	if u == &c.up0 && c.parts != nil {
		b = &c.parts.up // the first answer's, allocated with the call
	} else {
		b = new(upstreamBody)
	}
	c.mu.Unlock()
	b.rc, b.call, b.rec, b.sc, b.status = resp.Body, c, u, scanners.Get().(*wire.ResponseScanner), resp.StatusCode
	b.stream = resp.StatusCode < 300 && wire.IsStreamAnswer(c.stream, resp.Header)
	b.sc.Reset(r.Format, b.stream, resp.StatusCode)
	switch cd := coding.Of(resp); cd {
	case coding.Gzip, coding.Deflate:
		b.inflate = startInflater(cd, b.scanDecoded)
	case coding.Opaque:
		b.opaque = true
	}
	resp.Body = b
	return resp, nil
}

// answerOfLocked returns the record of resp, the answer the caller gets:
// the upstream request it came from, found by upstreamOfLocked, or, when a
// layer handed on a copy of it whose body it wrapped after copying, the
// latest upstream answer still open with resp's status (every other
// answer is closed by the layer that moved on from it). Nil for an answer
// a layer made.
func (c *Call) answerOfLocked(resp *http.Response) *upstream {
	if u := c.upstreamOfLocked(resp); u != nil {
		return u
	}
	for i := len(c.ups) - 1; i >= 0; i-- {
		u := c.ups[i]
		if u.resp != nil && !u.released && u.Status == resp.StatusCode {
			return u
		}
	}
	return nil
}

// answerState reports whether u's answer arrived whole, and whether the
// stack could not read it (opaque); false, false for a nil u.
func (c *Call) answerState(u *upstream) (complete, opaque bool) {
	if u == nil {
		return false, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return u.Complete, u.opaque
}

// upstreamOfLocked returns the record of the upstream request resp answers,
// or nil when no request went upstream for it (a layer made it). resp is
// the response the transport returned, or a copy of it a layer handed on
// (cp := *resp): a copy carries the body the response had when it was
// copied, and layers wrap a body on the response they were given.
func (c *Call) upstreamOfLocked(resp *http.Response) *upstream {
	if resp == nil {
		return nil
	}
	for i := len(c.ups) - 1; i >= 0; i-- {
		u := c.ups[i]
		if u.resp != nil && (u.resp == resp || resp.Body != nil && u.resp.Body == resp.Body) {
			return u
		}
	}
	return nil
}

// commit completes an attempt's record with what its scanner found, and
// prices its answer: once, here, for every layer and the Result.
func (c *Call) commit(u *upstream, o scanned) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u.committed = true
	u.Complete, u.malformed, u.json, u.opaque, u.perr = o.complete, o.malformed, o.json, o.opaque, o.err
	u.ResponseModel, u.ResponseID, u.FinishReasons = o.model, o.id, o.finishReasons
	u.Usage, u.UsageKnown = o.usage, o.usageKnown
	if o.usageKnown {
		u.Cost, u.CostKnown = c.price(u.Provider, o.model, u.Model, o.usage)
	}
	if c.finished {
		// The call completed first (its context ended, and the upstream
		// body is closed after): its Result, which the layers and Done
		// have seen, stays as it was.
		return
	}
	r := &c.result
	if o.usageKnown {
		r.Usage = r.Usage.Add(o.usage)
		if !r.UsageKnown {
			r.CostKnown = true
		}
		r.UsageKnown = true
		r.Cost += u.Cost
		r.CostKnown = r.CostKnown && u.CostKnown
	}
	if o.model != "" {
		r.ResponseModel = o.model
	}
	r.ResponseID, r.FinishReasons = o.id, o.finishReasons
}

// adoptPrices makes t the table the call is priced with: a Gateway nested
// in the stack that prepared the call takes it over, before anything went
// upstream.
func (c *Call) adoptPrices(t *pricing.Table) {
	c.mu.Lock()
	if len(c.ups) == 0 {
		c.prices = t
	}
	c.mu.Unlock()
}

// price is the price of usage u of an answer from provider prov: at the
// model it reported, or, when the table does not price that one (or it
// reported none), at the model asked for.
func (c *Call) price(prov, reported, asked string, u provider.Usage) (float64, bool) {
	if reported != "" {
		if usd, ok := c.prices.Cost(prov, reported, u); ok {
			return usd, true
		}
	}
	if asked != "" && asked != reported {
		return c.prices.Cost(prov, asked, u)
	}
	return 0, false
}

// settleLocked finishes the Result at completion: the records of the
// upstream requests, as the caller may keep them.
func (c *Call) settleLocked() {
	if len(c.ups) == 0 {
		return
	}
	ups := c.upsOut[:0:1] // most calls make one request: no allocation
	for _, u := range c.ups {
		ups = append(ups, u.snapshot())
	}
	c.result.Upstreams = slices.Clip(ups)
}

// scanned is what the scanner of one upstream answer found.
type scanned struct {
	usage         provider.Usage
	usageKnown    bool
	model         string
	id            string
	finishReasons []string
	err           *provider.Error
	complete      bool // its JSON value ended or its stream's terminator came, and it was well-formed
	malformed     bool // events that are not JSON, a body that is not one JSON object, one that did not inflate
	json          bool // a JSON body the stack read: complete says whether it was whole
	opaque        bool // a body the stack did not read (a coding it cannot decode, or inflated past the bound)
}

// passRefused takes a refused call one step further in: to next when next
// is a Layer, a Gateway or a Gateway's transport (the layers further in
// that see refused calls want it, and the innermost point answers it);
// anything else would send it, so it is answered here.
func passRefused(call *Call, req *http.Request, next http.RoundTripper) (*http.Response, error) {
	switch next.(type) {
	case *layer, *Gateway, *transport:
		return next.RoundTrip(req)
	}
	return call.refusalResponse(req), nil
}

func sameOrigin(req *http.Request, origin string) bool {
	s, h := req.URL.Scheme, req.URL.Host
	return len(origin) == len(s)+3+len(h) && origin[:len(s)] == s && origin[len(s):len(s)+3] == "://" && origin[len(s)+3:] == h
}

// upstreamBody scans one upstream answer as it passes by and commits what
// it found to the attempt's record once: at the stream's terminator, at
// EOF, on a read error or on Close.
type upstreamBody struct {
	rc     io.ReadCloser
	call   *Call
	rec    *upstream
	status int
	stream bool // an SSE body
	closed atomic.Bool

	mu        sync.Mutex
	sc        *wire.ResponseScanner // from scanners; nil once committed
	committed bool
	fault     error // ErrEventTooLarge, once the stream went over the bound: every Read fails with it

	// inflate decompresses a gzip or deflate body for the scanner (nil for
	// a plain one); opaque says the stack did not read the body (a coding
	// it cannot decode, or one that inflated past maxInflatedBytes), so
	// nothing is known of it.
	inflate *inflater
	opaque  bool // under mu once an inflater ran
	corrupt bool // under mu: the compressed body did not decompress whole
}

// scanners recycles ResponseScanners (over a kilobyte each, with buffers
// that have grown to fit): one is needed per upstream answer, only until
// its record is committed.
var scanners = sync.Pool{New: func() any { return new(wire.ResponseScanner) }}

// scanDecoded scans bytes the inflater decompressed.
func (b *upstreamBody) scanDecoded(p []byte) {
	b.mu.Lock()
	if !b.committed {
		b.sc.Write(p)
	}
	b.mu.Unlock()
}

// endInflate ends the inflater's input and waits for it, once: every
// decompressed byte is scanned when it returns. Never called under mu (the
// inflater takes it to scan).
func (b *upstreamBody) endInflate() {
	b.mu.Lock()
	f := b.inflate
	b.mu.Unlock()
	if f == nil {
		return
	}
	state := f.finish() // idempotent: Read at EOF and Close may both get here
	b.mu.Lock()
	b.inflate = nil
	switch state {
	case inflatedCorrupt:
		b.corrupt = true
	case inflatedTooLarge:
		b.opaque = true // read only in part: as good as unread
	}
	b.mu.Unlock()
}

func (b *upstreamBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	fault, inflate := b.fault, b.inflate
	b.mu.Unlock()
	if fault != nil {
		return 0, fault
	}
	n, err := b.rc.Read(p)
	if inflate != nil {
		if n > 0 {
			inflate.feed(p[:n])
		}
		if err != nil {
			b.endInflate()
		}
	}
	b.mu.Lock()
	if !b.committed {
		if n > 0 && inflate == nil && !b.opaque {
			b.sc.Write(p[:n])
		}
		switch {
		case b.sc.TooLarge():
			// The bytes read so far are the caller's; the stream goes no
			// further.
			b.commitLocked()
			b.fault, err = ErrEventTooLarge, ErrEventTooLarge
		case err != nil:
			b.sc.Finish()
			b.commitLocked()
		case b.sc.Terminated():
			b.commitLocked()
		}
	}
	b.mu.Unlock()
	return n, err
}

func (b *upstreamBody) Close() error {
	if !b.closed.CompareAndSwap(false, true) {
		return nil
	}
	b.call.mu.Lock()
	b.rec.released = true
	b.call.mu.Unlock()
	err := b.rc.Close()
	b.endInflate()
	b.mu.Lock()
	if !b.committed {
		b.commitLocked()
	}
	b.mu.Unlock()
	return err
}

func (b *upstreamBody) commitLocked() {
	b.committed = true
	u, known := b.sc.Usage()
	b.call.commit(b.rec, scanned{
		usage:         u,
		usageKnown:    known && !b.opaque, // an early event's counts are not the answer's
		model:         b.sc.Model(),
		id:            b.sc.ResponseID(),
		finishReasons: b.sc.FinishReasons(),
		err:           b.sc.Err(),
		complete:      b.sc.Terminated() && !b.sc.Malformed() && !b.corrupt && !b.opaque,
		malformed:     b.status < 300 && !b.opaque && (b.sc.Malformed() || b.corrupt),
		json:          b.status < 300 && !b.stream && !b.opaque && !b.corrupt,
		opaque:        b.opaque,
	})
	scanners.Put(b.sc)
	b.sc = nil
}
