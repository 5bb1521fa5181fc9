package redisstore_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/cache/storetest"
	"github.com/aigateway-go/aigateway/redisstore"
	"github.com/aigateway-go/aigateway/redisstore/internal/redisserver"
)

// The store passes the suite the memory store passes, against a real
// server, with a client that leaves socket reads to its own timeouts (the
// go-redis default) and with one that follows the context's deadline.
//
// The suite checks what the store keeps, not how fast: its Timeout is
// generous here (a 1 MiB value, under the race detector, on a shared
// machine). The fault tests check the default bound.
func TestCacheConformance(t *testing.T) {
	srv := redisserver.Start(t)
	for _, tc := range []struct {
		name string
		opts func(*redis.Options)
	}{
		{"go-redis defaults", func(*redis.Options) {}},
		{"ContextTimeoutEnabled", func(o *redis.Options) { o.ContextTimeoutEnabled = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdb := srv.Client(t, tc.opts)
			storetest.Run(t, func(t *testing.T) cache.Store {
				return redisstore.NewCache(rdb, redisstore.Options{Prefix: "conformance:", Timeout: 10 * time.Second})
			})
		})
	}
}
