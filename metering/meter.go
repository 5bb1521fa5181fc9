package metering

import (
	"context"
	"errors"
	"hash/maphash"
	"net/http"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/internal/settle"
	"github.com/aigateway-go/aigateway/provider"
)

// clientSpan is the kind of every span the meter starts, built once.
var clientSpan = trace.WithSpanKind(trace.SpanKindClient)

// ScopeName is the instrumentation scope of the meter's metrics and spans:
// the module path.
const ScopeName = "github.com/aigateway-go/aigateway"

// Meter is the metering layer: it reports the price of every call, adds
// it to the Ledger, hands its Record to OnRecord and the sinks, and records
// its metrics and span. Put it first in aigateway.New's list so that it sees every call,
// cache hits included. A Meter is safe for concurrent use.
type Meter struct {
	cfg     Config
	invalid error
	tracer  trace.Tracer
	tracing bool // false for a tracer known to do nothing: no span is started
	inst    instruments
	metaKey []metaKey // Config.MetricMetadata with their attribute keys
	ledger  *Ledger
	maxBody int

	setCache sync.Map // setKey → *metricSets
	setCount atomic.Int64

	seeds      [2]maphash.Seed // of the metadata tags' hashes in startKey
	startCache sync.Map        // startKey → *spanStart
	startCount atomic.Int64

	tel *settle.Queue // the metrics and spans of completed calls, off the caller's path

	queue     chan *Record
	queueMu   sync.RWMutex // held for reading while sending, for writing to close queue
	closed    bool
	closeOnce sync.Once
	closeErr  error
	drained   chan struct{}
	dropped   atomic.Int64
	sinkErrs  atomic.Int64

	writeCtx     context.Context // what sinks' Write receive; cancelled when a close deadline passes
	cancelWrites context.CancelFunc
	abandoned    atomic.Bool  // CloseContext stopped waiting for the sink goroutine
	writing      atomic.Bool  // the sink goroutine is in (or about to start) a record's Writes
	closeDropped atomic.Int64 // records dropped because the close deadline passed
	sinksOnce    sync.Once
	sinksErr     error
}

// Err returns the error of the Config the Meter was built from (see
// Config.Validate), nil when it is valid. aigateway.New asks every layer
// for it.
func (m *Meter) Err() error { return m.invalid }

// New returns a Meter. It never fails, so stacks compose inline: a Meter
// built from an invalid Config reports it with Err, aigateway.New refuses
// it, and used without a Gateway it answers every call with a
// provider-shaped 500 naming the problem (and x-should-retry: false). When
// cfg has Sinks, New starts the goroutine that writes to them; Close stops
// it.
func New(cfg Config) *Meter {
	m := &Meter{cfg: cfg, ledger: newLedger(cfg), tel: settle.New(TelemetryQueue, telemetryWorkers)}
	if err := cfg.Validate(); err != nil {
		m.invalid = err
		return m
	}
	mp, tp := cfg.MeterProvider, cfg.TracerProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	m.tracer = tp.Tracer(ScopeName)
	m.tracing = !isNoopTracer(m.tracer)
	m.seeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	m.inst = newInstruments(mp.Meter(ScopeName))
	for _, k := range cfg.MetricMetadata {
		m.metaKey = append(m.metaKey, metaKey{name: k, attr: metadataAttr(k)})
	}
	m.maxBody = cfg.MaxBodyBytes
	if m.maxBody == 0 {
		m.maxBody = DefaultMaxBodyBytes
	}
	if len(cfg.Sinks) > 0 {
		n := cfg.SinkBuffer
		if n == 0 {
			n = DefaultSinkBuffer
		}
		m.queue = make(chan *Record, n)
		m.drained = make(chan struct{})
		m.writeCtx, m.cancelWrites = context.WithCancel(context.Background())
		go m.dispatch()
	}
	return m
}

// Ledger returns the meter's in-process totals.
func (m *Meter) Ledger() *Ledger { return m.ledger }

// Dropped reports how many records did not reach the sinks because their
// queue was full (or the meter was closed).
func (m *Meter) Dropped() int64 { return m.dropped.Load() }

// SinkErrors reports how many Sink.Write calls returned an error.
func (m *Meter) SinkErrors() int64 { return m.sinkErrs.Load() }

// Wrap returns the metering layer around next. Its RoundTrip starts the
// call's span, sends the request on with the span in its context (so inner
// layers and HTTP instrumentation nest under it) and returns next's response
// as it is; everything else happens when the call completes, before the Read
// or Close that completed it returns. The caller closes the response body.
func (m *Meter) Wrap(next http.RoundTripper) http.RoundTripper {
	return aigateway.Layer(next, m.roundTrip, aigateway.SeeRefused())
}

