package redisstore

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/ratelimit"
	"github.com/aigateway-go/aigateway/redisstore/internal/redisserver"
)

// limTimeout bounds the operations of stores whose tests are not about
// timeouts: a loaded machine (-race, two cores) may take longer than
// DefaultTimeout for a round trip, and a timeout there would fail the
// test for the wrong reason.
const limTimeout = 10 * time.Second

// limAt is a clock that reads the process clock plus skew.
func limAt(skew time.Duration) func() time.Time {
	return func() time.Time { return time.Now().Add(skew) }
}

// limSeed is a random seed, or LIMITS_SEED's to run a failure again.
func limSeed() uint64 {
	if n, err := strconv.ParseUint(os.Getenv("LIMITS_SEED"), 10, 64); err == nil {
		return n
	}
	return rand.Uint64()
}

// limRandLimit is a random limit: a bucket of any rate, period and burst
// (the deepest ones saturate the arithmetic), or a window ending around
// now.
func limRandLimit(r *rand.Rand, now int64) ratelimit.Limit {
	bursts := []int64{0, 1, 2, 3, 10, 1000, 1e6, 1e18, math.MaxInt64 / 2, math.MaxInt64, r.Int64N(100), r.Int64()}
	burst := bursts[r.IntN(len(bursts))]
	if r.IntN(4) == 0 {
		ends := []int64{-int64(time.Hour), -1, 0, 1, int64(time.Millisecond), int64(time.Second), int64(time.Hour), 31 * 24 * int64(time.Hour), r.Int64N(int64(time.Hour))}
		return ratelimit.Limit{Rate: burst, Burst: burst, Until: time.Unix(0, now+ends[r.IntN(len(ends))])}
	}
	rates := []int64{0, 1, 3, 7, 10, 1000, 1e9, 1 << 40, math.MaxInt64, r.Int64N(1e6) + 1}
	pers := []time.Duration{0, 1, time.Millisecond, time.Second, 10 * time.Second, time.Minute, time.Hour, 100 * 365 * 24 * time.Hour, math.MaxInt64, time.Duration(r.Int64N(int64(time.Hour)))}
	return ratelimit.Limit{Rate: rates[r.IntN(len(rates))], Per: pers[r.IntN(len(pers))], Burst: burst}
}

// limRandCost is a random cost: small, around a burst, or as large (or
// negative) as an int64 holds.
func limRandCost(r *rand.Rand, l ratelimit.Limit) int64 {
	costs := []int64{0, 1, 2, 5, l.Burst, l.Burst - 1, l.Burst + 1, 1 << 40, math.MaxInt64, math.MaxInt64 - 1, -1, -3, -1 << 40, math.MinInt64, math.MinInt64 + 1, r.Int64N(1000), -r.Int64N(1000), r.Int64()}
	return costs[r.IntN(len(costs))]
}

// limRandStep is a random move of a clock at now: mostly small, at times
// a jump of hours or years (until 2116, 2^62 ns: the arithmetic is exact
// for instants from 1970 to beyond 2200, as the memory store's int64 sums
// do not wrap there), never back (a limiter's clock does not go back, and
// a counter the memory store dropped as idle would come back).
func limRandStep(r *rand.Rand, now int64) int64 {
	switch r.IntN(10) {
	case 0:
		return 0
	case 1:
		return r.Int64N(int64(time.Hour))
	case 2:
		if now < 1<<62 {
			return r.Int64N(int64(10 * 365 * 24 * time.Hour))
		}
	}
	return r.Int64N(int64(10 * time.Millisecond))
}

// limRandTakes is one to three takes of distinct keys.
func limRandTakes(r *rand.Rand, keys []string, now int64) []ratelimit.Take {
	perm := r.Perm(len(keys))[:1+r.IntN(len(keys))]
	takes := make([]ratelimit.Take, len(perm))
	for i, k := range perm {
		l := limRandLimit(r, now)
		takes[i] = ratelimit.Take{Key: keys[k], Limit: l, Cost: limRandCost(r, l)}
	}
	return takes
}

