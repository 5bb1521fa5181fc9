package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/internal/settle"
	"github.com/aigateway-go/aigateway/provider"
)

// HeaderRule is set on the limiter's own refusals: the name of the rule
// that refused (so a caller or a router can tell a local 429 from an
// upstream's).
const HeaderRule = "X-Aigateway-Ratelimit-Rule"

// ErrUnknownRule is returned by Status for a rule name the Config lacks.
var ErrUnknownRule = errors.New("ratelimit: unknown rule")

// ErrLimited is what the Result.Err of a call the limiter refused unwraps
// to: errors.Is(r.Err, ratelimit.ErrLimited). errors.As finds the
// *provider.Error of the 429 the caller got, which names the rule.
var ErrLimited = errors.New("ratelimit: limit exceeded")

// ErrUnpriced is what the Result.Err of a call a budget refused because it
// cannot price it unwraps to (and not to ErrLimited: no limit was reached,
// and waiting will not help; the configuration must change). errors.As
// finds the *provider.Error of the 403 the caller got, which names the
// rule, the model and the provider.
var ErrUnpriced = errors.New("ratelimit: budget cannot price the call")

// Limiter is the rate-limit layer. It is safe for concurrent use.
type Limiter struct {
	invalid error
	rules   []*rule
	byName  map[string]*rule
	counts  bool  // some rule counts tokens or cost: calls are settled
	prices  bool  // some rule counts cost: estimates are priced
	strict  *rule // the first budget without AllowUnpriced: it refuses calls it cannot price
	store   Store
	loc     *time.Location
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	fail    bool          // closed
	settles *settle.Queue // nil: settlements run inline (the memory store)

	admitted, refused, waited, storeErrors, unpriced atomic.Int64
	waiting                                          atomic.Int64
}

// Err returns the error of the Config the Limiter was built from (see
// Config.Validate), nil when it is valid. aigateway.New asks every layer
// for it.
func (l *Limiter) Err() error { return l.invalid }

