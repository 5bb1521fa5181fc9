package metering

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigJSONRoundTrips(t *testing.T) {
	in := `{"metric_metadata":["team"],"all_attempt_events":true,"sink_buffer":64,"close_timeout":"45s","ledger_max_groups":100,
		"ledger_metadata":["team","app"],"ledger_max_dimensions":8,"log_bodies":true,"max_body_bytes":2048}`
	var first Config
	require.NoError(t, json.Unmarshal([]byte(in), &first))
	assert.Equal(t, Config{MetricMetadata: []string{"team"}, AllAttemptEvents: true, SinkBuffer: 64, CloseTimeout: 45 * time.Second, LedgerMaxGroups: 100,
		LedgerMetadata: []string{"team", "app"}, LedgerMaxDimensions: 8, LogBodies: true, MaxBodyBytes: 2048}, first)

	out, err := json.Marshal(first)
	require.NoError(t, err)
	assert.Equal(t, `{"metric_metadata":["team"],"all_attempt_events":true,"sink_buffer":64,"close_timeout":"45s","ledger_max_groups":100,`+
		`"ledger_metadata":["team","app"],"ledger_max_dimensions":8,"log_bodies":true,"max_body_bytes":2048}`, string(out))
	var second Config
	require.NoError(t, json.Unmarshal(out, &second))
	assert.Equal(t, first, second)
}

func TestConfigJSONRefusesADurationThatIsNotAGoDurationString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"close_timeout":30}`, `metering: close_timeout: want a Go duration string such as "1m", got 30`},
		{`{"close_timeout":"half a minute"}`, `metering: close_timeout: want a Go duration string such as "1m", got "half a minute"`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var c Config
			assert.EqualError(t, json.Unmarshal([]byte(tc.in), &c), tc.want)
		})
	}
}

func TestConfigJSONNegativeDurationIsAValidationError(t *testing.T) {
	var c Config
	require.NoError(t, json.Unmarshal([]byte(`{"close_timeout":"-5s"}`), &c))
	assert.ErrorContains(t, c.Validate(), "metering: close_timeout -5s is negative")
}