// Against a real server, the same random operations give the same verdicts
// and the same states as the memory store: the script's arithmetic is
// exact (Lua's doubles are not, beyond 2^53) and matches ratelimit's. The
// clock offset is set to zero beforehand (the process and Redis share the
// machine's clock, so no measurement contradicts it), so that saturated
// counters compare too; the test ends by checking that it stayed there.
func TestLimitsMatchTheMemoryStore(t *testing.T) {
	seed := limSeed()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	srv := redisserver.Start(t)
	s := NewLimits(srv.Client(t), Options{Prefix: "eq:", Timeout: limTimeout})
	s.off.observe(0, 0)
	mem := ratelimit.NewMemoryStore(0)
	keys := []string{"a", "b", "c"}
	ctx := context.Background()
	// Redis expires keys in its own time: the test's clock runs a little
	// faster than the real one, as a limiter's never runs slower, so that
	// no key expires before its counter is back to full on the test's clock.
	start, jumps := time.Now(), int64(0)
	t0 := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	for i := range 3000 {
		jumps += limRandStep(r, t0+jumps)
		elapsed := int64(time.Since(start))
		now := t0 + elapsed + elapsed/50 + jumps
		at := time.Unix(0, now)
		takes := limRandTakes(r, keys, now)
		switch r.IntN(3) {
		case 0:
			want := make([]ratelimit.Verdict, len(takes))
			wantOK, err := mem.Reserve(ctx, at, takes, want)
			require.NoError(t, err)
			got := make([]ratelimit.Verdict, len(takes))
			gotOK, err := s.Reserve(ctx, at, takes, got)
			require.NoError(t, err)
			require.Equal(t, wantOK, gotOK, "op %d: Reserve %+v", i, takes)
			require.Equal(t, want, got, "op %d: Reserve %+v", i, takes)
		case 1:
			require.NoError(t, mem.Adjust(ctx, at, takes))
			require.NoError(t, s.Adjust(ctx, at, takes), "op %d: Adjust %+v", i, takes)
		}
		for _, tk := range takes {
			want, err := mem.Peek(ctx, at, tk.Key, tk.Limit)
			require.NoError(t, err)
			got, err := s.Peek(ctx, at, tk.Key, tk.Limit)
			require.NoError(t, err)
			require.Equal(t, want, got, "op %d: Peek %q %+v", i, tk.Key, tk.Limit)
		}
	}
	assert.Zero(t, s.ClockOffset(), "no measurement moved the offset")
	assert.Equal(t, Stats{}, s.Stats())
}

// The values the script keeps are exact at the ends of the int64 range: a
// TAT saturated at 2^63-1, refunds down to -2^63, a window's count at its
// largest. The memory store is the reference.
func TestLimitsExactAtTheInt64Bounds(t *testing.T) {
	srv := redisserver.Start(t)
	s := NewLimits(srv.Client(t), Options{Timeout: limTimeout})
	s.off.observe(0, 0)
	mem := ratelimit.NewMemoryStore(0)
	ctx := context.Background()
	now := time.Unix(0, 1<<62) // 2116: nanoseconds beyond 2^53 in every digit
	slow := ratelimit.Limit{Rate: 1, Per: 100 * 365 * 24 * time.Hour, Burst: math.MaxInt64}
	window := ratelimit.Limit{Burst: math.MaxInt64, Until: now.Add(time.Hour)}
	for i, cost := range []int64{math.MaxInt64, math.MaxInt64, 1, math.MinInt64, 3, math.MinInt64 + 1, math.MaxInt64 - 1, -1, 1 << 53, 1<<53 + 1} {
		takes := []ratelimit.Take{{Key: "b", Limit: slow, Cost: cost}, {Key: "w", Limit: window, Cost: cost}}
		want := make([]ratelimit.Verdict, 2)
		got := make([]ratelimit.Verdict, 2)
		wantOK, _ := mem.Reserve(ctx, now, takes, want)
		gotOK, err := s.Reserve(ctx, now, takes, got)
		require.NoError(t, err)
		assert.Equal(t, wantOK, gotOK, "step %d", i)
		assert.Equal(t, want, got, "step %d", i)
		require.NoError(t, mem.Adjust(ctx, now, takes))
		require.NoError(t, s.Adjust(ctx, now, takes))
		for _, tk := range takes {
			w, _ := mem.Peek(ctx, now, tk.Key, tk.Limit)
			g, err := s.Peek(ctx, now, tk.Key, tk.Limit)
			require.NoError(t, err)
			assert.Equal(t, w, g, "step %d: %s", i, tk.Key)
		}
	}
}

