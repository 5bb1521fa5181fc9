package aigateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/textproto"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aigateway-go/aigateway/internal/coding"
	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/pricing"
	"github.com/aigateway-go/aigateway/provider"
)

// Request headers the stack reads (and strips before a request leaves the
// process), and response headers layers set.
const (
	HeaderCacheTTL       = "X-Aigateway-Cache-Ttl"       // seconds to keep this response
	HeaderCacheKey       = "X-Aigateway-Cache-Key"       // use this cache key instead of the computed one
	HeaderSkipCache      = "X-Aigateway-Skip-Cache"      // "true": neither read nor write the cache
	HeaderRefreshCache   = "X-Aigateway-Refresh-Cache"   // "true": go upstream and store the new answer
	HeaderMetadata       = "X-Aigateway-Metadata"        // JSON object of string tags
	HeaderRequestTimeout = "X-Aigateway-Request-Timeout" // per-attempt timeout, milliseconds
	HeaderMaxAttempts    = "X-Aigateway-Max-Attempts"    // cap on attempts across targets

	HeaderCache    = "X-Aigateway-Cache"    // response: HIT, MISS, BYPASS or COALESCED
	HeaderTarget   = "X-Aigateway-Target"   // response: the target that answered
	HeaderAttempts = "X-Aigateway-Attempts" // response: upstream attempts made
)

// maxCacheTTLSeconds bounds X-Aigateway-Cache-Ttl (ten years) so the
// duration cannot overflow.
const maxCacheTTLSeconds = 10 * 365 * 24 * 3600

// MaxModelBytes bounds Call.Model(): a longer model name, which no provider
// has, is cut to at most this length, between two UTF-8 characters, for
// the stack's own uses (the request goes upstream as it came).
const MaxModelBytes = 256

// DefaultMaxRequestBytes bounds the request bodies the stack reads.
const DefaultMaxRequestBytes = 32 << 20

type controlsKey struct{}

// WithControls sets per-request controls for the calls made with ctx,
// replacing those ctx had (see ContextControls to change one). A field set
// here (non-zero) wins over the same control in a request header.
func WithControls(ctx context.Context, c Controls) context.Context {
	return context.WithValue(ctx, controlsKey{}, c)
}

// ContextControls returns the controls WithControls put in ctx.
func ContextControls(ctx context.Context) Controls {
	c, _ := ctx.Value(controlsKey{}).(Controls)
	return c
}

// cacheControl reads a request's Cache-Control directives no-store and
// no-cache.
func cacheControl(v string) (noStore, noCache bool) {
	for _, d := range strings.Split(v, ",") {
		d = strings.TrimSpace(d)
		if i := strings.IndexByte(d, '='); i >= 0 {
			d = d[:i]
		}
		switch {
		case strings.EqualFold(d, "no-store"):
			noStore = true
		case strings.EqualFold(d, "no-cache"):
			noCache = true
		}
	}
	return noStore, noCache
}