// New returns a Limiter. It never fails, so stacks compose inline: a
// Limiter built from an invalid Config reports it with Err, aigateway.New
// refuses it, and used without a Gateway it answers every call with a
// provider-shaped 500 naming the problem (and x-should-retry: false).
func New(cfg Config) *Limiter {
	l := &Limiter{now: cfg.Now, sleep: cfg.Sleep, fail: cfg.FailClosed, loc: cfg.Location}
	if l.now == nil {
		l.now = time.Now
	}
	if l.sleep == nil {
		l.sleep = sleep
	}
	if l.invalid = cfg.Validate(); l.invalid != nil {
		return l
	}
	if l.loc == nil {
		l.loc = time.UTC
		if cfg.TimeZone != "" {
			l.loc, _ = time.LoadLocation(cfg.TimeZone) // Validate loaded it
		}
	}
	l.store = cfg.Store
	if l.store == nil {
		l.store = NewMemoryStore(cfg.MaxKeys)
	}
	if _, mem := l.store.(*MemoryStore); !mem {
		l.settles = settle.New(SettleQueue, settleWorkers)
	}
	l.byName = make(map[string]*rule, len(cfg.Rules))
	for i, r := range cfg.Rules {
		cr := compile(r, i)
		l.rules = append(l.rules, cr)
		l.byName[r.Name] = cr
		l.counts = l.counts || cr.unit != unitRequests
		l.prices = l.prices || cr.unit == unitCost
		if l.strict == nil && cr.unit == unitCost && !r.AllowUnpriced {
			l.strict = cr
		}
	}
	return l
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Stats are a Limiter's counters since New.
type Stats struct {
	// Admitted and Refused count calls; a call that waited and was then
	// admitted counts as admitted (and in Waited).
	Admitted, Refused int64
	// Waited counts calls that waited for a rule at least once.
	Waited int64
	// Waiting is how many calls are waiting right now (a gauge).
	Waiting int64
	// StoreErrors counts Store failures: each one admitted the call
	// (failing open) or refused it (FailClosed), or left a settlement
	// undone.
	StoreErrors int64
	// Settling is how many settlements are queued or running (a gauge;
	// always 0 with the memory store, which settles inline). See Flush.
	Settling int64
	// SettledInline counts settlements that ran in the caller's Read
	// because SettleQueue settlements were already waiting, or the
	// Limiter was closed.
	SettledInline int64
	// Unpriced counts upstream answers the stack could not price: neither
	// the model they reported nor the one asked for is in the Gateway's
	// price table for the provider that answered (see
	// aigateway.Upstream.Cost; the meter reports their cost as unknown).
	// Budgets price them as the provider and model the call was admitted
	// for; one that allows unpriced calls charges nothing for those it
	// cannot price either. Calls a budget refused as unpriced are counted
	// in Refused.
	Unpriced int64
}

// Stats returns the limiter's counters.
func (l *Limiter) Stats() Stats {
	return Stats{
		Admitted: l.admitted.Load(), Refused: l.refused.Load(), Waited: l.waited.Load(),
		Waiting: l.waiting.Load(), StoreErrors: l.storeErrors.Load(), Unpriced: l.unpriced.Load(),
		Settling: int64(l.settles.Pending()), SettledInline: l.settles.Inline(),
	}
}

// SettleQueue is how many settlements a Limiter over a Store other than
// the memory store keeps waiting; settleWorkers how many it runs at once.
const (
	SettleQueue   = 10_000
	settleWorkers = 8
)

// Flush waits until the settlements of the calls completed so far have
// reached the Store, or until ctx ends (its error).
//
// A Limiter over the memory store settles a call inside the caller's Read
// or Close that completes it (a few hundred nanoseconds), so its counters
// are exact when that returns and Flush has nothing to wait for. Over any
// other Store (Redis: a round trip), settlement runs after the caller has
// its answer, on a bounded queue: at most SettleQueue settlements wait,
// and beyond that a settlement runs in the caller's Read again (counted
// in Stats.SettledInline), so none is ever lost. Each is stamped with the
// instant its call completed, so the counters come out as they would
// inline.
func (l *Limiter) Flush(ctx context.Context) error { return l.settles.Flush(ctx) }

// Close waits for the queued settlements (see Flush); settlements of
// calls that complete after it run inline. A Gateway's Close calls it.
// The Store is the caller's to close.
func (l *Limiter) Close() error { return l.settles.Close(context.Background()) }

// Wrap returns the limiter layer around next. Its RoundTrip either sends
// the call on (returning next's response, whose body the caller reads and
// closes) or answers it with a complete 429 of its own without sending
// anything. Token and cost counters are settled when the call completes
// (see aigateway.LayerCall.OnComplete): when the caller has read or closed the
// body, or the request's context ended.
func (l *Limiter) Wrap(next http.RoundTripper) http.RoundTripper {
	return aigateway.Layer(next, l.roundTrip)
}

// estimate is what admission knows of a call's size.
type estimate struct {
	tokens, inputTokens int64 // prompt estimate (+ max_tokens); 0: unknown
	cost, inputCost     int64 // nano-USD; 0: unknown or unpriced
	priced              bool  // the table prices the model the attempt asks for
}

// estimate prices an attempt as the model it asks for (prov, model: see
// aigateway.LayerCall.RouteOf), with the table its answer will be priced
// with.
func (l *Limiter) estimate(call aigateway.LayerCall, prov, model string) estimate {
	if !call.Parsed() || call.PromptEstimate() <= 0 {
		return estimate{} // a body the stack cannot read has no model to price either
	}
	e := estimate{inputTokens: call.PromptEstimate()}
	// max_tokens is the caller's: saturate, so that a huge one is refused
	// as more than a rule holds rather than wrapping to a negative take.
	e.tokens = sat(e.inputTokens, max(call.MaxTokens(), 0))
	if !l.prices {
		return e
	}
	table := call.Prices()
	if usd, ok := table.Cost(prov, model, provider.Usage{InputTokens: e.inputTokens, OutputTokens: e.tokens - e.inputTokens}); ok {
		e.cost, e.priced = toNano(usd), true
	}
	if usd, ok := table.Cost(prov, model, provider.Usage{InputTokens: e.inputTokens}); ok {
		e.inputCost = toNano(usd)
	}
	return e
}

// admission is one passage of a call through the limiter: what it
// reserved, to settle against the upstream requests made for it.
type admission struct {
	l        *Limiter
	call     aigateway.LayerCall
	ctx      context.Context // the request's: it says which upstream requests are this passage's, and is the store's Adjust's
	prov     string          // the provider and model the passage admitted (LayerCall.RouteOf)
	model    string
	est      estimate
	takes    []Take
	verdicts []Verdict
	tbuf     [4]Take // takes and verdicts of up to 4 rules, without an allocation
	vbuf     [4]Verdict
	status   int // the answer's status; 0 for a transport error
	// What a queued settlement charges (see Settle): the context that
	// outlives the request's, the instant the call completed, the changes.
	sctx   context.Context
	snow   time.Time
	adjust []Take
}

func (l *Limiter) roundTrip(call aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
	if l.invalid != nil {
		return provider.NewErrorResponse(req, call.Format(), provider.ErrorSpec{
			Status: http.StatusInternalServerError, Type: "server_error",
			Message: "aigateway: invalid rate limit configuration: " + l.invalid.Error(),
		}), nil
	}
	ctx := req.Context()
	// The provider and model the attempt goes to: a fallback target's own
	// when this limiter is in its Layers.
	route := call.RouteOf(ctx)
	prov, model := route.Provider.Name(), route.Model
	if prov == "" {
		prov = call.Provider()
	}
	a := &admission{l: l, call: call, ctx: ctx, prov: prov, model: model, est: l.estimate(call, prov, model)}
	if l.strict != nil && !a.est.priced {
		l.refused.Add(1)
		return l.refuseUnpriced(call, req, l.strict, prov, model), nil
	}
	if n := len(l.rules); n <= len(a.tbuf) {
		a.takes, a.verdicts = a.tbuf[:n], a.vbuf[:n]
	} else {
		a.takes, a.verdicts = make([]Take, n), make([]Verdict, n)
	}
	takes, verdicts := a.takes, a.verdicts
	for waited := false; ; {
		now := l.now()
		for i, r := range l.rules {
			takes[i] = Take{Key: r.key(call.Call(), now, l.loc), Limit: r.limit(now, l.loc), Cost: r.cost(a.est)}
		}
		ok, err := l.store.Reserve(ctx, now, takes, verdicts)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, ctxErr // the caller gave up: not the store's failure
			}
			l.storeErrors.Add(1)
			if l.fail {
				l.refused.Add(1)
				return provider.NewErrorResponse(req, call.Format(), provider.ErrorSpec{
					Status: http.StatusServiceUnavailable, Type: "server_error",
					Message: "aigateway: rate limit store unavailable", // its error (an address, a password in a URL) stays in the process
				}), nil
			}
			for i := range takes {
				takes[i].Cost = 0 // nothing was reserved: settle what the call uses
			}
			ok = true
		}
		if ok {
			l.admitted.Add(1)
			break
		}
		r, wait, canWait := l.refusal(verdicts)
		tooLate := false
		if dl, has := ctx.Deadline(); canWait && has && wait > time.Until(dl) {
			canWait, tooLate = false, true
		}
		if !canWait {
			l.refused.Add(1)
			return l.refuse(call, req, r, wait, takes, tooLate), nil
		}
		if !waited {
			waited = true
			l.waited.Add(1)
		}
		l.waiting.Add(1)
		err = l.sleep(ctx, wait)
		l.waiting.Add(-1)
		if err != nil {
			return nil, err
		}
	}
	if !l.counts {
		return next.RoundTrip(req)
	}
	resp, err := next.RoundTrip(req)
	if err == nil && resp != nil {
		a.status = resp.StatusCode
	}
	// Settled against the upstream requests made with ctx (behind a
	// router, this passage's own attempt: see LayerCall.AppendUpstreams), when
	// the call completes.
	call.OnCompleteWith(a) // at once if the call is already complete
	return resp, err
}

