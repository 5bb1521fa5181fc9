package metering

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
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
// queue and it is empty. Once a close deadline has passed (writeCtx is
// cancelled) the records still queued are dropped, not written.
func (m *Meter) dispatch() {
	defer func() {
		close(m.drained)
		if m.abandoned.Load() {
			m.closeSinks() // CloseContext gave up waiting: the sinks are closed here
		}
	}()
	for r := range m.queue {
		if m.writeCtx.Err() != nil {
			m.dropped.Add(1)
			continue
		}
		for _, s := range m.cfg.Sinks {
			if err := s.Write(m.writeCtx, r); err != nil {
				m.sinkErrs.Add(1)
			}
		}
	}
}

// Close is CloseContext bounded by Config.CloseTimeout.
func (m *Meter) Close() error {
	d := time.Duration(m.cfg.CloseTimeout)
	if d <= 0 {
		d = DefaultCloseTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return m.CloseContext(ctx)
}

// CloseContext stops the sink goroutine once it has written every queued
// record, then closes every sink, and returns their errors joined: on a
// graceful shutdown nothing is lost. Calls that complete after it are still
// metered, but their records reach no sink (they count as Dropped).
//
// If ctx ends first (a sink stuck in Write), CloseContext cancels the
// context the sinks' Write receive, drops the records still queued (counted
// in Dropped), and returns at once with ctx's error; the sink goroutine
// closes the sinks when the Write it is in returns. CloseContext, and Close,
// are safe to call more than once: later calls return the first result.
func (m *Meter) CloseContext(ctx context.Context) error {
	m.closeOnce.Do(func() { m.closeErr = m.shutdown(ctx) })
	return m.closeErr
}

func (m *Meter) shutdown(ctx context.Context) error {
	if m.queue == nil {
		// The sinks are closed even when the meter never ran them (an
		// invalid Config): they were opened by the caller and handed over.
		return m.closeSinks()
	}
	m.queueMu.Lock()
	m.closed = true
	close(m.queue)
	m.queueMu.Unlock()
	select {
	case <-m.drained:
		m.cancelWrites()
		return m.closeSinks()
	case <-ctx.Done():
	}
	m.cancelWrites()
	m.abandoned.Store(true)
	select {
	case <-m.drained: // it finished meanwhile: it may or may not have seen abandoned
		m.closeSinks()
	default:
	}
	return fmt.Errorf("metering: close gave up waiting for the sinks, queued records dropped: %w", ctx.Err())
}

// closeSinks closes every sink once and returns their errors joined.
func (m *Meter) closeSinks() error {
	m.sinksOnce.Do(func() {
		var errs []error
		for _, s := range m.cfg.Sinks {
			if s != nil {
				errs = append(errs, s.Close())
			}
		}
		m.sinksErr = errors.Join(errs...)
	})
	return m.sinksErr
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
