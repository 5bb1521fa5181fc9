package settle

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// funcJob is a function as a Job, for the tests' work.
type funcJob func()

func (f funcJob) Settle() { f() }

// Go is Run for a function.
func (q *Queue) Go(fn func()) bool { return q.Run(funcJob(fn)) }

// Go returns before the work runs: the caller does not wait for it.
func TestGoDoesNotWaitForTheWork(t *testing.T) {
	q := New(10, 1)
	release := make(chan struct{})
	var ran atomic.Bool
	require.True(t, q.Go(func() { <-release; ran.Store(true) }))
	assert.False(t, ran.Load(), "Go returned while its work was blocked")
	assert.Equal(t, 1, q.Pending())
	close(release)
	require.NoError(t, q.Flush(context.Background()))
	assert.True(t, ran.Load(), "Flush returned before the work ran")
	assert.Equal(t, 0, q.Pending())
}

// A full queue runs the work in the caller's goroutine: nothing is lost,
// and the caller pays for it (counted).
func TestAFullQueueRunsWorkInline(t *testing.T) {
	q := New(2, 1)
	release := make(chan struct{})
	started := make(chan struct{})
	q.Go(func() { close(started); <-release }) // the worker takes it
	<-started
	assert.True(t, q.Go(func() {}))
	assert.True(t, q.Go(func() {}))
	var inline bool
	assert.False(t, q.Go(func() { inline = true }), "a third waiting job does not fit")
	assert.True(t, inline, "the job that did not fit ran before Go returned")
	assert.Equal(t, int64(1), q.Inline())
	close(release)
	require.NoError(t, q.Flush(context.Background()))
}

// Every job runs exactly once, however many callers queue at once.
func TestEveryJobRunsOnce(t *testing.T) {
	q := New(64, 4)
	var runs [1000]atomic.Int32
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() { q.Go(func() { runs[i].Add(1) }) })
	}
	wg.Wait()
	require.NoError(t, q.Flush(context.Background()))
	for i := range runs {
		require.Equal(t, int32(1), runs[i].Load(), "job %d", i)
	}
}

// Jobs start in the order they were queued.
func TestOneWorkerRunsJobsInOrder(t *testing.T) {
	q := New(100, 1)
	var got []int
	for i := range 50 {
		q.Go(func() { got = append(got, i) }) // one worker: no race
	}
	require.NoError(t, q.Flush(context.Background()))
	for i := range got {
		require.Equal(t, i, got[i])
	}
	assert.Len(t, got, 50)
}

// At most Workers goroutines run, and none is left once the queue is idle
// (goleak checks the end of the package's tests).
func TestWorkersAreBoundedAndEndWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := New(100, 3)
		release := make(chan struct{})
		var running, most atomic.Int32
		for range 10 {
			q.Go(func() {
				n := running.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				<-release
				running.Add(-1)
			})
		}
		synctest.Wait()
		assert.Equal(t, int32(3), most.Load(), "three workers for ten waiting jobs")
		close(release)
		require.NoError(t, q.Flush(context.Background()))
		synctest.Wait() // every worker has returned: synctest.Test fails on a goroutine left running
	})
}

// Flush gives up when its context ends; the work still runs after.
func TestFlushHonoursItsContext(t *testing.T) {
	q := New(10, 1)
	release := make(chan struct{})
	q.Go(func() { <-release })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, q.Flush(ctx), context.Canceled)
	close(release)
	require.NoError(t, q.Flush(context.Background()))
}

// After Close, work runs at once: a settlement made while a service shuts
// down is not left in a queue nobody drains.
func TestClosedQueueRunsWorkInline(t *testing.T) {
	q := New(10, 1)
	var first atomic.Bool
	q.Go(func() { first.Store(true) })
	require.NoError(t, q.Close(context.Background()))
	assert.True(t, first.Load(), "Close waited for the queued job")
	var ran bool
	assert.False(t, q.Go(func() { ran = true }))
	assert.True(t, ran)
}

// A nil Queue, a layer's that settles inline, has nothing to wait for or
// count.
func TestNilQueueWaitsForNothing(t *testing.T) {
	var q *Queue
	assert.NoError(t, q.Flush(context.Background()))
	assert.NoError(t, q.Close(context.Background()))
	assert.Zero(t, q.Pending())
	assert.Zero(t, q.Inline())
}

// countJob is a Job that counts its runs.
type countJob struct{ runs atomic.Int32 }

func (j *countJob) Settle() { j.runs.Add(1) }

// A Job that is its caller's own state costs no allocation to queue:
// here on the inline path of a full queue, where a closure would.
func TestRunSettlesAJobWithoutAllocating(t *testing.T) {
	q := New(1, 1)
	var j countJob
	require.True(t, q.Run(&j))
	require.NoError(t, q.Flush(context.Background()))
	assert.Equal(t, int32(1), j.runs.Load())

	release := make(chan struct{})
	started := make(chan struct{})
	q.Go(func() { close(started); <-release }) // the worker takes it
	<-started
	require.True(t, q.Run(&j)) // waits: the queue is now full
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		if q.Run(&j) {
			t.Fatal("queued in a full queue")
		}
	}))
	assert.Equal(t, int32(1+101), j.runs.Load(), "every Run that did not fit ran inline")
	close(release)
	require.NoError(t, q.Flush(context.Background()))
	assert.Equal(t, int32(1+101+1), j.runs.Load())
}
