package redisstore_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/redisstore"
	"github.com/aigateway-go/aigateway/redisstore/internal/redisserver"
)

// The cache layer's own benchmark request and answer (cache/bench_test.go):
// a ~1 KB chat request and a ~1 KB answer.
var (
	cacheBenchBody  = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"` + strings.Repeat("Summarise the quarterly report in one line. ", 20) + `"}],"temperature":0}`)
	cacheBenchReply = strings.TrimSpace(strings.Repeat("The quarterly report shows steady growth overall. ", 17))
)

// cacheBench is a Redis server for a benchmark, with two cache stores on
// it: one through a client with go-redis's defaults and one through a
// client with ContextTimeoutEnabled, both counting the commands they send. Their
// Timeout is generous: a benchmark measures, it does not test the bound.
type cacheBench struct {
	rdb     *redis.Client
	hook    *cacheCommands
	store   *redisstore.Cache // go-redis defaults
	follows *redisstore.Cache // ContextTimeoutEnabled
}

func newCacheBench(b *testing.B) cacheBench {
	srv := redisserver.Start(b)
	cb := cacheBench{rdb: srv.Client(b), hook: &cacheCommands{}}
	cb.rdb.AddHook(cb.hook)
	opts := redisstore.Options{Timeout: 5 * time.Second}
	cb.store = redisstore.NewCache(cb.rdb, opts)
	follows := srv.Client(b, func(o *redis.Options) { o.ContextTimeoutEnabled = true })
	follows.AddHook(cb.hook)
	cb.follows = redisstore.NewCache(follows, opts)
	return cb
}

// reportRoundTrips reports the commands sent per operation.
func reportRoundTrips(b *testing.B, hook *cacheCommands) {
	b.ReportMetric(float64(len(hook.take()))/float64(b.N), "roundtrips/op")
}

// BenchmarkCacheStore: one Get (a hit and a miss) and one Set of a 2 KiB
// value, in the memory store and in Redis on loopback, through a client
// with go-redis's defaults (a goroutine per command) and one with
// ContextTimeoutEnabled (none); "client" is the bare go-redis call, to show
// what the store adds to it. roundtrips/op counts the commands sent.
func BenchmarkCacheStore(b *testing.B) {
	ctx := context.Background()
	value := bytes.Repeat([]byte("x"), 2048)
	mem := cache.NewMemoryStore(0)
	defer mem.Close()
	cb := newCacheBench(b)
	rdb, hook := cb.rdb, cb.hook
	for _, st := range []struct {
		name string
		s    cache.Store
	}{{"memory", mem}, {"redis", cb.store}, {"redis-ContextTimeoutEnabled", cb.follows}} {
		name, s := st.name, st.s
		if err := s.Set(ctx, "present", value, time.Hour); err != nil {
			b.Fatal(err)
		}
		b.Run("get-hit/"+name, func(b *testing.B) {
			b.ReportAllocs()
			hook.take()
			for b.Loop() {
				if v, err := s.Get(ctx, "present"); err != nil || len(v) != len(value) {
					b.Fatal(len(v), err)
				}
			}
			if name != "memory" {
				reportRoundTrips(b, hook)
			}
		})
		b.Run("get-miss/"+name, func(b *testing.B) {
			b.ReportAllocs()
			hook.take()
			for b.Loop() {
				if v, err := s.Get(ctx, "absent"); err != nil || v != nil {
					b.Fatal(v, err)
				}
			}
			if name != "memory" {
				reportRoundTrips(b, hook)
			}
		})
		b.Run("set/"+name, func(b *testing.B) {
			b.ReportAllocs()
			hook.take()
			for b.Loop() {
				if err := s.Set(ctx, "written", value, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
			if name != "memory" {
				reportRoundTrips(b, hook)
			}
		})
	}
	b.Run("get-hit/client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if v, err := rdb.Get(ctx, redisstore.DefaultPrefix+"present").Bytes(); err != nil || len(v) != len(value) {
				b.Fatal(len(v), err)
			}
		}
		hook.take()
	})
}

// BenchmarkCacheGateway: whole calls through a Gateway with the cache layer
// over the memory store and over Redis on loopback, upstream the in-memory
// fake: every call a hit, or every call a miss (each request differs: it is
// looked up, sent upstream, teed and stored). "none" is the Gateway without
// a cache. roundtrips/op counts the Redis commands of one call.
func BenchmarkCacheGateway(b *testing.B) {
	fake := llmtest.NewTransport(llmtest.WithReply(cacheBenchReply))
	same := func(int) []byte { return cacheBenchBody }
	unique := func(i int) []byte {
		return bytes.Replace(cacheBenchBody, []byte(`"temperature":0`), []byte(`"temperature":0,"seed":`+strconv.Itoa(i)), 1)
	}
	cb := newCacheBench(b)
	rdb, hook := cb.rdb, cb.hook
	gateway := func(b *testing.B, layers ...aigateway.Middleware) *aigateway.Gateway {
		gw, err := aigateway.New(fake, layers...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = gw.Close() })
		return gw
	}
	b.Run("none", func(b *testing.B) { cacheBenchCalls(b, gateway(b), same, "") })
	for _, store := range []string{"memory", "redis", "redis-ContextTimeoutEnabled"} {
		newStore := func() cache.Store {
			switch store {
			case "memory":
				return cache.NewMemoryStore(64 << 20)
			}
			if err := rdb.FlushAll(context.Background()).Err(); err != nil {
				b.Fatal(err)
			}
			if store == "redis" {
				return cb.store
			}
			return cb.follows
		}
		b.Run("hit/"+store, func(b *testing.B) {
			gw := gateway(b, cache.New(cache.Config{Store: newStore()}))
			cacheBenchWarm(b, gw)
			hook.take()
			cacheBenchCalls(b, gw, same, "HIT")
			if store != "memory" {
				reportRoundTrips(b, hook)
			}
		})
		b.Run("miss/"+store, func(b *testing.B) {
			gw := gateway(b, cache.New(cache.Config{Store: newStore()}))
			hook.take()
			cacheBenchCalls(b, gw, unique, "MISS")
			if store != "memory" {
				reportRoundTrips(b, hook)
			}
		})
	}
}

// cacheBenchCalls makes a call per b.Loop, each answer read to its end and
// its cache status checked to be want (any when want is empty).
func cacheBenchCalls(b *testing.B, rt http.RoundTripper, body func(int) []byte, want string) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if got := cacheBenchCall(b, rt, body(i)); want != "" && got != want {
			b.Fatalf("call %d: %q, want %q", i, got, want)
		}
		i++
	}
}

// cacheBenchWarm calls until the answer is a hit: the first call stores
// it, maybe after it returns.
func cacheBenchWarm(b *testing.B, rt http.RoundTripper) {
	deadline := time.Now().Add(10 * time.Second)
	for cacheBenchCall(b, rt, cacheBenchBody) != "HIT" {
		if time.Now().After(deadline) {
			b.Fatal("never a hit")
		}
		time.Sleep(time.Millisecond)
	}
}

// cacheBenchCall makes one call, reads its answer and returns its cache
// status.
func cacheBenchCall(b *testing.B, rt http.RoundTripper, body []byte) string {
	req, _ := http.NewRequest(http.MethodPost, cacheChatURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-bench")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.Header.Get(aigateway.HeaderCache)
}
