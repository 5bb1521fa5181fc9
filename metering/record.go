package metering

import (
	"context"
	"time"

	"github.com/aigateway-go/aigateway/internal/durjson"
	"github.com/aigateway-go/aigateway/provider"
)

// Record is what the meter keeps of one completed call: what the ledger
// adds up, what OnRecord receives and what request-log sinks write. It never
// holds a credential.
type Record struct {
	Time      time.Time `json:"time"` // when the call started
	Provider  string    `json:"provider"`
	Operation string    `json:"operation"`
	Model     string    `json:"model"`                    // as requested
	Response  string    `json:"response_model,omitempty"` // as the response reported
	// ResponseID and FinishReasons are what the latest upstream response
	// reported (gen_ai.response.id, gen_ai.response.finish_reasons).
	ResponseID    string   `json:"response_id,omitempty"`
	FinishReasons []string `json:"finish_reasons,omitempty"`
	Stream        bool     `json:"stream"`
	Server        string   `json:"server_address,omitempty"`
	// Metadata are the call's tags, whole: those of an X-Aigateway-Metadata
	// header within the bounds the aigateway package puts on it, and those
	// of aigateway.WithMetadata, which the application bounds itself.
	Metadata map[string]string `json:"metadata,omitempty"`

	Usage      provider.Usage `json:"usage"`
	UsageKnown bool           `json:"usage_known"`
	// Cost in USD of Usage; CostKnown false for an unpriced model. For a
	// cache hit or coalesced call, Usage and Cost were saved, not spent.
	Cost      float64 `json:"cost_usd"`
	CostKnown bool    `json:"cost_known"`

	Status      int    `json:"status"`
	CacheStatus string `json:"cache_status,omitempty"` // hit, miss, bypass, coalesced
	Saved       bool   `json:"saved,omitempty"`        // answered from the cache: nothing spent
	Target      string `json:"target,omitempty"`
	Fallback    bool   `json:"fallback,omitempty"`
	Attempts    int    `json:"attempts"`
	// AttemptLog is every attempt a routing layer made, in order (nil
	// without one): see aigateway.Result.AttemptLog.
	AttemptLog []Attempt     `json:"attempt_log,omitempty"`
	Duration   time.Duration `json:"duration"`
	TTFB       time.Duration `json:"time_to_first_byte,omitempty"`
	TTFC       time.Duration `json:"time_to_first_chunk,omitempty"`
	Error      string        `json:"error,omitempty"`
	ErrorType  string        `json:"error_type,omitempty"` // OpenTelemetry error.type

	// Bodies, only when Config.LogBodies is set, capped at
	// Config.MaxBodyBytes, after Config.Redact.
	RequestBody  string `json:"request_body,omitempty"`
	ResponseBody string `json:"response_body,omitempty"`
}

// Attempt is one upstream attempt of a routed call, as a Record keeps it.
type Attempt struct {
	Target   string        `json:"target"`
	Provider string        `json:"provider,omitempty"`
	Model    string        `json:"model,omitempty"`
	Status   int           `json:"status,omitempty"`
	Duration time.Duration `json:"duration"`
	Error    string        `json:"error,omitempty"`
}

// MarshalJSON writes r as encoding/json would, except that its durations
// (Duration, TTFB, TTFC and the attempts') are Go duration strings ("1.2s")
// rather than integer nanoseconds: the form a person reads in a log, and
// the form the Configs' durations take.
func (r Record) MarshalJSON() ([]byte, error) { return durjson.Marshal(&r) }

// UnmarshalJSON reads what MarshalJSON writes, a request log's line: its
// durations are Go duration strings; a number for one is an error naming
// the field.
func (r *Record) UnmarshalJSON(data []byte) error { return durjson.Unmarshal("metering", data, r) }

// MarshalJSON writes a as encoding/json would, except that its Duration is
// a Go duration string ("1.2s").
func (a Attempt) MarshalJSON() ([]byte, error) { return durjson.Marshal(&a) }

// UnmarshalJSON reads what MarshalJSON writes.
func (a *Attempt) UnmarshalJSON(data []byte) error { return durjson.Unmarshal("metering", data, a) }

// Sink receives one Record per completed call: a durable request log.
// Write is called from the meter's own goroutine, never from the request
// path; Close flushes and releases. Implementations need not be safe for
// concurrent use: the meter calls one sink from one goroutine.
type Sink interface {
	Write(ctx context.Context, r *Record) error
	Close() error
}