// credentialHash fingerprints every credential the request carries, in
// every form the provider would take it (provider.Credentials): each one
// length-prefixed with where it came from, so no credential can pass for
// another split.
func credentialHash(h http.Header, u *url.URL) string {
	var buf [256]byte // most credentials fit: no allocation
	material := buf[:0]
	provider.Credentials(h, u, func(name, value string) {
		material = binary.AppendUvarint(material, uint64(len(name)))
		material = append(material, name...)
		material = binary.AppendUvarint(material, uint64(len(value)))
		material = append(material, value...)
	})
	if len(material) == 0 {
		return ""
	}
	sum := sha256.Sum256(material)
	clear(material) // the secret does not linger in memory
	clear(buf[:])   // nor its first bytes, when it outgrew the buffer
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// prepare makes the Call for req, or returns a nil Call for a request the
// stack does not recognise (req is then untouched). out is the request the
// layers see: req with the Call in its context, the body read once. A
// request the stack will not send (a body over maxBody: 413; a malformed
// control header: 400) gets a refused Call (see Call.Refused); req's body is
// then closed.
//
// A request is recognised by its method and path alone (wire.Detect):
// whatever its Content-Type or other headers say, the provider answers it,
// so it is metered and counted. A body the stack cannot read (not JSON) is
// sent as it is, in a Call that is not Parsed.
func prepare(req *http.Request, maxBody int64, ignoreHeaders bool, prices *pricing.Table) (call *Call, out *http.Request, err error) {
	preset, format := wire.Detect(req.Method, req.URL)
	if format == provider.FormatUnknown {
		return nil, nil, nil
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxRequestBytes
	}
	if prices == nil {
		prices = pricing.Default()
	}
	ctx := req.Context()
	c := &Call{
		operation:     format.Operation(),
		format:        format,
		preset:        preset,
		provider:      preset.Name(),
		prices:        prices,
		serverAddress: req.URL.Hostname(),
		url:           req.URL,
		start:         time.Now(),
	}
	var ownHeader bool // c.header is a copy, not the caller's map
	c.header, ownHeader, c.gatewayHeaders = canonicalHeader(req.Header)
	hasBody := req.Body != nil && req.Body != http.NoBody
	if hasBody && req.ContentLength > maxBody {
		req.Body.Close()
		return c, c.refuse(ctx, req, http.StatusRequestEntityTooLarge, tooLargeMessage(maxBody)), nil
	}
	var body []byte
	if hasBody {
		body, err = readBody(ctx, req, maxBody) // and closes it
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, nil, ctxErr
		}
		return nil, nil, fmt.Errorf("aigateway: reading request body: %w", err)
	}
	if int64(len(body)) > maxBody {
		return c, c.refuse(ctx, req, http.StatusRequestEntityTooLarge, tooLargeMessage(maxBody)), nil
	}
	c.promptEstimate = int64(len(body)+3) / 4
	if r, perr := wire.ParseRequest(format, req.URL, body); perr == nil {
		c.parsed = true
		c.model, c.stream, c.maxTokens, c.clientUsage = r.Model, r.Stream, r.MaxTokens, r.IncludeUsage
		if len(c.model) > MaxModelBytes {
			// No provider names a model so long; the stack's own uses of
			// it (metric attributes, span names, records, keys) stay small.
			// Cut between two letters: an attribute that is not UTF-8
			// fails an OTLP exporter's whole batch.
			cut := MaxModelBytes
			for cut > 0 && !utf8.RuneStart(c.model[cut]) {
				cut--
			}
			c.model = c.model[:cut]
		}
	}
	c.body = body
	c.prepareStreamUsage()
	if aes := c.header["Accept-Encoding"]; len(aes) > 0 { // canonical: as Values finds it
		// The caller asked for compressed answers itself: only in codings
		// the stack can inflate to read them, and none for a stream whose
		// usage chunk the stack drops again (see Call.askStreamUsage).
		// Every line counts, as the server reads them.
		ae := aes[0]
		if len(aes) > 1 {
			ae = strings.Join(aes, ", ")
		}
		keep := coding.Decodable(ae)
		if c.injected != nil {
			keep = ""
		}
		if keep != ae {
			if !ownHeader {
				c.header = c.header.Clone() // the caller's map is never modified
			}
			if keep == "" {
				c.header.Del("Accept-Encoding")
			} else {
				c.header.Set("Accept-Encoding", keep)
			}
		}
	}
	if ignoreHeaders {
		c.controls, c.metadata = ContextControls(ctx), MetadataFrom(ctx)
	} else if c.controls, c.metadata, err = readControls(ctx, c.header, c.gatewayHeaders); err != nil {
		return c, c.refuse(ctx, req, http.StatusBadRequest, err.Error()), nil
	}
	out = c.outgoing(ctx, req)
	out.Body, _ = c.getBody()
	out.GetBody = c.getBody
	out.ContentLength = int64(len(c.upstreamBody()))
	return c, out, nil
}

// outgoing is req as the layers see it: the Call in its context, no gateway
// header. The Call is tracked from here on.
func (c *Call) outgoing(ctx context.Context, req *http.Request) *http.Request {
	track(ctx, c)
	p := new(callParts)
	p.ctx = callContext{Context: ctx, call: c}
	p.req = *req.WithContext(&p.ctx)
	out := &p.req
	out.Header = c.header
	if c.gatewayHeaders {
		out.Header = stripGatewayHeaders(c.header)
	}
	c.parts = p
	return out
}

