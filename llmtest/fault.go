package llmtest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Fault scripts how the fake misbehaves for one request (queued with
// [Fake.Push]) or for every request (set with [Fake.Always]). The zero
// Fault is a normal answer; fields combine, so a Fault can, say, wait
// DelayHeaders and then answer 429. The constructors below build the
// common ones.
//
// Streams are counted in events: every SSE event the fake writes, in the
// order given in the package documentation (for OpenAI chat: the role
// chunk, one chunk per word, the finish chunk, the usage chunk when asked
// for, then data: [DONE]).
type Fault struct {
	// Path, when set, restricts the fault to requests whose URL path ends
	// with it ("/chat/completions", "/v1/messages", ":streamGenerateContent").
	// A queued fault waits in the queue for the first such request.
	Path string

	// Status, when neither 0 nor 200, answers with this status and an
	// error body shaped like the request's provider: OpenAI
	// {"error":{"message","type","param","code"}}, Anthropic
	// {"type":"error","error":{"type","message"},"request_id"}, Gemini
	// {"error":{"code","message","status"}}.
	Status int
	// Type overrides the error type derived from Status: OpenAI error.type,
	// Anthropic error.type, Gemini error.status. It is provider-specific:
	// set it only for faults aimed (with Path) at one format.
	Type string
	// Code is OpenAI's error.code ("rate_limit_exceeded", "insufficient_quota").
	// Anthropic receives it as error.details.error_code, except
	// CodeInsufficientQuota, which becomes Anthropic's own
	// "enforced_spend_limit_reached". Gemini ignores it.
	Code string
	// Message overrides the provider's usual message for the status.
	Message string
	// RetryAfter, when > 0, sets Retry-After (whole seconds, rounded up)
	// and retry-after-ms on the error response, and Gemini's RetryInfo.
	RetryAfter time.Duration
	// Header is added to the response headers (x-should-retry, say).
	Header http.Header
	// Body, when non-nil, replaces the response body byte for byte, sent
	// whole, with the status Status (200 if 0) and the headers the request
	// would normally get (text/event-stream for a stream; Header can
	// override them). A non-nil empty Body sends no body at all.
	Body []byte

	// DelayHeaders waits before the response headers.
	DelayHeaders time.Duration
	// DelayChunks waits before each stream event after the first.
	DelayChunks time.Duration
	// CutAt, when > 0, ends a stream abruptly where its CutAt-th event
	// would start: CutAt-1 events arrive, then the connection closes with
	// no terminator (the client reads io.ErrUnexpectedEOF); CutAt 1 cuts
	// before the first event. The cut takes its turn like an event (after
	// DelayChunks, through the Gate). A whole body is cut in half instead.
	// A stream with fewer events ends normally.
	CutAt int
	// ErrorAt, when > 0, replaces a stream's ErrorAt-th event with the
	// provider's mid-stream error (Anthropic event: error, OpenAI chat
	// data: {"error":{...}}, Responses event: error, Gemini data:
	// {"error":{...}}), after HTTP 200, and ends the stream cleanly there.
	// Type, Code and Message, when set, are used in it. Whole bodies and
	// streams with fewer events are not affected.
	ErrorAt int
	// Malformed sends a body that does not parse: a non-stream JSON body
	// cut in half (with a matching Content-Length), or a stream whose
	// second event carries half its JSON.
	Malformed bool
	// Gate, when set, holds every stream event until the gate lets it
	// pass, and a non-stream response's headers until the gate lets one
	// pass. See [Gate].
	Gate *Gate
}

// CodeInsufficientQuota is OpenAI's error code for an exhausted quota.
const CodeInsufficientQuota = "insufficient_quota"

// HTTPError answers with status and the provider's own error body for it.
func HTTPError(status int) Fault { return Fault{Status: status} }

// RateLimited answers 429 rate limited, retryable after retryAfter (no
// Retry-After header when retryAfter is 0).
func RateLimited(retryAfter time.Duration) Fault {
	return Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter}
}

// InsufficientQuota answers 429 with the provider's "out of money" error,
// which an SDK retries but a gateway should fall back from: OpenAI code
// insufficient_quota, Anthropic error.details.error_code
// enforced_spend_limit_reached, Gemini RESOURCE_EXHAUSTED with a quota message.
func InsufficientQuota() Fault {
	return Fault{Status: http.StatusTooManyRequests, Code: CodeInsufficientQuota}
}

