package fallback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/provider"
)

var (
	// ErrAttemptTimeout is the Attempt.Err of an attempt that got no
	// response headers (or, for a stream, no first content event) within
	// the request timeout.
	ErrAttemptTimeout = errors.New("fallback: attempt timed out")
	// ErrIdleTimeout ends a stream whose upstream sent nothing for
	// Config.IdleTimeout.
	ErrIdleTimeout = errors.New("fallback: stream idle timeout")
	// ErrNoContent is the Attempt.Err of a stream that ended before its
	// first content event.
	ErrNoContent = errors.New("fallback: stream ended before its first content event")
)

// maxErrorBody bounds the bytes read from an error response the router
// moves on from (to classify it, and to answer with it if every attempt
// fails).
const maxErrorBody = 64 << 10

// status classes
const (
	stop       uint8 = iota // answer the caller with it
	retry                   // try again, on this target or the next
	nextTarget              // try the next target
)

// Router is the fallback layer: it sends each attempt of a call to one of
// its targets, retrying and falling back as Config says. It is safe for
// concurrent use; its health state (cooldowns) is shared by every stack it
// is part of.
type Router struct {
	cfg     Config
	invalid error
	targets []*target // by priority, then as configured
	// balanced are the [lo, hi) ranges of targets that share a priority
	// and set a Weight: their order is drawn per call.
	balanced [][2]int
	// models: some target serves only some models (Target.Models).
	models bool
	class  [600]uint8
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error

	mu  sync.Mutex // health of the targets, and cfg.Rand
	rnd func(n int) int

	closeOnce sync.Once
	closeErr  error
}

