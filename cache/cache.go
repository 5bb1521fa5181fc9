package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/internal/settle"
	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/provider"
)

// Defaults for the zero Config.
const (
	DefaultTTL           = time.Hour
	DefaultMaxEntryBytes = 4 << 20
	DefaultCoalesceWait  = time.Minute
	DefaultCoalesceIdle  = 2 * time.Second
)

// Config configures a Cache. The zero value is a working cache: an in-memory
// store of DefaultMemoryBytes, entries kept for DefaultTTL, tenants kept
// apart by their credentials, identical calls in flight coalesced.
type Config struct {
	// Store keeps the entries; nil means NewMemoryStore(MaxBytes).
	Store Store `json:"-"`
	// MaxBytes is the budget of the default memory store.
	MaxBytes int64 `json:"max_bytes,omitempty"`
	// TTL is how long an entry is kept, unless the call's controls say
	// otherwise (X-Aigateway-Cache-Ttl, WithTTL). Zero means DefaultTTL.
	TTL time.Duration `json:"ttl,omitempty"`
	// MaxTTL is the longest a call's controls may keep its answer: a
	// longer X-Aigateway-Cache-Ttl (or WithTTL) is cut to it. Zero means
	// TTL: a call may shorten the time its answer is kept, never lengthen
	// it beyond what the operator set.
	MaxTTL time.Duration `json:"max_ttl,omitempty"`
	// MaxEntryBytes bounds one stored response; larger ones pass through
	// uncached. Zero means DefaultMaxEntryBytes.
	MaxEntryBytes int64 `json:"max_entry_bytes,omitempty"`

	// Partition splits entries further, by metadata: "metadata:tenant", or
	// terms joined by commas. PartitionFunc, if set, is used instead.
	Partition     string                       `json:"partition,omitempty"`
	PartitionFunc func(*aigateway.Call) string `json:"-"`
	// ShareAcrossCredentials leaves the credential's fingerprint out of the
	// key, so callers with different API keys or rotating OAuth tokens share
	// entries. Only set it when the partition keeps tenants apart.
	ShareAcrossCredentials bool `json:"share_across_credentials,omitempty"`

	// HonorCacheControl makes the request's own Cache-Control count:
	// no-store bypasses the cache, no-cache goes upstream and stores the new
	// answer. Off by default: SDKs and browsers send Cache-Control:
	// no-cache on every stream (go-openai, EventSource), which would leave
	// their streams never cached. X-Aigateway-Skip-Cache,
	// X-Aigateway-Refresh-Cache, Skip and Refresh work either way.
	HonorCacheControl bool `json:"honor_cache_control,omitempty"`

	// CacheFallbacks stores answers that came from a fallback target rather
	// than the first choice (off: a degraded answer is not served for TTL).
	CacheFallbacks bool `json:"cache_fallbacks,omitempty"`
	// NoCoalescing turns off coalescing of identical calls in flight.
	NoCoalescing bool `json:"no_coalescing,omitempty"`
	// CoalesceWait bounds how long a coalesced call waits for the call it
	// joined before going upstream itself. Zero means DefaultCoalesceWait.
	CoalesceWait time.Duration `json:"coalesce_wait,omitempty"`
	// CoalesceIdle stops the wait sooner: once the joined call's answer has
	// begun to arrive, a waiting call goes upstream itself when that
	// answer's caller has not read from it for this long (the caller may be
	// the very goroutine that is waiting). A caller blocked in a read, for an
	// upstream that is slow to send, is not idle. Zero means
	// DefaultCoalesceIdle.
	CoalesceIdle time.Duration `json:"coalesce_idle,omitempty"`

	// Now is the clock for entry ages; nil means time.Now.
	Now func() time.Time `json:"-"`
}

