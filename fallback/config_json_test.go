package fallback

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/provider"
)

func TestConfigJSONRoundTrips(t *testing.T) {
	in := `{"targets":[{"name":"primary"},{"name":"groq","provider":"groq","model":"llama-3.3-70b-versatile","priority":1,"weight":2,"headers":{"X-Team":"a"},"api_key_env":"GROQ_API_KEY"}],
		"max_attempts":4,"attempts_per_target":3,"backoff_base":"100ms","backoff_max":"2s","max_retry_wait":"5s",
		"request_timeout":"30s","idle_timeout":"1m30s","cooldown_failures":5,"cooldown":"1m","retry_on":[429,503]}`
	var first Config
	require.NoError(t, json.Unmarshal([]byte(in), &first))
	assert.Equal(t, Config{
		Targets: []Target{{Name: "primary"}, {Name: "groq", Provider: provider.Groq, Model: "llama-3.3-70b-versatile", Priority: 1, Weight: 2,
			Headers: map[string]string{"X-Team": "a"}, APIKeyEnv: "GROQ_API_KEY"}},
		MaxAttempts: 4, AttemptsPerTarget: 3, BackoffBase: 100 * time.Millisecond, BackoffMax: 2 * time.Second, MaxRetryWait: 5 * time.Second,
		RequestTimeout: 30 * time.Second, IdleTimeout: 90 * time.Second, CooldownFailures: 5, Cooldown: time.Minute, RetryOn: []int{429, 503},
	}, first)

	out, err := json.Marshal(first)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"attempts_per_target":3,"backoff_base":"100ms","backoff_max":"2s","max_retry_wait":"5s",`+
		`"request_timeout":"30s","idle_timeout":"1m30s","cooldown_failures":5,"cooldown":"1m0s","retry_on":[429,503]}`)
	var second Config
	require.NoError(t, json.Unmarshal(out, &second))
	assert.Equal(t, first, second)
}

func TestConfigJSONRefusesADurationThatIsNotAGoDurationString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"request_timeout":30}`, `fallback: request_timeout: want a Go duration string such as "1m", got 30`},
		{`{"cooldown":"30"}`, `fallback: cooldown: want a Go duration string such as "1m", got "30"`},
		{`{"backoff_base":{"ms":100}}`, `fallback: backoff_base: want a Go duration string such as "1m", got {"ms":100}`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var c Config
			assert.EqualError(t, json.Unmarshal([]byte(tc.in), &c), tc.want)
		})
	}
}

func TestConfigJSONNegativeDurationIsAValidationError(t *testing.T) {
	c := Config{Targets: []Target{{}}}
	require.NoError(t, json.Unmarshal([]byte(`{"idle_timeout":"-1s"}`), &c))
	assert.ErrorContains(t, c.Validate(), "fallback: idle_timeout -1s is negative")
}