// CallComplete settles the passage when its call completes.
func (a *admission) CallComplete(res aigateway.Result) { a.settle(res) }

// refusal picks the rule to name in a refusal: one that can never admit
// the call if any, else the one with the longest wait (the call needs
// every rule). canWait says every refusing rule Waits.
func (l *Limiter) refusal(verdicts []Verdict) (r *rule, wait time.Duration, canWait bool) {
	canWait = true
	for i, v := range verdicts {
		switch {
		case v.Wait == 0:
			continue
		case v.Wait == Never:
			return l.rules[i], Never, false
		case v.Wait > wait:
			r, wait = l.rules[i], v.Wait
		}
		canWait = canWait && l.rules[i].Wait
	}
	if r == nil { // a Store that refused without saying which take: refuse
		return l.rules[0], 0, false
	}
	return r, wait, canWait
}

// refuse answers the call with a provider-shaped 429 naming r (the wait in
// its message is rounded up to whole seconds, as Retry-After is);
// tooLate says the rule would have waited, but not past the deadline.
func (l *Limiter) refuse(call aigateway.LayerCall, req *http.Request, r *rule, wait time.Duration, takes []Take, tooLate bool) *http.Response {
	var msg string
	if wait == Never {
		msg = fmt.Sprintf("aigateway: rate limit %q (%s) refuses this request: it needs %s, more than the limit holds", r.Name, r.describe(), r.amount(takes[r.index].Cost))
		wait = 0
	} else {
		msg = fmt.Sprintf("aigateway: rate limit %q (%s) exceeded; retry after %s", r.Name, r.describe(), (wait + time.Second - 1).Truncate(time.Second))
		if tooLate {
			msg += " (longer than the request's deadline allows)"
		}
	}
	code := "rate_limit_exceeded"
	if r.unit == unitCost {
		code = "budget_exceeded"
	}
	resp := provider.NewErrorResponse(req, call.Format(), provider.ErrorSpec{
		Status: http.StatusTooManyRequests, Code: code, Message: msg, RetryAfter: wait,
	})
	resp.Header.Set(HeaderRule, r.Name)
	call.TagAnswer(resp, ErrLimited)
	return resp
}

