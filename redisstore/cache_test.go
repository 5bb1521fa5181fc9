package redisstore_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/redisstore"
	"github.com/aigateway-go/aigateway/redisstore/internal/redisserver"
)

// Helpers of the cache store's tests start with "cache", so that they do
// not collide with the limits store's tests in the same package.

const (
	cacheChatURL    = llmtest.TransportURL + "/v1/chat/completions"
	cacheChatBody   = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}],"temperature":0}`
	cacheStreamBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}],"temperature":0,"stream":true,"stream_options":{"include_usage":true}}`
)

// cacheCommands counts, and keeps, the commands a client sends for its
// callers: not those it sends to set up a connection (HELLO, CLIENT ...).
type cacheCommands struct {
	mu   sync.Mutex
	args [][]any
}

func (h *cacheCommands) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *cacheCommands) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.keep(cmd)
		return next(ctx, cmd)
	}
}

func (h *cacheCommands) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			h.keep(c)
		}
		return next(ctx, cmds)
	}
}

func (h *cacheCommands) keep(cmd redis.Cmder) {
	if cacheSetup(cmd) {
		return
	}
	h.mu.Lock()
	h.args = append(h.args, cmd.Args())
	h.mu.Unlock()
}

// cacheSetup reports a command go-redis sends to set up a connection.
func cacheSetup(cmd redis.Cmder) bool {
	name, _ := cmd.Args()[0].(string)
	switch strings.ToLower(name) {
	case "hello", "client", "auth", "select":
		return true
	}
	return false
}

// take returns the commands sent since the last take.
func (h *cacheCommands) take() [][]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.args
	h.args = nil
	return a
}

// names returns the commands' names, upper case.
func cacheNames(cmds [][]any) []string {
	var names []string
	for _, c := range cmds {
		names = append(names, strings.ToUpper(c[0].(string)))
	}
	return names
}

// cacheAnswer is one call's answer, read to its end.
type cacheAnswer struct {
	status int
	header http.Header
	body   string
	result aigateway.Result
}

func (a cacheAnswer) cache() string { return a.header.Get(aigateway.HeaderCache) }

// cacheCall sends one chat request through rt with apiKey as its
// credential and reads the whole answer; it fails t on an error.
func cacheCall(t testing.TB, rt http.RoundTripper, apiKey, body string) cacheAnswer {
	t.Helper()
	a, err := cacheTry(rt, apiKey, body)
	require.NoError(t, err)
	return a
}

// cacheTry is cacheCall for goroutines other than the test's.
func cacheTry(rt http.RoundTripper, apiKey, body string) (cacheAnswer, error) {
	ctx, tr := aigateway.Track(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cacheChatURL, strings.NewReader(body))
	if err != nil {
		return cacheAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return cacheAnswer{}, err
	}
	b, err := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return cacheAnswer{}, err
	}
	a := cacheAnswer{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if call := tr.Last(); call != nil { // nil when rt is not a Gateway
		<-call.Done()
		a.result = call.Result()
	}
	return a, nil
}

// cacheGateway is a Gateway with a cache layer over store, in front of
// upstream.
func cacheGateway(t testing.TB, upstream http.RoundTripper, store cache.Store) (*aigateway.Gateway, *cache.Cache) {
	t.Helper()
	c := cache.New(cache.Config{Store: store})
	gw, err := aigateway.New(upstream, c)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, gw.Close()) })
	return gw, c
}

// cacheKeys lists the keys under prefix (the cache's writes may land after
// the call that made them, on a background queue: tests wait for them
// with cacheWaitKeys).
func cacheKeys(t testing.TB, rdb *redis.Client, prefix string) []string {
	t.Helper()
	keys, err := rdb.Keys(context.Background(), prefix+"*").Result()
	require.NoError(t, err)
	return keys
}

// cacheWaitKeys waits, with a generous deadline, until n keys are under
// prefix.
func cacheWaitKeys(t testing.TB, rdb *redis.Client, prefix string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(cacheKeys(t, rdb, prefix)) == n },
		10*time.Second, 5*time.Millisecond, "waiting for %d entries under %q", n, prefix)
}