// Validate reports a configuration the cache cannot work with.
func (c Config) Validate() error {
	var errs []error
	if c.TTL < 0 {
		errs = append(errs, fmt.Errorf("cache: ttl %v is negative", c.TTL))
	}
	if c.MaxTTL < 0 {
		errs = append(errs, fmt.Errorf("cache: max_ttl %v is negative", c.MaxTTL))
	}
	ttl := c.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if c.MaxTTL > 0 && ttl > 0 && c.MaxTTL < ttl {
		errs = append(errs, fmt.Errorf("cache: max_ttl %v is shorter than ttl %v", c.MaxTTL, ttl))
	}
	if c.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("cache: max_bytes %d is negative", c.MaxBytes))
	}
	if c.MaxEntryBytes < 0 {
		errs = append(errs, fmt.Errorf("cache: max_entry_bytes %d is negative", c.MaxEntryBytes))
	}
	if c.CoalesceWait < 0 {
		errs = append(errs, fmt.Errorf("cache: coalesce_wait %v is negative", c.CoalesceWait))
	}
	if c.CoalesceIdle < 0 {
		errs = append(errs, fmt.Errorf("cache: coalesce_idle %v is negative", c.CoalesceIdle))
	}
	if c.PartitionFunc == nil && c.Partition != "" {
		if _, err := parsePartition(c.Partition); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Cache is the exact-match response cache layer. It is safe for concurrent
// use.
type Cache struct {
	cfg      Config
	invalid  error
	store    Store
	mem      *MemoryStore // store, when it is the memory store: looked up without a key string
	ownStore bool
	keys     *keyer
	flights  flights
	now      func() time.Time

	settles *settle.Queue // nil: entries are stored inline (the memory store)
	queued  atomic.Int64  // bytes of the entries settles holds
	inline  atomic.Int64  // entries stored inline for want of room in settles

	hits, misses, bypasses, coalesced, storeErrors atomic.Int64
	waiting                                        atomic.Int64
}

// Err returns the error of the Config the Cache was built from (see
// Config.Validate), nil when it is valid. aigateway.New asks every layer
// for it.
func (c *Cache) Err() error { return c.invalid }

// New returns a Cache. It never fails, so stacks compose inline: a Cache
// built from an invalid Config reports it with Err, aigateway.New refuses
// it, and used without a Gateway it answers every call with a
// provider-shaped 500 naming the problem.
func New(cfg Config) *Cache {
	c := &Cache{cfg: cfg, now: cfg.Now}
	if c.now == nil {
		c.now = time.Now
	}
	if c.cfg.TTL == 0 {
		c.cfg.TTL = DefaultTTL
	}
	if c.cfg.MaxTTL == 0 {
		c.cfg.MaxTTL = c.cfg.TTL
	}
	if c.cfg.MaxEntryBytes == 0 {
		c.cfg.MaxEntryBytes = DefaultMaxEntryBytes
	}
	if c.cfg.CoalesceWait == 0 {
		c.cfg.CoalesceWait = DefaultCoalesceWait
	}
	if c.cfg.CoalesceIdle == 0 {
		c.cfg.CoalesceIdle = DefaultCoalesceIdle
	}
	if err := cfg.Validate(); err != nil {
		c.invalid = err
		return c
	}
	c.keys, c.invalid = newKeyer(&c.cfg)
	c.store = cfg.Store
	if c.store == nil {
		c.store, c.ownStore = NewMemoryStore(cfg.MaxBytes), true
	}
	if m, mem := c.store.(*MemoryStore); mem {
		c.mem = m
	} else {
		c.settles = settle.New(StoreQueue, storeWorkers)
	}
	c.flights.m = make(map[digest]*flight)
	return c
}

// Stats are a Cache's counters since New.
type Stats struct {
	Hits, Misses, Bypasses, Coalesced int64
	// StoreErrors counts Store failures; each one made the call a miss (or
	// left an answer unstored), never an error.
	StoreErrors int64
	// Waiting is how many calls are waiting, right now, for an identical
	// call in flight (a gauge, not a count since New).
	Waiting int64
	// Storing is how many answers are waiting to be stored, or being
	// stored (a gauge; always 0 with the memory store). See Flush.
	Storing int64
	// StoredInline counts answers stored in the caller's Read because the
	// queue was full, or the Cache closed.
	StoredInline int64
	// Entries and Bytes are the store's, when it reports them (StoreStats).
	Entries int
	Bytes   int64
}

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	s := Stats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), Bypasses: c.bypasses.Load(),
		Coalesced: c.coalesced.Load(), StoreErrors: c.storeErrors.Load(), Waiting: c.waiting.Load(),
		Storing: int64(c.settles.Pending()), StoredInline: c.inline.Load() + c.settles.Inline(),
	}
	if ss, ok := c.store.(StoreStats); ok {
		s.Entries, s.Bytes = ss.Len(), ss.Bytes()
	}
	return s
}

