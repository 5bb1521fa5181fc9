package fallback

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/internal/coding"
	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/provider"
)

// outcome is how one attempt ended, as the router decided.
type outcome struct {
	resp     *http.Response // the answer to return; nil when moving on
	status   int            // upstream status, 0 for none
	err      error          // why the attempt was given up
	duration time.Duration
	class    uint8         // retry or nextTarget, when moving on
	wait     time.Duration // Retry-After to honour before retrying the same target
	rest     time.Duration // Retry-After: rest the target this long
	failed   bool          // counts against the target's health
	local    bool          // one of the target's layers refused it: never sent
	saved    *savedError   // the error response moved on from
	routed   *aigateway.Routed
}

// sent reports whether the attempt went upstream: a request was sent for
// it, whatever came back.
func (o *outcome) sent() bool {
	if o.routed == nil {
		return false
	}
	_, ok := o.routed.Upstream()
	return ok
}

// discard releases an answer that will not be returned.
func (o *outcome) discard() {
	if o.resp != nil {
		o.resp.Body.Close()
		o.resp = nil
	}
}

// attempt sends one attempt to t and decides what it means.
func (r *Router) attempt(call aigateway.LayerCall, req *http.Request, t *target, rt http.RoundTripper, timeout time.Duration) (o outcome) {
	start := r.now()
	defer func() { o.duration = r.now().Sub(start) }()

	ctx := req.Context()
	var cancel context.CancelCauseFunc
	var timer *time.Timer
	idle := time.Duration(0)
	if call.Stream() {
		idle = r.cfg.IdleTimeout
	}
	if timeout > 0 || idle > 0 {
		ctx, cancel = context.WithCancelCause(ctx)
		if timeout > 0 {
			timer = time.AfterFunc(timeout, func() { cancel(ErrAttemptTimeout) })
		}
	}
	release := func() {
		if timer != nil {
			timer.Stop()
		}
		if cancel != nil {
			cancel(nil)
		}
	}
	// failure ends the attempt as an error that moves on.
	failure := func(err error) outcome {
		release()
		if cancel != nil && context.Cause(ctx) == ErrAttemptTimeout && req.Context().Err() == nil {
			err = ErrAttemptTimeout
		}
		return outcome{err: err, class: retry, failed: true}
	}

	out, routed, err := attemptRequest(ctx, call, req, t)
	defer func() { o.routed = routed }()
	if err != nil {
		return failure(err)
	}
	resp, err := rt.RoundTrip(out)
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		return failure(err)
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	if t.pace != nil {
		// Every answer says what is left, an error's (a 429's) and a
		// stream's, before its content, too.
		t.pace.observe(resp.Header, r.now())
	}
	if resp.StatusCode >= 400 {
		c := uint8(stop)
		if resp.StatusCode < len(r.class) {
			c = r.class[resp.StatusCode]
		}
		if c != stop {
			o := r.moveOn(call, resp, c)
			release()
			return o
		}
		// Otherwise the request itself is wrong: answer at once.
	}
	var b *answerBody // resp's body as the caller gets it; nil: as it is
	if resp.StatusCode < 300 && call.Stream() && wire.IsStreamAnswer(true, resp.Header) {
		// The idle timeout covers the wait for the first content event
		// too; the request timeout runs until it arrived.
		b = &answerBody{rc: resp.Body, ctx: ctx, cancel: cancel}
		b.armIdle(idle)
		p := peek(call.Format(), b, coding.Of(resp))
		if p.err != nil {
			b.Close()
			o := failure(p.err)
			o.status = resp.StatusCode
			return o
		}
		b.pending = p.buf
	} else if cancel != nil {
		b = &answerBody{rc: resp.Body, ctx: ctx, cancel: cancel}
	}
	if timer != nil && !timer.Stop() {
		// The timeout fired as the answer arrived: too late.
		resp.Body.Close()
		o := failure(ErrAttemptTimeout)
		o.status = resp.StatusCode
		return o
	}
	if b != nil {
		resp.Body = b
	}
	return outcome{resp: resp, status: resp.StatusCode}
}

// moveOn reads (bounded) and closes an error response the router will not
// return now, and decides where the next attempt goes.
func (r *Router) moveOn(call aigateway.LayerCall, resp *http.Response, c uint8) outcome {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	// Kept as it came, for the caller; read inflated (a caller that asked
	// for a compressed answer gets compressed errors too).
	perr := parseError(call.Format(), false, resp.StatusCode, inflateBounded(coding.Of(resp), body, maxErrorBody))
	o := outcome{
		status: resp.StatusCode,
		err:    perr,
		class:  c,
		failed: true,
		saved:  &savedError{status: resp.StatusCode, header: resp.Header, body: body},
	}
	ra, hasRA := wire.RetryAfter(resp.Header, r.now())
	// The upstream's word rests the target for at most maxRest; the
	// operator's Cooldown is not bounded.
	rest := min(ra, maxRest)
	if resp.StatusCode == http.StatusTooManyRequests && wire.QuotaGone(perr) {
		// The money does not come back within seconds: rest the target
		// rather than spend an attempt of every call on it.
		o.class, o.rest = nextTarget, max(rest, r.cfg.Cooldown)
		return o
	}
	if hasRA {
		o.rest = rest
		if ra > r.cfg.MaxRetryWait {
			o.class = nextTarget
		} else {
			o.wait = max(ra, time.Nanosecond) // 0 means "back off"
		}
	}
	return o
}

// parseError reads the error a provider's response (or stream, with
// status 200) reports, or says only its status when it reports none.
func parseError(f provider.Format, stream bool, status int, body []byte) *provider.Error {
	var s wire.ResponseScanner
	s.Reset(f, stream, status)
	s.Write(body)
	s.Finish()
	if e := s.Err(); e != nil {
		c := *e
		return &c
	}
	if stream {
		return &provider.Error{Message: "stream error event"}
	}
	return &provider.Error{Status: status, Message: http.StatusText(status)}
}
