package metering_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
)

func TestSinkQueueDropsWhenFullAndCloseFlushes(t *testing.T) {
	sink := &testSink{entered: make(chan struct{}), block: make(chan struct{})}
	meter := metering.New(metering.Config{Sinks: []metering.Sink{sink}, SinkBuffer: 2})
	gw := aigateway.New(llmtest.NewTransport(), meter)
	ctx := context.Background()

	do(t, ctx, gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
	<-sink.entered // the sink goroutine holds the first record, blocked
	for range 9 {
		do(t, ctx, gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
	}
	assert.Equal(t, int64(7), meter.Dropped(), "two queued, seven dropped, none waited for")
	close(sink.block)
	require.NoError(t, gw.Close())
	recs, closed := sink.got()
	assert.Len(t, recs, 3)
	assert.Equal(t, 1, closed)
	assert.Equal(t, int64(10), meter.Ledger().Totals().Requests, "dropped records are still in the ledger")
}

func TestCloseFlushesEverySink(t *testing.T) {
	a, b := &testSink{}, &testSink{}
	meter := metering.New(metering.Config{Sinks: []metering.Sink{a, b}})
	gw := aigateway.New(llmtest.NewTransport(), meter)
	for range 50 {
		do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
	}
	require.NoError(t, meter.Close())
	require.NoError(t, meter.Close(), "Close twice is fine")
	for _, s := range []*testSink{a, b} {
		recs, closed := s.got()
		assert.Len(t, recs, 50)
		assert.Equal(t, 1, closed)
	}
	assert.Zero(t, meter.Dropped())

	// A call after Close is metered, not written.
	do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
	assert.Equal(t, int64(1), meter.Dropped())
	assert.Equal(t, int64(51), meter.Ledger().Totals().Requests)
}

func TestCloseJoinsSinkErrors(t *testing.T) {
	errA, errB := errors.New("a"), errors.New("b")
	meter := metering.New(metering.Config{Sinks: []metering.Sink{&testSink{closeErr: errA}, &testSink{closeErr: errB}}})
	err := meter.Close()
	assert.ErrorIs(t, err, errA)
	assert.ErrorIs(t, err, errB)
}

func TestCloseWithoutSinks(t *testing.T) {
	assert.NoError(t, metering.New(metering.Config{}).Close())
}