// StoreQueue and StoreQueueBytes bound the entries a Cache over a Store
// other than the memory store keeps waiting to be stored: their number and
// their bytes. storeWorkers is how many it stores at once.
const (
	StoreQueue      = 1_000
	StoreQueueBytes = 64 << 20
	storeWorkers    = 8
)

// Flush waits until the entries of the calls completed so far are stored,
// or until ctx ends (its error).
//
// A Cache over the memory store stores an answer inside the caller's Read
// or Close that completes the call, so the entry is there when that
// returns and Flush has nothing to wait for. Over any other Store (Redis:
// a round trip), the entry is stored after the caller has its answer, on
// a bounded queue: at most StoreQueue entries and StoreQueueBytes bytes
// wait, and beyond that an entry is stored in the caller's Read again
// (counted in Stats.StoredInline). Callers coalesced onto the call get the answer once
// it is stored, as before.
func (c *Cache) Flush(ctx context.Context) error { return c.settles.Flush(ctx) }

// Close waits for the entries still queued (see Flush), and releases the
// default memory store. A Store passed in Config is the caller's to
// close. A Gateway's Close calls it.
func (c *Cache) Close() error {
	if c.settles != nil {
		return c.settles.Close(context.Background())
	}
	if m, ok := c.store.(*MemoryStore); ok && c.ownStore {
		return m.Close()
	}
	return nil
}

// Wrap returns the cache layer around next. Its RoundTrip answers a hit from
// the store (the caller reads and closes the replayed body), and otherwise
// sends the call on and tees a complete 200 into the store as the caller
// reads it; the entry is written when the call completes.
func (c *Cache) Wrap(next http.RoundTripper) http.RoundTripper {
	return aigateway.Layer(next, c.roundTrip)
}

func (c *Cache) roundTrip(call aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
	if c.invalid != nil {
		return provider.NewErrorResponse(req, call.Format(), provider.ErrorSpec{
			Status: http.StatusInternalServerError, Type: "server_error",
			Message: "aigateway: invalid cache configuration: " + c.invalid.Error(),
		}), nil
	}
	ctl := call.Controls()
	skip, refresh := ctl.SkipCache, ctl.RefreshCache
	if c.cfg.HonorCacheControl {
		skip, refresh = skip || ctl.CacheControlNoStore, refresh || ctl.CacheControlNoCache
	}
	if skip || !call.Parsed() || background(call) {
		return c.bypass(call, req, next)
	}
	key, ok := c.keys.key(call, req)
	if !ok {
		return c.bypass(call, req, next)
	}
	if refresh {
		return c.miss(call, req, next, c.newFill(call, req, key), false)
	}
	var skBuf [storeKeyLen]byte
	sk := key.appendStoreKey(skBuf[:0]) // for the look-ups
	var deadline time.Time              // of the wait, from its start
	var fl *fill
	for {
		stores := c.flights.stores(key)
		if e, shared := c.get(req.Context(), sk); e != nil {
			c.hits.Add(1)
			return c.replay(call, req, e, aigateway.CacheHit, shared), nil
		}
		if fl == nil {
			fl = c.newFill(call, req, key)
		}
		if c.cfg.NoCoalescing {
			return c.miss(call, req, next, fl, false)
		}
		f, leader := c.flights.join(key, &fl.flight)
		if leader && c.flights.storedSince(key, stores) {
			// A call of this process may have stored an answer for this
			// key between the look-up above and the join (a flight that
			// ended, a refresh, a call that did not coalesce), or been
			// storing one during the look-up: look once more. Most leaders
			// skip this look, a round trip with a remote store.
			if e, _ := c.get(req.Context(), sk); e != nil {
				c.flights.finish(key, f, e)
				c.hits.Add(1)
				return c.replay(call, req, e, aigateway.CacheHit, true), nil // e is shared with the waiting calls now
			}
		}
		if leader {
			return c.miss(call, req, next, fl, true)
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(c.cfg.CoalesceWait)
		}
		switch c.wait(req.Context(), f, deadline) {
		case waitShared:
			c.coalesced.Add(1)
			return c.replay(call, req, f.entry, aigateway.CacheCoalesced, true), nil
		case waitGoUpstream:
			return c.miss(call, req, next, fl, false)
		case waitCancelled:
			return nil, req.Context().Err()
		}
		// The leader failed or was cancelled: look again, and one of the
		// waiting calls leads the next flight.
	}
}

