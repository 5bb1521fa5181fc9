package aigateway

import (
	"bytes"
	"context"
	"iter"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aigateway-go/aigateway/pricing"
	"github.com/aigateway-go/aigateway/provider"
)

// CacheStatus says how a cache layer answered a call.
type CacheStatus uint8

const (
	// CacheNone: no cache layer looked at the call.
	CacheNone CacheStatus = iota
	// CacheHit: answered from the cache; its usage was saved, not spent.
	CacheHit
	// CacheMiss: looked up, not found, answered upstream.
	CacheMiss
	// CacheBypass: the cache was skipped on purpose (a control said so, or the
	// request cannot be cached).
	CacheBypass
	// CacheCoalesced: answered by an identical call in flight at the same time;
	// its usage was saved, not spent.
	CacheCoalesced
)

// String returns the lower-case status ("hit", "miss", "bypass", "coalesced"),
// or "" for CacheNone. The X-Aigateway-Cache header carries the upper-case form.
func (s CacheStatus) String() string {
	switch s {
	case CacheHit:
		return "hit"
	case CacheMiss:
		return "miss"
	case CacheBypass:
		return "bypass"
	case CacheCoalesced:
		return "coalesced"
	}
	return ""
}

// Saved reports whether the call's usage was saved rather than spent.
func (s CacheStatus) Saved() bool { return s == CacheHit || s == CacheCoalesced }

// Result is a snapshot of what happened to a Call. It is complete once the
// Call's Done channel is closed.
type Result struct {
	// Usage is the tokens of the upstream answers the call received (spent),
	// or, when CacheStatus.Saved(), the tokens the stored answer had used.
	Usage      provider.Usage
	UsageKnown bool
	// Cost in USD of Usage, priced once per upstream answer where the stack
	// scanned it (see Upstream.Cost), with the Gateway's price table; for a
	// saved answer, what it would have cost. CostKnown is false when no
	// answer reported usage, or one that did has a model the table does not
	// price (never a made-up zero); an answer without usage (an error
	// status) adds nothing.
	Cost      float64
	CostKnown bool

	CacheStatus CacheStatus
	// Target is the name of the fallback target that answered ("" when no
	// fallback layer chose one); Fallback says it was not the first choice.
	Target   string
	Fallback bool
	// Attempts is how many requests went upstream for this call (0 for a
	// cache hit; more than 1 after retries or fallback).
	Attempts int
	// Upstreams is every request that went upstream for this call, in
	// order, with what its answer said and cost (see Upstream); filled when
	// the call completes. The slice is shared: do not modify it.
	Upstreams []Upstream
	// AttemptLog is every attempt a routing layer recorded for this call, in
	// order (see LayerCall.RecordAttempt), including those a layer refused
	// before they went upstream; nil without one. The slice is shared: do
	// not modify it.
	AttemptLog []Attempt
	// ResponseModel is the model the latest upstream answer reported (or the
	// stored answer's, for a saved one).
	ResponseModel string
	// ResponseID is the id the latest upstream answer reported
	// (gen_ai.response.id): "chatcmpl-...", "resp_...", "msg_...", Gemini's
	// responseId; "" when it reported none (embeddings never do). For a
	// cache hit it is not known.
	ResponseID string
	// FinishReasons are why the model stopped in the latest upstream
	// answer, one per choice that reported one, in index order
	// (gen_ai.response.finish_reasons), as the provider spells them. Nil
	// when none was seen, and for a cache hit. The slice is shared: do not
	// modify it.
	FinishReasons []string
	// Status is the HTTP status the caller received (0 if none).
	Status int

	// TimeToFirstByte is from the start of the call to the first body byte the
	// caller read; TimeToFirstChunk to the first complete streamed event with
	// content (streams only); Duration to completion.
	TimeToFirstByte  time.Duration
	TimeToFirstChunk time.Duration
	Duration         time.Duration

	// Err is why the call failed: a transport error, the context's error, a
	// *provider.Error (an error status or an error event mid-stream), or
	// ErrIncompleteStream. Nil for a success.
	Err error
}

