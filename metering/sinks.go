package metering

import (
	"context"
	"errors"
	"io"
	"sync"
)

// enqueue hands r to the sink goroutine without waiting: when the queue is
// full, or the meter is closed, r is dropped and counted.
func (m *Meter) enqueue(r *Record) {
	if m.queue == nil {
		return
	}
	m.queueMu.RLock()
	defer m.queueMu.RUnlock()
	if m.closed {
		m.dropped.Add(1)
		return
	}
	select {
	case m.queue <- r:
	default:
		m.dropped.Add(1)
	}
}

// dispatch writes every queued record to every sink, until Close closes the
// queue and it is empty.
func (m *Meter) dispatch() {
	defer close(m.drained)
	ctx := context.Background()
	for r := range m.queue {
		for _, s := range m.cfg.Sinks {
			if err := s.Write(ctx, r); err != nil {
				m.sinkErrs.Add(1)
			}
		}
	}
}

// Close stops the sink goroutine once it has written every queued record,
// then closes every sink, and returns their errors joined. Calls that
// complete after Close are still metered, but their records reach no sink
// (they count as Dropped). Close is safe to call more than once.
func (m *Meter) Close() error {
	m.closeOnce.Do(func() {
		if m.queue != nil {
			m.queueMu.Lock()
			m.closed = true
			close(m.queue)
			m.queueMu.Unlock()
			<-m.drained
		}
		// The sinks are closed even when the meter never ran them (an
		// invalid Config): they were opened by the caller and handed over.
		var errs []error
		for _, s := range m.cfg.Sinks {
			if s != nil {
				errs = append(errs, s.Close())
			}
		}
		m.closeErr = errors.Join(errs...)
	})
	return m.closeErr
}

// bodyTee keeps the first limit bytes of a response body as the caller
// reads it, for Records when Config.LogBodies is set.
type bodyTee struct {
	rc    io.ReadCloser
	limit int
	mu    sync.Mutex // Read and the completion callback may run on different goroutines
	buf   []byte
}

func (t *bodyTee) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if n > 0 {
		t.mu.Lock()
		if room := t.limit - len(t.buf); room > 0 {
			t.buf = append(t.buf, p[:min(n, room)]...)
		}
		t.mu.Unlock()
	}
	return n, err
}

func (t *bodyTee) Close() error { return t.rc.Close() }

func (t *bodyTee) bytes() []byte {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.buf...)
}
