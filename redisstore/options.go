package redisstore

import (
	"context"
	"time"
)

// DefaultTimeout bounds each Redis operation when Options.Timeout is zero:
// well under an LLM provider's own latency, so that a Redis that is slow
// or gone costs a call little before the stack goes on without it.
const DefaultTimeout = 50 * time.Millisecond

// DefaultPrefix starts every key when Options.Prefix is empty.
const DefaultPrefix = "aigateway:"

// Options configure a store.
type Options struct {
	// Prefix starts every key the store writes (DefaultPrefix when
	// empty), so that several services, or several stacks of one, can
	// share a Redis.
	Prefix string
	// Timeout bounds each operation, round trip included (DefaultTimeout
	// when zero). An operation that runs out is an error: the cache
	// misses, the limiter fails open or closed as configured.
	Timeout time.Duration
	// MaxValueBytes bounds one value the cache store sends to Redis
	// (DefaultMaxValueBytes when zero): a larger one is refused before
	// it is sent (ErrValueTooLarge).
	MaxValueBytes int
}

func (o Options) prefix() string {
	if o.Prefix == "" {
		return DefaultPrefix
	}
	return o.Prefix
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

// bounded is ctx limited to the store's timeout.
func (o Options) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, o.timeout())
}
