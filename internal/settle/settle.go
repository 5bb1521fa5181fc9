// Package settle runs the work that completes a call (a limiter's
// settlement, a cache's store) after the caller has its answer, instead of
// inside the caller's last Read: with a remote store that work is a round
// trip, and the end of every stream would wait for it.
//
// A Queue is bounded and never loses work: when it is full, the work runs
// in the caller's goroutine (back-pressure, counted), as it would without
// a queue. Its goroutines start when work arrives and end when there is
// none, so an idle Queue holds no goroutine and needs no Close for that;
// Flush waits for the work queued so far.
package settle

import (
	"context"
	"sync"
)

// Job is work a Queue runs: a layer's per-call state that settles itself,
// queued without an allocation, where a closure would cost one.
type Job interface {
	// Settle does the work, once.
	Settle()
}

// Queue runs jobs on at most Workers goroutines, in the order they were
// queued (a job may finish after a later one starts when
// several goroutines run). A nil *Queue is a layer's over a store that
// settles inline: Flush, Close, Pending and Inline find nothing to wait
// for or count.
type Queue struct {
	max, workers int

	mu      sync.Mutex
	jobs    []Job // queued, not started; jobs[head:] are live
	head    int
	running int           // goroutines
	pending int           // queued or running jobs
	drained chan struct{} // closed when pending drops to 0; made by Flush
	closed  bool
	inline  int64
}

// New returns a Queue of at most size waiting jobs run by at most workers
// goroutines (each at least 1).
func New(size, workers int) *Queue {
	return &Queue{max: max(size, 1), workers: max(workers, 1)}
}

// Run queues j, or settles it at once in the caller's goroutine when the
// queue is full or closed, and reports whether it was queued.
func (q *Queue) Run(j Job) bool {
	q.mu.Lock()
	if q.closed || len(q.jobs)-q.head >= q.max {
		q.inline++
		q.mu.Unlock()
		j.Settle()
		return false
	}
	q.jobs = append(q.jobs, j)
	q.pending++
	start := q.running < q.workers && q.running < len(q.jobs)-q.head
	if start {
		q.running++
	}
	q.mu.Unlock()
	if start {
		go q.work()
	}
	return true
}

func (q *Queue) work() {
	q.mu.Lock()
	for q.head < len(q.jobs) {
		j := q.jobs[q.head]
		q.jobs[q.head] = nil
		q.head++
		if q.head == len(q.jobs) { // empty: reuse the array from its start
			q.jobs, q.head = q.jobs[:0], 0
		}
		q.mu.Unlock()
		j.Settle()
		q.mu.Lock()
		q.pending--
		if q.pending == 0 && q.drained != nil {
			close(q.drained)
			q.drained = nil
		}
	}
	q.running--
	q.mu.Unlock()
}

// Flush waits until every job queued before it, and any queued meanwhile,
// has run, or until ctx ends (its error).
func (q *Queue) Flush(ctx context.Context) error {
	if q == nil {
		return nil
	}
	q.mu.Lock()
	if q.pending == 0 {
		q.mu.Unlock()
		return nil
	}
	if q.drained == nil {
		q.drained = make(chan struct{})
	}
	drained := q.drained
	q.mu.Unlock()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close makes every later Run settle its job at once, then waits for the
// queued jobs as Flush does.
func (q *Queue) Close(ctx context.Context) error {
	if q == nil {
		return nil
	}
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	return q.Flush(ctx)
}

// Pending is the number of jobs queued or running.
func (q *Queue) Pending() int {
	if q == nil {
		return 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pending
}

// Inline is the number of jobs Run settled at once (queue full or closed).
func (q *Queue) Inline() int64 {
	if q == nil {
		return 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.inline
}
