package fallback

import (
	"math/rand/v2"
	"time"
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
func (r *Router) plan() (plan []*target, first *target, probes []probe) {
	if len(r.targets) == 1 {
		return r.targets, r.targets[0], nil
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.balanced) == 0 && r.allWellLocked() {
		return r.targets, r.targets[0], nil // the common case: no copy
	}
	ranked := make([]*target, len(r.targets))
	copy(ranked, r.targets)
	for _, g := range r.balanced {
		r.shuffleLocked(ranked[g[0]:g[1]])
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
	switch {
	case o.local:
		// Not the target's outcome: a probe of it goes on (or is released
		// with the call that holds it).
	case !o.failed:
		t.failures, t.restUntil, t.probing = 0, time.Time{}, false
		return
	default:
		t.probing = false
		t.failures++
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
