package metering

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/aigateway-go/aigateway/internal/durjson"
)

// Defaults for the zero Config.
const (
	DefaultSinkBuffer   = 1024
	DefaultMaxBodyBytes = 16 << 10
	DefaultCloseTimeout = 30 * time.Second
	// DefaultLedgerMaxGroups is how many values each Ledger dimension keeps
	// before it adds the rest up in OtherGroup.
	DefaultLedgerMaxGroups = 10_000
	// DefaultLedgerMaxDimensions is how many metadata keys the Ledger groups
	// by when Config.LedgerMetadata lists none.
	DefaultLedgerMaxDimensions = 32
)

// Config configures a Meter. The zero value is a working meter: the global
// OpenTelemetry providers, no request log.
type Config struct {
	// MeterProvider and TracerProvider receive the metrics and spans; nil
	// means otel.GetMeterProvider() and otel.GetTracerProvider(), read once
	// by New.
	MeterProvider  metric.MeterProvider `json:"-"`
	TracerProvider trace.TracerProvider `json:"-"`

	// MetricMetadata lists the metadata keys that become metric attributes
	// (aigateway.metadata.<key>). Metric attributes multiply time series,
	// so only listed keys are used; every tag goes to spans, records and
	// the ledger regardless.
	MetricMetadata []string `json:"metric_metadata,omitempty"`

	// AllAttemptEvents gives every routed attempt an aigateway.attempt
	// event on the call's span, the lone attempt of a call that succeeded
	// on its first try included. Without it such a call's span has no
	// event (its attributes already name the target and the one attempt),
	// and only a call with several attempts, or whose attempt failed, has
	// them.
	AllAttemptEvents bool `json:"all_attempt_events,omitempty"`

	// OnRecord, when set, receives every completed call's Record,
	// synchronously, in the goroutine that completed the call (a Read or
	// Close of the response body). It must be quick and must not keep r
	// after returning unless it copies it: the same Record goes to sinks.
	OnRecord func(r *Record) `json:"-"`

	// Sinks receive every Record from the meter's own goroutine, through a
	// queue of SinkBuffer records (zero means DefaultSinkBuffer). When the
	// queue is full the record is dropped and counted (Meter.Dropped):
	// writing never blocks a request.
	Sinks      []Sink `json:"-"`
	SinkBuffer int    `json:"sink_buffer,omitempty"`
	// CloseTimeout bounds how long Close waits for the sinks to write the
	// queued records (zero means DefaultCloseTimeout); see Meter.CloseContext
	// for what happens when it passes.
	CloseTimeout time.Duration `json:"close_timeout,omitempty"`

	// LedgerMaxGroups bounds the values each Ledger dimension keeps (zero
	// means DefaultLedgerMaxGroups); see Ledger.
	LedgerMaxGroups int `json:"ledger_max_groups,omitempty"`
	// LedgerMetadata lists the metadata keys the Ledger groups by
	// ("metadata:<key>"). Empty means every key, up to LedgerMaxDimensions
	// of them, the first seen first, plus the keys MetricMetadata lists.
	// Tags come from request headers too: where callers are not all
	// trusted, list the keys that matter, lest junk keys take the places.
	LedgerMetadata []string `json:"ledger_metadata,omitempty"`
	// LedgerMaxDimensions bounds the metadata keys the Ledger groups by when
	// LedgerMetadata is empty (zero means DefaultLedgerMaxDimensions); calls
	// are not grouped by the keys seen after that (see Ledger.Ungrouped).
	LedgerMaxDimensions int `json:"ledger_max_dimensions,omitempty"`

	// LogBodies puts the request and response bodies in each Record, each
	// capped at MaxBodyBytes (zero means DefaultMaxBodyBytes) after Redact.
	LogBodies    bool `json:"log_bodies,omitempty"`
	MaxBodyBytes int  `json:"max_body_bytes,omitempty"`
	// Redact, when set, rewrites a body before it is recorded. It gets a
	// copy it may modify and return.
	Redact func(body []byte) []byte `json:"-"`
}

// MarshalJSON writes c as encoding/json would, except that its durations
// are Go duration strings ("30s"), the form UnmarshalJSON reads.
func (c Config) MarshalJSON() ([]byte, error) { return durjson.Marshal(&c) }

// UnmarshalJSON reads c as encoding/json would, except that its durations
// are Go duration strings, as time.ParseDuration reads them ("90s", "1h"):
// a number for one is an error naming the field, since it could mean
// seconds as well as nanoseconds.
func (c *Config) UnmarshalJSON(data []byte) error { return durjson.Unmarshal("metering", data, c) }

// Validate reports a configuration the meter cannot work with.
func (c Config) Validate() error {
	var errs []error
	if c.SinkBuffer < 0 {
		errs = append(errs, fmt.Errorf("metering: sink_buffer %d is negative", c.SinkBuffer))
	}
	if c.CloseTimeout < 0 {
		errs = append(errs, fmt.Errorf("metering: close_timeout %v is negative", c.CloseTimeout))
	}
	if c.LedgerMaxGroups < 0 {
		errs = append(errs, fmt.Errorf("metering: ledger_max_groups %d is negative", c.LedgerMaxGroups))
	}
	if c.LedgerMaxDimensions < 0 {
		errs = append(errs, fmt.Errorf("metering: ledger_max_dimensions %d is negative", c.LedgerMaxDimensions))
	}
	for _, k := range c.LedgerMetadata {
		if strings.TrimSpace(k) == "" {
			errs = append(errs, errors.New("metering: ledger_metadata has an empty key"))
			break
		}
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("metering: max_body_bytes %d is negative", c.MaxBodyBytes))
	}
	for i, s := range c.Sinks {
		if s == nil {
			errs = append(errs, fmt.Errorf("metering: sinks[%d] is nil", i))
		}
	}
	for _, k := range c.MetricMetadata {
		if strings.TrimSpace(k) == "" {
			errs = append(errs, errors.New("metering: metric_metadata has an empty key"))
			break
		}
	}
	return errors.Join(errs...)
}