// Controls are the per-request controls, parsed once from the
// X-Aigateway-* headers and the context helpers. Zero values mean "not set".
type Controls struct {
	CacheTTL       time.Duration // X-Aigateway-Cache-Ttl (seconds)
	CacheKey       string        // X-Aigateway-Cache-Key
	SkipCache      bool          // X-Aigateway-Skip-Cache: true: neither read nor write the cache
	RefreshCache   bool          // X-Aigateway-Refresh-Cache: true: go upstream, store the new answer
	RequestTimeout time.Duration // X-Aigateway-Request-Timeout (milliseconds)
	MaxAttempts    int           // X-Aigateway-Max-Attempts

	// The request's own Cache-Control: no-store, no-cache. A cache honours
	// them only when its Config says so (cache.Config.HonorCacheControl):
	// SDKs and browsers send no-cache on every stream (go-openai does,
	// EventSource does), meaning "do not serve me a stale HTTP cache
	// entry", not "never answer this call from the gateway's cache".
	CacheControlNoStore bool
	CacheControlNoCache bool
}

// Call is one request through the stack, from the caller's RoundTrip to the
// end of the response body the caller reads. The outermost layer that meets a
// recognised request prepares its Call once and puts it in the request's
// context, where CallFrom finds it; Track collects the Calls of a context.
//
// A Call is read-only: its accessors are request facts, fixed once it is
// prepared, and Result is what happened to it. Layers record what they do
// through the LayerCall their Handler gets. A Call is safe for concurrent
// use.
type Call struct {
	provider  string // gen_ai.provider.name
	operation string // gen_ai.operation.name
	model     string // as requested (cut to MaxModelBytes)
	stream    bool

	format         provider.Format
	preset         provider.Provider
	serverAddress  string
	maxTokens      int64
	promptEstimate int64
	clientUsage    bool // the client asked for stream usage itself
	parsed         bool // the body was a JSON object the stack could read
	body           []byte
	controls       Controls
	metadata       map[string]string
	start          time.Time
	prices         *pricing.Table // the one table every answer of the call is priced with
	refusal        *http.Response // the stack's answer to a refused call (see Refused)
	refusalBody    []byte
	refusalErr     *provider.Error
	header         http.Header // the request header as the layers see it, read-only
	gatewayHeaders bool        // header holds X-Aigateway* headers, stripped before it leaves
	url            *url.URL    // the caller's request URL, read-only

	credOnce sync.Once
	credHash string

	// sdkNext and sdkOrigin are set in SDKMiddleware mode: attempts to the
	// SDK's own origin go through the SDK's next.
	sdkNext   func(*http.Request) (*http.Response, error)
	sdkOrigin string
	// scanOwner is the innermost scanning point the current attempt went
	// through: a Layer, or a Gateway's transport (see transport.go).
	scanOwner atomic.Pointer[layer]

	completed  atomic.Bool
	mu         sync.Mutex
	finished   bool // under mu: the result is final and callbacks were taken
	result     Result
	ups        []*upstream // every upstream request of the call, in order (see transport.go)
	upsBuf     [1]*upstream
	up0        upstream        // the first one's record: most calls make one
	upsOut     [1]Upstream     // Result.Upstreams of a call that made one
	answer     *upstream       // the upstream request whose response the caller got; nil for a layer's own answer
	answerErr  *provider.Error // the error the caller's answer carried (see clientBody.errs)
	answerTags []answerTag     // see LayerCall.TagAnswer
	errKinds   []error         // the kinds of the answer the caller got
	saved      bool            // a layer answered from storage (see LayerCall.Replayed)
	injected   []byte          // the prepared body asking for stream usage (see askStreamUsage)
	attempt0   [1]Attempt      // Result.AttemptLog's array for the first attempt: most calls make one
	// headerValues is what is left of the array SetHeader cuts response
	// header values from.
	headerValues []string
	parts        *callParts    // until the call completes (see outgoing); under mu once prepared
	done         chan struct{} // under mu: made when Done is first called
	doneClosed   bool          // under mu: the call is complete and its callbacks ran
	onDone       []Completer
	onDoneBuf    [4]Completer // onDone's first array: a stack's few layers register without allocating
	// firstBody is the buffer of the first body getBody hands out (the
	// common call has one attempt): it costs no allocation of its own.
	firstBody      bytes.Buffer
	firstBodyUsed  atomic.Bool
	firstBodyTaken atomic.Bool // a layer's attempt took the prepared request's body (see LayerCall.AttemptBody)
}

