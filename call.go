package aigateway

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

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
	// Usage is the tokens of the upstream responses the call received (spent),
	// or, when CacheStatus.Saved(), the tokens the stored answer had used.
	Usage      provider.Usage
	UsageKnown bool
	// Cost in USD of Usage; CostKnown is false for an unpriced model (never a
	// made-up zero).
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
	// AttemptLog is every attempt a routing layer recorded for this call, in
	// order (see Call.RecordAttempt); nil without one. The slice is shared:
	// do not modify it.
	AttemptLog []Attempt
	// ResponseModel is the model the response reported.
	ResponseModel string
	// ResponseID is the id the latest upstream response reported
	// (gen_ai.response.id): "chatcmpl-...", "resp_...", "msg_...", Gemini's
	// responseId; "" when it reported none (embeddings never do). For a
	// cache hit it is not known.
	ResponseID string
	// FinishReasons are why the model stopped in the latest upstream
	// response, one per choice that reported one, in index order
	// (gen_ai.response.finish_reasons), as the provider spells them; see
	// provider.ResponseScanner.FinishReasons. Nil when none was seen, and for
	// a cache hit. The slice is shared: do not modify it.
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
// context, where inner layers find it with CallFrom.
//
// The exported fields and the accessors are request facts: fixed once the Call
// is prepared, read-only after. Result and the recording methods are safe for
// concurrent use.
type Call struct {
	Provider  string // gen_ai.provider.name: "openai", "anthropic", "gcp.gemini" ...
	Operation string // gen_ai.operation.name: "chat", "embeddings", "generate_content"
	Model     string // as requested (cut to MaxModelBytes)
	Stream    bool

	format         provider.Format
	preset         provider.Provider
	serverAddress  string
	maxTokens      int64
	promptEstimate int64
	clientUsage    bool // the client asked for stream usage itself
	injectedUsage  bool // the stack added stream_options.include_usage
	parsed         bool // the body was a JSON object the stack could read
	body           []byte
	controls       Controls
	metadata       map[string]string
	start          time.Time
	refusal        *http.Response // the stack's answer to a refused call (see Refused)
	refusalBody    []byte
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
	// through: a Layer, or a Gateway's base transport (see Layer).
	scanOwner atomic.Pointer[layer]

	completed      atomic.Bool
	mu             sync.Mutex
	finished       bool // under mu: the result is final and callbacks were taken
	result         Result
	upErr          *provider.Error // the latest upstream response's error, if any
	answerErr      *provider.Error // the error the caller's answer carried (see clientBody.errs)
	answerTags     []answerTag     // see TagAnswer
	errKinds       []error         // the kinds of the answer the caller got
	lastUsage      provider.Usage
	lastUsageKnown bool
	responses      []Response // one per upstream response that reported usage
	lastComplete   bool       // the latest upstream response's JSON value or stream terminator arrived, well-formed
	lastMalformed  bool       // the latest upstream 2xx answer was not a well-formed answer of its format
	lastJSON       bool       // the latest upstream answer was a JSON body the stack read (not a stream, not opaque)
	lastOpaque     bool       // the stack did not read the latest upstream answer (see upstreamBody.opaque)
	done           chan struct{}
	onDone         []func(Result)
	onDoneBuf      [4]func(Result) // onDone's first array: a stack's few layers register without allocating
}

type callKey struct{}

// CallFrom returns the Call of the request whose context is ctx, or nil when
// the request was not recognised (or never went through the stack).
func CallFrom(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}

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

// ClientWantsStreamUsage reports whether the caller itself asked for the
// stream's usage chunk. When it did not, the stack may still ask upstream for
// it, and drops it from the body the caller reads.
func (c *Call) ClientWantsStreamUsage() bool { return c.clientUsage }

// InjectedStreamUsage reports whether the stack added
// stream_options.include_usage to the body (an OpenAI chat stream whose
// client did not ask for usage, to a provider that accepts the field): the
// client-facing body drops that usage chunk again.
func (c *Call) InjectedStreamUsage() bool { return c.injectedUsage }

