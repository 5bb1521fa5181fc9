package llmtest

import (
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultReply is the assistant text the fake answers with unless
// [WithReply] or [WithReplyFunc] says otherwise.
const DefaultReply = "Hello from llmtest."

// DefaultCaptureLimit is how many requests a fake keeps for [Fake.Requests]
// unless [WithCaptureLimit] says otherwise.
const DefaultCaptureLimit = 1000

// DefaultEmbeddingDimensions is the length of the vectors the fake
// returns when the request names no dimensions.
const DefaultEmbeddingDimensions = 8

// defaultTime is the clock of a fake without WithClock: a fixed instant,
// so that answers are byte-for-byte repeatable.
var defaultTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Usage is the token usage a fake reports, in the gateway's normalised
// terms (the same as provider.Usage): InputTokens includes the cached
// input, OutputTokens includes reasoning. Each provider receives it in its
// own fields:
//
//   - OpenAI chat: prompt_tokens = InputTokens,
//     prompt_tokens_details.cached_tokens = CacheReadTokens,
//     completion_tokens = OutputTokens,
//     completion_tokens_details.reasoning_tokens = ReasoningTokens.
//   - OpenAI Responses: input_tokens, input_tokens_details.cached_tokens,
//     output_tokens, output_tokens_details.reasoning_tokens alike.
//   - Embeddings: prompt_tokens = total_tokens = InputTokens.
//   - Anthropic: input_tokens = InputTokens − CacheReadTokens −
//     CacheCreationTokens, cache_read_input_tokens = CacheReadTokens,
//     cache_creation_input_tokens = CacheCreationTokens, of which
//     cache_creation.ephemeral_1h_input_tokens = CacheCreation1hTokens,
//     output_tokens = OutputTokens.
//   - Gemini: promptTokenCount = InputTokens, cachedContentTokenCount =
//     CacheReadTokens, candidatesTokenCount = OutputTokens −
//     ReasoningTokens, thoughtsTokenCount = ReasoningTokens.
type Usage struct {
	InputTokens           int64
	OutputTokens          int64
	CacheReadTokens       int64
	CacheCreationTokens   int64
	CacheCreation1hTokens int64
	ReasoningTokens       int64
}

// Option configures a fake.
type Option func(*config)

type config struct {
	reply         string
	replyFunc     func(Request) string
	usage         *Usage
	responseModel func(requested string) string
	dimensions    int
	apiKey        string
	captureLimit  int
	clock         func() time.Time
	toolCalls     []toolCall
	toolCallsFunc func(Request) []ToolCall
	preamble      string
	thinking      string
}

// needsRequest reports whether each request must be kept whole (headers,
// a URL of its own): to capture it, or to hand it to a func option.
func (c *config) needsRequest() bool {
	return c.captureLimit > 0 || c.replyFunc != nil || c.toolCallsFunc != nil
}

// WithReply sets the assistant text of every answer. Streams send it word
// by word: each chunk is one word with the spaces before it.
func WithReply(text string) Option { return func(c *config) { c.reply = text } }

// WithReplyFunc computes the assistant text from each request (to echo
// the prompt, or to tell answers apart). fn must be safe for concurrent use.
func WithReplyFunc(fn func(Request) string) Option {
	return func(c *config) { c.replyFunc = fn }
}

// WithUsage reports u, exactly, instead of the usage computed from the
// request (input tokens = request body bytes / 4 rounded up, at least 1;
// output tokens = words in the reply as sent, plus those of the tool
// calls and the thinking: see [WithToolCalls], [WithThinking]).
func WithUsage(u Usage) Option { return func(c *config) { c.usage = &u } }

// WithResponseModel sets the model the answers report, from the one
// requested: a dated id, say. By default answers echo the requested model.
func WithResponseModel(fn func(requested string) string) Option {
	return func(c *config) { c.responseModel = fn }
}

// WithEmbeddingDimensions sets the vector length returned when a request
// names no dimensions (default [DefaultEmbeddingDimensions]).
func WithEmbeddingDimensions(n int) Option { return func(c *config) { c.dimensions = n } }

// WithAPIKey makes the fake demand key, where each provider takes it
// (Authorization: Bearer or api-key for OpenAI formats, x-api-key for
// Anthropic, x-goog-api-key or ?key= for Gemini), answering a wrong or
// missing key with the provider's own 401 (Gemini: 400 API_KEY_INVALID).
func WithAPIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// WithCaptureLimit sets how many of the latest requests [Fake.Requests]
// keeps (default [DefaultCaptureLimit]); n <= 0 keeps none. Counters count
// every request regardless.
func WithCaptureLimit(n int) Option { return func(c *config) { c.captureLimit = n } }

// WithClock sets the clock behind created timestamps and date and reset
// headers. By default a fake uses a fixed instant (2025-01-01T00:00:00Z),
// so its answers repeat byte for byte. fn must be safe for concurrent use.
func WithClock(fn func() time.Time) Option { return func(c *config) { c.clock = fn } }

// Request is one request as the fake received it.
type Request struct {
	// Seq numbers the requests a fake received, from 1. The ids in an
	// answer derive from it.
	Seq    int
	Method string
	// URL is absolute: scheme and host are filled in on a Server too.
	URL    *url.URL
	Header http.Header
	// Body is the request body. It is shared: do not modify it.
	Body []byte
	// Format is the wire format recognised from the path: "openai.chat",
	// "openai.responses", "openai.embeddings", "anthropic.messages",
	// "gemini", or "" when the path is none of them.
	Format string
}

// Fake is a fake LLM provider upstream: it answers OpenAI chat completions,
// Responses and embeddings, Anthropic messages and Gemini generateContent
// requests (routed by path) the way the real APIs do, and misbehaves as
// scripted by [Fault]s. It is an http.Handler; [Server] serves it over a
// loopback socket and [Transport] in memory. A Fake is safe for concurrent use.
type Fake struct {
	cfg config

	seq atomic.Uint64

	mu        sync.Mutex
	queue     []Fault
	always    Fault
	hasAlways bool
	total     int
	perPath   map[string]int
	captured  []Request // a ring of at most cfg.captureLimit
	capNext   int       // oldest entry once the ring is full

	closeOnce sync.Once
	closed    chan struct{}

	date atomic.Pointer[httpDate] // the last Date header made
}

var _ http.Handler = (*Fake)(nil)

type httpDate struct {
	unix int64
	text string
}

// httpDate formats t for a Date header, reusing the last one made within
// the same second.
func (f *Fake) httpDate(t time.Time) string {
	if d := f.date.Load(); d != nil && d.unix == t.Unix() {
		return d.text
	}
	d := &httpDate{unix: t.Unix(), text: t.UTC().Format(http.TimeFormat)}
	f.date.Store(d)
	return d.text
}

// New returns a fake upstream to serve with any http.Server or mux. Most
// tests want [NewServer] or [NewTransport].
func New(opts ...Option) *Fake {
	f := &Fake{
		cfg: config{
			reply:        DefaultReply,
			dimensions:   DefaultEmbeddingDimensions,
			captureLimit: DefaultCaptureLimit,
		},
		perPath: make(map[string]int),
		closed:  make(chan struct{}),
	}
	for _, o := range opts {
		o(&f.cfg)
	}
	return f
}

// Push queues faults for the next requests, one fault per request, in
// order. A fault with a Path waits for the first request to a matching
// path; requests without a queued fault get the [Fake.Always] fault, if any.
func (f *Fake) Push(faults ...Fault) {
	f.mu.Lock()
	f.queue = append(f.queue, faults...)
	f.mu.Unlock()
}

// Always applies fault to every request that finds no queued fault. The
// zero Fault ends it.
func (f *Fake) Always(fault Fault) {
	f.mu.Lock()
	f.always, f.hasAlways = fault, !isZeroFault(&fault)
	f.mu.Unlock()
}

// Pending reports how many queued faults are still waiting for a request.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue)
}