// refuseUnpriced answers a call budget r cannot price with a
// provider-shaped 403 saying how to price it. 403, not 429: no limit was
// reached and no wait will help; an SDK does not retry it (nor would it
// without x-should-retry: false), and a router moves on at once to its
// next target, whose budget may price it, as it does for a model a
// provider does not serve.
func (l *Limiter) refuseUnpriced(call aigateway.LayerCall, req *http.Request, r *rule, prov, model string) *http.Response {
	const fix = "add its price to the Gateway's Prices (pricing.Table Set, Merge or LoadFile), or set AllowUnpriced (allow_unpriced) on the rule to admit calls it cannot price at no cost to it"
	var msg string
	if call.Parsed() {
		msg = fmt.Sprintf("aigateway: budget %q (%s) cannot price model %q of provider %q, so it refuses the call: %s", r.Name, r.describe(), model, prov, fix)
	} else {
		msg = fmt.Sprintf("aigateway: budget %q (%s) cannot price this call to provider %q: the gateway cannot read its body exactly (not a JSON object, or a key it reads spelled in another case), so its model is unknown; send a plain JSON body, or set AllowUnpriced (allow_unpriced) on the rule to admit calls it cannot price at no cost to it", r.Name, r.describe(), prov)
	}
	resp := provider.NewErrorResponse(req, call.Format(), provider.ErrorSpec{
		Status: http.StatusForbidden, Code: "model_not_priced", Message: msg,
	})
	resp.Header.Set(HeaderRule, r.Name)
	call.TagAnswer(resp, ErrUnpriced)
	return resp
}

