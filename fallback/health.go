package fallback

import (
	"math/rand/v2"
	"time"

	"github.com/aigateway-go/aigateway/internal/redact"
)

func randIntN(n int) int { return rand.IntN(n) }

// probe is a call's claim to be the one that tries a target whose rest is
// over; other calls skip the target until the probe's outcome is known.
type probe struct {
	t  *target
	id uint64
}

// plan returns the targets one call tries, in order: by priority, the
// balanced groups of equal priority in weighted random order, resting
// targets left out (unless all rest: then the one whose rest ends first).
// A target whose rest is over is in the plan of one call at a time, its
// probe, until an attempt's outcome restores it or rests it again; the
// caller releases the probes it was given when the call is over. first is
// the top-ranked target, resting or not: an answer from any other is a
// fallback.
//
// Only the targets that serve model are in it (see Target.Models; every
// target when model is ""): none may be.
func (r *Router) plan(model string) (plan []*target, first *target, probes []probe) {
	filter := r.models && model != ""
	if len(r.targets) == 1 {
		if filter && !r.targets[0].serves(model) {
			return nil, nil, nil
		}
		return r.targets, r.targets[0], nil
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.balanced) == 0 && r.allWellLocked() && !filter {
		return r.targets, r.targets[0], nil // the common case: no copy
	}
	ranked := make([]*target, len(r.targets))
	copy(ranked, r.targets)
	for _, g := range r.balanced {
		r.shuffleLocked(ranked[g[0]:g[1]])
	}
	if filter {
		served := ranked[:0]
		for _, t := range ranked {
			if t.serves(model) {
				served = append(served, t)
			}
		}
		if ranked = served; len(ranked) == 0 {
			return nil, nil, nil
		}
	}
	first = ranked[0]
	plan = ranked[:0]
	var soonest *target
	for _, t := range ranked {
		switch {
		case t.restUntil.After(now), t.probing: // resting, or another call probes it
			if soonest == nil || t.restUntil.Before(soonest.restUntil) {
				soonest = t
			}
			continue
		case !t.restUntil.IsZero(): // its rest is over: this call probes it
			t.probing = true
			t.probeID++
			probes = append(probes, probe{t, t.probeID})
		}
		plan = append(plan, t)
	}
	if len(plan) == 0 {
		plan = append(plan, soonest)
	}
	return plan, first, probes
}

// allWellLocked reports whether no target rests or waits for a probe.
func (r *Router) allWellLocked() bool {
	for _, t := range r.targets {
		if !t.restUntil.IsZero() || t.probing {
			return false
		}
	}
	return true
}

// release ends the probes a call was given (those its attempts did not end
// already), so that the next call probes those targets.
func (r *Router) release(probes []probe) {
	r.mu.Lock()
	for _, p := range probes {
		if p.t.probing && p.t.probeID == p.id {
			p.t.probing = false
		}
	}
	r.mu.Unlock()
}

// shuffleLocked orders g by successive weighted draws: each target comes
// first with probability weight / total weight.
func (r *Router) shuffleLocked(g []*target) {
	for i := 0; i < len(g)-1; i++ {
		total := 0
		for _, t := range g[i:] {
			total += t.weight
		}
		x := r.rnd(total)
		for j := i; j < len(g); j++ {
			if x < g[j].weight {
				g[i], g[j] = g[j], g[i]
				break
			}
			x -= g[j].weight
		}
	}
}

// observe updates t's health with the outcome of an attempt: a success, or
// an error the request itself caused, shows the target works; a failure
// counts toward a rest, and a Retry-After rests it at once. A refusal by
// the target's own layers says nothing about the target but its
// Retry-After.
func (r *Router) observe(t *target, o outcome) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if o.err != nil {
		// A layer's refusal too: it may be why the target rests.
		t.lastErr, t.lastErrAt = o.err, now
	}
	switch {
	case o.local:
		// Not the target's outcome: a probe of it goes on (or is released
		// with the call that holds it).
	case !o.failed:
		t.failures, t.streak, t.restUntil, t.probing = 0, 0, time.Time{}, false
		return
	default:
		t.probing = false
		t.failures++
		t.streak++
		if n := r.cfg.CooldownFailures; n > 0 && t.failures >= n {
			t.restUntil = now.Add(r.cfg.Cooldown)
			// After the rest the target is probed again: one more failure
			// rests it again.
			t.failures = n - 1
		}
	}
	if o.rest > 0 {
		if until := now.Add(o.rest); until.After(t.restUntil) {
			t.restUntil = until
		}
	}
}

// restsBeyond reports whether t will still rest after d from now.
func (r *Router) restsBeyond(t *target, d time.Duration) bool {
	until := r.now().Add(d)
	r.mu.Lock()
	defer r.mu.Unlock()
	return t.restUntil.After(until)
}

// TargetHealth is one target's state as the router sees it, for a
// dashboard or a health endpoint. It is a copy: it does not change as the
// router goes on.
type TargetHealth struct {
	// Name is the target's name (Target.Name, or the one New gave it).
	Name string
	// Resting reports whether calls skip the target now (unless every
	// target rests): it failed CooldownFailures attempts in a row, or it or
	// one of its Layers answered with Retry-After, and its rest is not
	// over.
	Resting bool
	// RestUntil is when the target's latest rest ends, past or future; zero
	// when the target has not rested since it last succeeded. Once it is
	// past, the next call probes the target: a success sets it back to
	// zero, one more failure rests the target again.
	RestUntil time.Time
	// Probing reports whether a call is trying the target now, its rest
	// over: the other calls skip it until that attempt's outcome is known.
	Probing bool
	// Failures is the target's failed attempts in a row, across calls,
	// whether or not they made it rest. An answer (a success, or an error
	// status the request itself caused) sets it back to zero; a refusal by
	// one of the target's own Layers neither counts nor resets it.
	Failures int
	// LastError is the error of the target's latest attempt that did not
	// answer (a layer's refusal included), as Attempt.Err reports it: the
	// credentials its text quotes (a ?key= in a URL, a URL's user info)
	// redacted, errors.Is and errors.As still working. It is kept after
	// the target recovers (see LastErrorAt); nil when no attempt has
	// failed yet.
	LastError error
	// LastErrorAt is when LastError was observed (Config.Now).
	LastErrorAt time.Time
	// Pace is what the target's provider last said of its rate limits,
	// and the pace of its calls, for a target that paces them
	// (Target.Pace); nil for one that does not.
	Pace *PaceHealth
}

// Health returns the state of every target, in the order calls try them
// (by Priority, then as configured; a balanced group's order is drawn per
// call). It is safe to call at any time, from any goroutine; a Router
// built from an invalid Config has no targets and returns nil.
func (r *Router) Health() []TargetHealth {
	if len(r.targets) == 0 {
		return nil
	}
	now := r.now()
	out := make([]TargetHealth, len(r.targets))
	r.mu.Lock()
	for i, t := range r.targets {
		out[i] = TargetHealth{
			Name:        t.name,
			Resting:     t.restUntil.After(now),
			RestUntil:   t.restUntil,
			Probing:     t.probing,
			Failures:    t.streak,
			LastError:   t.lastErr,
			LastErrorAt: t.lastErrAt,
		}
	}
	r.mu.Unlock()
	// Outside the lock: a dashboard's poll must not hold up the calls.
	for i, t := range r.targets {
		out[i].LastError = redact.Error(out[i].LastError)
		if t.pace != nil {
			out[i].Pace = t.pace.health(now)
		}
	}
	return out
}