// callParts are what a call needs once, allocated together when it is
// prepared: the request the layers see and its context, the body the
// caller reads, and the first upstream answer's. The Call holds them only
// until it completes (see Call.parts): a completed Call, which a Tracker
// may keep, keeps none of them.
type callParts struct {
	req  http.Request
	ctx  callContext
	body clientBody
	up   upstreamBody
}

// callContext is the context of a prepared request: its parent's, with the
// Call as a value.
type callContext struct {
	context.Context
	call *Call
}

func (c *callContext) Value(key any) any {
	if key == (callKey{}) {
		return c.call
	}
	return c.Context.Value(key)
}

// getBody replays the prepared body. An empty one is http.NoBody, as
// net/http knows it: a reader of its own, with ContentLength 0, would go
// chunked (a body of unknown length).
func (c *Call) getBody() (io.ReadCloser, error) {
	b := c.upstreamBody()
	if len(b) == 0 {
		return http.NoBody, nil
	}
	if c.firstBodyUsed.CompareAndSwap(false, true) {
		c.firstBody = *bytes.NewBuffer(b)
		return io.NopCloser(&c.firstBody), nil
	}
	return newBodyReader(b), nil
}

// canonicalHeader returns h with every key in canonical form (as
// textproto.CanonicalMIMEHeaderKey writes it), merging the values of keys
// that differ only in case: h itself when it is canonical already, as the
// header maps net/http and the SDKs build are, else a copy (the caller's
// map is never modified). net/http sends a key written by hand
// (h["authorization"]) as it is, and the provider reads it without regard
// to case: so must every layer, which reads the prepared header with Get.
// The wire is unchanged but for the case of those names.
//
// It also reports whether h holds a header of the stack's own namespace (see
// isGatewayHeader), from the same pass over its keys.
func canonicalHeader(h http.Header) (_ http.Header, copied, gateway bool) {
	canonical := true
	for k := range h {
		canonical = canonical && canonicalKey(k)
		gateway = gateway || isGatewayHeader(k)
	}
	if canonical {
		return h, false, gateway
	}
	out := make(http.Header, len(h))
	keys := slices.Sorted(maps.Keys(h)) // a stable order for merged values
	for _, k := range keys {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		out[ck] = append(out[ck], h[k]...)
	}
	return out, true, gateway
}

// canonicalKey reports whether k is written as
// textproto.CanonicalMIMEHeaderKey would write it, as far as letters go:
// upper case first and after each '-', lower case elsewhere. (A key that
// is not a valid token, which CanonicalMIMEHeaderKey leaves as it is, may
// be reported as not canonical: it is then copied unchanged.) It is the
// check every request pays, so it is kept to one pass without a call.
func canonicalKey(k string) bool {
	upper := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			return false
		}
		upper = c == '-'
	}
	return true
}

// readBody reads req's body, bounded by max, and closes it. A body that may
// block (no GetBody: a pipe, a proxied request's stream) is read on its own
// goroutine when ctx can end, so that the call returns the context's error
// at once, as http.Transport does. The body is then closed on a goroutine
// of its own too: closing a pipe releases the Read in progress, but
// closing a server's request body waits for it (both hold one lock), and
// the Read waits for the client. Replayable bodies, which net/http and the
// SDKs build from bytes in memory, are read in place.
func readBody(ctx context.Context, req *http.Request, max int64) ([]byte, error) {
	if req.GetBody != nil || ctx.Done() == nil {
		defer req.Body.Close()
		return readBounded(req.Body, req.ContentLength, max)
	}
	type result struct {
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		b, err := readBounded(req.Body, req.ContentLength, max)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		req.Body.Close()
		return r.body, r.err
	case <-ctx.Done():
		go req.Body.Close()
		return nil, ctx.Err()
	}
}