type callKey struct{}

// CallFrom returns the Call of the request whose context is ctx, or nil when
// the request was not recognised (or never went through the stack).
func CallFrom(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}

// Provider is the gen_ai.provider.name of the provider the request was
// made for: "openai", "anthropic", "gcp.gemini" ... (see Preset).
func (c *Call) Provider() string { return c.provider }

// Operation is the gen_ai.operation.name: "chat", "embeddings",
// "generate_content" ...
func (c *Call) Operation() string { return c.operation }

// Model is the model the request asked for, cut to MaxModelBytes ("" when
// the body named none or could not be read).
func (c *Call) Model() string { return c.model }

// Stream reports whether the request asked for a streamed answer.
func (c *Call) Stream() bool { return c.stream }

// Format is the wire format the request speaks.
func (c *Call) Format() provider.Format { return c.format }

// Preset is the provider the request was recognised as (from its host, or
// from its path on an unknown host).
func (c *Call) Preset() provider.Provider { return c.preset }

// ServerAddress is the host the caller addressed (OpenTelemetry server.address).
func (c *Call) ServerAddress() string { return c.serverAddress }

// MaxTokens is the output cap the request set (0 if none).
func (c *Call) MaxTokens() int64 { return c.maxTokens }

// PromptEstimate is an upper-bound estimate of the request's input tokens
// (body bytes / 4), known before any answer.
func (c *Call) PromptEstimate() int64 { return c.promptEstimate }

// Controls returns the per-request controls.
func (c *Call) Controls() Controls { return c.controls }

// Metadata returns the value of one metadata tag ("" if absent).
func (c *Call) Metadata(key string) string { return c.metadata[key] }

// MetadataAll iterates over the metadata tags, in no particular order,
// without copying them (they are fixed once the Call is prepared).
func (c *Call) MetadataAll() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for k, v := range c.metadata {
			if !yield(k, v) {
				return
			}
		}
	}
}

// MetadataMap returns a copy of all metadata tags.
func (c *Call) MetadataMap() map[string]string {
	m := make(map[string]string, len(c.metadata))
	for k, v := range c.metadata {
		m[k] = v
	}
	return m
}

// CredentialHash is a fingerprint of the credentials the caller sent, in
// every form the provider would take them (provider.Credentials: the
// Authorization, x-api-key, api-key, x-goog-api-key headers in any case, a
// ?key= or ?access_token= query parameter however its name is encoded, a
// user:password in the URL): the hex SHA-256 of them, never a secret
// itself; "" when the request carried none. Caches and limiters key
// tenants by it.
func (c *Call) CredentialHash() string {
	c.credOnce.Do(func() { c.credHash = credentialHash(c.header, c.url) })
	return c.credHash
}

// Start is when the Call was prepared.
func (c *Call) Start() time.Time { return c.start }

// Refused reports whether the stack refused the call while preparing it (a
// body over the size limit: 413; a malformed X-Aigateway-* header: 400). A
// refused call never goes upstream: the innermost point of the stack
// answers it with the refusal, and only the layers that ask to see refused
// calls (a meter: see SeeRefused) handle it on the way.
func (c *Call) Refused() bool { return c.refusal != nil }

// Done is closed when the Call is complete and its Result final.
func (c *Call) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.doneClosed {
			return closedDone
		}
		// Made when asked for: most calls are never waited on so.
		c.done = make(chan struct{})
	}
	return c.done
}

// closedDone is the Done of a call completed before anyone asked.
var closedDone = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Result returns a snapshot of the Call's result. Before Done is closed it
// holds what is known so far (Upstreams is filled at completion).
func (c *Call) Result() Result {
	c.mu.Lock()
	r := c.result
	c.mu.Unlock()
	return r
}

type answerTag struct {
	resp *http.Response
	kind error
}

