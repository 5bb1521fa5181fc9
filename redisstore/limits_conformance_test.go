package redisstore

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/aigateway-go/aigateway/ratelimit"
	"github.com/aigateway-go/aigateway/ratelimit/storetest"
	"github.com/aigateway-go/aigateway/redisstore/internal/redisserver"
)

// The conformance suite, against a real server: each subtest gets its
// own store (its own clock offset), all on one server and one client, as
// the replicas of a service share them.
func TestLimitsConformance(t *testing.T) {
	srv := redisserver.Start(t)
	rdb := srv.Client(t)
	storetest.Run(t, func(*testing.T) ratelimit.Store {
		return NewLimits(rdb, Options{Prefix: "conformance:", Timeout: limTimeout})
	})
}

// The conformance suite through a Cluster client, on a one-node Cluster
// that refuses any script whose keys are in several hash slots.
func TestLimitsConformanceCluster(t *testing.T) {
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{redisserver.StartCluster(t).Addr()}})
	t.Cleanup(func() { _ = cluster.Close() })
	storetest.Run(t, func(*testing.T) ratelimit.Store {
		return NewLimits(cluster, Options{Prefix: "conformance:", Timeout: limTimeout})
	})
}
