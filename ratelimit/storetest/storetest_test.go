package storetest_test

import (
	"context"
	"math"
	"math/big"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/aigateway-go/aigateway/ratelimit"
	"github.com/aigateway-go/aigateway/ratelimit/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRunMapStore runs the suite on the plainest Store there is, written
// from the documentation of ratelimit.Store and ratelimit.Limit alone: it
// shows that the suite asks for that contract and nothing the memory store
// happens to do (it has no bound, no sweeping, and honours its context).
// The memory store runs the suite in package ratelimit.
func TestRunMapStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) ratelimit.Store { return &mapStore{m: map[string]int64{}} })
}

// mapStore keeps one number per key: a bucket's TAT in unix nanoseconds,
// or a window's count (keyed apart, with its end).
type mapStore struct {
	mu sync.Mutex
	m  map[string]int64
}

func windowKey(key string, l ratelimit.Limit) string {
	return "window\x00" + l.Until.Format(time.RFC3339Nano) + "\x00" + key
}

// span is n units as nanoseconds, n·Per/Rate rounded toward zero,
// saturated at the int64 bounds.
func span(l ratelimit.Limit, n int64) int64 {
	q := new(big.Int).Mul(big.NewInt(n), big.NewInt(int64(l.Per)))
	return clamp(q.Quo(q, big.NewInt(l.Rate)))
}

// units is how many whole units d nanoseconds hold, rounded down,
// saturated at the int64 bounds.
func units(l ratelimit.Limit, d int64) int64 {
	p := new(big.Int).Mul(big.NewInt(d), big.NewInt(l.Rate))
	return clamp(p.Div(p, big.NewInt(int64(l.Per)))) // Euclidean: rounds down for a positive divisor
}

// add is a+b, saturated at the int64 bounds.
func add(a, b int64) int64 { return clamp(new(big.Int).Add(big.NewInt(a), big.NewInt(b))) }

func clamp(x *big.Int) int64 {
	switch {
	case x.Cmp(big.NewInt(math.MaxInt64)) > 0:
		return math.MaxInt64
	case x.Cmp(big.NewInt(math.MinInt64)) < 0:
		return math.MinInt64
	}
	return x.Int64()
}

// take is one take's verdict at now, and the counter's value once charged.
func (s *mapStore) take(t ratelimit.Take, now int64) (ratelimit.Verdict, string, int64) {
	if !t.Limit.Until.IsZero() {
		k := windowKey(t.Key, t.Limit)
		used := s.m[k]
		if now >= t.Limit.Until.UnixNano() {
			used = 0
		}
		v := ratelimit.Verdict{Remaining: t.Limit.Burst - used - t.Cost}
		switch {
		case t.Cost > t.Limit.Burst:
			v = ratelimit.Verdict{Wait: ratelimit.Never, Remaining: t.Limit.Burst - used}
		case add(used, t.Cost) > t.Limit.Burst:
			v = ratelimit.Verdict{Wait: time.Duration(t.Limit.Until.UnixNano() - now), Remaining: t.Limit.Burst - used}
		}
		return v, k, add(used, t.Cost)
	}
	tau := span(t.Limit, t.Limit.Burst)
	base := max(s.m[t.Key], now)
	next := add(base, span(t.Limit, t.Cost))
	switch {
	case t.Cost > t.Limit.Burst:
		return ratelimit.Verdict{Wait: ratelimit.Never, Remaining: units(t.Limit, tau-(base-now))}, t.Key, 0
	case next-now > tau:
		return ratelimit.Verdict{Wait: time.Duration(next - now - tau), Remaining: units(t.Limit, tau-(base-now))}, t.Key, 0
	}
	return ratelimit.Verdict{Remaining: units(t.Limit, tau-(next-now))}, t.Key, next
}

func (s *mapStore) Reserve(ctx context.Context, now time.Time, takes []ratelimit.Take, verdicts []ratelimit.Verdict) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := true
	keys := make([]string, len(takes))
	values := make([]int64, len(takes))
	for i, t := range takes {
		verdicts[i], keys[i], values[i] = s.take(t, now.UnixNano())
		ok = ok && verdicts[i].Wait == 0
	}
	if ok {
		for i := range takes {
			s.m[keys[i]] = values[i]
		}
	}
	return ok, nil
}

func (s *mapStore) Adjust(ctx context.Context, now time.Time, takes []ratelimit.Take) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := now.UnixNano()
	for _, t := range takes {
		if t.Limit.Until.IsZero() {
			s.m[t.Key] = max(add(max(s.m[t.Key], n), span(t.Limit, t.Cost)), n)
		} else if n < t.Limit.Until.UnixNano() {
			k := windowKey(t.Key, t.Limit)
			s.m[k] = max(add(s.m[k], t.Cost), 0)
		}
	}
	return nil
}

func (s *mapStore) Peek(ctx context.Context, now time.Time, key string, l ratelimit.Limit) (ratelimit.State, error) {
	if err := ctx.Err(); err != nil {
		return ratelimit.State{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := now.UnixNano()
	if l.Until.IsZero() {
		base := max(s.m[key], n)
		return ratelimit.State{Remaining: units(l, span(l, l.Burst)-(base-n)), Reset: time.Duration(base - n)}, nil
	}
	used := s.m[windowKey(key, l)]
	if n >= l.Until.UnixNano() {
		used = 0
	}
	st := ratelimit.State{Remaining: l.Burst - used}
	if used > 0 {
		st.Reset = time.Duration(l.Until.UnixNano() - n)
	}
	return st, nil
}
