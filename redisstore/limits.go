package redisstore

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aigateway-go/aigateway/ratelimit"
)

//go:embed limits.lua
var limitsLua string

// limitsScript is loaded once per server: Run sends EVALSHA, and EVAL (which
// loads it again) only when Redis answers NOSCRIPT (a restart, SCRIPT
// FLUSH, a failover to a replica that never ran it).
var limitsScript = redis.NewScript(limitsLua)

// limitsTag is the hash tag of every key of a Limits store, unless its
// Prefix holds one of its own.
const limitsTag = "{limits}"

// offsetSlack is how far outside a measurement's bounds the clock offset
// may lie before the store replaces it: the mapping of the limiter's
// clock onto Redis's stays put while measurements jitter (a shift, however
// small, moves every counter's refill by as much), and moves when a clock
// is stepped or drifts by more than a millisecond.
const offsetSlack = int64(time.Millisecond)

// calibrationSamples is how many round trips measure the offset at first
// use; the narrowest one is kept (the first pays for the dial).
const calibrationSamples = 3

var (
	errShortVerdicts = errors.New("redisstore: fewer verdicts than takes")
	// errBadReply: a counter or a script reply the store cannot read
	// (another program wrote the key, or a script of another version).
	errBadReply = error(&redisError{msg: "unexpected reply or counter value"})
)

// Limits is a ratelimit.Store in Redis: the replicas of a service that use
// one (each with its own client, the same Prefix) share one set of rate
// limits and budgets. Make it with NewLimits. It is safe for concurrent
// use.
//
// Each Reserve and each Adjust is one Lua script, one round trip (EVALSHA;
// EVAL when Redis has lost the script), atomic across every take of the
// call: all are charged or none. The script computes GCRA as ratelimit's
// memory store does, in the same integer arithmetic: the store computes in
// Go what depends on the take alone (a cost as a span of nanoseconds,
// saturated, as ratelimit computes it), and the script only adds and
// compares 64-bit values, which it keeps exact (Lua's numbers are
// doubles, exact to 2^53 only), so both stores give the same verdicts and
// states for the same inputs, calendar windows and saturated debts
// included. Peek is one GET. The store's first operation makes three more
// round trips, to measure the clock offset.
//
// Clocks. The limiter computes with its own clock, and replicas' clocks
// differ: a replica running 30 s ahead would see the others' reservations
// already refilled. So the store maps the instants it is given onto
// Redis's clock: it measures the offset between the process clock and
// Redis's TIME (at first use, then from the server time every script
// returns, at no extra cost) and adds it to each instant. Every replica's
// counters then advance on Redis's one clock, whatever its own reads. The
// offset is kept while measurements agree with it, within their
// uncertainty (the round trip) and a millisecond: one that moved with
// every measurement would shift each counter's refill by its jitter; it
// follows a clock that was stepped or drifted further (ClockOffset reports
// it). Since the mapping is a constant shift of the store's timeline, a
// store given instants of a test's choosing, far from the real clock,
// computes exactly as the memory store does. The limiter's clock must be
// the process clock, or run at its pace (keys expire in real time: see
// below). A calendar budget's period is named by each replica's own clock,
// so for as long as two replicas' clocks differ around a period's end,
// they charge different periods; within a period they share one counter.
//
// Expiry. A counter's key expires once the counter is back to its initial
// state (a bucket full again, a window ended), and Options.Timeout and a
// minute more: a relative span (SET PX, rounded up to the millisecond),
// since the instants the store is given may be far from Redis's clock.
// The margin covers the script running after the instant it computes
// with: the round trip, and a settlement the limiter queued, stamped with
// the instant its call completed. A counter that expired early would read
// as full.
//
// Cluster. A script's keys must share a hash slot, and a call's takes are
// counters of any rules and keys: so every key of a store carries one hash
// tag, {limits}, or the Prefix's own when it has one ("{tenant-a}:"). A
// store's counters therefore live on one Cluster node; spread the load
// over several stores whose prefixes carry different tags. (A Prefix whose
// first "{" is followed at once by "}" has no tag: Redis then hashes whole
// keys, and a Cluster refuses the scripts.)
//
// Faults. Every operation is bounded by Options.Timeout, round trips
// included, whatever the client's settings: a client built with
// ContextTimeoutEnabled stops at the bound by itself; any other leaves a
// socket read to its own ReadTimeout (3 s by default), so the store waits
// for each operation on a goroutine of its own and stops waiting at the
// bound (the goroutine ends when Redis answers or the client gives up).
// A failed operation returns ErrTimeout, ErrUnavailable or an error
// wrapping ErrRedis, none naming an address or a password (the store logs
// nothing; go-redis's own logger, which redis.SetLogger replaces, prints
// dial failures with the address), and counts in Stats; the limiter then
// admits the call, or refuses it with Config.FailClosed. The store
// recovers by itself: the client dials again (go-redis, once dials kept
// failing, first probes the server once a second), and the script is
// loaded again when Redis lost it. A restart loses the counters.
//
// Never twice. go-redis sends a command again when it lost the reply
// (MaxRetries), and a script that ran may then run again. Each Reserve and
// Adjust carries an id: its script keeps its answer under it for
// Options.Timeout and a second, and a second run returns that answer and
// changes nothing. And a script carries its caller's deadline: one that
// reaches Redis after it (a server that stalled, a command queued behind
// a slow one) changes nothing, since its caller has gone on without it.
// So a reservation is charged once, and only if its caller could learn of
// it; but for a reply lost on its way back after the last retry, whose
// reservation stays charged, unused, until it refills.
type Limits struct {
	c       *conn
	base    string // prefix and hash tag, which every key starts with
	opBase  string // base, the kind, and this store's random id: each operation's key adds a sequence number
	seq     atomic.Uint64
	off     clockOffset
	keepOp  string        // ms: how long an operation's answer is kept (the script's ARGV[3])
	keep    string        // ms: how long a key outlives its counter's state (ARGV[5])
	calib   chan struct{} // held by the one goroutine calibrating the offset
	nowFunc func() time.Time
}

