// Package benchstack builds the full default stack the benchmarks measure
// (BenchmarkStack, BenchmarkStackHTTP and bench/peer), so that they all
// measure the same one: meter, cache, rate limiter (one token rule per
// user) and router (one target), in that order, with no-op telemetry and
// with the OpenTelemetry SDK recording every metric and span.
package benchstack

import (
	"context"
	"net/http"
	"strings"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/fallback"
	"github.com/aigateway-go/aigateway/metering"
	"github.com/aigateway-go/aigateway/ratelimit"
)

// The stack benchmarks' exchange: a ~1 KB chat request, RequestPrefix, a
// marker that makes it new (none: the request every cache hit repeats),
// then RequestSuffix (StreamRequestSuffix for a stream with its usage);
// and the reply of the llmtest fake that answers it, ~1.6 KB of JSON with
// its envelope.
var (
	RequestPrefix = `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a terse assistant."},{"role":"user","content":"` +
		strings.Repeat("Summarise the quarterly report in one line. ", 20)
	Reply = strings.TrimSpace(strings.Repeat("The quarterly report shows steady growth overall. ", 17))
)

const (
	RequestSuffix       = `"}],"temperature":0.2,"max_tokens":256}`
	StreamRequestSuffix = `"}],"temperature":0.2,"max_tokens":256,"stream":true,"stream_options":{"include_usage":true}}`
)

// DiscardSpans lets every span record, then forgets it, as an exporter
// does once it has sent it: unlike a SpanRecorder, it keeps no span alive
// for the garbage collector to scan.
type DiscardSpans struct{}

func (DiscardSpans) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (DiscardSpans) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (DiscardSpans) Shutdown(context.Context) error                  { return nil }
func (DiscardSpans) ForceFlush(context.Context) error                { return nil }

// New returns the stack over noopBase with no-op telemetry (Noop), and
// over sdkBase with the OpenTelemetry SDK recording every metric (a
// ManualReader) and every span (DiscardSpans). closeAll closes both
// Gateways and shuts the SDK's providers down.
func New(noopBase, sdkBase http.RoundTripper) (noop, sdk *aigateway.Gateway, closeAll func(), err error) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(DiscardSpans{}))
	closeAll = func() {
		if noop != nil {
			_ = noop.Close()
		}
		if sdk != nil {
			_ = sdk.Close()
		}
		_ = mp.Shutdown(context.Background())
		_ = tp.Shutdown(context.Background())
	}
	if noop, err = Noop(noopBase); err == nil {
		sdk, err = build(sdkBase, metering.Config{MeterProvider: mp, TracerProvider: tp})
	}
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	return noop, sdk, closeAll, nil
}

// Noop returns the stack over base with the OpenTelemetry API's no-op
// providers: what a program without an SDK runs.
func Noop(base http.RoundTripper) (*aigateway.Gateway, error) {
	return build(base, metering.Config{MeterProvider: metricnoop.NewMeterProvider(), TracerProvider: tracenoop.NewTracerProvider()})
}

// build is the full default stack over base, metered as mcfg says: meter,
// cache, rate limiter (one token rule per user) and router (one target),
// in that order.
func build(base http.RoundTripper, mcfg metering.Config) (*aigateway.Gateway, error) {
	return aigateway.New(base,
		metering.New(mcfg),
		cache.New(cache.Config{}),
		ratelimit.New(ratelimit.Config{Rules: []ratelimit.Rule{
			{Name: "per-user tokens", Key: "metadata:user", Tokens: 1 << 50, Per: time.Minute},
		}}),
		fallback.New(fallback.Config{Targets: []fallback.Target{{Name: "primary"}}}),
	)
}
