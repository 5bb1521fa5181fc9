package redisstore_test

import (
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/ratelimit"
	"github.com/aigateway-go/aigateway/redisstore"
)

// Every replica of a service builds the same limiter on the same Redis
// (the same Prefix): they share its limits and budgets, instead of each
// admitting its own share. (It needs a Redis at localhost:6379, so it has
// no Output to check.)
func ExampleNewLimits() {
	rdb := redis.NewClient(&redis.Options{
		Addr: "localhost:6379",
		// Commands stop at the store's Timeout by themselves (the store
		// needs no goroutine per operation to bound them).
		ContextTimeoutEnabled: true,
	})
	defer rdb.Close()

	limits := redisstore.NewLimits(rdb, redisstore.Options{Prefix: "myapp:"})
	limiter := ratelimit.New(ratelimit.Config{
		Store: limits,
		Rules: []ratelimit.Rule{
			{Name: "per-team", Key: "metadata:team", Requests: 600, Per: time.Minute},
			{Name: "tokens", Tokens: 2_000_000, Per: time.Minute},
			{Name: "monthly", CostUSD: 500, Period: ratelimit.PeriodMonth},
		},
		// Redis slow or gone admits calls (counted in Stats); FailClosed
		// refuses them with a 503 instead.
		FailClosed: false,
	})
	gw, err := aigateway.New(http.DefaultTransport, limiter)
	if err != nil {
		panic(err)
	}
	defer gw.Close()

	// Give gw.Client() to openai-go or anthropic-sdk-go.
	_ = gw.Client()
	_ = limiter.Stats().StoreErrors
	_ = limits.Stats().Timeouts
}
