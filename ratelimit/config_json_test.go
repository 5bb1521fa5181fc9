package ratelimit

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigJSONRoundTrips(t *testing.T) {
	in := `{"rules":[
		{"name":"rpm","key":"api_key","requests":60,"per":"1m","burst":10,"wait":true},
		{"name":"tpm","tokens":100000,"per":"90s","exclude_cached_tokens":true},
		{"name":"rolling","cost_usd":2.5,"per":"24h","allow_unpriced":true},
		{"name":"monthly","cost_usd":100,"period":"month"}
	],"max_keys":500,"time_zone":"Europe/Paris","fail_closed":true}`
	var first Config
	require.NoError(t, json.Unmarshal([]byte(in), &first))
	assert.Equal(t, Config{Rules: []Rule{
		{Name: "rpm", Key: "api_key", Requests: 60, Per: time.Minute, Burst: 10, Wait: true},
		{Name: "tpm", Tokens: 100_000, Per: 90 * time.Second, ExcludeCachedTokens: true},
		{Name: "rolling", CostUSD: 2.5, Per: 24 * time.Hour, AllowUnpriced: true},
		{Name: "monthly", CostUSD: 100, Period: PeriodMonth},
	}, MaxKeys: 500, TimeZone: "Europe/Paris", FailClosed: true}, first)

	out, err := json.Marshal(first)
	require.NoError(t, err)
	assert.Equal(t, `{"rules":[`+
		`{"name":"rpm","key":"api_key","requests":60,"per":"1m0s","burst":10,"wait":true},`+
		`{"name":"tpm","tokens":100000,"exclude_cached_tokens":true,"per":"1m30s"},`+
		`{"name":"rolling","cost_usd":2.5,"allow_unpriced":true,"per":"24h0m0s"},`+
		`{"name":"monthly","cost_usd":100,"period":"month"}`+
		`],"max_keys":500,"time_zone":"Europe/Paris","fail_closed":true}`, string(out), "keys in the fields' order, as before")
	var second Config
	require.NoError(t, json.Unmarshal(out, &second))
	assert.Equal(t, first, second)

	rule, err := json.Marshal(first.Rules[0])
	require.NoError(t, err)
	var back Rule
	require.NoError(t, json.Unmarshal(rule, &back))
	assert.Equal(t, first.Rules[0], back, "a Rule alone round-trips too")
}

func TestConfigJSONRefusesADurationThatIsNotAGoDurationString(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		into           any
	}{
		{"seconds, in the first rule", `{"rules":[{"name":"a","requests":1,"per":60}]}`,
			`ratelimit: rules[0].per: want a Go duration string such as "1m", got 60`, &Config{}},
		{"a typo, in the second rule", `{"rules":[{"name":"a","requests":1,"per":"1m"},{"name":"b","requests":1,"per":"1 hour"}]}`,
			`ratelimit: rules[1].per: want a Go duration string such as "1m", got "1 hour"`, &Config{}},
		{"a Rule alone", `{"name":"a","requests":1,"per":60}`,
			`ratelimit: per: want a Go duration string such as "1m", got 60`, &Rule{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.EqualError(t, json.Unmarshal([]byte(tc.in), tc.into), tc.want)
		})
	}
}

func TestConfigJSONNegativePerIsAValidationError(t *testing.T) {
	var c Config
	require.NoError(t, json.Unmarshal([]byte(`{"rules":[{"name":"a","requests":1,"per":"-1m"}]}`), &c))
	assert.ErrorContains(t, c.Validate(), `ratelimit: rule "a": per -1m0s is negative`)
}