func readBounded(r io.Reader, contentLength, max int64) ([]byte, error) {
	size := int64(512)
	if contentLength > 0 {
		size = contentLength + 1 // room to see EOF without growing
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > max {
			return buf, nil
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func tooLargeMessage(max int64) string {
	return fmt.Sprintf("aigateway: request body exceeds %d bytes", max)
}

// refuse makes c a refused Call: the stack answers it with a
// provider-shaped error (and x-should-retry: false) instead of sending it.
// The returned request still travels through the layers, so that they see
// the refusal (a meter records it), but nothing sends it: the innermost
// point answers it (see Call.Refused).
func (c *Call) refuse(ctx context.Context, req *http.Request, status int, msg string) *http.Request {
	c.refusal = provider.NewErrorResponse(req, c.format, provider.ErrorSpec{Status: status, Message: msg})
	c.refusalBody, _ = io.ReadAll(c.refusal.Body) // an in-memory reader
	c.refusalErr = &provider.Error{Status: status, Type: "invalid_request_error", Message: msg}
	if c.metadata == nil {
		// Refused before its headers were read (413), or because one of
		// them was bad (400): the context's tags still say whose call it was.
		c.metadata = MetadataFrom(ctx)
	}
	out := c.outgoing(ctx, req)
	out.Body, out.GetBody, out.ContentLength = http.NoBody, nil, 0
	return out
}

// refusalResponse is the refusal's answer to req.
func (c *Call) refusalResponse(req *http.Request) *http.Response {
	resp := *c.refusal
	resp.Header = c.refusal.Header.Clone()
	resp.Request = req
	resp.Body = io.NopCloser(bytes.NewReader(c.refusalBody))
	return &resp
}

func track(ctx context.Context, c *Call) {
	for l := trackerFrom(ctx); l != nil; l = l.parent {
		l.t.add(c)
	}
}

// isGatewayHeader reports whether k is in the stack's namespace: any name
// that starts with "X-Aigateway", in any case, the bare name included.
func isGatewayHeader(k string) bool {
	const ns = "X-Aigateway"
	return len(k) >= len(ns) && strings.EqualFold(k[:len(ns)], ns)
}

func stripGatewayHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if !isGatewayHeader(k) {
			out[k] = v
		}
	}
	return out
}

// readControls merges the context's controls and metadata with the request
// headers'; the context wins where both set a value.
func readControls(ctx context.Context, h http.Header, gatewayHeaders bool) (Controls, map[string]string, error) {
	c := ContextControls(ctx)
	meta := MetadataFrom(ctx)
	var hc Controls
	for _, cc := range h["Cache-Control"] { // canonical: as Values finds it
		noStore, noCache := cacheControl(cc)
		c.CacheControlNoStore = c.CacheControlNoStore || noStore
		c.CacheControlNoCache = c.CacheControlNoCache || noCache
	}
	if !gatewayHeaders {
		return c, meta, nil
	}
	if v := h.Get(HeaderCacheTTL); v != "" {
		s, err := strconv.ParseFloat(v, 64)
		if err != nil || !(s >= 0 && s <= maxCacheTTLSeconds) { // NaN fails too
			return c, nil, fmt.Errorf("aigateway: %s must be a number of seconds, got %q", HeaderCacheTTL, v)
		}
		hc.CacheTTL = time.Duration(s * float64(time.Second))
	}
	hc.CacheKey = h.Get(HeaderCacheKey)
	var err error
	if hc.SkipCache, err = boolHeader(h, HeaderSkipCache); err != nil {
		return c, nil, err
	}
	if hc.RefreshCache, err = boolHeader(h, HeaderRefreshCache); err != nil {
		return c, nil, err
	}
	if v := h.Get(HeaderRequestTimeout); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms <= 0 || ms > math.MaxInt64/int64(time.Millisecond) { // a time.Duration holds it
			return c, nil, fmt.Errorf("aigateway: %s must be a positive number of milliseconds, got %q", HeaderRequestTimeout, v)
		}
		hc.RequestTimeout = time.Duration(ms) * time.Millisecond
	}
	if v := h.Get(HeaderMaxAttempts); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c, nil, fmt.Errorf("aigateway: %s must be a positive integer, got %q", HeaderMaxAttempts, v)
		}
		hc.MaxAttempts = n
	}
	if v := h.Get(HeaderMetadata); v != "" {
		var hm map[string]string
		if err := json.Unmarshal([]byte(v), &hm); err != nil {
			return c, nil, fmt.Errorf("aigateway: %s must be a JSON object of strings: %v", HeaderMetadata, err)
		}
		if err := checkHeaderMetadata(hm); err != nil {
			return c, nil, err
		}
		merged := make(map[string]string, len(hm)+len(meta))
		for k, v := range hm {
			merged[k] = v
		}
		for k, v := range meta {
			merged[k] = v
		}
		meta = merged
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = hc.CacheTTL
	}
	if c.CacheKey == "" {
		c.CacheKey = hc.CacheKey
	}
	c.SkipCache = c.SkipCache || hc.SkipCache
	c.RefreshCache = c.RefreshCache || hc.RefreshCache
	if c.RequestTimeout == 0 {
		c.RequestTimeout = hc.RequestTimeout
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = hc.MaxAttempts
	}
	return c, meta, nil
}