// Err returns the error of the Config the Router was built from (see
// Config.Validate) and those of its targets' Layers, joined; nil when all
// are valid. aigateway.New asks every layer for it.
func (r *Router) Err() error {
	errs := []error{r.invalid}
	for _, t := range r.targets {
		for _, l := range t.layers {
			if e, ok := l.(interface{ Err() error }); ok {
				if err := e.Err(); err != nil {
					errs = append(errs, fmt.Errorf("fallback: target %q: %w", t.name, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// New returns a Router. It never fails, so stacks compose inline: a Router
// built from an invalid Config (see Config.Validate: a missing APIKeyEnv
// variable included) reports it with Err, aigateway.New refuses it, and
// used without a Gateway it answers every call with a provider-shaped 500
// naming the problem, with x-should-retry: false. Keys named by
// Target.APIKeyEnv are read here, once.
func New(cfg Config) *Router {
	r := &Router{cfg: cfg, now: cfg.Now, sleep: cfg.Sleep}
	if r.now == nil {
		r.now = time.Now
	}
	if r.sleep == nil {
		r.sleep = sleep
	}
	if cfg.Rand != nil {
		r.rnd = cfg.Rand.IntN
	} else {
		r.rnd = randIntN
	}
	c := &r.cfg
	if c.AttemptsPerTarget == 0 {
		c.AttemptsPerTarget = DefaultAttemptsPerTarget
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = DefaultBackoffBase
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = DefaultBackoffMax
	}
	if c.MaxRetryWait == 0 {
		c.MaxRetryWait = DefaultMaxRetryWait
	}
	if c.CooldownFailures == 0 {
		c.CooldownFailures = DefaultCooldownFailures
	}
	if c.Cooldown == 0 {
		c.Cooldown = DefaultCooldown
	}
	retryOn := cfg.RetryOn
	if len(retryOn) == 0 {
		retryOn = defaultRetryOn[:]
	}
	for _, s := range retryOn {
		if s >= 400 && s < len(r.class) {
			r.class[s] = retry
		}
	}
	for _, s := range []int{401, 402, 403, 404} {
		if r.class[s] == retry {
			r.class[s] = nextTarget
		}
	}
	if err := cfg.Validate(); err != nil {
		r.invalid = err
		return r
	}
	for i, t := range cfg.Targets {
		r.targets = append(r.targets, newTarget(i, t))
		r.models = r.models || len(t.Models) > 0
	}
	slices.SortStableFunc(r.targets, func(a, b *target) int { return a.priority - b.priority })
	for lo := 0; lo < len(r.targets); {
		hi, weighted := lo, false
		for ; hi < len(r.targets) && r.targets[hi].priority == r.targets[lo].priority; hi++ {
			weighted = weighted || cfg.Targets[r.targets[hi].index].Weight > 0
		}
		if weighted && hi-lo > 1 {
			r.balanced = append(r.balanced, [2]int{lo, hi})
		}
		lo = hi
	}
	return r
}

// Wrap returns the router around next. Its RoundTrip sends the call's
// attempts through next (each target's Layers first), and returns the
// answer of the first attempt that succeeds, or an error status the request
// itself caused, or, when every attempt fails, the last provider-shaped
// error (or a provider-shaped 502) with x-should-retry: false. It returns a
// Go error only when the request's context ends. Every response it does not
// return is drained (up to 64 KiB) and closed; the caller closes the one
// returned. The Call completes when the caller is done with that body.
//
// Each target's Layers are wrapped around next here, once per Wrap.
func (r *Router) Wrap(next http.RoundTripper) http.RoundTripper {
	var layered []http.RoundTripper // by target.index, nil for a target without layers
	for _, t := range r.targets {
		if len(t.layers) == 0 {
			continue
		}
		if layered == nil {
			layered = make([]http.RoundTripper, len(r.targets))
		}
		// A Layer below the target's layers scans each upstream response
		// its attempts get, as the router's own next does.
		var rt http.RoundTripper = aigateway.Layer(next, passThrough)
		for j := len(t.layers) - 1; j >= 0; j-- {
			rt = t.layers[j].Wrap(rt)
		}
		layered[t.index] = rt
	}
	return aigateway.Layer(next, func(call aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
		return r.route(call, req, next, layered)
	})
}

func passThrough(_ aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
	return next.RoundTrip(req)
}

// Close closes the targets' layers that have a Close method, once.
func (r *Router) Close() error {
	r.closeOnce.Do(func() {
		var errs []error
		for _, t := range r.targets {
			for _, l := range t.layers {
				switch c := l.(type) {
				case io.Closer:
					errs = append(errs, c.Close())
				case interface{ Close() }:
					c.Close()
				}
			}
		}
		r.closeErr = errors.Join(errs...)
	})
	return r.closeErr
}

// route is one call: attempts, in plan order, until one answers.
func (r *Router) route(call aigateway.LayerCall, req *http.Request, next http.RoundTripper, layered []http.RoundTripper) (*http.Response, error) {
	if r.invalid != nil {
		return r.refuse(call, req, "aigateway: invalid fallback configuration: "+r.invalid.Error()), nil
	}
	ctx := req.Context()
	model := ""
	if call.Parsed() {
		model = call.Model()
	}
	plan, first, probes := r.plan(model)
	if len(plan) == 0 {
		return provider.NewErrorResponse(req, call.Format(), provider.ErrorSpec{
			Status: http.StatusNotFound, Code: "model_not_found",
			Message: "aigateway: no fallback target serves model " + strconv.Quote(model),
		}), nil
	}
	if probes != nil {
		defer r.release(probes)
	}
	// A per-request control only lowers the operator's limits: any caller
	// can send the headers, and a request must not buy itself more
	// attempts, or a longer wait, than the Config allows.
	ctl := call.Controls()
	perTarget := r.cfg.AttemptsPerTarget
	maxAttempts := r.cfg.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = perTarget * len(plan)
	}
	if n := ctl.MaxAttempts; n > 0 && n < maxAttempts {
		maxAttempts = n
	}
	timeout := r.cfg.RequestTimeout
	if d := ctl.RequestTimeout; d > 0 && (timeout == 0 || d < timeout) {
		timeout = d
	}

	var (
		attempts int
		lastErr  *savedError // the latest error response moved on from
		lastFail error
		last     *target
	)
	for i, t := range plan {
		rt := next
		if layered != nil && layered[t.index] != nil {
			rt = layered[t.index]
		}
		for try := 0; try < perTarget && attempts < maxAttempts; try++ {
			if t.pace != nil {
				skip, err := r.pace(ctx, call, t, plan[i+1:])
				if err != nil {
					return nil, err
				}
				if skip {
					break
				}
			}
			attempts++
			last = t
			o := r.attempt(call, req, t, rt, timeout)
			if o.resp == nil && o.status != 0 && !o.sent() {
				// A layer further in refused the attempt itself (a
				// limiter's 429 in the target's Layers): the target is not
				// at fault, and retrying it at once would meet the same
				// refusal.
				o.class, o.failed, o.local = nextTarget, false, true
			}
			call.RecordAttempt(aigateway.Attempt{
				Target: t.name, Provider: t.provider.Name(), Model: t.model,
				Status: o.status, Duration: o.duration, Err: o.err,
			})
			if ctx.Err() != nil {
				o.discard()
				return nil, ctx.Err()
			}
			r.observe(t, o)
			if o.resp != nil {
				call.SetTarget(t.name, t != first)
				setRouteHeaders(call, o.resp.Header, t.name, attempts)
				o.resp.Request = req
				return o.resp, nil
			}
			if o.saved != nil {
				lastErr = o.saved
			}
			lastFail = o.err
			if o.class == nextTarget || try+1 >= perTarget || attempts >= maxAttempts {
				break
			}
			wait := o.wait
			if wait == 0 {
				wait = r.backoff(try)
			}
			if r.restsBeyond(t, wait) {
				// This failure, or other calls', put the target to rest
				// for longer than the wait: move on rather than hammer it.
				break
			}
			if err := r.sleep(ctx, wait); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, err // a Config.Sleep that failed on its own
			}
		}
		if attempts >= maxAttempts {
			break
		}
	}
	if last != nil {
		call.SetTarget(last.name, last != first)
	}
	var resp *http.Response
	if lastErr != nil {
		resp = lastErr.response(req)
	} else {
		msg := "aigateway: every fallback target failed"
		if lastFail != nil {
			msg += ": " + withoutURL(lastFail).Error()
		}
		resp = provider.NewErrorResponse(req, call.Format(), provider.ErrorSpec{Status: http.StatusBadGateway, Message: msg})
	}
	call.TagAnswer(resp, ErrExhausted)
	name := ""
	if last != nil {
		name = last.name
	}
	setRouteHeaders(call, resp.Header, name, attempts)
	return resp, nil
}

// withoutURL drops the request URL a transport error names (it may carry a
// ?key= credential) and keeps its cause.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// refuse answers a call the router cannot route with a provider-shaped 500.
func (r *Router) refuse(call aigateway.LayerCall, req *http.Request, msg string) *http.Response {
	return provider.NewErrorResponse(req, call.Format(), provider.ErrorSpec{
		Status: http.StatusInternalServerError, Type: "server_error", Message: msg,
	})
}

func setRouteHeaders(call aigateway.LayerCall, h http.Header, name string, attempts int) {
	if name != "" {
		call.SetHeader(h, aigateway.HeaderTarget, name)
	}
	call.SetHeader(h, aigateway.HeaderAttempts, strconv.Itoa(attempts))
}

// backoff is the wait before retry number try+1 on the same target:
// BackoffBase doubled per retry, capped at BackoffMax, with jitter down to
// half.
func (r *Router) backoff(try int) time.Duration {
	d := r.cfg.BackoffBase
	for i := 0; i < try && d < r.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, r.cfg.BackoffMax)
	half := d / 2
	if half <= 0 {
		return d
	}
	r.mu.Lock()
	j := r.rnd(int(min(half, 1<<62)) + 1)
	r.mu.Unlock()
	return half + time.Duration(j)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// savedError is an error response the router moved on from, kept (its body
// bounded) to answer with if every later attempt fails too.
type savedError struct {
	status int
	header http.Header
	body   []byte
}

// response is the saved error as the caller's answer: complete, and marked
// so the SDK does not retry what the router already retried.
func (s *savedError) response(req *http.Request) *http.Response {
	h := s.header.Clone()
	h.Set("X-Should-Retry", "false")
	h.Set("Content-Length", strconv.Itoa(len(s.body)))
	h.Del("Transfer-Encoding")
	return &http.Response{
		Status:        strconv.Itoa(s.status) + " " + http.StatusText(s.status),
		StatusCode:    s.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(s.body)),
		ContentLength: int64(len(s.body)),
		Request:       req,
	}
}
