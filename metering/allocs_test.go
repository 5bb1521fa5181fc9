package metering_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime"
	"testing"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/internal/benchstack"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
)

// allocsPerCall counts the allocations of one call through rt, the
// request's included, and of the metrics and span meter records after it
// (when meter is not nil).
func allocsPerCall(t *testing.T, rt http.RoundTripper, meter *metering.Meter, body []byte) float64 {
	t.Helper()
	ctx := aigateway.WithMetadata(context.Background(), "user", "u-1")
	return testing.AllocsPerRun(200, func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, llmtest.TransportURL+"/v1/chat/completions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-test")
		resp, err := rt.RoundTrip(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
		if meter != nil {
			require.NoError(t, meter.Flush(context.Background()))
		}
	})
}

// With no-op providers the meter starts no span and builds no attribute:
// what it allocates on the caller's path is its state of the call, Record
// included (which is also what the Call tells at completion: no callback
// of its own); and the Record's copy of the call's metadata when OnRecord
// or a sink will see the Record.
func TestAMeterWithNoopProvidersAllocatesOnlyItsRecord(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items at random: allocation counts vary")
	}
	for _, tc := range []struct {
		name     string
		onRecord func(*metering.Record)
		want     float64
	}{
		{"nobody sees the Record", nil, 1},
		{"OnRecord sees it", func(*metering.Record) {}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := llmtest.NewTransport()
			meter := metering.New(metering.Config{
				MeterProvider: metricnoop.NewMeterProvider(), TracerProvider: tracenoop.NewTracerProvider(),
				OnRecord: tc.onRecord,
			})
			plain, metered := mustNew(t, fake), mustNew(t, fake, meter)
			defer plain.Close()
			defer metered.Close()
			extra := allocsPerCall(t, metered, meter, benchBody) - allocsPerCall(t, plain, nil, benchBody)
			t.Logf("the meter allocates %.1f times a call", extra)
			assert.LessOrEqual(t, extra, tc.want)
		})
	}
}

// With the OpenTelemetry SDK recording, what the meter allocates itself is
// its state, the span's timestamp options and the attributes of the span's
// end; a span's name and start attributes and the metrics' options are
// built once per combination. The rest is the SDK's: the span, its
// attributes and events, the context that carries it.
func TestAMeterWithTheSDKBuildsOptionsOncePerCombination(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items at random: allocation counts vary")
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(benchstack.DiscardSpans{}))
	t.Cleanup(func() {
		_ = mp.Shutdown(context.Background())
		_ = tp.Shutdown(context.Background())
	})
	fake := llmtest.NewTransport()
	meter := metering.New(metering.Config{MeterProvider: mp, TracerProvider: tp})
	plain, metered := mustNew(t, fake), mustNew(t, fake, meter)
	defer plain.Close()
	defer metered.Close()
	extra := allocsPerCall(t, metered, meter, benchBody) - allocsPerCall(t, plain, nil, benchBody)
	t.Logf("the meter and the SDK allocate %.1f times a call", extra)
	assert.LessOrEqual(t, extra, 17.0)
}

// A Record is allocated with the meter's other state of its call, but
// outlives the call without keeping it alive: the call holds the request's
// body and more, and the Records in the sinks' queue or kept by OnRecord
// would hold on to as many of them.
func TestARecordDoesNotKeepItsCallAlive(t *testing.T) {
	var kept *metering.Record
	meter := metering.New(metering.Config{
		MeterProvider: metricnoop.NewMeterProvider(), TracerProvider: tracenoop.NewTracerProvider(),
		OnRecord: func(r *metering.Record) { kept = r },
	})
	var call weak.Pointer[aigateway.Call]
	seeCall := aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return aigateway.Layer(next, func(c aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			call = weak.Make(c.Call())
			return next.RoundTrip(req)
		})
	})
	gw := mustNew(t, llmtest.NewTransport(), meter, seeCall)
	defer gw.Close()
	req, err := http.NewRequest(http.MethodPost, llmtest.TransportURL+"/v1/chat/completions", bytes.NewReader(benchBody))
	require.NoError(t, err)
	resp, err := gw.RoundTrip(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NotNil(t, kept)
	req, resp = nil, nil
	runtime.GC()
	runtime.GC()
	assert.Nil(t, call.Value(), "the call was collected")
	assert.Equal(t, "gpt-4o-mini", kept.Model, "while its Record lives")
}
