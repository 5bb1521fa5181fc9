package metering_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
)

// gatedSpans holds every span's end until the test opens its gate.
type gatedSpans struct {
	gate chan struct{}
	mu   sync.Mutex
	done []sdktrace.ReadOnlySpan
}

func (g *gatedSpans) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (g *gatedSpans) OnEnd(s sdktrace.ReadOnlySpan) {
	<-g.gate
	g.mu.Lock()
	g.done = append(g.done, s)
	g.mu.Unlock()
}
func (g *gatedSpans) Shutdown(context.Context) error   { return nil }
func (g *gatedSpans) ForceFlush(context.Context) error { return nil }

func (g *gatedSpans) ended() []sdktrace.ReadOnlySpan {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]sdktrace.ReadOnlySpan(nil), g.done...)
}

// The caller's last Read does not wait for the OpenTelemetry SDK: the call
// completes, its Result and the ledger are final, while its span is still
// being ended; Flush waits for it, and the span ends at the instant the
// call completed, not when the queue got to it. Close drains what is left.
func TestSpansAndMetricsAreRecordedOffTheCallersPath(t *testing.T) {
	spans := &gatedSpans{gate: make(chan struct{})}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	meter := metering.New(metering.Config{TracerProvider: tp})
	gw := mustNew(t, llmtest.NewTransport(), meter)

	// do reads the body to its end: with the span ended inline, it would
	// block on the gate.
	call, _ := do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
	<-call.Done()
	r := call.Result()
	require.NoError(t, r.Err)
	assert.Equal(t, int64(1), meter.Ledger().Totals().Requests, "the ledger is final when the call is")
	assert.Empty(t, spans.ended(), "the span's end waits on the queue")

	close(spans.gate)
	require.NoError(t, meter.Flush(context.Background()))
	got := spans.ended()
	require.Len(t, got, 1)
	assert.Equal(t, call.Start().Add(r.Duration), got[0].EndTime(), "ended at the call's completion")

	do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
	require.NoError(t, meter.Close())
	assert.Len(t, spans.ended(), 2, "Close waited for the queued span")
	assert.Zero(t, meter.TelemetryInline())
}
