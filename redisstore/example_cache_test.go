package redisstore_test

import (
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/redisstore"
)

// Every replica of a service builds the same stack on the same Redis: an
// answer one replica cached is a hit on the others. (It needs a Redis at
// localhost:6379, so it has no Output to check.)
func ExampleNewCache() {
	rdb := redis.NewClient(&redis.Options{
		Addr: "localhost:6379",
		// Commands stop at the store's Timeout by themselves (the store
		// needs no goroutine per command to bound them).
		ContextTimeoutEnabled: true,
	})
	defer rdb.Close()

	answers := cache.New(cache.Config{
		TTL:   time.Hour,
		Store: redisstore.NewCache(rdb, redisstore.Options{Prefix: "myapp:"}),
	})
	gw, err := aigateway.New(http.DefaultTransport, answers)
	if err != nil {
		panic(err)
	}
	defer gw.Close()

	// Give gw.Client() to openai-go or anthropic-sdk-go. Redis slow or
	// gone makes calls misses, counted here, never errors.
	_ = gw.Client()
	_ = answers.Stats().StoreErrors
}
