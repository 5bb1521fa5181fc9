package metering_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
)

// spanSeen is an upstream that remembers the span of the context each
// request reached it with: what HTTP instrumentation there would nest
// under and send on as a traceparent.
type spanSeen struct {
	next http.RoundTripper
	span trace.Span
}

func (s *spanSeen) RoundTrip(req *http.Request) (*http.Response, error) {
	s.span = trace.SpanFromContext(req.Context())
	return s.next.RoundTrip(req)
}

// A meter whose tracer does nothing (no SDK installed) starts no span and
// leaves the request's context as it is: the layers and instrumentation
// further in see the caller's own span, recording, not a stand-in that
// hides it. Metrics are recorded all the same.
func TestATracerThatDoesNothingLeavesTheCallersSpanInPlace(t *testing.T) {
	for _, tc := range []struct {
		name string
		tp   trace.TracerProvider // nil: the global provider, no SDK installed
	}{
		{"noop provider", tracenoop.NewTracerProvider()},
		//lint:ignore SA1019 the deprecated no-op provider is still in use
		{"deprecated noop provider", trace.NewNoopTracerProvider()},
		{"global provider without an SDK", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caller := tracetest.NewSpanRecorder()
			callerTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(caller))
			t.Cleanup(func() { _ = callerTP.Shutdown(context.Background()) })
			ctx, parent := callerTP.Tracer("app").Start(context.Background(), "handler")
			defer parent.End()

			tel := newTelemetry(t)
			meter := tel.track(metering.New(metering.Config{MeterProvider: tel.mp, TracerProvider: tc.tp}))
			seen := &spanSeen{next: llmtest.NewTransport()}
			gw := mustNew(t, seen, meter)
			defer gw.Close()

			call, _ := do(t, ctx, gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
			require.NoError(t, call.Result().Err)
			assert.True(t, seen.span == parent, "upstream sees the caller's span itself, got %T %v", seen.span, seen.span.SpanContext())
			assert.True(t, seen.span.IsRecording())
			_, n, _ := tel.floatHist(t, "gen_ai.client.operation.duration")
			assert.Equal(t, uint64(1), n, "metrics do not depend on tracing")
			assert.Empty(t, caller.Ended(), "nothing ended in the caller's trace")
		})
	}
}

// With an SDK whose sampler drops the span, the meter still starts one and
// sends the request on with it: a span context of its own, in the caller's
// trace, not sampled, so that what goes further (a traceparent) carries
// the decision; nothing is recorded. A sampled span goes on the same way.
func TestAnUnsampledSpanStillPropagates(t *testing.T) {
	remote := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3},
		SpanID:     trace.SpanID{4, 5, 6},
		TraceFlags: trace.FlagsSampled,
		Remote:     true,
	})
	for _, tc := range []struct {
		name      string
		sampler   sdktrace.Sampler
		parent    bool
		sampled   bool
		recording int
	}{
		{"never sample, sampled parent", sdktrace.NeverSample(), true, false, 0},
		{"never sample, no parent", sdktrace.NeverSample(), false, false, 0},
		{"parent based, sampled parent", sdktrace.ParentBased(sdktrace.NeverSample()), true, true, 1},
		{"always sample, no parent", sdktrace.AlwaysSample(), false, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spans := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(tc.sampler), sdktrace.WithSpanProcessor(spans))
			t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			meter := metering.New(metering.Config{TracerProvider: tp})
			seen := &spanSeen{next: llmtest.NewTransport()}
			gw := mustNew(t, seen, meter)
			defer gw.Close()
			ctx := context.Background()
			if tc.parent {
				ctx = trace.ContextWithRemoteSpanContext(ctx, remote)
			}

			call, _ := do(t, ctx, gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
			require.NoError(t, call.Result().Err)
			require.NoError(t, meter.Flush(context.Background()))
			sc := seen.span.SpanContext()
			require.True(t, sc.IsValid(), "the meter's span context went on")
			assert.NotEqual(t, remote.SpanID(), sc.SpanID(), "a span of the meter's own")
			if tc.parent {
				assert.Equal(t, remote.TraceID(), sc.TraceID(), "in the caller's trace")
			}
			assert.Equal(t, tc.sampled, sc.IsSampled())
			ended := spans.Ended()
			require.Len(t, ended, tc.recording)
			if tc.recording > 0 {
				assert.Equal(t, sc, ended[0].SpanContext())
			}
		})
	}
}
