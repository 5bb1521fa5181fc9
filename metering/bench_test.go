package metering_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
)

// benchBody is a ~1 KB chat request, as in the root package's benchmarks.
var benchBody = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a terse assistant."},{"role":"user","content":"` +
	strings.Repeat("Summarise the quarterly report in one line. ", 20) + `"}],"temperature":0.2,"max_tokens":256}`)

var benchStreamBody = bytes.Replace(benchBody, []byte(`"model"`), []byte(`"stream":true,"model"`), 1)

// discardSpans is a span processor that lets every span record and then
// forgets it, as an exporter's queue does once it has sent the span: unlike
// a SpanRecorder, it does not keep a benchmark's millions of spans alive
// for the garbage collector to scan.
type discardSpans struct{}

func (discardSpans) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discardSpans) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discardSpans) Shutdown(context.Context) error                  { return nil }
func (discardSpans) ForceFlush(context.Context) error                { return nil }

// BenchmarkMeter measures what the meter adds to a call: a bare fake, the
// fake behind a Gateway with no layers, and behind a Gateway with a Meter
// reporting to no-op providers, to the OpenTelemetry SDK (metrics to a
// ManualReader, every span sampled and recorded, then discarded), and to
// the SDK with a sampler that drops every span, all in the same run. Each
// run ends by waiting for the meter's queued metrics and spans (outside the
// timed loop), so that a whole-process count of CPU work includes them.
func BenchmarkMeter(b *testing.B) {
	fake := llmtest.NewTransport(llmtest.WithReply(strings.TrimSpace(strings.Repeat("The quarterly report shows steady growth overall. ", 17))))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(discardSpans{}))
	dropTP := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(discardSpans{}))
	noopMeter := metering.New(metering.Config{MeterProvider: metricnoop.NewMeterProvider(), TracerProvider: tracenoop.NewTracerProvider()})
	sdkMeter := metering.New(metering.Config{MeterProvider: mp, TracerProvider: tp})
	dropMeter := metering.New(metering.Config{MeterProvider: mp, TracerProvider: dropTP})
	b.Cleanup(func() {
		for _, m := range []*metering.Meter{noopMeter, sdkMeter, dropMeter} {
			_ = m.Close()
		}
		_ = mp.Shutdown(context.Background())
		_ = tp.Shutdown(context.Background())
		_ = dropTP.Shutdown(context.Background())
	})
	for _, body := range []struct {
		name string
		body []byte
	}{{"json", benchBody}, {"stream", benchStreamBody}} {
		for _, tc := range []struct {
			name  string
			rt    http.RoundTripper
			meter *metering.Meter
		}{
			{"bare", fake, nil},
			{"gateway", mustNew(b, fake), nil},
			{"meter-noop", mustNew(b, fake, noopMeter), noopMeter},
			{"meter-sdk", mustNew(b, fake, sdkMeter), sdkMeter},
			{"meter-sdk-unsampled", mustNew(b, fake, dropMeter), dropMeter},
		} {
			b.Run(body.name+"/"+tc.name, func(b *testing.B) {
				b.ReportAllocs()
				ctx := aigateway.WithMetadata(context.Background(), "user", "u-1")
				for b.Loop() {
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, llmtest.TransportURL+"/v1/chat/completions", bytes.NewReader(body.body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer sk-bench")
					resp, err := tc.rt.RoundTrip(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if tc.meter != nil {
					if err := tc.meter.Flush(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
