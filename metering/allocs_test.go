package metering_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
)

// allocsPerCall counts the allocations of one call through rt, the
// request's included.
func allocsPerCall(t *testing.T, rt http.RoundTripper, body []byte) float64 {
	t.Helper()
	ctx := aigateway.WithMetadata(context.Background(), "user", "u-1")
	return testing.AllocsPerRun(200, func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, llmtest.TransportURL+"/v1/chat/completions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk-test")
		resp, err := rt.RoundTrip(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
	})
}

// With no-op providers the meter starts no span and builds no attribute:
// what it allocates on the caller's path is its own bookkeeping, the
// completion callback and the Record with its copy of the metadata.
func TestAMeterWithNoopProvidersAllocatesOnlyItsRecord(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items at random: allocation counts vary")
	}
	fake := llmtest.NewTransport()
	meter := metering.New(metering.Config{MeterProvider: metricnoop.NewMeterProvider(), TracerProvider: tracenoop.NewTracerProvider()})
	plain, metered := mustNew(t, fake), mustNew(t, fake, meter)
	defer plain.Close()
	defer metered.Close()
	extra := allocsPerCall(t, metered, benchBody) - allocsPerCall(t, plain, benchBody)
	t.Logf("the meter allocates %.1f times a call", extra)
	assert.LessOrEqual(t, extra, 5.0)
}
