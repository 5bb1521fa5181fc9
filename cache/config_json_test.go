package cache

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigJSONRoundTrips(t *testing.T) {
	in := `{"max_bytes":1048576,"ttl":"90s","max_ttl":"24h","max_entry_bytes":4096,"partition":"metadata:tenant",
		"share_across_credentials":true,"honor_cache_control":true,"cache_fallbacks":true,"no_coalescing":true,
		"coalesce_wait":"1m","coalesce_idle":"1.5s"}`
	var first Config
	require.NoError(t, json.Unmarshal([]byte(in), &first))
	assert.Equal(t, Config{MaxBytes: 1 << 20, TTL: 90 * time.Second, MaxTTL: 24 * time.Hour, MaxEntryBytes: 4096,
		Partition: "metadata:tenant", ShareAcrossCredentials: true, HonorCacheControl: true, CacheFallbacks: true,
		NoCoalescing: true, CoalesceWait: time.Minute, CoalesceIdle: 1500 * time.Millisecond}, first)

	out, err := json.Marshal(first)
	require.NoError(t, err)
	assert.JSONEq(t, `{"max_bytes":1048576,"ttl":"1m30s","max_ttl":"24h0m0s","max_entry_bytes":4096,"partition":"metadata:tenant",
		"share_across_credentials":true,"honor_cache_control":true,"cache_fallbacks":true,"no_coalescing":true,
		"coalesce_wait":"1m0s","coalesce_idle":"1.5s"}`, string(out))
	var second Config
	require.NoError(t, json.Unmarshal(out, &second))
	assert.Equal(t, first, second)

	zero, err := json.Marshal(Config{})
	require.NoError(t, err)
	assert.Equal(t, `{}`, string(zero), "zero durations are left out, as before")
}

func TestConfigJSONRefusesADurationThatIsNotAGoDurationString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"ttl":3600}`, `cache: ttl: want a Go duration string such as "1m", got 3600`},
		{`{"coalesce_idle":"2 seconds"}`, `cache: coalesce_idle: want a Go duration string such as "1m", got "2 seconds"`},
		{`{"max_ttl":null}`, `cache: max_ttl: want a Go duration string such as "1m", got null`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var c Config
			assert.EqualError(t, json.Unmarshal([]byte(tc.in), &c), tc.want)
		})
	}
}

func TestConfigJSONNegativeDurationIsAValidationError(t *testing.T) {
	var c Config
	require.NoError(t, json.Unmarshal([]byte(`{"ttl":"-1m"}`), &c))
	assert.ErrorContains(t, c.Validate(), "cache: ttl -1m0s is negative")
}