// Each operation is one command, one round trip; Set sends SET with PX and
// the TTL rounded up to a whole millisecond (PX 0 is an error in Redis, and
// rounding down would expire an entry before its time).
func TestCacheEachOperationIsOneCommandWithPXRoundedUp(t *testing.T) {
	srv := redisserver.Start(t)
	rdb := srv.Client(t)
	var hook cacheCommands
	rdb.AddHook(&hook)
	s := redisstore.NewCache(rdb, redisstore.Options{Prefix: "px:", Timeout: 5 * time.Second})
	ctx := context.Background()

	for _, tc := range []struct {
		ttl    time.Duration
		wantMS int64
	}{
		{time.Nanosecond, 1},
		{time.Millisecond, 1},
		{time.Millisecond + time.Nanosecond, 2},
		{1500 * time.Microsecond, 2},
		{2 * time.Second, 2000},
		{time.Hour, 3_600_000},
	} {
		t.Run(tc.ttl.String(), func(t *testing.T) {
			hook.take()
			require.NoError(t, s.Set(ctx, "k", []byte("v"), tc.ttl))
			cmds := hook.take()
			require.Len(t, cmds, 1)
			assert.Equal(t, []any{"set", "px:k", []byte("v"), "px", tc.wantMS}, cmds[0])
		})
	}
	// The last Set (an hour) is in Redis with its TTL.
	pttl, err := rdb.PTTL(ctx, "px:k").Result()
	require.NoError(t, err)
	assert.InDelta(t, time.Hour, pttl, float64(time.Minute))

	hook.take()
	v, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("v"), v)
	require.NoError(t, s.Delete(ctx, "k"))
	v, err = s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Nil(t, v)
	assert.Equal(t, []string{"GET", "DEL", "GET"}, cacheNames(hook.take()))
	assert.Equal(t, redisstore.Stats{}, s.Stats())
}

// A ttl that is not positive breaks the cache.Store contract; the store
// refuses it without a round trip rather than keep an entry in a shared
// Redis for good.
func TestCacheRefusesATTLThatIsNotPositive(t *testing.T) {
	srv := redisserver.Start(t)
	rdb := srv.Client(t)
	var hook cacheCommands
	rdb.AddHook(&hook)
	s := redisstore.NewCache(rdb, redisstore.Options{})
	for _, ttl := range []time.Duration{0, -time.Second} {
		assert.Error(t, s.Set(context.Background(), "k", []byte("v"), ttl), "ttl %v", ttl)
	}
	assert.Empty(t, hook.take())
	assert.Equal(t, redisstore.Stats{Errors: 2}, s.Stats())
}

// The key in Redis is the prefix and the cache layer's key, nothing else:
// the cache's key is a digest, so neither the credential nor the prompt is
// in Redis's keyspace; and the value is the cache's encoding, which keeps
// no request header.
func TestCacheKeysArePrefixAndTheCacheLayersDigest(t *testing.T) {
	const apiKey = "sk-secret-tenant-key-123"
	srv := redisserver.Start(t)
	rdb := srv.Client(t)
	for _, tc := range []struct {
		name, prefix, want string
	}{
		{"default prefix", "", redisstore.DefaultPrefix},
		{"own prefix", "myapp:", "myapp:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, rdb.FlushAll(context.Background()).Err())
			gw, _ := cacheGateway(t, llmtest.NewTransport(), redisstore.NewCache(rdb, redisstore.Options{Prefix: tc.prefix, Timeout: 5 * time.Second}))
			assert.Equal(t, "MISS", cacheCall(t, gw, apiKey, cacheChatBody).cache())
			cacheWaitKeys(t, rdb, tc.want, 1)
			keys := cacheKeys(t, rdb, "")
			require.Len(t, keys, 1, "the store writes the entry and nothing else")
			assert.Regexp(t, "^"+regexp.QuoteMeta(tc.want)+"aigateway:cache:v[0-9]+:[0-9a-f]{64}$", keys[0])
			v, err := rdb.Get(context.Background(), keys[0]).Result()
			require.NoError(t, err)
			assert.NotContains(t, v, apiKey)
			assert.NotContains(t, keys[0], "Say hello")
		})
	}
}

