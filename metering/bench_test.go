package metering_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/semconv/v1.41.0/genaiconv"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/internal/benchstack"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
)

// benchBody is the stack benchmarks' ~1 KB chat request.
var benchBody = []byte(benchstack.RequestPrefix + benchstack.RequestSuffix)

var benchStreamBody = bytes.Replace(benchBody, []byte(`"model"`), []byte(`"stream":true,"model"`), 1)

// BenchmarkMeter measures what the meter adds to a call: a bare fake, the
// fake behind a Gateway with no layers, and behind a Gateway with a Meter
// reporting to no-op providers, to the OpenTelemetry SDK (metrics to a
// ManualReader, every span sampled and recorded, then discarded), and to
// the SDK with a sampler that drops every span, all in the same run. Each
// run ends by waiting for the meter's queued metrics and spans (outside the
// timed loop), so that a whole-process count of CPU work includes them.
func BenchmarkMeter(b *testing.B) {
	fake := llmtest.NewTransport(llmtest.WithReply(benchstack.Reply))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(benchstack.DiscardSpans{}))
	dropTP := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(benchstack.DiscardSpans{}))
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

// BenchmarkSDKFloor is the floor under the meter's SDK share: the
// OpenTelemetry SDK's own calls for one cache-missed chat call, as the meter
// makes them (the span started with its six request attributes and ended
// with thirteen more; the duration, cache-status, two token and cost
// measurements), with every option and attribute set built beforehand, as
// the meter keeps them. Nothing of aigateway runs: what BenchmarkStack's
// stack-sdk costs over stack-noop, less this, is the meter's own work.
func BenchmarkSDKFloor(b *testing.B) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(benchstack.DiscardSpans{}))
	b.Cleanup(func() {
		_ = mp.Shutdown(context.Background())
		_ = tp.Shutdown(context.Background())
	})
	tracer := tp.Tracer("bench")
	mt := mp.Meter("bench")
	tokens, err := genaiconv.NewClientTokenUsage(mt, metric.WithExplicitBucketBoundaries(metering.TokenBuckets...))
	require.NoError(b, err)
	duration, err := genaiconv.NewClientOperationDuration(mt, metric.WithExplicitBucketBoundaries(metering.DurationBuckets...))
	require.NoError(b, err)
	cost, err := mt.Float64Counter("aigateway.cost")
	require.NoError(b, err)
	cacheRequests, err := mt.Int64Counter("aigateway.cache.requests")
	require.NoError(b, err)

	startAttrs := trace.WithAttributes(
		semconv.GenAIProviderNameKey.String("openai"), semconv.GenAIOperationNameKey.String("chat"),
		semconv.GenAIRequestModelKey.String("gpt-4o-mini"), semconv.GenAIRequestMaxTokensKey.Int64(256),
		semconv.ServerAddressKey.String("api.openai.com"), attribute.String("aigateway.metadata.user", "u-1"))
	kind := trace.WithSpanKind(trace.SpanKindClient)
	base := []attribute.KeyValue{
		semconv.GenAIProviderNameKey.String("openai"), semconv.GenAIOperationNameKey.String("chat"),
		semconv.GenAIRequestModelKey.String("gpt-4o-mini"), semconv.GenAIResponseModelKey.String("gpt-4o-mini-2024-07-18"),
		semconv.ServerAddressKey.String("api.openai.com"), attribute.String("aigateway.cache.status", "MISS"),
	}
	all := attribute.NewSet(base...)
	input := attribute.NewSet(append(base[:len(base):len(base)], semconv.GenAITokenTypeKey.String("input"))...)
	output := attribute.NewSet(append(base[:len(base):len(base)], semconv.GenAITokenTypeKey.String("output"))...)
	allRecord := []metric.RecordOption{metric.WithAttributeSet(all)}
	allAdd := []metric.AddOption{metric.WithAttributeSet(all)}
	inputRecord := []metric.RecordOption{metric.WithAttributeSet(input)}
	outputRecord := []metric.RecordOption{metric.WithAttributeSet(output)}

	span := func(ctx context.Context, start time.Time) {
		_, s := tracer.Start(ctx, "chat gpt-4o-mini", kind, startAttrs, trace.WithTimestamp(start))
		attrs := make([]attribute.KeyValue, 0, 14)
		attrs = append(attrs,
			semconv.GenAIResponseModelKey.String("gpt-4o-mini-2024-07-18"), semconv.GenAIResponseIDKey.String("chatcmpl-bench"),
			semconv.GenAIResponseFinishReasonsKey.StringSlice([]string{"stop"}),
			semconv.GenAIUsageInputTokensKey.Int64(230), semconv.GenAIUsageOutputTokensKey.Int64(120),
			semconv.GenAIUsageCacheReadInputTokensKey.Int64(0), semconv.GenAIUsageCacheCreationInputTokensKey.Int64(0),
			semconv.GenAIUsageReasoningOutputTokensKey.Int64(0), attribute.Float64("aigateway.cost_usd", 0.000107),
			attribute.String("aigateway.cache.status", "MISS"), attribute.String("aigateway.target", "primary"),
			attribute.Bool("aigateway.fallback", false), attribute.Int("aigateway.attempts", 1))
		s.SetAttributes(attrs...)
		s.End(trace.WithTimestamp(start.Add(time.Millisecond)))
	}
	metrics := func(ctx context.Context) {
		duration.Inst().Record(ctx, 0.001, allRecord...)
		cacheRequests.Add(ctx, 1, allAdd...)
		tokens.Inst().Record(ctx, 230, inputRecord...)
		tokens.Inst().Record(ctx, 120, outputRecord...)
		cost.Add(ctx, 0.000107, allAdd...)
	}
	for _, tc := range []struct {
		name string
		f    func(context.Context, time.Time)
	}{
		{"span", span},
		{"metrics", func(ctx context.Context, _ time.Time) { metrics(ctx) }},
		{"span-and-metrics", func(ctx context.Context, t time.Time) { span(ctx, t); metrics(ctx) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			start := time.Now()
			for b.Loop() {
				tc.f(ctx, start)
			}
		})
	}
}