// A counter's key expires once the counter is back to full (a bucket at
// its TAT, a window at its end), rounded up to the millisecond, plus the
// store's timeout and a minute (a settlement may run after the instant it
// is stamped with); one back to full at once is deleted; an operation's
// answer is kept for the timeout and a second; no key is left without an
// expiry.
func TestLimitsKeysExpireWhenFull(t *testing.T) {
	srv := redisserver.Start(t)
	rdb := srv.Client(t)
	const timeout = 2 * time.Second
	keep := timeout + time.Minute
	s := NewLimits(rdb, Options{Prefix: "exp:", Timeout: timeout})
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) // far from Redis's clock: expiry is relative
	tenPerSecond := ratelimit.Limit{Rate: 10, Per: time.Second, Burst: 10}
	window := ratelimit.Limit{Burst: 100, Until: now.Add(time.Hour)}
	v := make([]ratelimit.Verdict, 2)
	ok, err := s.Reserve(ctx, now, []ratelimit.Take{
		{Key: "b", Limit: tenPerSecond, Cost: 3},
		{Key: "w", Limit: window, Cost: 5},
	}, v)
	require.NoError(t, err)
	require.True(t, ok)

	ttl := func(key string) time.Duration {
		d, err := rdb.PTTL(ctx, key).Result()
		require.NoError(t, err)
		return d
	}
	assert.InDelta(t, float64(keep+300*time.Millisecond), float64(ttl(s.counterKey("b"))), float64(100*time.Millisecond), "full again in 300ms")
	assert.LessOrEqual(t, ttl(s.counterKey("b")), keep+300*time.Millisecond)
	assert.InDelta(t, float64(keep+time.Hour), float64(ttl(s.counterKey("w"))), float64(time.Minute), "the window ends in an hour")
	assert.LessOrEqual(t, ttl(s.counterKey("w")), keep+time.Hour)

	require.NoError(t, s.Adjust(ctx, now, []ratelimit.Take{{Key: "b", Limit: tenPerSecond, Cost: -3}}))
	n, err := rdb.Exists(ctx, s.counterKey("b")).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "a bucket refunded to full is not kept")

	keys, err := rdb.Keys(ctx, "*").Result()
	require.NoError(t, err)
	assert.NotEmpty(t, keys)
	for _, k := range keys {
		d := ttl(k)
		assert.Positive(t, d, "%q expires", k)
		if strings.Contains(k, ":op:") {
			assert.LessOrEqual(t, d, timeout+time.Second, "an operation's answer is kept for the timeout and a second")
		}
	}
}

// go-redis sends a command again when it lost the reply: a script that
// ran twice (as a hook here runs every EVALSHA twice) charges once and
// answers the same both times.
func TestLimitsScriptRunTwiceChargesOnce(t *testing.T) {
	srv := redisserver.Start(t)
	rdb := srv.Client(t)
	var twice atomic.Int64
	rdb.AddHook(limHook{process: func(next redis.ProcessHook) redis.ProcessHook {
		return func(ctx context.Context, cmd redis.Cmder) error {
			if cmd.Name() != "evalsha" || strings.HasSuffix(fmt.Sprint(cmd.Args()[3]), ":time") {
				return next(ctx, cmd)
			}
			_ = next(ctx, cmd) // its reply "lost"
			twice.Add(1)
			return next(ctx, cmd)
		}
	}})
	s := NewLimits(rdb, Options{Timeout: limTimeout})
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	l := ratelimit.Limit{Rate: 10, Per: time.Hour, Burst: 10}
	budget := ratelimit.Limit{Burst: 100, Until: now.Add(24 * time.Hour)}
	for i := range 3 {
		v := make([]ratelimit.Verdict, 2)
		ok, err := s.Reserve(ctx, now, []ratelimit.Take{{Key: "b", Limit: l, Cost: 3}, {Key: "w", Limit: budget, Cost: 30}}, v)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, []ratelimit.Verdict{{Remaining: int64(7 - 3*i)}, {Remaining: int64(70 - 30*i)}}, v, "take %d: the second run answers as the first", i)
	}
	require.NoError(t, s.Adjust(ctx, now, []ratelimit.Take{{Key: "b", Limit: l, Cost: -1}, {Key: "w", Limit: budget, Cost: 5}}))
	assert.Equal(t, int64(4), twice.Load(), "every script but the clock's ran twice")
	st, err := s.Peek(ctx, now, "b", l)
	require.NoError(t, err)
	assert.Equal(t, int64(2), st.Remaining, "charged 3 three times, refunded 1 once")
	st, err = s.Peek(ctx, now, "w", budget)
	require.NoError(t, err)
	assert.Equal(t, int64(5), st.Remaining, "charged 30 three times and 5 once")
}