// A value longer than MaxValueBytes is refused before it is sent (no SET
// goes out), counted, and the key's older entry is deleted, as the memory
// store does: a later Get misses rather than return the answer the caller
// meant to replace.
func TestCacheRefusesAValueOverMaxValueBytesWithoutSendingIt(t *testing.T) {
	srv := redisserver.Start(t)
	rdb := srv.Client(t)
	var hook cacheCommands
	rdb.AddHook(&hook)
	s := redisstore.NewCache(rdb, redisstore.Options{Prefix: "big:", MaxValueBytes: 1024, Timeout: 5 * time.Second})
	ctx := context.Background()

	require.NoError(t, s.Set(ctx, "k", make([]byte, 1024), time.Hour), "exactly MaxValueBytes fits")
	v, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Len(t, v, 1024)
	hook.take()

	err = s.Set(ctx, "k", make([]byte, 1025), time.Hour)
	assert.ErrorIs(t, err, redisstore.ErrValueTooLarge)
	assert.Equal(t, []string{"DEL"}, cacheNames(hook.take()), "the value is not sent; the older entry goes")
	v, err = s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Nil(t, v)
	assert.Equal(t, redisstore.Stats{Errors: 1}, s.Stats())
}

// Through the cache layer: an answer too large for the store still reaches
// the caller whole, the refusal is counted as a store error, and the next
// identical call is a miss that works too.
func TestCacheAnswerTooLargeForTheStoreIsAMissNextTime(t *testing.T) {
	srv := redisserver.Start(t)
	rdb := srv.Client(t)
	store := redisstore.NewCache(rdb, redisstore.Options{MaxValueBytes: 256, Timeout: 5 * time.Second})
	upstream := llmtest.NewTransport()
	gw, c := cacheGateway(t, upstream, store)

	first := cacheCall(t, gw, "sk-a", cacheChatBody)
	require.Equal(t, http.StatusOK, first.status)
	assert.Equal(t, "MISS", first.cache())
	assert.Greater(t, len(first.body), 256)
	// The refusal happens without a round trip, when the cache stores the
	// answer (maybe after the call): wait for it to be counted.
	require.Eventually(t, func() bool { return c.Stats().StoreErrors == 1 }, 10*time.Second, 5*time.Millisecond)

	second := cacheCall(t, gw, "sk-a", cacheChatBody)
	assert.Equal(t, http.StatusOK, second.status)
	assert.Equal(t, "MISS", second.cache())
	assert.Equal(t, 2, upstream.Count())
	assert.Empty(t, cacheKeys(t, rdb, ""))
	require.Eventually(t, func() bool { return store.Stats().Errors == 2 }, 10*time.Second, 5*time.Millisecond)
}

// The default MaxValueBytes holds the largest entry the cache layer makes
// with its own default bound (a body of cache.DefaultMaxEntryBytes, its
// headers and its trailer): with the defaults, an answer the cache keeps is
// an answer the store keeps.
func TestCacheDefaultMaxValueBytesHoldsTheCacheLayersLargestEntry(t *testing.T) {
	srv := redisserver.Start(t)
	rdb := srv.Client(t)
	// A generous timeout: this test is about size, not speed (4 MiB under
	// the race detector on a shared machine).
	store := redisstore.NewCache(rdb, redisstore.Options{Timeout: 30 * time.Second})
	// A body a few bytes short of the cache layer's bound: the fake's JSON
	// around the reply is measured first.
	around := len(cacheCall(t, llmtest.NewTransport(llmtest.WithReply("x")), "sk-a", cacheChatBody).body) - 1
	reply := strings.Repeat("word ", (cache.DefaultMaxEntryBytes-around-16)/5)
	upstream := llmtest.NewTransport(llmtest.WithReply(reply))
	gw, c := cacheGateway(t, upstream, store)

	first := cacheCall(t, gw, "sk-a", cacheChatBody)
	require.Equal(t, "MISS", first.cache())
	require.Greater(t, len(first.body), cache.DefaultMaxEntryBytes-64)
	require.LessOrEqual(t, len(first.body), cache.DefaultMaxEntryBytes, "the cache layer keeps it")
	cacheWaitKeys(t, rdb, redisstore.DefaultPrefix, 1)
	stored, err := rdb.StrLen(context.Background(), cacheKeys(t, rdb, "")[0]).Result()
	require.NoError(t, err)
	assert.Greater(t, stored, int64(cache.DefaultMaxEntryBytes), "headers and trailer come on top of the body")
	second := cacheCall(t, gw, "sk-a", cacheChatBody)
	assert.Equal(t, "HIT", second.cache())
	assert.Equal(t, first.body, second.body)
	assert.Zero(t, c.Stats().StoreErrors)
	assert.Equal(t, redisstore.Stats{}, store.Stats())
}

