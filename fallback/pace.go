package fallback

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/aigateway-go/aigateway"
)

// paceBurstShare is the share of the requests a provider says are left
// that a paced target lets go at once: a tenth. The rest is spread until
// the window is full again, and the calls in flight, which the next
// answer's count does not show yet, cannot empty it at once.
const paceBurstShare = 10

// RateWindow is one of a provider's rate-limit windows as its latest
// answer that reported it said.
type RateWindow struct {
	// Known reports whether an answer reported this window.
	Known bool
	// Remaining is what was left of the window: requests or tokens.
	Remaining int64
	// Limit is the window's size; 0 when the answer did not say.
	Limit int64
	// Reset is when the window is full again (the provider refills it
	// continuously until then); zero when the answer did not say. Past
	// it, the window says nothing any more.
	Reset time.Time
	// At is when the answer came (Config.Now).
	At time.Time
}

// PaceHealth is a paced target's view of its provider's rate limits (see
// Target.Pace), as TargetHealth.Pace reports it.
type PaceHealth struct {
	// Requests is the requests window (x-ratelimit-*-requests,
	// anthropic-ratelimit-requests-*).
	Requests RateWindow
	// Tokens is the tokens window (x-ratelimit-*-tokens,
	// anthropic-ratelimit-tokens-*).
	Tokens RateWindow
	// InputTokens and OutputTokens are Anthropic's separate input and
	// output token windows (anthropic-ratelimit-input-tokens-*,
	// anthropic-ratelimit-output-tokens-*).
	InputTokens  RateWindow
	OutputTokens RateWindow
	// Rate is the requests per second the target is paced at now; 0 when
	// it is not (no requests window, or its reset is past).
	Rate float64
}

// live reports whether w still says something at now: it was reported
// with a reset still to come.
func (w *RateWindow) live(now time.Time) bool { return w.Known && w.Reset.After(now) }

// readyAt is when w holds need (requests or tokens), as of now: now when
// it does, or when it says nothing that can be waited for. A provider
// refills a window continuously, from Remaining at At to Limit at Reset:
// with the Limit known, what is missing comes back in its share of that
// time, else all at Reset.
func (w *RateWindow) readyAt(now time.Time, need int64) time.Time {
	if !w.live(now) {
		return now
	}
	need = max(need, 1)
	if w.Limit > 0 {
		// A call that needs more than the whole window is the provider's
		// to refuse: waiting would not make it fit.
		need = min(need, w.Limit)
	}
	if w.Remaining >= need {
		return now
	}
	if w.Limit > w.Remaining && w.At.Before(w.Reset) {
		span := w.Reset.Sub(w.At)
		d := float64(span) * float64(need-w.Remaining) / float64(w.Limit-w.Remaining)
		if at := w.At.Add(time.Duration(min(d, float64(span)))); at.After(now) {
			return at
		}
		return now
	}
	return w.Reset
}

// need is what one call takes of a provider's windows, estimated as the
// rate limiter estimates it: the prompt estimate, plus max_tokens for the
// output. Zero means unknown (a body the stack cannot read): the call
// needs one token of each window.
type need struct{ prompt, output, total int64 }

func needOf(call aigateway.LayerCall) need {
	if !call.Parsed() {
		return need{}
	}
	n := need{prompt: max(call.PromptEstimate(), 0), output: max(call.MaxTokens(), 0)}
	n.total = n.prompt + n.output
	if n.total < n.prompt { // max_tokens is the caller's: saturate
		n.total = math.MaxInt64
	}
	return n
}

// pacer is a paced target's view of its provider's rate limits, from the
// headers of its answers, and the limiter that spreads its calls.
type pacer struct {
	mu  sync.Mutex
	w   PaceHealth
	lim *rate.Limiter // nil until an answer reports a requests window with a reset
}