func (m *Meter) roundTrip(call aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
	if m.invalid != nil && call.Refused() {
		return next.RoundTrip(req) // the refusal says more than the 500 would
	}
	if m.invalid != nil {
		return provider.NewErrorResponse(req, call.Format(), provider.ErrorSpec{
			Status: http.StatusInternalServerError, Type: "server_error",
			Message: "aigateway: invalid metering configuration: " + m.invalid.Error(),
		}), nil
	}
	f := &inflight{m: m, call: call}
	if m.tracing {
		ctx := req.Context()
		parent := trace.SpanContextFromContext(ctx)
		start := m.spanStart(call.Call())
		f.opts = [...]trace.SpanStartOption{clientSpan, start.attrs, trace.WithTimestamp(call.Start())}
		ctx, f.span = m.tracer.Start(ctx, start.name, f.opts[:]...)
		// A span with a span context of its own goes on with the request,
		// sampled or not: what the request sends further (a traceparent)
		// must carry the SDK's decision. One without any (a tracer that
		// does nothing) would only hide the caller's span from the layers
		// and instrumentation further in.
		if sc := f.span.SpanContext(); sc.IsValid() && !sc.Equal(parent) {
			req = req.WithContext(ctx) // a shallow copy: the caller's request is unchanged
		}
	}
	call.OnCompleteWith(f) // f is the Completer: no callback to allocate
	resp, err := next.RoundTrip(req)
	if err == nil && resp != nil && resp.Body != nil && m.cfg.LogBodies {
		// The callback reads tee only once the call completes, which is
		// after this response (and its body) reached the caller.
		f.tee = &bodyTee{rc: resp.Body, limit: m.maxBody}
		resp.Body = f.tee
	}
	return resp, err
}

// inflight is what the meter keeps of one call, allocated in one piece when
// the call starts: what its completion needs, the options its span started
// with, and the Record it completes with.
type inflight struct {
	m    *Meter
	call aigateway.LayerCall
	span trace.Span // nil without tracing
	tee  *bodyTee   // the response body as the caller read it, with LogBodies
	opts [3]trace.SpanStartOption
	rec  Record
	// attempt0 is rec.AttemptLog's array for a call of one attempt, the
	// usual one: it costs no allocation of its own.
	attempt0 [1]Attempt
	// tspan and tcall are the span and the Call whose metrics and span end
	// wait in the telemetry queue (see Settle).
	tspan trace.Span
	tcall *aigateway.Call
}

// isNoopTracer reports whether t is one of the OpenTelemetry API's no-op
// tracers, the tracers of a program without an SDK: their spans record
// nothing and carry only their parent's span context, which the request's
// context has already, so the meter starts none. Any other tracer (an SDK's,
// whatever its sampler, or the global one, which may get an SDK later) is
// asked for a span on every call.
func isNoopTracer(t trace.Tracer) bool {
	if _, ok := t.(tracenoop.Tracer); ok {
		return true
	}
	//lint:ignore SA1019 programs still install the deprecated no-op provider
	return t == trace.NewNoopTracerProvider().Tracer("")
}

// TelemetryQueue is how many completed calls' metrics and spans a Meter
// keeps waiting to be recorded; telemetryWorkers how many it records at
// once.
const (
	TelemetryQueue   = 4096
	telemetryWorkers = 2
)

// CallComplete does the meter's bookkeeping for one finished call: the
// Record, the ledger and OnRecord at once, the metrics and the span just
// after, off the caller's path.
func (f *inflight) CallComplete(r aigateway.Result) {
	m, call, span, tee := f.m, f.call, f.span, f.tee
	// The Record outlives the call (in the sinks' queue, in what OnRecord
	// keeps): it must not keep the call, its span or its bodies alive.
	f.call, f.span, f.tee, f.opts = aigateway.LayerCall{}, nil, nil, [3]trace.SpanStartOption{}
	rec := &f.rec
	m.record(rec, call, r, tee, f.attempt0[:0])
	c := call.Call()
	m.ledger.add(rec, c)
	if m.cfg.OnRecord != nil {
		m.cfg.OnRecord(rec)
	}
	m.enqueue(rec)
	if (span != nil && span.IsRecording()) || m.inst.enabled(context.Background()) {
		f.tspan, f.tcall = span, c
		m.tel.Run(f) // f settles itself: no closure to allocate
	}
}

