package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/redisstore"
	"github.com/aigateway-go/aigateway/redisstore/internal/redisserver"
)

// cacheSeeded is cacheChatBody made unique by n.
func cacheSeeded(n int) string {
	return strings.Replace(cacheChatBody, `"temperature":0`, `"temperature":0,"seed":`+strconv.Itoa(n), 1)
}

// cacheUntilHit repeats the call until it is a hit (each miss stores the
// answer anew, maybe after the call returns), with a generous deadline.
func cacheUntilHit(t *testing.T, gw http.RoundTripper, apiKey, body string) cacheAnswer {
	t.Helper()
	var last cacheAnswer
	require.Eventually(t, func() bool {
		last = cacheCall(t, gw, apiKey, body)
		return last.cache() == "HIT"
	}, 10*time.Second, 10*time.Millisecond, "never a hit")
	return last
}

// cacheAssertClean checks that a store's error names neither the server
// nor its password.
func cacheAssertClean(t *testing.T, err error, secrets ...string) {
	t.Helper()
	require.Error(t, err)
	for _, s := range secrets {
		assert.NotContains(t, err.Error(), s)
	}
}

// Redis killed in the middle of a run of concurrent calls: every call still
// gets its whole answer, as a miss once Redis is gone; the store and the
// cache count the same failures; the errors name neither the address nor
// the password. Redis restarted: the store reconnects by itself, and an
// answer stored anew is a hit again. With go-redis's defaults (the store
// runs each command on a goroutine of its own) and with
// ContextTimeoutEnabled (on the caller's).
func TestCacheRedisKilledMidRunCallsMissThenRecoverAfterRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts func(*redis.Options)
	}{
		{"go-redis defaults", func(*redis.Options) {}},
		{"ContextTimeoutEnabled", func(o *redis.Options) { o.ContextTimeoutEnabled = true }},
	} {
		t.Run(tc.name, func(t *testing.T) { cacheKillRestart(t, tc.opts) })
	}
}

func cacheKillRestart(t *testing.T, opts func(*redis.Options)) {
	const password = "hunter2-cache-secret"
	srv := redisserver.Start(t)
	_, err := srv.Do("CONFIG", "SET", "requirepass", password)
	require.NoError(t, err)
	rdb := srv.Client(t, opts, func(o *redis.Options) { o.Password = password })
	store := redisstore.NewCache(rdb, redisstore.Options{Prefix: "fault:"}) // DefaultTimeout
	upstream := llmtest.NewTransport()
	gw, c := cacheGateway(t, upstream, store)

	cached := cacheUntilHit(t, gw, "sk-a", cacheChatBody)
	require.Equal(t, http.StatusOK, cached.status)

	const workers, perWorker, killAfter = 4, 15, 12
	var (
		wg        sync.WaitGroup
		done      atomic.Int32
		killed    = make(chan struct{})
		mu        sync.Mutex
		afterKill []cacheAnswer
		failures  []string
	)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				select {
				case <-killed:
					// Alternate the answer stored before the kill and
					// answers never seen.
					body := cacheChatBody
					if i%2 == 0 {
						body = cacheSeeded(1000*w + i)
					}
					a, err := cacheTry(gw, "sk-a", body)
					mu.Lock()
					if err != nil {
						failures = append(failures, err.Error())
					}
					afterKill = append(afterKill, a)
					mu.Unlock()
				default:
					a, err := cacheTry(gw, "sk-a", cacheSeeded(1000*w+i))
					if err != nil || a.status != http.StatusOK {
						mu.Lock()
						failures = append(failures, fmt.Sprint(a.status, a.body, err))
						mu.Unlock()
					}
				}
				done.Add(1)
			}
		})
	}
	require.Eventually(t, func() bool { return done.Load() >= killAfter }, 10*time.Second, time.Millisecond)
	srv.Kill()
	close(killed)
	wg.Wait()

	assert.Empty(t, failures)
	require.NotEmpty(t, afterKill)
	for _, a := range afterKill {
		assert.Equal(t, http.StatusOK, a.status)
		assert.Contains(t, a.body, `"chat.completion"`, "a whole answer")
		assert.Contains(t, []string{"MISS", "COALESCED"}, a.cache(), "Redis is gone: nothing is a hit")
	}
	// A call's answer is stored after its caller has it, and an identical
	// call that comes meanwhile shares it (COALESCED): let the last
	// workers' stores fail first, so that this call is on its own.
	require.NoError(t, c.Flush(context.Background()))
	gone := cacheCall(t, gw, "sk-a", cacheChatBody)
	assert.Equal(t, http.StatusOK, gone.status)
	assert.Equal(t, "MISS", gone.cache(), "the answer stored before the kill is out of reach")

	// The cache counts a store error for each failed operation, no more,
	// no less (its stores may finish after the calls: wait for them).
	require.Eventually(t, func() bool {
		return store.Stats().Errors > 0 && store.Stats().Errors == c.Stats().StoreErrors
	}, 10*time.Second, 5*time.Millisecond, "store %+v, cache %+v", store.Stats(), c.Stats())

	ctx := context.Background()
	_, getErr := store.Get(ctx, "k")
	for _, err := range []error{getErr, store.Set(ctx, "k", []byte("v"), time.Hour), store.Delete(ctx, "k")} {
		cacheAssertClean(t, err, srv.Addr(), "127.0.0.1", password)
		assert.True(t, errors.Is(err, redisstore.ErrUnavailable) || errors.Is(err, redisstore.ErrTimeout), "%v", err)
	}

	srv.Restart()
	_, err = srv.Do("CONFIG", "SET", "requirepass", password)
	require.NoError(t, err)
	before := upstream.Count()
	again := cacheUntilHit(t, gw, "sk-a", cacheChatBody)
	assert.Greater(t, upstream.Count(), before, "the restarted server was empty: the answer was stored anew")
	assert.Equal(t, http.StatusOK, again.status)
}