// limHook is a go-redis hook made of a process function.
type limHook struct {
	process func(redis.ProcessHook) redis.ProcessHook
}

func (h limHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h limHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	if h.process == nil {
		return next
	}
	return h.process(next)
}
func (h limHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// limCommands counts the commands a client sends, by name.
type limCommands struct {
	mu    sync.Mutex
	names map[string]int
}

func limCount(rdb redis.UniversalClient) *limCommands {
	c := &limCommands{names: map[string]int{}}
	rdb.AddHook(limHook{process: func(next redis.ProcessHook) redis.ProcessHook {
		return func(ctx context.Context, cmd redis.Cmder) error {
			c.mu.Lock()
			c.names[cmd.Name()]++
			c.mu.Unlock()
			return next(ctx, cmd)
		}
	}})
	return c
}

// take returns the counts so far and starts over.
func (c *limCommands) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.names
	c.names = map[string]int{}
	return n
}

// The script is sent by its digest (EVALSHA), loaded once; when Redis has
// lost it (SCRIPT FLUSH, a restart), the next call sends it whole (EVAL),
// and the one after is back to EVALSHA.
func TestLimitsScriptSurvivesScriptFlush(t *testing.T) {
	srv := redisserver.Start(t)
	rdb := srv.Client(t)
	s := NewLimits(rdb, Options{Timeout: limTimeout})
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	l := ratelimit.Limit{Rate: 10, Per: time.Hour, Burst: 10}
	reserve := func() {
		t.Helper()
		ok, err := s.Reserve(ctx, now, []ratelimit.Take{{Key: "b", Limit: l, Cost: 1}}, make([]ratelimit.Verdict, 1))
		require.NoError(t, err)
		require.True(t, ok)
	}
	reserve() // loads the script, measures the clock
	cmds := limCount(rdb)
	reserve()
	assert.Equal(t, map[string]int{"evalsha": 1}, cmds.take(), "one round trip")

	_, err := srv.Do("SCRIPT", "FLUSH")
	require.NoError(t, err)
	reserve()
	assert.Equal(t, map[string]int{"evalsha": 1, "eval": 1}, cmds.take(), "NOSCRIPT, then the script itself")
	reserve()
	assert.Equal(t, map[string]int{"evalsha": 1}, cmds.take(), "loaded again")
	st, err := s.Peek(ctx, now, "b", l)
	require.NoError(t, err)
	assert.Equal(t, int64(6), st.Remaining, "four reservations, each charged once")
	assert.Equal(t, Stats{}, s.Stats())
}

// The offset between the process clock and Redis's stays put while
// measurements agree with it (within their bounds and a millisecond), and
// follows a clock that was stepped.
func TestLimitsClockOffsetStaysPutUntilContradicted(t *testing.T) {
	ms := int64(time.Millisecond)
	var o clockOffset
	_, ok := o.get()
	assert.False(t, ok)
	o.observe(-40_000, 60_000) // the first measurement: its middle
	e, ok := o.get()
	require.True(t, ok)
	assert.Equal(t, int64(10_000), e)
	for _, m := range [][2]int64{{-5_000, 5_000}, {-20_000, 3_000}, {-2 * ms, 10_000 - ms}, {10_000 + ms, 20_000 + ms}} {
		o.observe(m[0], m[1])
		e, _ = o.get()
		assert.Equal(t, int64(10_000), e, "within %v give or take a millisecond: kept", m)
	}
	o.observe(30*int64(time.Second), 30*int64(time.Second)+100_000) // a clock stepped by 30s
	e, _ = o.get()
	assert.Equal(t, 30*int64(time.Second)+50_000, e, "adopted")
	o.observe(5, 4) // the process clock went back during the round trip: no information
	e, _ = o.get()
	assert.Equal(t, 30*int64(time.Second)+50_000, e)
}