// keepAfterFull is how long a counter's key outlives the counter's return
// to its initial state, beyond Options.Timeout: the instant a script
// computes with is its caller's, and a limiter may settle a call after it
// completed, stamped with the instant it did (a queue of settlements).
const keepAfterFull = time.Minute

var _ ratelimit.Store = (*Limits)(nil)

// NewLimits returns a ratelimit.Store that keeps its counters in Redis
// through client, which may be a single node, Sentinel or Cluster client;
// the store does not close it.
func NewLimits(client redis.UniversalClient, opts Options) *Limits {
	var id [8]byte
	_, _ = rand.Read(id[:]) // never fails
	c := newConn(client, opts)
	base := c.prefix + limitsTag + ":"
	ms := func(d time.Duration) string { return strconv.FormatInt((d + time.Millisecond - 1).Milliseconds(), 10) }
	return &Limits{
		c:       c,
		base:    base,
		opBase:  base + "op:" + hex.EncodeToString(id[:]) + ":",
		keepOp:  ms(c.opts.timeout() + time.Second),
		keep:    ms(c.opts.timeout() + keepAfterFull),
		calib:   make(chan struct{}, 1),
		nowFunc: time.Now,
	}
}

// failed counts err and returns it sanitized (see conn.failed); a reply
// the store cannot read is errBadReply.
func (l *Limits) failed(ctx context.Context, err error) error {
	if !errors.Is(err, errBadReply) {
		return l.c.failed(ctx, err)
	}
	l.c.errors.Add(1)
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w: %w", errBadReply, cerr)
	}
	return errBadReply
}

// Stats returns the store's counters.
func (l *Limits) Stats() Stats { return l.c.stats() }

// ClockOffset is the offset the store adds to the instants it is given to
// map them onto Redis's clock (Redis's TIME minus the process clock, as
// last measured); zero before the store first reached Redis.
func (l *Limits) ClockOffset() time.Duration {
	e, _ := l.off.get()
	return time.Duration(e)
}

// counterKey is the Redis key of the limiter's counter key.
func (l *Limits) counterKey(key string) string { return l.base + "c:" + key }