// answered notes resp as the answer the caller gets: the upstream request
// it came from (none for an answer a layer made), and the kinds the layers
// tagged it with.
func (c *Call) answered(resp *http.Response) *upstream {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.result.Status = resp.StatusCode
	c.answer = c.answerOfLocked(resp)
	for _, t := range c.answerTags {
		if t.resp == resp {
			c.errKinds = append(c.errKinds, t.kind)
		}
	}
	c.answerTags = nil
	return c.answer
}

// taggedError is a call's error with the kinds layers tagged it with.
type taggedError struct {
	err   error
	kinds []error
}

func (e *taggedError) Error() string { return e.err.Error() }
func (e *taggedError) Unwrap() []error {
	return append([]error{e.err}, e.kinds...)
}

func (c *Call) setAnswerError(e *provider.Error) {
	c.mu.Lock()
	c.answerErr = e
	c.mu.Unlock()
}

func (c *Call) markFirstByte(now time.Time) {
	c.mu.Lock()
	if c.result.TimeToFirstByte == 0 {
		c.result.TimeToFirstByte = max(now.Sub(c.start), 1)
	}
	c.mu.Unlock()
}

func (c *Call) markFirstChunk(now time.Time) {
	c.mu.Lock()
	if c.result.TimeToFirstChunk == 0 {
		c.result.TimeToFirstChunk = max(now.Sub(c.start), 1)
	}
	c.mu.Unlock()
}

// complete finishes the Call once: err is the caller-side outcome (nil for a
// body read to its end). It reports whether this call completed it.
func (c *Call) complete(err error) bool {
	if !c.completed.CompareAndSwap(false, true) {
		return false
	}
	c.mu.Lock()
	r := &c.result
	r.Duration = max(time.Since(c.start), 1)
	a := c.answer // the upstream request whose response the caller got, if any
	var upErr *provider.Error
	switch {
	case a != nil:
		upErr = a.perr
	case c.refusal != nil:
		upErr = c.refusalErr
	case len(c.ups) > 0 && !c.saved:
		upErr = c.ups[len(c.ups)-1].perr // a layer replayed the latest attempt's error (a router's saved answer)
	}
	switch {
	case err == ErrClosedEarly && r.Status >= 400:
		err = nil // an error answer the caller did not read (an SDK about to retry): its status says it all
	case (err == ErrIncompleteStream || err == ErrClosedEarly) && upErr != nil:
		err = upErr // the stream ended on the error it reported
	case err == nil && a != nil && r.Status >= 200 && r.Status < 300 && upErr == nil &&
		(a.malformed || a.json && !a.Complete):
		// Read to its end, yet not an answer: an empty or cut JSON
		// body, one that is not a JSON object, events that are not JSON.
		err = ErrMalformedResponse
	}
	switch {
	case err != nil:
		r.Err = redactError(err)
	case r.Status >= 400 && c.answerErr != nil:
		// The error of the answer the caller got: the upstream's, or the
		// stack's own (a limiter's 429, a router's 502) even after an
		// attempt that failed otherwise.
		r.Err = c.answerErr
	case upErr != nil && (r.Status >= 400 || a != nil):
		// An error status, an error event mid-stream, or a 200 whose
		// body is an error object (as overloaded proxies send).
		r.Err = upErr
	case r.Status >= 400:
		r.Err = &provider.Error{Status: r.Status, Message: http.StatusText(r.Status)}
	}
	if r.Err != nil && len(c.errKinds) > 0 {
		r.Err = &taggedError{err: r.Err, kinds: c.errKinds}
	}
	c.settleLocked()
	c.finished = true
	final := c.result
	callbacks := c.onDone
	c.onDone = nil
	c.mu.Unlock()
	for i := len(callbacks) - 1; i >= 0; i-- {
		callbacks[i].CallComplete(final)
	}
	clear(callbacks) // a Call a Tracker keeps need not keep its layers' closures
	c.mu.Lock()
	// Nor the responses (their bodies, buffers, connections): the records
	// are found by them only until the callbacks have run.
	for _, u := range c.ups {
		u.resp = nil
	}
	c.answer, c.parts = nil, nil
	c.doneClosed = true
	if c.done != nil {
		close(c.done)
	}
	c.mu.Unlock()
	return true
}