// Redis made slow (DEBUG SLEEP): a call through the cache finishes, as a
// miss, while the server still sleeps, since every operation of the store
// stops at its Timeout (50 ms here) whatever the client's own timeouts:
// with go-redis's defaults (socket reads bounded by ReadTimeout, 3 s, not by
// the context), with no read timeout at all, and with
// ContextTimeoutEnabled. When Redis wakes up, the cache hits again.
func TestCacheSlowRedisCostsACallItsTimeoutNotTheSleep(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts func(*redis.Options)
	}{
		{"go-redis defaults", func(*redis.Options) {}},
		{"no read timeout", func(o *redis.Options) { o.ReadTimeout = -1 }},
		{"ContextTimeoutEnabled", func(o *redis.Options) { o.ContextTimeoutEnabled = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redisserver.Start(t)
			rdb := srv.Client(t, tc.opts)
			store := redisstore.NewCache(rdb, redisstore.Options{Prefix: "slow:", Timeout: 50 * time.Millisecond})
			gw, _ := cacheGateway(t, llmtest.NewTransport(), store)
			cacheUntilHit(t, gw, "sk-a", cacheChatBody)

			asleep := cacheSleep(t, srv)
			slow := cacheCall(t, gw, "sk-a", cacheChatBody)
			_, getErr := store.Get(context.Background(), "k")
			select {
			case <-asleep:
				t.Fatal("the call waited for Redis to wake up")
			default:
			}
			assert.Equal(t, http.StatusOK, slow.status)
			assert.Contains(t, slow.body, `"chat.completion"`)
			assert.Equal(t, "MISS", slow.cache(), "the stored answer was out of reach in time")
			assert.ErrorIs(t, getErr, redisstore.ErrTimeout)
			cacheAssertClean(t, getErr, srv.Addr(), "127.0.0.1")
			assert.GreaterOrEqual(t, store.Stats().Timeouts, int64(2), "the call's look-up and the direct Get")

			require.NoError(t, <-asleep)
			cacheUntilHit(t, gw, "sk-a", cacheChatBody)
		})
	}
}

// cacheSleep makes srv sleep for three seconds and returns once it sleeps
// (a PING on a connection of its own goes unanswered for 250 ms); the
// channel receives DEBUG SLEEP's outcome when the server wakes up.
func cacheSleep(t *testing.T, srv *redisserver.Server) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := srv.Do("DEBUG", "SLEEP", "3")
		done <- err
	}()
	probe := srv.Client(t, func(o *redis.Options) { o.ContextTimeoutEnabled, o.MaxRetries = true, -1 })
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		defer cancel()
		return probe.Ping(ctx).Err() != nil
	}, 10*time.Second, time.Millisecond, "the server never slept")
	return done
}
