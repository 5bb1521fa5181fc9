package ratelimit

import (
	"context"
	"math"
	"math/bits"
	"time"
)

// Store keeps the limiter's counters. Implementations must be safe for
// concurrent use, and must make each Reserve and each Adjust atomic: a
// Redis store runs each as one script, one round trip per admission.
//
// A counter is named by Take.Key and behaves as its Take.Limit says: a
// GCRA token bucket, or a fixed window when Limit.Until is set. Units are
// whole requests, tokens or nano-USD; the store does not care which.
//
// NewMemoryStore is the in-process implementation; every implementation
// passes the conformance suite in package storetest.
type Store interface {
	// Reserve charges every take's Cost to its counter if, and only if,
	// every one of them admits it at now; otherwise it charges nothing.
	// The takes name distinct keys.
	// It writes one Verdict per take into verdicts (len(verdicts) ==
	// len(takes)) either way, and reports whether the takes were charged.
	Reserve(ctx context.Context, now time.Time, takes []Take, verdicts []Verdict) (bool, error)
	// Adjust adds each take's Cost (negative: a refund) to its counter at
	// now, whether or not the counter admits it: a settled call is
	// charged what it used, even beyond the limit. A refund of n units
	// moves a bucket's TAT back by n·Per/Rate nanoseconds rounded toward
	// zero, never leaves a counter holding more than its Burst, and never
	// takes a window below zero.
	//
	// Costs, in Reserve and Adjust, may be as large as an int64 holds (a
	// caller's max_tokens, an upstream's usage at an absurd price): a
	// counter never overflows. One charged beyond what the store can
	// represent saturates, deep in debt, never wrapped round to a counter
	// with plenty left.
	Adjust(ctx context.Context, now time.Time, takes []Take) error
	// Peek reports a counter's state at now without changing it.
	Peek(ctx context.Context, now time.Time, key string, limit Limit) (State, error)
}

// Limit is how one counter behaves.
//
// Without Until it is a GCRA token bucket (the generic cell rate
// algorithm): it refills continuously at Rate units every Per and holds at
// most Burst. Its state is one instant, the theoretical arrival time TAT
// (absent: the past). With interval = Per/Rate and tau = Burst·interval,
// each product taken in whole nanoseconds rounded down, a take of cost
// units at now is admitted when
//
//	max(TAT, now) + cost·interval − now <= tau
//
// and then sets TAT to that left-hand sum plus now. Otherwise the take
// waits until max(TAT, now) + cost·interval − tau.
//
// With Until it is a fixed window: at most Burst units are taken before
// Until; a take that does not fit waits until Until, and the counter is
// gone after it (the limiter names each window's counter after the period
// it covers).
type Limit struct {
	Rate  int64         `json:"rate"`
	Per   time.Duration `json:"per"`
	Burst int64         `json:"burst"`
	Until time.Time     `json:"until,omitzero"`
}

// Take is one counter's part of a Reserve or an Adjust.
type Take struct {
	Key   string
	Limit Limit
	Cost  int64
}

// Never is the Verdict.Wait of a take that can never be admitted: its Cost
// is more than its counter's Burst.
const Never time.Duration = -1

// Verdict is a store's answer for one take of a Reserve.
type Verdict struct {
	// Wait is 0 when this take admits its cost now, Never when it never
	// can, and otherwise how long until this counter alone would admit it.
	Wait time.Duration
	// Remaining is what the counter holds after the Reserve: whole units,
	// negative when a settled call left it in debt.
	Remaining int64
}

// State is a counter's state, as Peek reports it.
type State struct {
	// Remaining is what the counter holds (whole units; negative in debt).
	Remaining int64
	// Reset is how long until the counter is full again (a bucket) or
	// starts over (a window); 0 when it is full.
	Reset time.Duration
}

