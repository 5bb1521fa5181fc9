package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Errors a store returns. They never carry the server's address, user
// name or password (go-redis's own errors name the address they dialled):
// a store's errors may end up in a log.
var (
	// ErrTimeout: Redis did not answer within Options.Timeout, or the
	// caller's context ended first.
	ErrTimeout = errors.New("redisstore: Redis did not answer in time")
	// ErrUnavailable: the connection to Redis failed (refused, reset,
	// closed).
	ErrUnavailable = errors.New("redisstore: Redis unavailable")
	// ErrRedis: Redis answered with an error (out of memory, read-only
	// replica, wrong type ...); the error wrapping it carries Redis's own
	// message, which names no address.
	ErrRedis = errors.New("redisstore: Redis refused the command")
)

// Stats are a store's counters since it was made.
type Stats struct {
	// Errors counts operations that failed, whatever the cause;
	// Timeouts counts those of them that ran out of time.
	Errors, Timeouts int64
}

// conn is what every store holds: the client, its options, its counters.
type conn struct {
	rdb    redis.UniversalClient
	opts   Options
	prefix string
	inline bool // the client follows context deadlines: commands run on the caller's goroutine

	errors, timeouts atomic.Int64
}

func newConn(rdb redis.UniversalClient, opts Options) *conn {
	return &conn{rdb: rdb, opts: opts, prefix: opts.prefix(), inline: followsDeadlines(rdb)}
}

// followsDeadlines reports a client built with ContextTimeoutEnabled: its
// commands stop at the context's deadline by themselves. Any other client
// (or one it does not know) leaves a socket read to its own ReadTimeout
// (3 s by default, or none), whatever the context says.
func followsDeadlines(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return false
}

// await runs op, which makes its round trips with ctx (bounded by the
// caller), and returns when op does or when ctx ends, whichever comes
// first: on the caller's goroutine for a client that follows deadlines,
// else on a goroutine of its own, which ends when Redis answers or the
// client gives up. op must not touch the caller's memory after ctx ends:
// it may outlive the call.
func (c *conn) await(ctx context.Context, op func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.inline {
		return op()
	}
	done := make(chan error, 1)
	go func() { done <- op() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		select {
		case err := <-done: // it answered just in time
			return err
		default:
			return ctx.Err()
		}
	}
}

// failed counts err and returns it sanitized (see fail); when the caller's
// own context has ended, the error wraps that context's error too, so that
// errors.Is finds it.
func (c *conn) failed(ctx context.Context, err error) error {
	e := c.fail(err)
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w: %w", e, cerr)
	}
	return e
}

// Stats returns the store's counters.
func (c *conn) stats() Stats {
	return Stats{Errors: c.errors.Load(), Timeouts: c.timeouts.Load()}
}

// fail counts err and returns it as one of the package's errors, free of
// the address and credentials go-redis may have put in it.
func (c *conn) fail(err error) error {
	c.errors.Add(1)
	var rerr redis.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || isTimeout(err):
		c.timeouts.Add(1)
		return ErrTimeout
	case errors.As(err, &rerr) && !errors.Is(err, redis.ErrClosed):
		return &redisError{msg: rerr.Error()}
	}
	return ErrUnavailable
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// redisError is an error reply from Redis (its message names no address).
type redisError struct{ msg string }

func (e *redisError) Error() string { return "redisstore: Redis: " + e.msg }
func (e *redisError) Unwrap() error { return ErrRedis }