// Reserve implements ratelimit.Store.
func (l *Limits) Reserve(ctx context.Context, now time.Time, takes []ratelimit.Take, verdicts []ratelimit.Verdict) (bool, error) {
	if len(verdicts) < len(takes) {
		return false, errShortVerdicts
	}
	if len(takes) == 0 {
		return true, nil
	}
	bctx, cancel := l.c.opts.bounded(ctx)
	defer cancel()
	off, err := l.offset(bctx)
	if err != nil {
		return false, l.failed(ctx, err)
	}
	n := now.UnixNano() + off
	keys := make([]string, 1, 1+len(takes))
	args := make([]any, 5, 5+6*len(takes))
	args[0], args[3] = "r", strconv.FormatInt(n, 10)
	for _, t := range takes {
		keys = append(keys, l.counterKey(t.Key))
		never := "0"
		if t.Cost > t.Limit.Burst {
			never = "1"
		}
		if t.Limit.Until.IsZero() {
			b := ratelimit.NewBucket(t.Limit)
			args = append(args, "b", never, strconv.FormatInt(b.Span(t.Cost), 10), strconv.FormatInt(b.Tau(), 10), "", "")
			continue
		}
		until := t.Limit.Until.UnixNano()
		args = append(args, "w", never, strconv.FormatInt(until, 10), strconv.FormatInt(until+off, 10),
			strconv.FormatInt(t.Cost, 10), strconv.FormatInt(t.Limit.Burst, 10))
	}
	answer, err := l.run(bctx, off, keys, args)
	if err != nil {
		return false, l.failed(ctx, err)
	}
	// "A" or "R", then each counter as the script read it: the verdicts
	// are computed here from those, as the memory store computes them.
	if len(answer) < 2 || (answer[0] != 'A' && answer[0] != 'R') {
		return false, l.failed(ctx, errBadReply)
	}
	ok, rest := answer[0] == 'A', answer[2:]
	for i, t := range takes {
		var field string
		field, rest, _ = strings.Cut(rest, " ")
		v, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return false, l.failed(ctx, errBadReply)
		}
		if t.Limit.Until.IsZero() {
			_, verdicts[i] = ratelimit.NewBucket(t.Limit).Take(v, n, t.Cost, t.Limit.Burst)
		} else {
			verdicts[i] = ratelimit.Window{Used: v, Until: t.Limit.Until.UnixNano() + off}.Take(t.Cost, t.Limit.Burst, n)
		}
	}
	return ok, nil
}

// Adjust implements ratelimit.Store.
func (l *Limits) Adjust(ctx context.Context, now time.Time, takes []ratelimit.Take) error {
	if len(takes) == 0 {
		return nil
	}
	bctx, cancel := l.c.opts.bounded(ctx)
	defer cancel()
	off, err := l.offset(bctx)
	if err != nil {
		return l.failed(ctx, err)
	}
	keys := make([]string, 1, 1+len(takes))
	args := make([]any, 5, 5+6*len(takes))
	args[0], args[3] = "a", strconv.FormatInt(now.UnixNano()+off, 10)
	for _, t := range takes {
		keys = append(keys, l.counterKey(t.Key))
		if t.Limit.Until.IsZero() {
			args = append(args, "b", "0", strconv.FormatInt(ratelimit.NewBucket(t.Limit).Span(t.Cost), 10), "", "", "")
			continue
		}
		until := t.Limit.Until.UnixNano()
		args = append(args, "w", "0", strconv.FormatInt(until, 10), strconv.FormatInt(until+off, 10),
			strconv.FormatInt(t.Cost, 10), "")
	}
	answer, err := l.run(bctx, off, keys, args)
	if err == nil && answer != "D" {
		err = errBadReply
	}
	if err != nil {
		return l.failed(ctx, err)
	}
	return nil
}

// Peek implements ratelimit.Store.
func (l *Limits) Peek(ctx context.Context, now time.Time, key string, limit ratelimit.Limit) (ratelimit.State, error) {
	bctx, cancel := l.c.opts.bounded(ctx)
	defer cancel()
	off, err := l.offset(bctx)
	if err != nil {
		return ratelimit.State{}, l.failed(ctx, err)
	}
	n := now.UnixNano() + off
	var v string
	rkey := l.counterKey(key)
	err = l.c.await(bctx, func() error {
		var err error
		v, err = l.c.rdb.Get(bctx, rkey).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		return err
	})
	if err != nil {
		return ratelimit.State{}, l.failed(ctx, err)
	}
	if limit.Until.IsZero() {
		var tat int64
		if v != "" && v[0] != 'w' {
			if tat, err = strconv.ParseInt(v, 10, 64); err != nil {
				return ratelimit.State{}, l.failed(ctx, errBadReply)
			}
		}
		return ratelimit.NewBucket(limit).State(tat, n), nil
	}
	until := limit.Until.UnixNano()
	w := ratelimit.Window{Until: until + off}
	if ident, used, ok := strings.Cut(v, ":"); ok && n < w.Until && ident == "w"+strconv.FormatInt(until, 10) {
		if w.Used, err = strconv.ParseInt(used, 10, 64); err != nil {
			return ratelimit.State{}, l.failed(ctx, errBadReply)
		}
	}
	st := ratelimit.State{Remaining: limit.Burst - w.Used}
	if w.Used > 0 && w.Until > n {
		st.Reset = time.Duration(w.Until - n)
	}
	return st, nil
}

