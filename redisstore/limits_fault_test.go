package redisstore

import (
	"context"
	"errors"
	"net"
	"net/http"
	"regexp"
	"strconv"
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

// limFaultCases are the limiter's two answers to a failing store, each
// with the two kinds of client: go-redis's default one, which leaves socket
// reads to its ReadTimeout (the store then waits for each command on a
// goroutine of its own), and one built with ContextTimeoutEnabled, which
// stops at the store's deadline itself.
var limFaultCases = []struct {
	name   string
	closed bool
	client func(*redis.Options)
}{
	{"open", false, nil},
	{"closed", true, nil},
	{"open/ContextTimeoutEnabled", false, func(o *redis.Options) { o.ContextTimeoutEnabled = true }},
	{"closed/ContextTimeoutEnabled", true, func(o *redis.Options) { o.ContextTimeoutEnabled = true }},
}

// Redis killed while calls run through a Gateway: calls go on (admitted,
// or with FailClosed refused with a provider-shaped 503), none hangs, the
// failures are counted; restarted, the store recovers by itself: its
// counters start over (a restart loses them) and count again.
func TestLimitsGatewayThroughRedisKilledAndRestarted(t *testing.T) {
	for _, mode := range limFaultCases {
		t.Run(mode.name, func(t *testing.T) {
			srv := redisserver.Start(t)
			const limit = 1_000_000 // a year's: no unit refills during the test
			r := limReplicas(t, srv, 1, mode.client, Options{Prefix: "fault:", Timeout: time.Second},
				ratelimit.Config{FailClosed: mode.closed, Rules: []ratelimit.Rule{{Name: "rph", Requests: limit, Per: 365 * 24 * time.Hour}}})[0]

			const up, down, restarting, back = 0, 1, 2, 3
			var phase atomic.Int32
			var mu sync.Mutex
			calls := map[[2]int32]map[int]int{} // by the phases a call started and ended in: statuses
			count := func(from, to int32) (n int) {
				mu.Lock()
				defer mu.Unlock()
				for _, c := range calls[[2]int32{from, to}] {
					n += c
				}
				return n
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						from := phase.Load()
						a := r.call(t, limChatBody)
						k := [2]int32{from, phase.Load()}
						if mode.closed && a.status == http.StatusServiceUnavailable {
							e := limDecodeError(t, a.body)
							assert.Equal(t, "server_error", e.Error.Type)
							assert.Equal(t, "aigateway: rate limit store unavailable", e.Error.Message)
						}
						mu.Lock()
						if calls[k] == nil {
							calls[k] = map[int]int{}
						}
						calls[k][a.status]++
						mu.Unlock()
					}
				})
			}
			waitFor := func(from, to int32, n int) {
				t.Helper()
				require.Eventually(t, func() bool { return count(from, to) >= n }, 30*time.Second, time.Millisecond)
			}
			waitFor(up, up, 20)
			srv.Kill()
			phase.Store(down)
			waitFor(down, down, 20)
			phase.Store(restarting)
			srv.Restart()
			phase.Store(back)
			waitFor(back, back, 20)
			close(stop)
			wg.Wait() // every call returned

			t.Logf("statuses by the phases a call started and ended in (up, down, restarting, back): %v", calls) // the workers are done
			assert.Equal(t, map[int]int{http.StatusOK: count(up, up)}, calls[[2]int32{up, up}])
			during := calls[[2]int32{down, down}]
			if mode.closed {
				assert.Equal(t, map[int]int{http.StatusServiceUnavailable: count(down, down)}, during, "refused while Redis is gone")
			} else {
				assert.Equal(t, map[int]int{http.StatusOK: count(down, down)}, during, "admitted while Redis is gone")
			}
			assert.GreaterOrEqual(t, r.limiter.Stats().StoreErrors, int64(20))
			assert.GreaterOrEqual(t, r.store.Stats().Errors, int64(20))

			// The store recovers by itself (go-redis, once dials kept
			// failing, probes the server once a second before it dials
			// again): the counter started over with the restart, and
			// counts each call again.
			require.Eventually(t, func() bool {
				errs := r.limiter.Stats().StoreErrors
				return r.call(t, limChatBody).status == http.StatusOK && r.limiter.Stats().StoreErrors == errs
			}, 10*time.Second, 10*time.Millisecond, "recovered")
			errs, storeErrs := r.limiter.Stats().StoreErrors, r.store.Stats().Errors
			before := r.status(t, "rph").Remaining
			assert.Greater(t, before, int64(limit-100), "the counter started over")
			for range 5 {
				assert.Equal(t, http.StatusOK, r.call(t, limChatBody).status)
			}
			assert.Equal(t, before-5, r.status(t, "rph").Remaining)
			assert.Equal(t, errs, r.limiter.Stats().StoreErrors)
			assert.Equal(t, storeErrs, r.store.Stats().Errors)
		})
	}
}

