package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/redisstore/internal/redisserver"
)

// Errors from a real server, gone or refusing, come out as the package's
// own, without the address or the password the client was given.
func TestErrorsNameNoAddressNorPassword(t *testing.T) {
	srv := redisserver.Start(t)
	_, err := srv.Do("CONFIG", "SET", "requirepass", "hunter2-secret")
	require.NoError(t, err)

	for _, tc := range []struct {
		name     string
		password string
		kill     bool
		want     error
	}{
		{"wrong password", "wrong-secret", false, ErrRedis},
		{"server gone", "hunter2-secret", true, ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.kill {
				srv.Kill()
				t.Cleanup(srv.Restart)
			}
			rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: tc.password, MaxRetries: -1})
			t.Cleanup(func() { rdb.Close() })
			c := newConn(rdb, Options{Timeout: 2 * time.Second})
			ctx, cancel := c.opts.bounded(context.Background())
			defer cancel()
			raw := rdb.Ping(ctx).Err()
			require.Error(t, raw)
			err := c.fail(raw)
			assert.ErrorIs(t, err, tc.want)
			for _, secret := range []string{srv.Addr(), "127.0.0.1", tc.password} {
				assert.NotContains(t, err.Error(), secret)
			}
			assert.Equal(t, Stats{Errors: 1}, c.stats())
		})
	}
}

func TestATimeoutIsCountedAsOne(t *testing.T) {
	c := newConn(nil, Options{})
	err := c.fail(context.DeadlineExceeded)
	assert.True(t, errors.Is(err, ErrTimeout))
	assert.Equal(t, Stats{Errors: 1, Timeouts: 1}, c.stats())
}