type waitOutcome int

const (
	waitShared     waitOutcome = iota // the flight's entry is the answer
	waitGoUpstream                    // stop waiting and go upstream alone
	waitRetry                         // the flight failed: look again
	waitCancelled                     // the waiting call's context ended
)

// wait waits for flight f to end, until deadline, while its answer keeps
// moving (see Config.CoalesceIdle), or until ctx ends.
func (c *Cache) wait(ctx context.Context, f *flight, deadline time.Time) waitOutcome {
	idle := c.cfg.CoalesceIdle
	f.waiters.Add(1)
	c.waiting.Add(1)
	defer func() { f.waiters.Add(-1); c.waiting.Add(-1) }()
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return waitGoUpstream
		}
		if last := f.lastRead.Load(); last != 0 && f.reading.Load() == 0 && time.Since(time.Unix(0, last)) >= idle {
			return waitGoUpstream
		}
		timer := time.NewTimer(min(left, idle))
		select {
		case <-f.done:
			timer.Stop()
			switch {
			case f.entry != nil:
				return waitShared
			case f.release:
				// A good answer that cannot be stored (too large, or from a
				// fallback target): waiting again would only serialise the
				// calls, so each goes upstream now.
				return waitGoUpstream
			}
			return waitRetry
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return waitCancelled
		}
	}
}

func (c *Cache) bypass(call aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
	c.bypasses.Add(1)
	call.SetCacheStatus(aigateway.CacheBypass)
	resp, err := next.RoundTrip(req)
	if err == nil && resp != nil {
		setHeader(call, resp, "BYPASS")
	}
	return resp, err
}

// setHeader marks resp with the cache status, giving it a header if the
// next layer left it without one.
func setHeader(call aigateway.LayerCall, resp *http.Response, status string) {
	if resp.Header == nil {
		resp.Header = make(http.Header)
	}
	call.SetHeader(resp.Header, aigateway.HeaderCache, status)
}

// background reports a Responses request run in the background: its answer
// is a job handle, not an answer to keep.
func background(call aigateway.LayerCall) bool {
	return wire.Background(call.Format(), call.Body())
}

// get returns the entry stored under the store key sk, or nil. A store
// error or an entry that does not decode is a miss, counted. shared
// reports an entry the memory store keeps decoded for every hit (see
// MemoryStore.getEntry): its replay copies the header.
func (c *Cache) get(ctx context.Context, sk []byte) (e *entry, shared bool) {
	if c.mem != nil {
		e, shared, err := c.mem.getEntry(sk)
		if err != nil {
			c.storeErrors.Add(1)
			return nil, false
		}
		return e, shared
	}
	data, err := c.store.Get(ctx, string(sk))
	if err != nil {
		c.storeErrors.Add(1)
		return nil, false
	}
	if data == nil {
		return nil, false
	}
	if e, err = decodeEntry(data); err != nil {
		c.storeErrors.Add(1)
		return nil, false
	}
	return e, false
}

