package aigateway

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAttemptJSONWritesItsDurationAsAGoDurationString(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Attempt
		want string
	}{
		{"an attempt that failed", Attempt{Target: "primary", Provider: "openai", Model: "gpt-4o", Status: 503, Duration: 1500 * time.Millisecond, Err: errors.New("overloaded")},
			`{"target":"primary","provider":"openai","model":"gpt-4o","status":503,"duration":"1.5s"}`},
		{"a transport error, at once", Attempt{Target: "backup"}, `{"target":"backup","duration":"0s"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := json.Marshal(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(out))

			var back Attempt
			require.NoError(t, json.Unmarshal(out, &back))
			want := tc.in
			want.Err = nil // never written
			assert.Equal(t, want, back)
		})
	}
}

func TestAttemptJSONRefusesANumberForItsDuration(t *testing.T) {
	var a Attempt
	err := json.Unmarshal([]byte(`{"target":"primary","duration":1500000000}`), &a)
	assert.EqualError(t, err, `aigateway: duration: want a Go duration string such as "1m", got 1500000000`)
}