// Redis made slow (DEBUG SLEEP 1: it answers nothing for a second): each
// call through the Gateway is bounded by the store's timeout (50ms): it
// finishes while Redis still sleeps, admitted or (FailClosed) refused. The
// scripts of the calls that gave up reach Redis after their deadline, and
// charge nothing.
func TestLimitsGatewayWhileRedisSleeps(t *testing.T) {
	for _, mode := range limFaultCases {
		t.Run(mode.name, func(t *testing.T) {
			srv := redisserver.Start(t)
			const limit = 1_000_000 // a year's: no unit refills during the test
			r := limReplicas(t, srv, 1, mode.client, Options{Prefix: "slow:", Timeout: 50 * time.Millisecond},
				ratelimit.Config{FailClosed: mode.closed, Rules: []ratelimit.Rule{{Name: "rph", Requests: limit, Per: 365 * 24 * time.Hour}}})[0]
			admin := srv.Client(t)
			ctx := context.Background()
			require.Equal(t, http.StatusOK, r.call(t, limChatBody).status) // measures the clock, loads the script
			_, err := srv.Do("CONFIG", "RESETSTAT")
			require.NoError(t, err)

			slept := make(chan struct{})
			go func() {
				defer close(slept)
				_, err := srv.Do("DEBUG", "SLEEP", "1")
				assert.NoError(t, err)
			}()
			charged, bounded := 1, 0
			for bounded < 3 {
				errs := r.limiter.Stats().StoreErrors
				a := r.call(t, limChatBody)
				if r.limiter.Stats().StoreErrors == errs {
					require.Equal(t, http.StatusOK, a.status, "a call before the sleep began")
					charged++
					continue
				}
				select {
				case <-slept:
					t.Fatalf("a call outlasted the server's sleep (%d calls bounded before it ended)", bounded)
				default:
				}
				bounded++
				if mode.closed {
					assert.Equal(t, http.StatusServiceUnavailable, a.status)
				} else {
					assert.Equal(t, http.StatusOK, a.status)
				}
			}
			<-slept
			assert.GreaterOrEqual(t, r.store.Stats().Timeouts, int64(3))

			// The calls that gave up charged nothing (their scripts reached
			// Redis after their deadlines: see
			// TestLimitsLateScriptChargesNothing), but for one: the call in
			// flight when the sleep began may have run its script just
			// before it, in the same turn of Redis's event loop, whose reply
			// then waited for the sleep's end, long after its caller gave
			// up: a reservation charged and not used, the one case no store
			// can tell from the others.
			require.Eventually(t, func() bool { return limScriptRuns(t, admin) >= charged-1 }, 10*time.Second, time.Millisecond)
			left := r.status(t, "rph").Remaining
			assert.LessOrEqual(t, left, int64(limit-charged))
			assert.GreaterOrEqual(t, left, int64(limit-charged-1))

			// A store call alone says why it failed.
			slept = make(chan struct{})
			go func() {
				defer close(slept)
				_, _ = srv.Do("DEBUG", "SLEEP", "0.5")
			}()
			require.Eventually(t, func() bool {
				_, err := r.store.Peek(ctx, time.Now(), "k", ratelimit.Limit{Rate: 1, Per: time.Second, Burst: 1})
				return errors.Is(err, ErrTimeout)
			}, 10*time.Second, time.Millisecond)
			<-slept
		})
	}
}

// A script that reaches Redis after its caller's deadline changes nothing:
// with clients paused (CLIENT PAUSE), Reserves give up after the store's
// timeout while their scripts wait in Redis, which runs them once the
// pause ends; they charge nothing. (A client with ContextTimeoutEnabled
// closes its connection when it gives up, and Redis may drop the command
// with it: go-redis's default client keeps it open, and the command runs.)
func TestLimitsLateScriptChargesNothing(t *testing.T) {
	srv := redisserver.Start(t)
	rdb := srv.Client(t)
	admin := srv.Client(t)
	s := NewLimits(rdb, Options{Timeout: 50 * time.Millisecond})
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	l := ratelimit.Limit{Rate: 10, Per: time.Hour, Burst: 10}
	take := []ratelimit.Take{{Key: "b", Limit: l, Cost: 1}}
	ok, err := s.Reserve(ctx, now, take, make([]ratelimit.Verdict, 1)) // measures the clock, loads the script
	require.NoError(t, err)
	require.True(t, ok)
	_, err = srv.Do("CONFIG", "RESETSTAT")
	require.NoError(t, err)

	_, err = srv.Do("CLIENT", "PAUSE", "500", "ALL")
	require.NoError(t, err)
	for i := range 3 {
		_, err := s.Reserve(ctx, now, take, make([]ratelimit.Verdict, 1))
		assert.ErrorIs(t, err, ErrTimeout, "reserve %d", i)
	}
	require.Eventually(t, func() bool { return limScriptRuns(t, admin) >= 3 }, 10*time.Second, time.Millisecond, "Redis ran the scripts after the pause")
	st, err := s.Peek(ctx, now, "b", l)
	require.NoError(t, err)
	assert.Equal(t, int64(9), st.Remaining, "only the first reservation is charged")
	assert.Equal(t, Stats{Errors: 3, Timeouts: 3}, s.Stats())
}