// boolHeader reads a control header that is true or false (absent: false).
func boolHeader(h http.Header, name string) (bool, error) {
	v := h.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("aigateway: %s must be true or false, got %q", name, v)
	}
	return b, nil
}

// Bounds on the tags an X-Aigateway-Metadata header may add: every tag
// becomes a ledger group, a span attribute and a field of every request
// log record, so a caller must not be able to send them without limit.
// Tags set with WithMetadata are the application's own and not bounded.
const (
	MaxHeaderMetadataKeys       = 16
	MaxHeaderMetadataKeyBytes   = 64
	MaxHeaderMetadataValueBytes = 256
)

// checkHeaderMetadata enforces the bounds on header tags: at most
// MaxHeaderMetadataKeys keys made of letters, digits, '_', '-' and '.', of
// at most MaxHeaderMetadataKeyBytes, each value at most
// MaxHeaderMetadataValueBytes.
func checkHeaderMetadata(m map[string]string) error {
	if len(m) > MaxHeaderMetadataKeys {
		return fmt.Errorf("aigateway: %s holds %d tags, more than %d", HeaderMetadata, len(m), MaxHeaderMetadataKeys)
	}
	for k, v := range m {
		if k == "" || len(k) > MaxHeaderMetadataKeyBytes || strings.IndexFunc(k, notTagChar) >= 0 {
			return fmt.Errorf("aigateway: %s: tag names are 1 to %d letters, digits, '_', '-' or '.', got %.80q", HeaderMetadata, MaxHeaderMetadataKeyBytes, k)
		}
		if len(v) > MaxHeaderMetadataValueBytes {
			return fmt.Errorf("aigateway: %s: tag %q is longer than %d bytes", HeaderMetadata, k, MaxHeaderMetadataValueBytes)
		}
	}
	return nil
}

func notTagChar(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.')
}

// newBodyReader replays b as a request body of the one kind net/http
// knows to be in memory and also lets the stack find its bytes again: an
// io.NopCloser of a *bytes.Buffer. Its transport then writes the headers
// and the body in one write (one TCP segment for a small request); for a
// body of another type it flushes the headers first, in a write of their
// own, in case the body is slow to come.
func newBodyReader(b []byte) io.ReadCloser {
	return io.NopCloser(bytes.NewBuffer(b))
}

// nopBufferType is the type of what newBodyReader returns.
var nopBufferType = reflect.TypeOf(io.NopCloser(new(bytes.Buffer)))

// bodyBytes returns what is left to read of a body newBodyReader made (all
// of it, as the stack hands one on), in place; false for a body of any
// other kind.
func bodyBytes(rc io.ReadCloser) ([]byte, bool) {
	buf := bodyBuffer(rc)
	if buf == nil {
		return nil, false
	}
	return buf.Bytes(), true
}

// bodyBuffer returns the buffer of a body newBodyReader (or getBody) made,
// or nil for a body of any other kind.
func bodyBuffer(rc io.ReadCloser) *bytes.Buffer {
	if rc == nil || reflect.TypeOf(rc) != nopBufferType {
		return nil
	}
	buf, _ := reflect.ValueOf(rc).Field(0).Interface().(*bytes.Buffer)
	return buf
}
