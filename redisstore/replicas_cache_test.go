package redisstore_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/redisstore"
	"github.com/aigateway-go/aigateway/redisstore/internal/redisserver"
)

// Three replicas of a service, each with its own go-redis client and its
// own cache layer, on one Redis: an answer one replica cached is a hit on
// the others, a JSON answer as the same bytes and a stream replayed as a
// stream (its events, in the original bytes); a caller with another API key
// never gets it.
func TestCacheReplicasShareAnswersNotAcrossCredentials(t *testing.T) {
	srv := redisserver.Start(t)
	upstream := llmtest.NewTransport()
	for _, tc := range []struct {
		name, body string
		stream     bool
	}{
		{"json", cacheChatBody, false},
		{"stream", cacheStreamBody, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := "replicas:" + tc.name + ":"
			var replicas [3]*aigateway.Gateway
			var layers [3]*cache.Cache
			for i := range replicas {
				// A generous Timeout: this test is about sharing, and a
				// look-up that ran out on a loaded machine would be a miss
				// (the fault tests check the bound).
				replicas[i], layers[i] = cacheGateway(t, upstream,
					redisstore.NewCache(srv.Client(t), redisstore.Options{Prefix: prefix, Timeout: 5 * time.Second}))
			}
			admin := srv.Client(t)
			before := upstream.Count()

			first := cacheCall(t, replicas[0], "sk-tenant-a", tc.body)
			require.Equal(t, http.StatusOK, first.status)
			require.Equal(t, "MISS", first.cache())
			if tc.stream {
				require.Equal(t, "text/event-stream", cacheMediaType(first.header))
				require.GreaterOrEqual(t, strings.Count(first.body, "data: "), 4, "several events: %q", first.body)
			}
			cacheWaitKeys(t, admin, prefix, 1)

			for _, i := range []int{1, 2} {
				hit := cacheCall(t, replicas[i], "sk-tenant-a", tc.body)
				assert.Equal(t, "HIT", hit.cache(), "replica %d", i)
				assert.Equal(t, aigateway.CacheHit, hit.result.CacheStatus, "replica %d", i)
				assert.Zero(t, hit.result.Attempts, "replica %d went upstream", i)
				assert.Equal(t, first.body, hit.body, "replica %d replays the original bytes", i)
				assert.Equal(t, first.header.Get("Content-Type"), hit.header.Get("Content-Type"))
				if tc.stream {
					assert.Empty(t, hit.header.Get("Content-Length"), "a stream has no length")
				}
				assert.Equal(t, int64(1), layers[i].Stats().Hits)
			}
			assert.Equal(t, 1, upstream.Count()-before, "one upstream call for three replicas")

			other := cacheCall(t, replicas[1], "sk-tenant-b", tc.body)
			assert.Equal(t, "MISS", other.cache(), "another credential never hits")
			assert.NotEqual(t, first.body, other.body, "its own answer (the fake numbers them)")
			assert.Equal(t, 2, upstream.Count()-before)
			cacheWaitKeys(t, admin, prefix, 2)
			assert.Equal(t, other.body, cacheCall(t, replicas[2], "sk-tenant-b", tc.body).body,
				"the other credential's answer is shared between its own calls")
			assert.Equal(t, first.body, cacheCall(t, replicas[0], "sk-tenant-a", tc.body).body,
				"and the first credential still gets its own")
			assert.Equal(t, 2, upstream.Count()-before)
		})
	}
}

// cacheMediaType is a Content-Type without its parameters.
func cacheMediaType(h http.Header) string {
	mt, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	return strings.TrimSpace(mt)
}
