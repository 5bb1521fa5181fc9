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
		// writing is set before writeCtx is checked: a CloseContext that
		// cancels writeCtx and then sees writing unset knows no Write will
		// start (see shutdown).
		m.writing.Store(true)
		if m.writeCtx.Err() != nil {
			m.dropped.Add(1)
			m.closeDropped.Add(1)
		} else {
			for _, s := range m.cfg.Sinks {
				if err := s.Write(m.writeCtx, r); err != nil {
					m.sinkErrs.Add(1)
				}
			}
		}
		m.writing.Store(false)
	}
}

// Close is CloseContext bounded by Config.CloseTimeout.
func (m *Meter) Close() error {
	d := m.cfg.CloseTimeout
	if d <= 0 {
		d = DefaultCloseTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return m.CloseContext(ctx)
}

// CloseContext waits for the metrics and spans still queued (see Flush),
// stops the sink goroutine once it has written every queued record, then
// closes every sink, and returns their errors joined: on a
// graceful shutdown nothing is lost. Calls that complete after it are still
// metered, but their records reach no sink (they count as Dropped).
//
// If ctx ends first, CloseContext cancels the context the sinks' Write
// receive and drops the records still queued (counted in Dropped; the error
// it returns then wraps ctx's). When no sink is in Write, or the Write in
// progress returns within a short grace (250 ms) once its context is
// cancelled, it still closes the sinks before it returns; when a sink stays
// stuck in Write past that (one that ignores its context), it returns, and
// the sink goroutine closes the sinks when that Write returns.
// CloseContext, and Close, are safe to call more than once: later calls
// return the first result.
func (m *Meter) CloseContext(ctx context.Context) error {
	m.closeOnce.Do(func() {
		// The metrics and spans still queued first: a service that
		// shuts down exports what its last calls did.
		terr := m.tel.Close(ctx)
		m.closeErr = m.shutdown(ctx)
		if m.closeErr == nil && terr != nil {
			m.closeErr = fmt.Errorf("metering: metrics and spans still queued at close: %w", terr)
		}
	})
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
	if !m.writing.Load() || m.writeEndsWithin(closeGrace) {
		// No sink is in Write (or the one that was returned, its context
		// cancelled, within the grace), and none will be: the goroutine
		// drops what is still queued and ends at once. The sinks are
		// closed here, before CloseContext returns, as on a graceful close.
		<-m.drained
		if n := m.closeDropped.Load(); n > 0 {
			return errors.Join(fmt.Errorf("metering: close ran out of time, %d queued records dropped: %w", n, ctx.Err()), m.closeSinks())
		}
		return m.closeSinks()
	}
	m.abandoned.Store(true)
	select {
	case <-m.drained: // it finished meanwhile: it may or may not have seen abandoned
		m.closeSinks()
	default:
	}
	return fmt.Errorf("metering: close gave up waiting for the sinks, queued records dropped: %w", ctx.Err())
}

// closeGrace is how long a CloseContext past its deadline waits for a
// sink's Write in progress to return, its context cancelled, before it
// gives up on it: a sink that honours its context (or had just finished)
// returns at once, and is closed as on a graceful close; only one stuck
// ignoring its context is left behind. Without a grace, a Write that had
// returned an instant before, while dispatch had yet to say so, counted as
// stuck, and the close reported a loss that did not happen.
const closeGrace = 250 * time.Millisecond

// writeEndsWithin reports whether the sink goroutine finishes (drained)
// within d: its Write in progress returned, and the records behind it were
// dropped, its context being cancelled.
func (m *Meter) writeEndsWithin(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-m.drained:
		return true
	case <-t.C:
		return false
	}
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
