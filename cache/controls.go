package cache

import (
	"context"
	"time"

	"github.com/aigateway-go/aigateway"
)

func update(ctx context.Context, f func(*aigateway.Controls)) context.Context {
	c := aigateway.ContextControls(ctx)
	f(&c)
	return aigateway.WithControls(ctx, c)
}

// WithTTL keeps the answers of the calls made with ctx for ttl.
func WithTTL(ctx context.Context, ttl time.Duration) context.Context {
	return update(ctx, func(c *aigateway.Controls) { c.CacheTTL = ttl })
}

// WithKey caches the calls made with ctx under key instead of the key
// computed from the request (still partitioned by credential).
func WithKey(ctx context.Context, key string) context.Context {
	return update(ctx, func(c *aigateway.Controls) { c.CacheKey = key })
}

// Skip makes the calls made with ctx neither read nor write the cache.
func Skip(ctx context.Context) context.Context {
	return update(ctx, func(c *aigateway.Controls) { c.SkipCache = true })
}

// Refresh makes the calls made with ctx go upstream and store the new answer.
func Refresh(ctx context.Context) context.Context {
	return update(ctx, func(c *aigateway.Controls) { c.RefreshCache = true })
}
