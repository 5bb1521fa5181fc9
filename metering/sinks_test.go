package metering_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
)

func TestSinkQueueDropsWhenFullAndCloseFlushes(t *testing.T) {
	sink := &testSink{entered: make(chan struct{}), block: make(chan struct{})}
	meter := metering.New(metering.Config{Sinks: []metering.Sink{sink}, SinkBuffer: 2})
	gw := mustNew(t, llmtest.NewTransport(), meter)
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
	gw := mustNew(t, llmtest.NewTransport(), meter)
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

// ctxSink blocks in Write until its context ends, as a sink stuck on a dead
// network would if it honours its context.
type ctxSink struct {
	testSink
	entered chan struct{}
	once    sync.Once
}

func (s *ctxSink) Write(ctx context.Context, r *metering.Record) error {
	s.once.Do(func() { close(s.entered) })
	<-ctx.Done()
	return ctx.Err()
}

// A sink stuck in Write does not hold CloseContext past its deadline: the
// sink's context is cancelled, the queued records are counted as dropped,
// and the sink is closed once its Write returns.
func TestCloseContextGivesUpOnAStuckSink(t *testing.T) {
	t.Run("sink honours its context", func(t *testing.T) {
		sink := &ctxSink{entered: make(chan struct{})}
		sink.onClose = make(chan struct{})
		m := metering.New(metering.Config{Sinks: []metering.Sink{sink}})
		gw := mustNew(t, llmtest.NewTransport(), m)
		for range 3 {
			do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
		}
		<-sink.entered
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the deadline has already passed
		err := m.CloseContext(ctx)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, err, m.Close(), "later calls return the first result")
		<-sink.onClose
		assert.Equal(t, int64(2), m.Dropped(), "the two records behind the stuck one")
		assert.Equal(t, int64(1), m.SinkErrors())
	})
	t.Run("sink ignores its context", func(t *testing.T) {
		sink := &testSink{entered: make(chan struct{}), block: make(chan struct{}), onClose: make(chan struct{})}
		m := metering.New(metering.Config{Sinks: []metering.Sink{sink}})
		gw := mustNew(t, llmtest.NewTransport(), m)
		do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
		<-sink.entered
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.Error(t, m.CloseContext(ctx))
		_, closed := sink.got()
		assert.Zero(t, closed, "not closed while a Write is running")
		close(sink.block)
		<-sink.onClose
	})
	t.Run("a graceful close writes everything", func(t *testing.T) {
		sink := &testSink{}
		m := metering.New(metering.Config{Sinks: []metering.Sink{sink}, CloseTimeout: time.Minute})
		gw := mustNew(t, llmtest.NewTransport(), m)
		for range 5 {
			do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
		}
		require.NoError(t, m.Close())
		recs, closed := sink.got()
		assert.Len(t, recs, 5)
		assert.Equal(t, 1, closed)
		assert.Zero(t, m.Dropped())
	})
}

// A close whose context has already ended, on a meter whose sinks are not
// writing, gives up nothing: the sinks are closed before it returns, and
// it reports no loss when nothing was queued.
func TestCloseContextAfterItsDeadlineStillClosesIdleSinks(t *testing.T) {
	for range 20 {
		sink := &testSink{}
		m := metering.New(metering.Config{Sinks: []metering.Sink{sink}})
		gw := mustNew(t, llmtest.NewTransport(), m)
		do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
		require.Eventually(t, func() bool { recs, _ := sink.got(); return len(recs) == 1 }, time.Second, time.Millisecond)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.NoError(t, m.CloseContext(ctx))
		_, closed := sink.got()
		require.Equal(t, 1, closed, "closed before CloseContext returned")
	}
}

// slowTailSink records each record, then takes a while to return from
// Write: the window in which a sink has done its work but dispatch has not
// yet seen its Write return.
type slowTailSink struct {
	testSink
	tail time.Duration
}

func (s *slowTailSink) Write(ctx context.Context, r *metering.Record) error {
	err := s.testSink.Write(ctx, r)
	time.Sleep(s.tail)
	return err
}

// Issue 11, item 6: a close past its deadline, while a Write that has done
// its work is returning, reported a loss that did not happen and left the
// sink unclosed (seen as a flake of the test above under load). The Write
// in progress gets a grace to return; only a sink stuck past it is left.
func TestCloseContextWaitsForAWriteThatReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &slowTailSink{tail: 100 * time.Millisecond}
		m := metering.New(metering.Config{Sinks: []metering.Sink{sink}})
		gw := mustNew(t, llmtest.NewTransport(), m)
		do(t, context.Background(), gw, "/v1/chat/completions", chat("gpt-4o-mini"), nil)
		synctest.Wait() // the sink holds the record, and sleeps in Write
		recs, _ := sink.got()
		require.Len(t, recs, 1)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.NoError(t, m.CloseContext(ctx), "nothing was lost")
		_, closed := sink.got()
		assert.Equal(t, 1, closed, "closed before CloseContext returned")
		assert.Zero(t, m.Dropped())
	})
}
