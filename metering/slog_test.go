package metering

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/provider"
)

// slogLine writes r through a SlogSink with a JSON handler and returns the
// decoded line, without the time.
func slogLine(t *testing.T, r *Record) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	s := NewSlogSink(slog.New(slog.NewJSONHandler(&buf, nil)), slog.LevelInfo)
	require.NoError(t, s.Write(context.Background(), r))
	require.NoError(t, s.Close())
	require.Equal(t, 1, bytes.Count(buf.Bytes(), []byte("\n")), "one line per record")
	var m map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
	delete(m, slog.TimeKey)
	return m
}

func TestSlogSinkKeys(t *testing.T) {
	always := []string{"attempts", "duration", "level", "msg", "operation", "provider", "model", "status"}
	usage := []string{"input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "reasoning_tokens"}

	tests := []struct {
		name   string
		record func() *Record
		want   [][]string
	}{
		{
			name:   "full",
			record: func() *Record { return jsonlTestRecord(1) },
			want: [][]string{always, usage, {
				"response_model", "cache_status", "target", "ttfc", "cost_usd",
				"metadata", "request_body", "response_body",
			}},
		},
		{
			name: "cost unknown",
			record: func() *Record {
				r := jsonlTestRecord(1)
				r.Cost, r.CostKnown = 0, false
				r.RequestBody, r.ResponseBody = "", ""
				return r
			},
			want: [][]string{always, usage, {"response_model", "cache_status", "target", "ttfc", "metadata"}},
		},
		{
			name: "failed call, usage unknown",
			record: func() *Record {
				return &Record{
					Provider: "anthropic", Operation: "chat", Model: "claude-sonnet-4-5",
					Status: 529, Attempts: 3, Duration: time.Second,
					Error: "overloaded", ErrorType: "529", Fallback: true,
					AttemptLog: []Attempt{{Target: "a", Status: 529, Error: "overloaded"}, {Target: "b", Status: 529}},
				}
			},
			want: [][]string{always, {"error", "error_type", "fallback", "attempt_log"}},
		},
		{
			name: "cache hit",
			record: func() *Record {
				return &Record{
					Provider: "openai", Operation: "chat", Model: "gpt-4o",
					Status: 200, CacheStatus: "hit", Saved: true,
					Usage: provider.Usage{InputTokens: 10, OutputTokens: 5}, UsageKnown: true,
					Cost: 0.0001, CostKnown: true,
				}
			},
			want: [][]string{always, {
				"cache_status", "saved", "cost_usd",
				"input_tokens", "output_tokens", "cache_read_tokens", "reasoning_tokens",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := slogLine(t, tt.record())
			want := slices.Sorted(slices.Values(slices.Concat(tt.want...)))
			assert.Equal(t, want, slices.Sorted(maps.Keys(m)))
			assert.Equal(t, SlogMessage, m["msg"])
		})
	}
}

func TestSlogSinkValues(t *testing.T) {
	r := jsonlTestRecord(7)
	m := slogLine(t, r)

	assert.Equal(t, "openai", m["provider"])
	assert.Equal(t, "gpt-4o-mini", m["model"])
	assert.Equal(t, "gpt-4o-mini-2024-07-18", m["response_model"])
	assert.EqualValues(t, 200, m["status"])
	assert.EqualValues(t, r.Duration, m["duration"]) // the JSON handler writes nanoseconds
	assert.EqualValues(t, r.TTFC, m["ttfc"])
	assert.EqualValues(t, r.Usage.InputTokens, m["input_tokens"])
	assert.EqualValues(t, r.Usage.CacheReadTokens, m["cache_read_tokens"])
	assert.InDelta(t, r.Cost, m["cost_usd"], 1e-12)
	assert.Equal(t, map[string]any{"i": "7", "user": "u-42"}, m["metadata"])
	assert.Equal(t, r.RequestBody, m["request_body"])
	assert.Equal(t, r.ResponseBody, m["response_body"])
}

func TestSlogSinkLevel(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))

	require.NoError(t, NewSlogSink(logger, slog.LevelInfo).Write(context.Background(), jsonlTestRecord(0)))
	assert.Zero(t, buf.Len(), "logged below the handler's level")

	require.NoError(t, NewSlogSink(logger, slog.LevelWarn).Write(context.Background(), jsonlTestRecord(0)))
	assert.Contains(t, buf.String(), `"level":"WARN"`)
}

func TestSlogSinkNilLogger(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	s := NewSlogSink(nil, slog.LevelInfo)
	require.NoError(t, s.Write(context.Background(), jsonlTestRecord(0)))
	require.NoError(t, s.Write(context.Background(), nil))
	assert.Contains(t, buf.String(), `msg="aigateway call"`)
	assert.Equal(t, 1, bytes.Count(buf.Bytes(), []byte("\n")))
}

func ExampleSlogSink() {
	// A deterministic handler for the example: no time.
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	sink := NewSlogSink(logger, slog.LevelInfo)
	defer sink.Close()

	sink.Write(context.Background(), &Record{
		Provider:   "openai",
		Operation:  "chat",
		Model:      "gpt-4o-mini",
		Metadata:   map[string]string{"user": "u-42", "feature": "search"},
		Usage:      provider.Usage{InputTokens: 1200, OutputTokens: 300, CacheReadTokens: 1024},
		UsageKnown: true,
		Cost:       0.000282,
		CostKnown:  true,
		Status:     200,
		Attempts:   1,
		Duration:   850 * time.Millisecond,
	})
	// Output:
	// {"level":"INFO","msg":"aigateway call","provider":"openai","operation":"chat","model":"gpt-4o-mini","status":200,"attempts":1,"duration":850000000,"input_tokens":1200,"output_tokens":300,"cache_read_tokens":1024,"reasoning_tokens":0,"cost_usd":0.000282,"metadata":{"feature":"search","user":"u-42"}}
}

func TestSlogSinkAttemptLog(t *testing.T) {
	m := slogLine(t, &Record{Provider: "openai", Operation: "chat", Model: "gpt-4o", Status: 200, Attempts: 2,
		AttemptLog: []Attempt{{Target: "primary", Status: 503, Error: "overloaded"}, {Target: "backup", Status: 200}}})
	assert.Equal(t, map[string]any{
		"0": map[string]any{"target": "primary", "status": float64(503), "duration": float64(0), "error": "overloaded"},
		"1": map[string]any{"target": "backup", "status": float64(200), "duration": float64(0)},
	}, m["attempt_log"])
}