// replay builds the response for a stored (or coalesced) entry. Its usage
// is reported as saved, never as spent. A shared entry (one flight's answer
// for every follower) gets its own copy of the header.
func (c *Cache) replay(call aigateway.LayerCall, req *http.Request, e *entry, status aigateway.CacheStatus, shared bool) *http.Response {
	call.SetCacheStatus(status)
	call.Replayed(req.Context(), e.provider, e.model, e.usage, e.usageKnown)
	h := e.header
	if shared {
		h = replayHeader(h, e.values)
	}
	if status == aigateway.CacheHit {
		call.SetHeader(h, aigateway.HeaderCache, "HIT")
		call.SetHeader(h, "Age", strconv.FormatInt(int64(max(c.now().Sub(e.created), 0)/time.Second), 10))
	} else {
		call.SetHeader(h, aigateway.HeaderCache, "COALESCED")
	}
	length := int64(len(e.body))
	if e.stream {
		length = -1
	} else {
		call.SetHeader(h, "Content-Length", strconv.FormatInt(length, 10))
	}
	statusLine := "200 OK" // what is stored
	if e.status != http.StatusOK {
		statusLine = strconv.Itoa(e.status) + " " + http.StatusText(e.status)
	}
	r := new(replayed)
	r.body.Reset(e.body)
	r.resp = http.Response{
		Status:        statusLine,
		StatusCode:    e.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          &r.body,
		ContentLength: length,
		Request:       req,
	}
	return &r.resp
}

// replayed is a replay's response and its body, in one allocation.
type replayed struct {
	resp http.Response
	body replayBody
}

// replayBody is a stored entry's body as a response body: a reader of the
// stored bytes (a WriterTo, as bytes.Reader is) with nothing to close.
type replayBody struct{ bytes.Reader }

// Close does nothing: the bytes are the store's.
func (*replayBody) Close() error { return nil }

// fill is one call's way from a miss to the store, in one allocation: the
// flight identical calls may join, the tee that copies the answer as the
// caller reads it (fill is the body the caller gets), and what storing it
// takes once the call completes (fill is the call's Completer).
type fill struct {
	c      *Cache
	call   aigateway.LayerCall
	ctx    context.Context // the request's
	key    digest
	flight flight // the call's own flight, when it leads one (leads)
	leads  bool
	stream bool
	ttl    time.Duration

	// The tee: what passes through Read is copied, after the entry head
	// already in buf, up to max body bytes, without holding anything back.
	rc       io.ReadCloser
	max      int64
	start    int // where the body begins in buf
	mu       sync.Mutex
	buf      []byte
	overflow bool
	frozen   bool

	// What a queued store stores (see Settle): the context that outlives
	// the request's, the entry, the flight to finish.
	sctx    context.Context
	sdata   []byte
	sflight *flight
}

// newFill starts the fill of a call that may miss.
func (c *Cache) newFill(call aigateway.LayerCall, req *http.Request, key digest) *fill {
	return &fill{c: c, call: call, ctx: req.Context(), key: key, max: c.cfg.MaxEntryBytes}
}

// ownFlight is the flight the fill leads, or nil.
func (fl *fill) ownFlight() *flight {
	if fl.leads {
		return &fl.flight
	}
	return nil
}

// miss sends the call upstream and, for a complete 200, stores the answer
// when the call completes. When leads, the call leads fl's flight: it ends
// with the entry, or with nothing when there is none to share.
func (c *Cache) miss(call aigateway.LayerCall, req *http.Request, next http.RoundTripper, fl *fill, leads bool) (*http.Response, error) {
	fl.leads = leads
	c.misses.Add(1)
	call.SetCacheStatus(aigateway.CacheMiss)
	resp, err := next.RoundTrip(req)
	if err != nil || resp == nil || resp.StatusCode != http.StatusOK || resp.Body == nil {
		c.flights.finish(fl.key, fl.ownFlight(), nil)
		if err == nil && resp != nil {
			setHeader(call, resp, "MISS")
		}
		return resp, err // a nil response becomes the Layer's own error
	}
	setHeader(call, resp, "MISS")
	fl.stream = wire.IsStreamAnswer(call.Stream(), resp.Header)
	// The entry's head is written now (the caller owns resp.Header from
	// here on), and the body is teed right after it.
	size := 4096
	if resp.ContentLength > 0 && resp.ContentLength <= c.cfg.MaxEntryBytes {
		size = int(resp.ContentLength)
	}
	fl.buf = newHead(resp.Header, size)
	fl.start, fl.rc = len(fl.buf), resp.Body
	if leads {
		fl.flight.lastRead.Store(time.Now().UnixNano()) // the answer has begun: now it must keep moving
	}
	resp.Body = fl
	fl.ttl = call.Controls().CacheTTL
	if fl.ttl <= 0 {
		fl.ttl = c.cfg.TTL
	}
	fl.ttl = min(fl.ttl, c.cfg.MaxTTL) // a request may shorten it, never lengthen it past the operator's bound
	call.OnCompleteWith(fl)
	return resp, nil
}