// StatusOverloaded is Anthropic's 529 Overloaded.
const StatusOverloaded = 529

// Overloaded answers 529, Anthropic's overloaded_error. OpenAI and Gemini
// say overloaded with 503: use Unavailable for them.
func Overloaded() Fault { return Fault{Status: StatusOverloaded} }

// ServerError answers 500.
func ServerError() Fault { return Fault{Status: http.StatusInternalServerError} }

// Unavailable answers 503.
func Unavailable() Fault { return Fault{Status: http.StatusServiceUnavailable} }

// DelayHeaders waits d before sending the response headers.
func DelayHeaders(d time.Duration) Fault { return Fault{DelayHeaders: d} }

// DelayChunks waits d before each stream event after the first.
func DelayChunks(d time.Duration) Fault { return Fault{DelayChunks: d} }

// CutAfter delivers the first n events of a stream, then closes the
// connection without a terminator.
func CutAfter(n int) Fault { return Fault{CutAt: n + 1} }

// ErrorAfter delivers the first n events of a stream, then the provider's
// mid-stream error event, after HTTP 200.
func ErrorAfter(n int) Fault { return Fault{ErrorAt: n + 1} }

// MalformedJSON sends a body (or a stream event) that is not valid JSON.
func MalformedJSON() Fault { return Fault{Malformed: true} }

// Hold holds every stream event (or a non-stream response) until g lets it pass.
func Hold(g *Gate) Fault { return Fault{Gate: g} }

func (f *Fault) matches(path string) bool {
	return f.Path == "" || strings.HasSuffix(path, f.Path)
}

func (f *Fault) isError() bool {
	return f.Status != 0 && f.Status != http.StatusOK
}

// Gate holds a stream until the test lets it go on, so a test can prove
// that one event reached the client before the upstream sent the next.
// Each Release lets one held event (or held response) through; Open lets
// everything through from then on. Waits end early when the request's
// context ends or the fake is closed. The zero Gate is closed and ready;
// a Gate is safe for concurrent use and may be shared by several faults.
type Gate struct {
	mu      sync.Mutex
	tokens  int
	open    bool
	waiting int
	wake    chan struct{} // closed on every Release and Open
}

// NewGate returns a closed gate.
func NewGate() *Gate { return &Gate{} }

// Release lets one more event through.
func (g *Gate) Release() {
	g.mu.Lock()
	g.tokens++
	g.broadcast()
	g.mu.Unlock()
}

// Open lets every event through, now and later.
func (g *Gate) Open() {
	g.mu.Lock()
	g.open = true
	g.broadcast()
	g.mu.Unlock()
}

// Waiting reports how many events are held at the gate right now.
func (g *Gate) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}

func (g *Gate) broadcast() {
	if g.wake != nil {
		close(g.wake)
		g.wake = nil
	}
}

func (g *Gate) pass(st stops) error {
	g.mu.Lock()
	g.waiting++
	defer func() {
		g.mu.Lock()
		g.waiting--
		g.mu.Unlock()
	}()
	for {
		if g.open {
			g.mu.Unlock()
			return nil
		}
		if g.tokens > 0 {
			g.tokens--
			g.mu.Unlock()
			return nil
		}
		if g.wake == nil {
			g.wake = make(chan struct{})
		}
		wake := g.wake
		g.mu.Unlock()
		select {
		case <-wake:
		case <-st.ctx.Done():
			return st.ctx.Err()
		case <-st.closed:
			return errClosed
		case <-st.body:
			return errBodyClosed
		}
		g.mu.Lock()
	}
}

var (
	errClosed     = errors.New("llmtest: fake upstream closed")
	errBodyClosed = errors.New("llmtest: read on closed response body")
)

// stops are what ends a wait early: the request's context, the fake's
// Close and, for an in-memory stream, the client closing the body.
type stops struct {
	ctx    context.Context
	closed <-chan struct{}
	body   <-chan struct{} // nil when not applicable
}

// sleep waits d unless stopped first.
func (st stops) sleep(d time.Duration) error {
	if d <= 0 {
		return st.check()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-st.ctx.Done():
		return st.ctx.Err()
	case <-st.closed:
		return errClosed
	case <-st.body:
		return errBodyClosed
	}
}

// check reports whether a stop has already happened.
func (st stops) check() error {
	select {
	case <-st.ctx.Done():
		return st.ctx.Err()
	case <-st.closed:
		return errClosed
	case <-st.body:
		return errBodyClosed
	default:
		return nil
	}
}
