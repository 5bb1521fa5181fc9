package metering

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecordJSONWritesDurationsAsGoDurationStrings(t *testing.T) {
	r := Record{Provider: "openai", Operation: "chat", Model: "gpt-4o", Status: 200, Attempts: 2,
		AttemptLog: []Attempt{{Target: "primary", Status: 503, Duration: 120 * time.Millisecond, Error: "overloaded"}, {Target: "backup", Status: 200, Duration: 80 * time.Millisecond}},
		Duration:   1200 * time.Millisecond, TTFB: 200 * time.Millisecond, TTFC: 250 * time.Millisecond, Error: "x"}
	out, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"attempt_log":[{"target":"primary","status":503,"duration":"120ms","error":"overloaded"},{"target":"backup","status":200,"duration":"80ms"}],`+
		`"duration":"1.2s","time_to_first_byte":"200ms","time_to_first_chunk":"250ms","error":"x"}`, "in the fields' order")

	var back Record
	require.NoError(t, json.Unmarshal(out, &back))
	assert.Equal(t, r, back)

	bare, err := json.Marshal(Record{})
	require.NoError(t, err)
	assert.Contains(t, string(bare), `"duration":"0s"}`, "a zero Duration is written; zero TTFB and TTFC are left out")
}

func TestRecordJSONRefusesANumberForADuration(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"duration":1200000000}`, `metering: duration: want a Go duration string such as "1m", got 1200000000`},
		{`{"duration":"1s","time_to_first_chunk":250}`, `metering: time_to_first_chunk: want a Go duration string such as "1m", got 250`},
		{`{"duration":"1s","attempt_log":[{"target":"a","duration":"1s"},{"target":"b","duration":5}]}`,
			`metering: attempt_log[1].duration: want a Go duration string such as "1m", got 5`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var r Record
			assert.EqualError(t, json.Unmarshal([]byte(tc.in), &r), tc.want)
		})
	}
}

// The sink encodes the record's mirror, not the record: the line must be
// what json.Marshal writes all the same.
func TestJSONLSinkWritesARecordAsJSONMarshalDoes(t *testing.T) {
	r := jsonlTestRecord(1)
	r.AttemptLog = []Attempt{{Target: "primary", Status: 503, Duration: time.Second, Error: "<overloaded> & down"}}
	r.ResponseBody = `{"html":"<b>&</b>"}`
	path := filepath.Join(t.TempDir(), "calls.jsonl")
	sink, err := NewJSONLSink(path, JSONLOptions{})
	require.NoError(t, err)
	require.NoError(t, sink.Write(context.Background(), r))
	require.NoError(t, sink.Close())

	want, err := json.Marshal(r)
	require.NoError(t, err)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want)+"\n", string(got))
}