// CallComplete stores the answer the fill copied, when the call got it
// whole.
func (fl *fill) CallComplete(r aigateway.Result) {
	c, call, f := fl.c, fl.call, fl.ownFlight()
	captured, ok := fl.freeze()
	// Whole means the upstream's JSON value ended, or its stream's
	// terminator came (a Gemini stream has none: its clean end is all
	// there is).
	up, _ := call.Answer() // the upstream request whose answer the caller got: the one teed
	whole := up.Complete || (fl.stream && !call.Format().Terminated())
	if r.Err != nil || r.Status != http.StatusOK || !whole {
		c.flights.finish(fl.key, f, nil)
		return
	}
	if !ok || (r.Fallback && !c.cfg.CacheFallbacks) {
		c.flights.release(fl.key, f)
		return
	}
	e := &entry{status: http.StatusOK, created: c.now(), stream: fl.stream, model: up.ResponseModel, provider: up.Provider,
		usage: up.Usage, usageKnown: up.UsageKnown}
	data := e.appendTrailer(captured)
	if cap(data) > len(data)+len(data)/4 {
		// The store budgets by len: do not hand it a buffer that holds
		// much more memory than that.
		data = append(make([]byte, 0, len(data)), data...)
	}
	if c.settles == nil {
		// The memory store: it never blocks and ignores the context.
		c.store1(fl.ctx, fl.key, data, fl.ttl, f)
		return
	}
	// Stored after the caller has its answer, when the context may have
	// ended.
	ctx, n := context.WithoutCancel(fl.ctx), int64(len(data))
	if c.queued.Add(n) > StoreQueueBytes {
		c.queued.Add(-n)
		c.inline.Add(1)
		c.store1(ctx, fl.key, data, fl.ttl, f)
		return
	}
	fl.sctx, fl.sdata, fl.sflight = ctx, data, f
	c.settles.Run(fl) // fl stores itself (Settle): no closure
}

// Settle stores the entry CallComplete queued, from the store queue.
func (fl *fill) Settle() {
	c := fl.c
	c.store1(fl.sctx, fl.key, fl.sdata, fl.ttl, fl.sflight)
	c.queued.Add(-int64(len(fl.sdata)))
	fl.sctx, fl.sdata, fl.sflight = nil, nil, nil // kept no longer than the store's work
}

// store1 stores one entry, then wakes the followers of its flight (f may
// be nil).
func (c *Cache) store1(ctx context.Context, key digest, data []byte, ttl time.Duration, f *flight) {
	// Store first, then wake the followers: a call that missed the
	// flight finds the entry in the store.
	c.flights.storing(key)
	if err := c.store.Set(ctx, key.storeKey(), data, ttl); err != nil {
		c.storeErrors.Add(1)
	}
	c.flights.stored(key)
	// Followers get the entry as decoded from what is stored, so a hit
	// and a coalesced answer are the same bytes. With nobody waiting
	// yet, a call that joins late finds the entry in the store.
	var shared *entry
	if f != nil && f.waiters.Load() > 0 {
		shared, _ = decodeEntry(data)
	}
	c.flights.finish(key, f, shared)
}

