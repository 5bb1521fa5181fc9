package redisstore

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/ratelimit"
	"github.com/aigateway-go/aigateway/redisstore/internal/redisserver"
)

// limBenchStore is one store to measure, with the round trips its client
// made (nil for the memory store).
type limBenchStore struct {
	name  string
	store ratelimit.Store
	trips *atomic.Int64
}

// limBenchStores are the memory store and the Redis store on a loopback
// server, with go-redis's default client (a goroutine per operation) and
// with one built with ContextTimeoutEnabled (none).
func limBenchStores(b *testing.B) []limBenchStore {
	b.Helper()
	srv := redisserver.Start(b)
	stores := []limBenchStore{{name: "memory", store: ratelimit.NewMemoryStore(0)}}
	for _, c := range []struct {
		name   string
		inline bool
	}{{"redis", false}, {"redis-ContextTimeoutEnabled", true}} {
		rdb := srv.Client(b, func(o *redis.Options) { o.ContextTimeoutEnabled = c.inline })
		trips := new(atomic.Int64)
		rdb.AddHook(limHook{process: func(next redis.ProcessHook) redis.ProcessHook {
			return func(ctx context.Context, cmd redis.Cmder) error {
				trips.Add(1)
				return next(ctx, cmd)
			}
		}})
		stores = append(stores, limBenchStore{name: c.name, store: NewLimits(rdb, Options{Prefix: "bench:" + c.name + ":", Timeout: limTimeout}), trips: trips})
	}
	return stores
}

// run measures op on s, reporting the round trips per op.
func (s limBenchStore) run(b *testing.B, op func(ctx context.Context) error) {
	b.Helper()
	ctx := context.Background()
	if err := op(ctx); err != nil { // connects, measures the clock, loads the script
		b.Fatal(err)
	}
	if s.trips != nil {
		s.trips.Store(0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := op(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if s.trips != nil {
		b.ReportMetric(float64(s.trips.Load())/float64(b.N), "roundtrips/op")
	}
}

// limBenchTakes are a call's takes under a Config of n rules: requests,
// tokens, a monthly budget; limits too large to refuse.
func limBenchTakes(n int, now time.Time) []ratelimit.Take {
	huge := ratelimit.Limit{Rate: 1 << 50, Per: time.Second, Burst: 1 << 50}
	takes := []ratelimit.Take{
		{Key: "aigateway:ratelimit:v1:3:rpm:req:", Limit: huge, Cost: 1},
		{Key: "aigateway:ratelimit:v1:3:tpm:tok:", Limit: huge, Cost: 700},
		{Key: "aigateway:ratelimit:v1:7:monthly:usd:@2030-01-01", Limit: ratelimit.Limit{Rate: 1 << 60, Burst: 1 << 60, Until: now.Add(30 * 24 * time.Hour)}, Cost: 120_000},
	}
	return takes[:n]
}

// BenchmarkLimitsReserve is one admission: the Reserve of a call under one
// rule, or three.
func BenchmarkLimitsReserve(b *testing.B) {
	for _, s := range limBenchStores(b) {
		for _, n := range []int{1, 3} {
			b.Run(s.name+"/rules="+strconv.Itoa(n), func(b *testing.B) {
				v := make([]ratelimit.Verdict, n)
				s.run(b, func(ctx context.Context) error {
					now := time.Now()
					_, err := s.store.Reserve(ctx, now, limBenchTakes(n, now), v)
					return err
				})
			})
		}
	}
}

// BenchmarkLimitsAdjust is one settlement: the Adjust of a call's tokens
// and cost.
func BenchmarkLimitsAdjust(b *testing.B) {
	for _, s := range limBenchStores(b) {
		b.Run(s.name, func(b *testing.B) {
			s.run(b, func(ctx context.Context) error {
				now := time.Now()
				return s.store.Adjust(ctx, now, limBenchTakes(3, now)[1:])
			})
		})
	}
}

// BenchmarkLimitsReserveParallel is admissions from many goroutines at
// once, on one counter.
func BenchmarkLimitsReserveParallel(b *testing.B) {
	for _, s := range limBenchStores(b) {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				v := make([]ratelimit.Verdict, 1)
				for pb.Next() {
					now := time.Now()
					if _, err := s.store.Reserve(context.Background(), now, limBenchTakes(1, now), v); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkLimitsGatewayCall is a whole call through a Gateway whose
// limiter counts requests, tokens and a monthly budget: its admission and
// its settlement, over each store, with an in-memory upstream.
func BenchmarkLimitsGatewayCall(b *testing.B) {
	rules := []ratelimit.Rule{
		{Name: "rpm", Requests: 1 << 40, Per: time.Minute},
		{Name: "tpm", Tokens: 1 << 50, Per: time.Minute},
		{Name: "monthly", CostUSD: 1e9, Period: ratelimit.PeriodMonth},
	}
	for _, s := range limBenchStores(b) {
		b.Run(s.name, func(b *testing.B) {
			gw, err := aigateway.New(llmtest.NewTransport(llmtest.WithUsage(llmtest.Usage{InputTokens: 20, OutputTokens: 10})),
				ratelimit.New(ratelimit.Config{Store: s.store, Rules: rules}))
			if err != nil {
				b.Fatal(err)
			}
			defer gw.Close()
			client := gw.Client()
			s.run(b, func(ctx context.Context) error {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, limChatURL, strings.NewReader(limChatBody))
				if err != nil {
					return err
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer sk-bench")
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				_, err = io.Copy(io.Discard, resp.Body)
				return errors.Join(err, resp.Body.Close())
			})
		})
	}
}