// Reset forgets queued faults, the Always fault, the counters and the
// captured requests. Ids keep counting up.
func (f *Fake) Reset() {
	f.mu.Lock()
	f.queue = nil
	f.always, f.hasAlways = Fault{}, false
	f.total = 0
	clear(f.perPath)
	f.captured = nil
	f.capNext = 0
	f.mu.Unlock()
}

// Count returns how many requests the fake has received.
func (f *Fake) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// CountPath returns how many requests the fake has received for exactly
// this URL path ("/v1/chat/completions").
func (f *Fake) CountPath(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.perPath[path]
}

// Requests returns the captured requests, oldest first (at most the
// capture limit: the latest ones).
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, 0, len(f.captured))
	out = append(out, f.captured[f.capNext:]...)
	return append(out, f.captured[:f.capNext]...)
}

// LastRequest returns the latest captured request; ok is false when there
// is none.
func (f *Fake) LastRequest() (r Request, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.captured) == 0 {
		return Request{}, false
	}
	i := f.capNext - 1
	if i < 0 {
		i = len(f.captured) - 1
	}
	return f.captured[i], true
}

// Close ends every wait the fake is in (delays, gates) and makes held
// streams fail. It does not close a Server's listener: [Server.Close] does
// both.
func (f *Fake) Close() {
	f.closeOnce.Do(func() { close(f.closed) })
}

// record counts and captures one request, and picks its fault.
func (f *Fake) record(r Request, capture bool) Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.total++
	f.perPath[r.URL.Path]++
	if capture {
		if len(f.captured) < f.cfg.captureLimit {
			f.captured = append(f.captured, r)
		} else {
			f.captured[f.capNext] = r
			f.capNext = (f.capNext + 1) % len(f.captured)
		}
	}
	for i := range f.queue {
		if f.queue[i].matches(r.URL.Path) {
			ft := f.queue[i]
			f.queue = slices.Delete(f.queue, i, i+1)
			return ft
		}
	}
	if f.hasAlways && f.always.matches(r.URL.Path) {
		return f.always
	}
	return Fault{}
}

func (f *Fake) now() time.Time {
	if f.cfg.clock != nil {
		return f.cfg.clock()
	}
	return defaultTime
}

func isZeroFault(ft *Fault) bool {
	return ft.Path == "" && ft.Status == 0 && ft.Type == "" && ft.Code == "" &&
		ft.Message == "" && ft.RetryAfter == 0 && ft.Header == nil && ft.Body == nil &&
		ft.DelayHeaders == 0 && ft.DelayChunks == 0 && ft.CutAt == 0 &&
		ft.ErrorAt == 0 && !ft.Malformed && ft.Gate == nil
}
