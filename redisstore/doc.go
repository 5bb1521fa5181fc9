// Package redisstore keeps the stack's shared state in Redis, so that the
// replicas of a service share one set of rate limits, budgets and cached
// answers instead of one each:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	limits := redisstore.NewLimits(rdb, redisstore.Options{Prefix: "myapp:"})
//	answers := redisstore.NewCache(rdb, redisstore.Options{Prefix: "myapp:"})
//
// NewLimits returns a ratelimit.Store and NewCache a cache.Store; both take
// any redis.UniversalClient (a single node, Sentinel, or Cluster) and pass
// the same conformance suites as the in-memory stores, against a real
// server.
//
// Redis slow or gone costs a call at most Options.Timeout: the cache then
// misses and the limiter admits the call (or refuses it with a 503 when its
// Config.FailClosed is set). Both count the failure in their Stats and
// recover by themselves when Redis answers again.
//
// The fallback router's view of its targets' health stays per process:
// each replica learns for itself that a provider is failing.
//
// It is a module of its own, so that the core module does not depend on
// go-redis.
package redisstore