// maxSpan bounds the spans of time the bucket arithmetic makes, so that a
// huge cost (a made-up usage figure) saturates instead of overflowing. It
// is more than the deepest bucket a Rule may have (maxDepth, a century),
// so that a bucket always holds its whole Burst: about 146 years.
const maxSpan = math.MaxInt64 / 2

// A compile-time check that maxSpan exceeds maxDepth: the constant would
// overflow uint64 otherwise.
const _ uint64 = maxSpan - uint64(maxDepth)

// Bucket is the GCRA arithmetic over one counter's TAT (unix nanoseconds;
// zero or in the past: full), in exact integers: a take of n units moves
// the TAT by floor(n·Per/Rate) nanoseconds, so that a burst of Burst takes
// fits tau exactly whatever the rate. It is what every Store computes:
// the memory store with it, and a store that computes elsewhere (a Redis
// script) with what it derives (Span, Tau), so that both give the same
// verdicts for the same inputs.
type Bucket struct {
	per, rate uint64
	tau       int64
}

// NewBucket returns l's arithmetic (l without Until).
func NewBucket(l Limit) Bucket {
	b := Bucket{per: uint64(max(l.Per, 0)), rate: uint64(max(l.Rate, 0))}
	b.tau = b.Span(l.Burst)
	return b
}

// Tau is the bucket's depth in nanoseconds: Span(Burst).
func (b Bucket) Tau() int64 { return b.tau }

// Span is n units as nanoseconds, n·Per/Rate truncated, saturated at
// ±maxSpan.
func (b Bucket) Span(n int64) int64 {
	neg := n < 0
	u := uint64(n)
	if neg {
		u = uint64(-n)
	}
	q := uint64(maxSpan)
	if b.rate > 0 {
		if hi, lo := bits.Mul64(u, b.per); hi < b.rate {
			q, _ = bits.Div64(hi, lo, b.rate)
		}
	}
	q = min(q, maxSpan)
	if neg {
		return -int64(q)
	}
	return int64(q)
}

// Units is how many whole units d nanoseconds hold: floor(d·Rate/Per).
func (b Bucket) Units(d int64) int64 {
	if b.per == 0 {
		return 0
	}
	neg := d < 0
	u := uint64(d)
	if neg {
		u = uint64(-d)
	}
	q := uint64(math.MaxInt64 / 2)
	hi, lo := bits.Mul64(u, b.rate)
	var rem uint64
	if hi < b.per {
		q, rem = bits.Div64(hi, lo, b.per)
		q = min(q, math.MaxInt64/2)
	}
	if neg {
		if rem != 0 {
			q++ // floor, not truncation
		}
		return -int64(q)
	}
	return int64(q)
}

// Take reports the TAT after charging cost at now, and the verdict.
func (b Bucket) Take(tat, now, cost int64, burst int64) (newTAT int64, v Verdict) {
	base := max(tat, now)
	if cost > burst {
		return tat, Verdict{Wait: Never, Remaining: b.Units(b.tau - (base - now))}
	}
	next := sat(base, b.Span(cost))
	if over := next - now - b.tau; over > 0 {
		return tat, Verdict{Wait: time.Duration(over), Remaining: b.Units(b.tau - (base - now))}
	}
	return next, Verdict{Remaining: b.Units(b.tau - (next - now))}
}

// Adjust reports the TAT after adding delta (negative: a refund) at now;
// a refund never takes the TAT below now, which is a full bucket.
func (b Bucket) Adjust(tat, now, delta int64) int64 {
	return max(sat(max(tat, now), b.Span(delta)), now)
}

// State reports what the bucket holds at now.
func (b Bucket) State(tat, now int64) State {
	base := max(tat, now)
	return State{Remaining: b.Units(b.tau - (base - now)), Reset: time.Duration(base - now)}
}

// sat adds d to t, saturating.
func sat(t, d int64) int64 {
	switch {
	case d > 0 && t > math.MaxInt64-d:
		return math.MaxInt64
	case d < 0 && t < math.MinInt64-d:
		return math.MinInt64
	}
	return t + d
}