// observe reads the rate-limit headers of one of the target's answers
// (a success or an error) received at now. A window the answer does not
// report keeps what an earlier answer said, until its reset.
func (p *pacer) observe(h http.Header, now time.Time) {
	var l PaceHealth
	if !parseLimits(h, now, &l) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range [...]struct{ from, to *RateWindow }{
		{&l.Requests, &p.w.Requests}, {&l.Tokens, &p.w.Tokens},
		{&l.InputTokens, &p.w.InputTokens}, {&l.OutputTokens, &p.w.OutputTokens},
	} {
		if f.from.Known {
			*f.to = *f.from
		}
	}
	if l.Requests.Known {
		p.tuneLocked(now)
	}
}

// tuneLocked sets the limiter from the requests window: the provider's
// capacity until the reset (what is left, plus its refill up to the limit
// when the limit is known) spread evenly over the time to reset, a tenth
// of what is left at once.
func (p *pacer) tuneLocked(now time.Time) {
	w := &p.w.Requests
	ttr := w.Reset.Sub(now)
	n := max(w.Remaining, w.Limit)
	if ttr <= 0 || n == 0 {
		return
	}
	r := rate.Limit(float64(n) / ttr.Seconds())
	burst := int(min(max(w.Remaining/paceBurstShare, 1), math.MaxInt32))
	if p.lim == nil {
		p.lim = rate.NewLimiter(r, burst)
		return
	}
	p.lim.SetLimitAt(now, r)
	p.lim.SetBurstAt(now, burst)
}

// readyAt is when the windows hold what a call needs, as of now.
func (p *pacer) readyAt(now time.Time, n need) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	at := p.w.Requests.readyAt(now, 1)
	for _, w := range [...]struct {
		w    *RateWindow
		need int64
	}{{&p.w.Tokens, n.total}, {&p.w.InputTokens, n.prompt}, {&p.w.OutputTokens, n.output}} {
		if t := w.w.readyAt(now, w.need); t.After(at) {
			at = t
		}
	}
	return at
}

// reserve takes one request from the limiter, while the requests window
// says something, and returns its wait (nil and 0 when not paced).
func (p *pacer) reserve(now time.Time) (*rate.Reservation, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lim == nil || !p.w.Requests.live(now) {
		return nil, 0
	}
	res := p.lim.ReserveN(now, 1)
	return res, res.DelayFrom(now)
}

// delay is how long from now until a call that needs n could go to the
// target: its windows' readiness, and its limiter's next free request,
// without reserving it.
func (p *pacer) delay(now time.Time, n need) time.Duration {
	d := p.readyAt(now, n).Sub(now)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lim == nil || !p.w.Requests.live(now) {
		return d
	}
	if tokens := p.lim.TokensAt(now); tokens < 1 {
		wait := time.Duration((1 - tokens) / float64(p.lim.Limit()) * float64(time.Second))
		d = max(d, wait)
	}
	return d
}

// health is the pacer's state for Router.Health.
func (p *pacer) health(now time.Time) *PaceHealth {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.w
	if p.lim != nil && p.w.Requests.live(now) {
		h.Rate = float64(p.lim.Limit())
	}
	return &h
}

// pace holds a call's next attempt to the paced target t until t's
// provider can take it, or moves the call on (skip) when another target
// of the rest of its plan can take it sooner. A wait beyond MaxRetryWait
// or the request's deadline is never made: the call moves on, or, with
// no target left, the attempt goes now, as it would without pacing.
func (r *Router) pace(ctx context.Context, call aigateway.LayerCall, t *target, rest []*target) (skip bool, err error) {
	now := r.now()
	n := needOf(call)
	var res *rate.Reservation
	d := t.pace.readyAt(now, n).Sub(now)
	if d <= 0 {
		if res, d = t.pace.reserve(now); d <= 0 {
			return false, nil
		}
	}
	if len(rest) > 0 && r.soonest(rest, now, n) < d {
		cancel(res, now)
		return true, nil
	}
	if d > r.cfg.MaxRetryWait || beyondDeadline(ctx, d) {
		cancel(res, now)
		return len(rest) > 0, nil
	}
	if err := r.sleep(ctx, d); err != nil {
		cancel(res, r.now())
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, err // a Config.Sleep that failed on its own
	}
	return false, nil
}

// cancel gives back the request res reserved, if any.
func cancel(res *rate.Reservation, now time.Time) {
	if res != nil {
		res.CancelAt(now)
	}
}

