package aigateway

import (
	"context"
	"sync"
)

type metadataKey struct{}

// WithMetadata tags the calls made with ctx (user, team, feature ...). The
// tags reach rate-limit keys, spans, request logs and the ledger. A tag set in
// the context wins over the same tag in an X-Aigateway-Metadata header, so a
// service that forwards its clients' headers cannot be spoofed by them.
func WithMetadata(ctx context.Context, key, value string) context.Context {
	old, _ := ctx.Value(metadataKey{}).(map[string]string)
	m := make(map[string]string, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[key] = value
	return context.WithValue(ctx, metadataKey{}, m)
}

// MetadataFrom returns the tags WithMetadata put in ctx. The map must not be
// modified.
func MetadataFrom(ctx context.Context) map[string]string {
	m, _ := ctx.Value(metadataKey{}).(map[string]string)
	return m
}

type trackerKey struct{}

// Tracker collects the Calls made with a context returned by Track. It is
// safe for concurrent use.
type Tracker struct {
	mu    sync.Mutex
	calls []*Call
}

// Track lets the caller see the results of the calls made with the returned
// context: one Call per request that reaches the stack, so an SDK retry is a
// second Call. Trackers nest: a call is recorded by every Tracker in ctx.
func Track(ctx context.Context) (context.Context, *Tracker) {
	t := &Tracker{}
	return context.WithValue(ctx, trackerKey{}, &trackerLink{t: t, parent: trackerFrom(ctx)}), t
}

type trackerLink struct {
	t      *Tracker
	parent *trackerLink
}

func trackerFrom(ctx context.Context) *trackerLink {
	l, _ := ctx.Value(trackerKey{}).(*trackerLink)
	return l
}

func (t *Tracker) add(c *Call) {
	t.mu.Lock()
	t.calls = append(t.calls, c)
	t.mu.Unlock()
}

// Calls returns the Calls recorded so far, oldest first.
func (t *Tracker) Calls() []*Call {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]*Call(nil), t.calls...)
}

// Last returns the most recent Call, or nil.
func (t *Tracker) Last() *Call {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.calls) == 0 {
		return nil
	}
	return t.calls[len(t.calls)-1]
}

// Results returns a snapshot of every recorded Call's Result, oldest first.
func (t *Tracker) Results() []Result {
	calls := t.Calls()
	rs := make([]Result, len(calls))
	for i, c := range calls {
		rs[i] = c.Result()
	}
	return rs
}