// Two stores whose process clocks differ by 30s share one bucket and one
// budget exactly: both map their instants onto Redis's clock. Without the
// mapping, the store running ahead would see the other's reservations
// refilled by 30s (5 of 10 units a minute), and would start the budget's
// window over.
func TestLimitsSkewedClocksShareCounters(t *testing.T) {
	srv := redisserver.Start(t)
	const skew = 30 * time.Second
	behind := NewLimits(srv.Client(t), Options{Prefix: "skew:", Timeout: limTimeout})
	ahead := NewLimits(srv.Client(t), Options{Prefix: "skew:", Timeout: limTimeout})
	behind.nowFunc, ahead.nowFunc = limAt(0), limAt(skew)
	ctx := context.Background()
	perMinute := ratelimit.Limit{Rate: 10, Per: time.Minute, Burst: 10}
	end := time.Now().Add(time.Hour) // the period both replicas are in
	budget := ratelimit.Limit{Rate: 100, Burst: 100, Until: end}
	takes := func(bucket, window int64) []ratelimit.Take {
		return []ratelimit.Take{{Key: "rpm", Limit: perMinute, Cost: bucket}, {Key: "day", Limit: budget, Cost: window}}
	}
	reserve := func(s *Limits, bucket, window int64) (bool, []ratelimit.Verdict) {
		t.Helper()
		v := make([]ratelimit.Verdict, 2)
		ok, err := s.Reserve(ctx, s.nowFunc(), takes(bucket, window), v)
		require.NoError(t, err)
		return ok, v
	}

	ok, _ := reserve(behind, 6, 60)
	require.True(t, ok)
	ok, v := reserve(ahead, 4, 40)
	require.True(t, ok)
	assert.Equal(t, []ratelimit.Verdict{{Remaining: 0}, {Remaining: 0}}, v, "the replica ahead sees the other's 6 and 60, not refilled")
	ok, v = reserve(ahead, 1, 0)
	assert.False(t, ok)
	assert.InDelta(t, float64(6*time.Second), float64(v[0].Wait), float64(time.Second), "one unit refills in 6s on either clock")
	ok, _ = reserve(behind, 0, 1)
	assert.False(t, ok, "the budget is spent for both")

	assert.InDelta(t, float64(-skew), float64(ahead.ClockOffset()), float64(10*time.Millisecond))
	assert.InDelta(t, 0, float64(behind.ClockOffset()), float64(10*time.Millisecond))
	for _, s := range []*Limits{behind, ahead} {
		st, err := s.Peek(ctx, s.nowFunc(), "day", budget)
		require.NoError(t, err)
		assert.Equal(t, int64(0), st.Remaining)
		assert.InDelta(t, float64(time.Until(end)-time.Until(s.nowFunc())), float64(st.Reset), float64(time.Second),
			"each replica's wait for the period's end runs on its own clock, as its key names the period")
	}
}