// soonest is how long from now until the first of targets can take a call
// that needs n: the end of its rest, and, for a paced one, its provider's
// readiness and its pace.
func (r *Router) soonest(targets []*target, now time.Time, n need) time.Duration {
	best := time.Duration(math.MaxInt64)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range targets {
		d := max(u.restUntil.Sub(now), 0)
		if u.pace != nil {
			d = max(d, u.pace.delay(now, n))
		}
		if d == 0 {
			return 0
		}
		best = min(best, d)
	}
	return best
}

// beyondDeadline reports whether waiting d would outlast ctx's deadline.
func beyondDeadline(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return ok && d > time.Until(dl)
}

// The rate-limit headers, in canonical form: OpenAI's (which Groq and the
// other OpenAI-compatible providers send too) and Anthropic's.
const (
	hOpenAI    = "X-Ratelimit-"
	hAnthropic = "Anthropic-Ratelimit-"
)

// parseLimits reads the rate-limit windows an answer's headers report
// into l, received at now, and reports whether it found any. A window is
// known when its remaining count is readable; a limit or reset that is not
// (garbage, negative, not a number) is left out of it. Resets are OpenAI's
// durations ("1s", "6m0s", "20ms", Groq's "2m59.56s"), a number of
// seconds, or Anthropic's RFC 3339 times, and at most maxRest away: a
// bogus one does not take a target out of rotation for good.
func parseLimits(h http.Header, now time.Time, l *PaceHealth) bool {
	found := false
	for _, w := range [...]struct {
		w                           *RateWindow
		remaining, limit, resetName string
	}{
		{&l.Requests, hOpenAI + "Remaining-Requests", hOpenAI + "Limit-Requests", hOpenAI + "Reset-Requests"},
		{&l.Tokens, hOpenAI + "Remaining-Tokens", hOpenAI + "Limit-Tokens", hOpenAI + "Reset-Tokens"},
		{&l.Requests, hAnthropic + "Requests-Remaining", hAnthropic + "Requests-Limit", hAnthropic + "Requests-Reset"},
		{&l.Tokens, hAnthropic + "Tokens-Remaining", hAnthropic + "Tokens-Limit", hAnthropic + "Tokens-Reset"},
		{&l.InputTokens, hAnthropic + "Input-Tokens-Remaining", hAnthropic + "Input-Tokens-Limit", hAnthropic + "Input-Tokens-Reset"},
		{&l.OutputTokens, hAnthropic + "Output-Tokens-Remaining", hAnthropic + "Output-Tokens-Limit", hAnthropic + "Output-Tokens-Reset"},
	} {
		remaining, ok := parseCount(h[w.remaining])
		if !ok {
			continue
		}
		found = true
		*w.w = RateWindow{Known: true, Remaining: remaining, At: now}
		w.w.Limit, _ = parseCount(h[w.limit])
		w.w.Reset, _ = parseReset(h[w.resetName], now)
	}
	return found
}

// parseCount reads a header's count: a non-negative integer.
func parseCount(v []string) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// parseReset reads a header's reset as a time, at most maxRest after now.
func parseReset(v []string, now time.Time) (time.Time, bool) {
	if len(v) == 0 {
		return time.Time{}, false
	}
	s := strings.TrimSpace(v[0])
	var d time.Duration
	// Told apart by their shape, not by parsing errors: a failed parse
	// allocates its error, and every answer of a paced target has these.
	switch {
	case len(s) >= len("2006-01-02T15:04:05Z") && s[4] == '-':
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, false
		}
		d = t.Sub(now)
	case s != "" && s[len(s)-1] >= '0' && s[len(s)-1] <= '9':
		secs, err := strconv.ParseFloat(s, 64)
		if err != nil || secs < 0 || math.IsInf(secs, 0) {
			return time.Time{}, false
		}
		d = time.Duration(min(secs, maxRest.Seconds()) * float64(time.Second))
	default:
		var err error
		if d, err = time.ParseDuration(s); err != nil || d < 0 {
			return time.Time{}, false
		}
	}
	return now.Add(min(d, maxRest)), true
}