// settle charges the counters what the passage used, in place of what
// admission reserved: the price the stack put on each answer (the same
// the meter reports), and the tokens it reported.
func (a *admission) settle(res aigateway.Result) {
	l, est, takes := a.l, a.est, a.takes
	var tokens, uncached, cost int64
	answers := 0 // upstream answers that reported usage
	var buf [2]aigateway.Upstream
	for _, u := range a.call.AppendUpstreams(buf[:0], a.ctx) {
		if !u.UsageKnown {
			continue
		}
		answers++
		// Saturated sums: a counter deep in debt, never one wrapped to
		// plenty (a price set absurdly high, many answers).
		tokens = sat(tokens, u.Usage.InputTokens+u.Usage.OutputTokens)
		uncached = sat(uncached, u.Usage.InputTokens-u.Usage.CacheReadTokens+u.Usage.OutputTokens)
		if !l.prices {
			continue
		}
		if u.CostKnown {
			cost = sat(cost, toNano(u.Cost))
			continue
		}
		// The stack could not price the answer (a provider the table
		// lacks answered for a fallback target): it is not free for a
		// budget, which prices it as what this passage admitted, unless
		// that is unpriced too (a budget that allows unpriced calls
		// admitted it).
		l.unpriced.Add(1)
		if usd, ok := a.call.Prices().Cost(a.prov, a.model, u.Usage); ok {
			cost = sat(cost, toNano(usd))
		}
	}
	// A whole answer that reported no usage (a provider without stream
	// usage) keeps what admission reserved: its output is unknown, not
	// zero. An attempt cut or cancelled before its usage arrived still sent
	// its input: at least that is charged. An error status is not billed; a
	// cache hit inside the limiter was not spent.
	billed := a.status < 400 && !res.CacheStatus.Saved()
	if billed && res.Err == nil && answers == 0 {
		return
	}
	if billed && (res.Err != nil || answers == 0) {
		tokens, uncached, cost = max(tokens, est.inputTokens), max(uncached, est.inputTokens), max(cost, est.inputCost)
	}
	adjust := takes[:0] // in place: takes[i] is read before adjust[j <= i] is written
	for i, r := range l.rules {
		var used int64
		switch {
		case r.unit == unitRequests:
			continue
		case r.unit == unitCost:
			used = cost
		case r.ExcludeCachedTokens:
			used = uncached
		default:
			used = tokens
		}
		if d := used - takes[i].Cost; d != 0 {
			t := takes[i]
			t.Cost = d
			adjust = append(adjust, t)
		}
	}
	if len(adjust) == 0 {
		return
	}
	now := l.now() // stamped now: the queue may run it later
	if l.settles == nil {
		// The memory store, which never blocks and ignores the context.
		l.adjust(a.ctx, now, adjust)
		return
	}
	// The admission settles itself from the queue (Settle): no closure,
	// and its takes need no copy, as nothing else writes them now.
	a.sctx, a.snow, a.adjust = context.WithoutCancel(a.ctx), now, adjust
	l.settles.Run(a)
}

// Settle charges the store from the settlements queue what settle found,
// stamped with the instant the call completed.
func (a *admission) Settle() {
	a.l.adjust(a.sctx, a.snow, a.adjust)
}

func (l *Limiter) adjust(ctx context.Context, now time.Time, takes []Take) {
	if err := l.store.Adjust(ctx, now, takes); err != nil {
		l.storeErrors.Add(1)
	}
}

// Status is what one rule's counter for one key holds.
type Status struct {
	Rule string
	// Limit and Remaining are in requests or tokens (zero for a budget).
	// Remaining is negative when calls that used more than they reserved
	// left the counter in debt.
	Limit, Remaining int64
	// LimitUSD and RemainingUSD are a budget's, in US dollars.
	LimitUSD, RemainingUSD float64
	// Reset is how long until the counter is full again (a bucket) or the
	// budget's period starts over; zero when nothing is used.
	Reset time.Duration
}

// Status reports what rule's counter holds for the key made of key, one
// value per term of the rule's Key spec in order ("metadata:team,model":
// the team, then the model; "" takes none; "api_key" takes
// Call.CredentialHash()), or the KeyFunc's string for a rule with one.
func (l *Limiter) Status(ctx context.Context, rule string, key ...string) (Status, error) {
	if l.invalid != nil {
		return Status{}, l.invalid
	}
	r := l.byName[rule]
	if r == nil {
		return Status{}, fmt.Errorf("%w %q", ErrUnknownRule, rule)
	}
	want := r.spec.Len()
	if r.KeyFunc != nil {
		want = 1
	}
	if len(key) != want {
		return Status{}, fmt.Errorf("ratelimit: rule %q takes %d key values, got %d", rule, want, len(key))
	}
	now := l.now()
	st, err := l.store.Peek(ctx, now, r.storeKey(key, now, l.loc), r.limit(now, l.loc))
	if err != nil {
		l.storeErrors.Add(1)
		return Status{}, err
	}
	s := Status{Rule: r.Name, Reset: max(st.Reset, 0)}
	_, burst := r.rateBurst()
	if r.unit == unitCost {
		s.LimitUSD, s.RemainingUSD = r.CostUSD, float64(st.Remaining)/nanoUSD
	} else {
		s.Limit, s.Remaining = burst, st.Remaining
	}
	return s, nil
}

func toNano(usd float64) int64 {
	if !(usd > 0) { // NaN too
		return 0
	}
	n := usd*nanoUSD + 0.5
	if n > float64(maxCostUSD*nanoUSD) {
		return int64(maxCostUSD * nanoUSD)
	}
	return int64(n)
}