func (fl *fill) Read(p []byte) (int, error) {
	f := fl.ownFlight()
	if f != nil {
		// A read in progress is a caller waiting on the upstream (a model
		// thinking before its first token): not idle.
		f.reading.Add(1)
		defer func() {
			f.lastRead.Store(time.Now().UnixNano())
			f.reading.Add(-1)
		}()
	}
	n, err := fl.rc.Read(p)
	if n > 0 {
		fl.mu.Lock()
		overflowed := false
		if !fl.overflow && !fl.frozen {
			if int64(len(fl.buf)-fl.start+n) > fl.max {
				fl.overflow, fl.buf, overflowed = true, nil, true
			} else {
				fl.buf = append(fl.buf, p[:n]...)
			}
		}
		fl.mu.Unlock()
		if overflowed {
			// Too large to store: the waiting calls go upstream now.
			fl.c.flights.release(fl.key, f)
		}
	}
	return n, err
}

func (fl *fill) Close() error { return fl.rc.Close() }

// freeze stops the copying and returns the head and body, and false if the
// body was too large. The buffer is the caller's from here on.
func (fl *fill) freeze() ([]byte, bool) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.frozen = true
	return fl.buf, !fl.overflow
}

// flight is one upstream call that identical calls wait for. Its channel
// is made when the first of them joins: a call nobody joins makes none.
type flight struct {
	done     chan struct{} // under flights.mu until it is closed; nil while nobody waits
	once     sync.Once
	entry    *entry       // set before done closes; nil when there is nothing to share
	release  bool         // set before done closes: a good answer that will not be shared
	waiters  atomic.Int32 // calls waiting on it, for tests and debugging
	lastRead atomic.Int64 // unix nanoseconds of the leader's last read (0: no answer yet)
	reading  atomic.Int32 // the leader's reads in progress
}

type flights struct {
	mu sync.Mutex
	m  map[digest]*flight
	// The Sets this process has begun and ended, in 64 shards by key: a
	// leader whose shard had none under way at its look-up, and began none
	// since, knows that no call of this process stored an answer for its
	// key that the look-up did not see.
	begun, ended [64]atomic.Uint64
}

// setCounts is a shard's counts of Sets, ended then begun, read before a
// look-up.
type setCounts struct{ ended, begun uint64 }

// stores returns the counts of Sets of key's shard. The ended count is
// read first: begun equal to it means no Set was under way in between.
func (g *flights) stores(key digest) setCounts {
	e := g.ended[key[0]&63].Load()
	return setCounts{ended: e, begun: g.begun[key[0]&63].Load()}
}

// storedSince reports whether a Set of key's shard was under way when
// before was read, or has begun since.
func (g *flights) storedSince(key digest, before setCounts) bool {
	return before.begun != before.ended || g.begun[key[0]&63].Load() != before.begun
}

// storing counts a Set for key about to begin.
func (g *flights) storing(key digest) { g.begun[key[0]&63].Add(1) }

// stored counts a Set for key that has ended. It comes before the flight's
// end, so a call that joins once the flight has ended sees it.
func (g *flights) stored(key digest) { g.ended[key[0]&63].Add(1) }

// join returns the flight in progress for key, ready to be waited for, or
// makes mine, the caller's own, the flight for key (leader true).
func (g *flights) join(key digest, mine *flight) (f *flight, leader bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.m[key]; ok {
		if f.done == nil {
			f.done = make(chan struct{})
		}
		return f, false
	}
	g.m[key] = mine
	return mine, true
}

// finish ends f (once) with e: the answer to share, or nil when the leader
// failed (a waiting call then leads a new flight). A nil f is a call that
// led no flight.
func (g *flights) finish(key digest, f *flight, e *entry) { g.end(key, f, e, false) }

// release ends f (once) without an answer to share although the leader got
// a good one: the waiting calls go upstream at once, side by side.
func (g *flights) release(key digest, f *flight) { g.end(key, f, nil, true) }

func (g *flights) end(key digest, f *flight, e *entry, release bool) {
	if f == nil {
		return
	}
	f.once.Do(func() {
		g.mu.Lock()
		if g.m[key] == f {
			delete(g.m, key)
		}
		done := f.done // no call joins f once it is out of the map
		g.mu.Unlock()
		f.entry, f.release = e, release
		if done != nil {
			close(done)
		}
	})
}