// Settle records the call's metrics and ends its span, off the caller's
// path: the meter's telemetry queue runs it once the call is complete.
func (f *inflight) Settle() {
	span, c := f.tspan, f.tcall
	f.tspan, f.tcall = nil, nil // the Record outlives the call: it keeps neither
	f.m.recordMetrics(&f.rec, c)
	f.m.endSpan(span, c, &f.rec)
}

// Flush waits until the metrics and spans of the calls completed so far
// are recorded, or until ctx ends (its error). See "When a call
// completes" in the package documentation.
func (m *Meter) Flush(ctx context.Context) error { return m.tel.Flush(ctx) }

// TelemetryInline reports how many calls' metrics and spans were recorded
// in the caller's Read because TelemetryQueue calls were already waiting
// (or the meter was closed).
func (m *Meter) TelemetryInline() int64 { return m.tel.Inline() }

// record fills in rec, the Record of a completed call, from the Call and
// its Result, never from request headers, so that no credential gets in.
// Its AttemptLog goes in attempts when they fit.
func (m *Meter) record(rec *Record, call aigateway.LayerCall, r aigateway.Result, tee *bodyTee, attempts []Attempt) {
	*rec = Record{
		Time:          call.Start(),
		Provider:      call.Provider(),
		Operation:     call.Operation(),
		Model:         call.Model(),
		Response:      r.ResponseModel,
		ResponseID:    r.ResponseID,
		FinishReasons: r.FinishReasons,
		Stream:        call.Stream(),
		Server:        call.ServerAddress(),
		Usage:         r.Usage,
		UsageKnown:    r.UsageKnown,
		Status:        r.Status,
		CacheStatus:   r.CacheStatus.String(),
		Saved:         r.CacheStatus.Saved(),
		Target:        r.Target,
		Fallback:      r.Fallback,
		Attempts:      r.Attempts,
		Duration:      r.Duration,
		TTFB:          r.TimeToFirstByte,
		TTFC:          r.TimeToFirstChunk,
	}
	if m.cfg.OnRecord != nil || len(m.cfg.Sinks) > 0 {
		// A copy of the tags for those who see the Record (they may
		// modify it); the meter itself (the ledger, the metrics) reads
		// the Call's, so a Record nobody sees goes without.
		if rec.Metadata = call.MetadataMap(); len(rec.Metadata) == 0 {
			rec.Metadata = nil
		}
	}
	if len(r.AttemptLog) > 0 {
		if cap(attempts) < len(r.AttemptLog) {
			attempts = make([]Attempt, 0, len(r.AttemptLog))
		}
		rec.AttemptLog = attempts[:len(r.AttemptLog):len(r.AttemptLog)] // clipped: an append by whoever sees the Record copies
		for i, a := range r.AttemptLog {
			rec.AttemptLog[i] = Attempt{Target: a.Target, Provider: a.Provider, Model: a.Model, Status: a.Status, Duration: a.Duration}
			if a.Err != nil {
				rec.AttemptLog[i].Error = a.Err.Error() // the Call keeps credentials out of it
			}
		}
	}
	if r.CostKnown {
		// Priced by the stack, once per answer (aigateway.Upstream.Cost):
		// the price the budgets charge.
		rec.Cost, rec.CostKnown = r.Cost, true
	}
	if r.Err != nil || r.Status >= 400 {
		rec.ErrorType = errorType(r.Err, r.Status)
		if r.Err != nil {
			rec.Error = r.Err.Error() // the Call keeps credentials out of it
		} else {
			rec.Error = http.StatusText(r.Status)
		}
	}
	if m.cfg.LogBodies {
		rec.RequestBody = m.body(call.Body())
		if tee != nil {
			rec.ResponseBody = m.body(tee.bytes())
		}
	}
}

// body prepares a body for a Record: redacted, then capped.
func (m *Meter) body(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if m.cfg.Redact != nil {
		b = m.cfg.Redact(append([]byte(nil), b...))
	}
	if len(b) > m.maxBody {
		b = b[:m.maxBody]
	}
	return string(b)
}

// errorType is the OpenTelemetry error.type of a failed call: the
// provider's error type, else its HTTP status, else a name for the
// gateway's own errors, else the Go type of the error.
func errorType(err error, status int) string {
	var pe *provider.Error
	switch {
	case errors.As(err, &pe) && pe.Type != "":
		return pe.Type
	case errors.As(err, &pe) && pe.Status != 0:
		return itoa(pe.Status)
	case status >= 400:
		return itoa(status)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, aigateway.ErrIncompleteStream):
		return "incomplete_stream"
	case errors.Is(err, aigateway.ErrClosedEarly):
		return "closed_early"
	}
	return goErrorType(err)
}