// Parsed reports whether the request body was a JSON object the stack could
// read. An unparsed body still goes upstream untouched; layers that need the
// request's content (a cache key) should leave such calls alone.
func (c *Call) Parsed() bool { return c.parsed }

// Body returns the prepared request body, as it goes upstream. It is shared:
// callers must not modify it.
func (c *Call) Body() []byte { return c.body }

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

// Start is when the Call was prepared.
func (c *Call) Start() time.Time { return c.start }

// Done is closed when the Call is complete and its Result final.
func (c *Call) Done() <-chan struct{} { return c.done }

// Result returns a snapshot of the Call's result. Before Done is closed it
// holds what is known so far.
func (c *Call) Result() Result {
	c.mu.Lock()
	r := c.result
	c.mu.Unlock()
	return r
}

// OnComplete registers fn to run when the Call completes, with its final
// Result. Callbacks run synchronously, last registered first (so the
// innermost layer, which registers last on the way in, runs first), before
// the Read or Close that completed the Call returns. A callback registered
// after completion runs at once.
func (c *Call) OnComplete(fn func(Result)) {
	c.mu.Lock()
	if !c.finished {
		if c.onDone == nil {
			c.onDone = c.onDoneBuf[:0]
		}
		c.onDone = append(c.onDone, fn)
		c.mu.Unlock()
		return
	}
	r := c.result
	c.mu.Unlock()
	fn(r)
}

// AddUsage adds the usage of one upstream response (or, for a layer that
// answers from storage, the usage the stored answer had) to the Call.
func (c *Call) AddUsage(u provider.Usage) {
	c.mu.Lock()
	c.result.Usage = c.result.Usage.Add(u)
	c.result.UsageKnown = true
	c.mu.Unlock()
}

// SetResponseModel records the model the response reported.
func (c *Call) SetResponseModel(model string) {
	if model == "" {
		return
	}
	c.mu.Lock()
	c.result.ResponseModel = model
	c.mu.Unlock()
}

// SetCacheStatus records how a cache layer answered.
func (c *Call) SetCacheStatus(s CacheStatus) {
	c.mu.Lock()
	c.result.CacheStatus = s
	c.mu.Unlock()
}

// SetTarget records the name of the target that answered, and whether it
// was a fallback rather than the first choice.
func (c *Call) SetTarget(name string, fallback bool) {
	c.mu.Lock()
	c.result.Target, c.result.Fallback = name, fallback
	c.mu.Unlock()
}

// Response is the usage one upstream response reported, with the model it
// reported: what a meter prices, response by response.
type Response struct {
	// Provider is the gen_ai.provider.name of the provider that answered:
	// the call's own, or the one a routing layer sent the attempt to (see
	// WithUpstreamProvider).
	Provider string
	Model    string
	Usage    provider.Usage
}

// Responses returns, in order, the usage of each upstream response of this
// call that reported any (a retry or a fallback makes several). A call
// answered without going upstream (a cache hit) has none. The slice is
// shared, not copied: do not modify it (responses recorded later are
// appended beyond it, never into it).
func (c *Call) Responses() []Response {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.responses[:len(c.responses):len(c.responses)]
}

// LastResponseUsage returns the usage of the latest upstream response the
// stack scanned for this call (not the sum over attempts that Result gives),
// and whether it reported any: what a cache stores beside that response.
func (c *Call) LastResponseUsage() (provider.Usage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastUsage, c.lastUsageKnown
}

// LastResponseComplete reports whether the latest upstream response the
// stack scanned arrived whole: its JSON value ended, or its stream's
// terminator came. (A Gemini stream has no terminator: false.)
func (c *Call) LastResponseComplete() bool { return c.lastResponseComplete() }

func (c *Call) lastResponseComplete() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastComplete
}

func (c *Call) lastResponseOpaque() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastOpaque
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

// SetCost records the cost of the call in USD.
func (c *Call) SetCost(usd float64) {
	c.mu.Lock()
	c.result.Cost, c.result.CostKnown = usd, true
	c.mu.Unlock()
}

// addAttempt counts one upstream request.
func (c *Call) addAttempt() {
	c.mu.Lock()
	c.result.Attempts++
	c.mu.Unlock()
}