// limScriptRuns is how many times the server ran a script by its digest
// since its statistics were reset.
func limScriptRuns(t *testing.T, rdb *redis.Client) int {
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if !assert.NoError(t, err) {
		return 0
	}
	m := regexp.MustCompile(`cmdstat_evalsha:calls=(\d+)`).FindStringSubmatch(info)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// A Reserve whose reply is lost on its way back (the connection drops
// after Redis ran the script) is sent again by go-redis on a new
// connection: the script runs twice, the reservation is charged once, and
// the caller gets the first run's answer.
func TestLimitsLostReplyResentByGoRedisChargesOnce(t *testing.T) {
	srv := redisserver.Start(t)
	p := limStartProxy(t, srv.Addr())
	rdb := redis.NewClient(&redis.Options{Addr: p.addr(), MaxRetries: 3})
	t.Cleanup(func() { _ = rdb.Close() })
	admin := srv.Client(t)
	s := NewLimits(rdb, Options{Timeout: limTimeout})
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	l := ratelimit.Limit{Rate: 10, Per: time.Hour, Burst: 10}
	take := []ratelimit.Take{{Key: "b", Limit: l, Cost: 4}}
	v := make([]ratelimit.Verdict, 1)
	ok, err := s.Reserve(ctx, now, take, v) // connects, measures the clock, loads the script
	require.NoError(t, err)
	require.True(t, ok)
	_, err = srv.Do("CONFIG", "RESETSTAT")
	require.NoError(t, err)

	p.dropNextReply.Store(true)
	ok, err = s.Reserve(ctx, now, take, v)
	require.NoError(t, err, "go-redis sent it again")
	assert.True(t, ok)
	assert.Equal(t, ratelimit.Verdict{Remaining: 2}, v[0], "the first run's answer")
	assert.Equal(t, int64(1), p.dropped.Load(), "a reply was lost")
	assert.Equal(t, 2, limScriptRuns(t, admin), "the script ran twice")
	st, err := s.Peek(ctx, now, "b", l)
	require.NoError(t, err)
	assert.Equal(t, int64(2), st.Remaining, "charged 4 twice, not three times")
	assert.Equal(t, Stats{}, s.Stats())
}

// limProxy forwards TCP connections to a server; armed, it drops the
// connection that receives the server's next reply, instead of passing
// the reply on.
type limProxy struct {
	ln            net.Listener
	target        string
	dropNextReply atomic.Bool
	dropped       atomic.Int64
	mu            sync.Mutex
	conns         []net.Conn
	wg            sync.WaitGroup
}

func limStartProxy(t *testing.T, target string) *limProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &limProxy{ln: ln, target: target}
	p.wg.Go(p.serve)
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *limProxy) addr() string { return p.ln.Addr().String() }

func (p *limProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Go(func() { // client to server
			buf := make([]byte, 32<<10)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if _, err := s.Write(buf[:n]); err != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			_ = s.Close()
		})
		p.wg.Go(func() { // server to client
			buf := make([]byte, 32<<10)
			for {
				n, err := s.Read(buf)
				if n > 0 {
					if p.dropNextReply.CompareAndSwap(true, false) {
						p.dropped.Add(1)
						break
					}
					if _, err := c.Write(buf[:n]); err != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			_ = c.Close()
			_ = s.Close()
		})
	}
}

// The store's errors name neither the server's address nor the password
// the client was given, whatever failed: Redis gone, or refusing the
// password. They are counted.
func TestLimitsErrorsNameNoAddressNorPassword(t *testing.T) {
	srv := redisserver.Start(t)
	_, err := srv.Do("CONFIG", "SET", "requirepass", "hunter2-secret")
	require.NoError(t, err)
	l := ratelimit.Limit{Rate: 1, Per: time.Second, Burst: 1}
	ops := func(s *Limits) []error {
		ctx, now := context.Background(), time.Now()
		_, err1 := s.Reserve(ctx, now, []ratelimit.Take{{Key: "k", Limit: l, Cost: 1}}, make([]ratelimit.Verdict, 1))
		err2 := s.Adjust(ctx, now, []ratelimit.Take{{Key: "k", Limit: l, Cost: 1}})
		_, err3 := s.Peek(ctx, now, "k", l)
		return []error{err1, err2, err3}
	}
	for _, tc := range []struct {
		name, password string
		kill           bool
		want           error
	}{
		{"wrong password", "wrong-secret", false, ErrRedis},
		{"server gone", "hunter2-secret", true, ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdb := srv.Client(t, func(o *redis.Options) { o.Password = tc.password })
			s := NewLimits(rdb, Options{Timeout: limTimeout})
			if tc.kill {
				require.NoError(t, ops(s)[0], "the store worked")
				srv.Kill()
				t.Cleanup(srv.Restart)
			}
			for i, err := range ops(s) {
				require.Error(t, err, "op %d", i)
				assert.ErrorIs(t, err, tc.want, "op %d", i)
				for _, secret := range []string{srv.Addr(), "127.0.0.1", tc.password, "hunter2"} {
					assert.NotContains(t, err.Error(), secret, "op %d", i)
				}
			}
			assert.Equal(t, int64(3), s.Stats().Errors)
		})
	}
}