// run runs the script for one Reserve or Adjust (args[0] and args[3] set:
// the op and now) within ctx's deadline and returns its answer; the offset
// measured by its round trip refines the store's. Its errors are go-redis's
// or errBadReply, for failed to sanitize.
func (l *Limits) run(ctx context.Context, off int64, keys []string, args []any) (string, error) {
	keys[0] = l.opBase + strconv.FormatUint(l.seq.Add(1), 36)
	dl, _ := ctx.Deadline() // bounded: there is one
	args[1] = strconv.FormatInt(l.nowFunc().Add(time.Until(dl)).UnixNano()+off, 10)
	args[2], args[4] = l.keepOp, l.keep
	var answer string
	err := l.c.await(ctx, func() error {
		t1 := l.nowFunc()
		res, err := limitsScript.Run(ctx, l.c.rdb, keys, args...).Slice()
		t2 := l.nowFunc()
		if err != nil {
			return err
		}
		r, a, ok := parseReply(res)
		if !ok {
			return errBadReply
		}
		l.off.observe(r-t2.UnixNano(), r+1000-t1.UnixNano())
		answer = a
		return nil
	})
	if err != nil {
		return "", err // answer is op's until it returns: not to be read
	}
	if answer == "X" {
		return "", context.DeadlineExceeded // it reached Redis past its deadline: nothing done
	}
	return answer, nil
}

// offset is the store's clock offset, measured first if it never was.
func (l *Limits) offset(ctx context.Context) (int64, error) {
	if e, ok := l.off.get(); ok {
		return e, nil
	}
	select { // one goroutine measures; the others wait for it
	case l.calib <- struct{}{}:
		defer func() { <-l.calib }()
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if e, ok := l.off.get(); ok {
		return e, nil
	}
	keys := []string{l.opBase + "time"} // names the node to ask, in a Cluster
	err := l.c.await(ctx, func() error {
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		for range calibrationSamples {
			t1 := l.nowFunc()
			res, err := limitsScript.Run(ctx, l.c.rdb, keys, "t").Slice()
			t2 := l.nowFunc()
			if err != nil {
				return err
			}
			r, answer, ok := parseReply(res)
			if !ok || answer != "T" {
				return errBadReply
			}
			if l2, h2 := r-t2.UnixNano(), r+1000-t1.UnixNano(); uint64(h2-l2) < uint64(hi-lo) {
				lo, hi = l2, h2
			}
		}
		l.off.observe(lo, hi)
		return nil
	})
	if err != nil {
		return 0, err
	}
	e, _ := l.off.get()
	return e, nil
}

// parseReply reads the script's reply: Redis's TIME (unix ns) and the
// answer.
func parseReply(res []any) (r int64, answer string, ok bool) {
	if len(res) != 3 {
		return 0, "", false
	}
	sec, _ := res[0].(string)
	usec, _ := res[1].(string)
	answer, ok = res[2].(string)
	s, err1 := strconv.ParseInt(sec, 10, 64)
	u, err2 := strconv.ParseInt(usec, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, "", false
	}
	return s*1e9 + u*1e3, answer, true
}

// clockOffset is Redis's clock minus the process's, in nanoseconds, as
// measured by round trips: one that sent at t1 and received at t2 a TIME
// of r (whole microseconds) bounds it within [r-t2, r+1µs-t1].
type clockOffset struct {
	mu    sync.Mutex // serialises updates
	est   atomic.Int64
	valid atomic.Bool
}

func (o *clockOffset) get() (int64, bool) {
	if !o.valid.Load() {
		return 0, false
	}
	return o.est.Load(), true
}

// observe takes one measurement's bounds: the estimate is kept while it
// lies within them, give or take offsetSlack, and replaced by their
// middle otherwise.
func (o *clockOffset) observe(lo, hi int64) {
	if lo > hi { // the process clock stepped back during the round trip: no information
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if e, ok := o.get(); ok && e >= lo-offsetSlack && e <= hi+offsetSlack {
		return
	}
	o.est.Store(lo + (hi-lo)/2)
	o.valid.Store(true)
}