// Every key a store writes is in one hash slot, whatever the limiter's keys
// hold ({...} included): the store's tag, or its Prefix's own when it has
// one. Redis computes the slots (CLUSTER KEYSLOT), on a one-node Cluster
// that refuses a script whose keys are in different slots (CROSSSLOT), and
// a Reserve of takes of many keys runs there through a ClusterClient.
func TestLimitsKeysShareOneHashSlot(t *testing.T) {
	addr := redisserver.StartCluster(t).Addr()
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	t.Cleanup(func() { _ = cluster.Close() })
	ctx := context.Background()
	slot := func(key string) int64 {
		t.Helper()
		n, err := cluster.ClusterKeySlot(ctx, key).Result()
		require.NoError(t, err)
		return n
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	l := ratelimit.Limit{Rate: 10, Per: time.Hour, Burst: 10}
	keys := []string{"", "a", "{a}", "}{x}", "{", "aigateway:ratelimit:v1:3:rpm:req:5:team1", "ünï\x00cødé"}
	for _, tc := range []struct {
		prefix, tag string
	}{
		{"", "limits"},
		{"app:", "limits"},
		{"{tenant-a}:", "tenant-a"},
		{"x}y{z}:", "z"},
		{"a{b:", "b:{limits"},
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			s := NewLimits(cluster, Options{Prefix: tc.prefix, Timeout: limTimeout})
			want := slot(tc.tag)
			assert.Equal(t, want, slot(s.opBase+"1"), "an operation's key")
			assert.Equal(t, want, slot(s.opBase+"time"))
			takes := make([]ratelimit.Take, len(keys))
			for i, k := range keys {
				assert.Equal(t, want, slot(s.counterKey(k)), "counter %q", k)
				takes[i] = ratelimit.Take{Key: k, Limit: l, Cost: 1}
			}
			ok, err := s.Reserve(ctx, now, takes, make([]ratelimit.Verdict, len(takes)))
			require.NoError(t, err, "no CROSSSLOT")
			assert.True(t, ok)
			require.NoError(t, s.Adjust(ctx, now, takes))
			st, err := s.Peek(ctx, now, "{a}", l)
			require.NoError(t, err)
			assert.Equal(t, int64(8), st.Remaining)
		})
	}
}

// A Reserve or Adjust of no takes needs no round trip; fewer verdicts than
// takes is the caller's mistake, not Redis's.
func TestLimitsEdgeCalls(t *testing.T) {
	s := NewLimits(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), Options{})
	t.Cleanup(func() { _ = s.c.rdb.Close() })
	ok, err := s.Reserve(context.Background(), time.Now(), nil, nil)
	assert.NoError(t, err)
	assert.True(t, ok)
	assert.NoError(t, s.Adjust(context.Background(), time.Now(), nil))
	_, err = s.Reserve(context.Background(), time.Now(), []ratelimit.Take{{Key: "a"}}, nil)
	assert.ErrorIs(t, err, errShortVerdicts)
	assert.Equal(t, Stats{}, s.Stats())
}

// A key the store did not write (another program's, or a script of
// another version's) is an error, counted, not a counter read as zero.
func TestLimitsForeignValueIsAnError(t *testing.T) {
	srv := redisserver.Start(t)
	rdb := srv.Client(t)
	s := NewLimits(rdb, Options{Timeout: limTimeout})
	ctx := context.Background()
	require.NoError(t, rdb.Set(ctx, s.counterKey("k"), "not a number", 0).Err())
	_, err := s.Peek(ctx, time.Now(), "k", ratelimit.Limit{Rate: 1, Per: time.Second, Burst: 1})
	assert.ErrorIs(t, err, ErrRedis)
	assert.Equal(t, Stats{Errors: 1}, s.Stats())
}

// An operation whose caller's context has ended fails at once, counted as
// a timeout, and its error says both: the store's and the context's.
func TestLimitsEndedContext(t *testing.T) {
	srv := redisserver.Start(t)
	s := NewLimits(srv.Client(t), Options{Timeout: limTimeout})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l := ratelimit.Limit{Rate: 1, Per: time.Second, Burst: 1}
	_, err1 := s.Reserve(ctx, time.Now(), []ratelimit.Take{{Key: "k", Limit: l, Cost: 1}}, make([]ratelimit.Verdict, 1))
	err2 := s.Adjust(ctx, time.Now(), []ratelimit.Take{{Key: "k", Limit: l, Cost: 1}})
	_, err3 := s.Peek(ctx, time.Now(), "k", l)
	for i, err := range []error{err1, err2, err3} {
		assert.ErrorIs(t, err, ErrTimeout, "op %d", i)
		assert.ErrorIs(t, err, context.Canceled, "op %d", i)
	}
	assert.Equal(t, Stats{Errors: 3, Timeouts: 3}, s.Stats())
	st, err := s.Peek(context.Background(), time.Now(), "k", l)
	require.NoError(t, err)
	assert.Equal(t, int64(1), st.Remaining, "nothing was charged")
}