// upstreamOutcome is what the scanner of one upstream response found.
type upstreamOutcome struct {
	usage         provider.Usage
	usageKnown    bool
	provider      string
	model         string
	id            string
	finishReasons []string
	err           *provider.Error
	complete      bool // its JSON value ended or its stream's terminator came, and it was well-formed
	malformed     bool // events that are not JSON, a body that is not one JSON object, one that did not inflate
	json          bool // a JSON body the stack read: complete says whether it was whole
	opaque        bool // a body the stack did not read (a coding it cannot decode, or inflated past the bound)
}

// recordUpstream stores the outcome of one upstream response: its usage
// adds up over attempts; its id and finish reasons replace those of the
// attempts before it, even when it reported none.
func (c *Call) recordUpstream(o upstreamOutcome) {
	c.mu.Lock()
	c.lastComplete, c.lastMalformed, c.lastJSON, c.lastOpaque = o.complete, o.malformed, o.json, o.opaque
	if o.usageKnown {
		c.result.Usage = c.result.Usage.Add(o.usage)
		c.result.UsageKnown = true
		model := o.model
		if model == "" {
			model = c.result.ResponseModel
		}
		c.responses = append(c.responses, Response{Provider: o.provider, Model: model, Usage: o.usage})
	}
	c.lastUsage, c.lastUsageKnown = o.usage, o.usageKnown
	if o.model != "" {
		c.result.ResponseModel = o.model
	}
	c.result.ResponseID, c.result.FinishReasons = o.id, o.finishReasons
	c.upErr = o.err
	c.mu.Unlock()
}

// TagAnswer says what kind of failure resp is, an answer a layer made
// itself (a rate limiter's refusal): when resp is the answer the caller
// gets, the call's Result.Err unwraps to kind (errors.Is(r.Err,
// ratelimit.ErrLimited)) as well as to what it was already (the
// *provider.Error of the answer, for errors.As). An answer a layer further
// out replaced (a router that moved on to another target) leaves no trace.
func (c *Call) TagAnswer(resp *http.Response, kind error) {
	c.mu.Lock()
	c.answerTags = append(c.answerTags, answerTag{resp, kind})
	c.mu.Unlock()
}

type answerTag struct {
	resp *http.Response
	kind error
}

// answered notes the tags of resp, the answer the caller gets.
func (c *Call) answered(resp *http.Response) {
	c.mu.Lock()
	for _, t := range c.answerTags {
		if t.resp == resp {
			c.errKinds = append(c.errKinds, t.kind)
		}
	}
	c.answerTags = nil
	c.mu.Unlock()
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

func (c *Call) setStatus(status int) {
	c.mu.Lock()
	c.result.Status = status
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
	fromUpstream := r.Attempts > 0 && !r.CacheStatus.Saved() // the answer is the latest upstream response
	switch {
	case err == ErrClosedEarly && r.Status >= 400:
		err = nil // an error answer the caller did not read (an SDK about to retry): its status says it all
	case (err == ErrIncompleteStream || err == ErrClosedEarly) && c.upErr != nil:
		err = c.upErr // the stream ended on the error it reported
	case err == nil && fromUpstream && r.Status >= 200 && r.Status < 300 && c.upErr == nil &&
		(c.lastMalformed || c.lastJSON && !c.lastComplete):
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
	case c.upErr != nil && (r.Status >= 400 || fromUpstream):
		// An error status, an error event mid-stream, or a 200 whose
		// body is an error object (as overloaded proxies send).
		r.Err = c.upErr
	case r.Status >= 400:
		r.Err = &provider.Error{Status: r.Status, Message: http.StatusText(r.Status)}
	}
	if r.Err != nil && len(c.errKinds) > 0 {
		r.Err = &taggedError{err: r.Err, kinds: c.errKinds}
	}
	c.finished = true
	final := c.result
	callbacks := c.onDone
	c.onDone = nil
	c.mu.Unlock()
	for i := len(callbacks) - 1; i >= 0; i-- {
		callbacks[i](final)
	}
	clear(callbacks) // a Call a Tracker keeps need not keep its layers' closures
	close(c.done)
	return true
}