// Through a Gateway, a miss is two round trips (GET, then SET after the
// caller's last Read) and a hit one (GET): the leader does not look twice
// when no call of the process stored an answer in between.
func TestCacheRoundTripsPerCall(t *testing.T) {
	srv := redisserver.Start(t)
	rdb := srv.Client(t)
	var hook cacheCommands
	rdb.AddHook(&hook)
	// A generous timeout, as the other tests here: this one counts round
	// trips, not their speed, and a look-up past DefaultTimeout on a loaded
	// machine would make the hit a miss.
	store := redisstore.NewCache(rdb, redisstore.Options{Timeout: 5 * time.Second})
	gw, c := cacheGateway(t, llmtest.NewTransport(), store)
	require.Equal(t, "MISS", cacheCall(t, gw, "sk-a", cacheChatBody).cache())
	require.NoError(t, c.Flush(context.Background()))
	assert.Equal(t, []string{"GET", "SET"}, cacheNames(hook.take()), "a miss")
	require.Equal(t, "HIT", cacheCall(t, gw, "sk-a", cacheChatBody).cache())
	assert.Equal(t, []string{"GET"}, cacheNames(hook.take()), "a hit")
}

// A context that has already ended makes no round trip; the error says
// both that Redis was not asked in time and why (errors.Is finds the
// context's error, as storetest asks).
func TestCacheEndedContextMakesNoRoundTrip(t *testing.T) {
	srv := redisserver.Start(t)
	rdb := srv.Client(t)
	var hook cacheCommands
	rdb.AddHook(&hook)
	s := redisstore.NewCache(rdb, redisstore.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := s.Get(ctx, "k")
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, redisstore.ErrTimeout)
	assert.ErrorIs(t, s.Set(ctx, "k", []byte("v"), time.Hour), context.Canceled)
	assert.ErrorIs(t, s.Delete(ctx, "k"), context.Canceled)
	assert.Empty(t, hook.take())
	assert.Equal(t, redisstore.Stats{Errors: 3, Timeouts: 3}, s.Stats())
}

// cacheGoroutine is the id of the goroutine that calls it, from its stack's
// first line ("goroutine 18 [running]:").
func cacheGoroutine() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := strings.Cut(strings.TrimPrefix(string(buf), "goroutine "), " ")
	return id
}

// cacheOnGoroutine records the goroutine each command runs on.
type cacheOnGoroutine struct {
	mu  sync.Mutex
	ids []string
}

func (h *cacheOnGoroutine) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *cacheOnGoroutine) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *cacheOnGoroutine) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !cacheSetup(cmd) {
			h.mu.Lock()
			h.ids = append(h.ids, cacheGoroutine())
			h.mu.Unlock()
		}
		return next(ctx, cmd)
	}
}

// A client that stops at the context's deadline by itself
// (ContextTimeoutEnabled) runs the store's commands on the caller's
// goroutine, saving a goroutine start and a wake-up on each; any other
// gets a goroutine per command, which the store can stop waiting for.
func TestCacheRunsCommandsOnTheCallersGoroutineOnlyForAClientThatFollowsDeadlines(t *testing.T) {
	srv := redisserver.Start(t)
	ring := func(follows bool) redis.UniversalClient {
		r := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"one": srv.Addr()}, ContextTimeoutEnabled: follows})
		t.Cleanup(func() { _ = r.Close() })
		return r
	}
	for _, tc := range []struct {
		name   string
		client redis.UniversalClient
		inline bool
	}{
		{"client", srv.Client(t), false},
		{"client with ContextTimeoutEnabled", srv.Client(t, func(o *redis.Options) { o.ContextTimeoutEnabled = true }), true},
		{"ring", ring(false), false},
		{"ring with ContextTimeoutEnabled", ring(true), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hook cacheOnGoroutine
			tc.client.AddHook(&hook)
			s := redisstore.NewCache(tc.client, redisstore.Options{Prefix: "inline:", Timeout: 5 * time.Second})
			ctx := context.Background()
			require.NoError(t, s.Set(ctx, "k", []byte("v"), time.Hour))
			_, err := s.Get(ctx, "k")
			require.NoError(t, err)
			require.NoError(t, s.Delete(ctx, "k"))
			me := cacheGoroutine()
			require.Len(t, hook.ids, 3)
			for _, id := range hook.ids {
				assert.Equal(t, tc.inline, id == me, "command on goroutine %s, caller %s", id, me)
			}
		})
	}
}
