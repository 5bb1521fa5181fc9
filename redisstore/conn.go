package redisstore

import (
	"context"
	"errors"
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

	errors, timeouts atomic.Int64
}

func newConn(rdb redis.UniversalClient, opts Options) *conn {
	return &conn{rdb: rdb, opts: opts, prefix: opts.prefix()}
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
