package cache

import (
	"encoding/binary"
	"errors"
	"maps"
	"net/http"
	"strings"
	"time"
	"unsafe"

	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/provider"
)

// entry is one stored response, in the upstream's form: for a stream, every
// event as the upstream sent it, its usage chunk included.
//
// Its encoding is laid out so that the bytes teed from the response become
// the stored value without another copy: a head (the kept headers) written
// when the response arrives, the body as it passes, and a trailer (status,
// time, usage, model) appended when the call completes.
//
//	"AGC2" | uvarint n | n × (key, uvarint m, m × value) | body | trailer | uint16 len(trailer)
type entry struct {
	status     int
	created    time.Time
	stream     bool
	usage      provider.Usage
	usageKnown bool
	model      string
	provider   string // the gen_ai.provider.name of who answered (a fallback target's, translated)
	header     http.Header
	values     int // how many values header holds (for replayHeader)
	body       []byte
}

const entryMagic = "AGC2"

// maxModelLen bounds the model name kept in a trailer.
const maxModelLen = 512

var errBadEntry = errors.New("cache: stored entry is malformed")

// storedHeader says which response headers an entry keeps: not the
// connection's, not the length (a replay sets its own), not cookies (they
// belong to one caller), not rate-limit state (wire.IsRateLimitHeader) or
// Retry-After (stale on a replay), not the stack's own. It does not
// allocate. Every header of every answer stored passes through it: the
// names providers send are looked up (knownHeaders), and any other name
// written as net/http writes names (wire.IsCanonicalHeaderName), which can
// match the dropped names only as they are spelled, is compared with them
// exactly.
func storedHeader(k string) bool {
	if keep, ok := knownHeaders[k]; ok {
		return keep
	}
	if !wire.IsCanonicalHeaderName(k) {
		return storedHeaderFold(k)
	}
	switch k {
	case "Connection", "Keep-Alive", "Transfer-Encoding", "Te", "Trailer", "Upgrade",
		"Proxy-Authenticate", "Proxy-Connection", "Content-Length", "Date", "Set-Cookie",
		"Retry-After", "Age":
		return false
	}
	return !strings.HasPrefix(k, gatewayPrefix) && !wire.IsRateLimitHeaderCanonical(k)
}

// knownHeaders holds what storedHeader decides for the names the
// providers' answers carry, as net/http writes them: one look-up a name
// instead of testing its spelling and comparing it (20 OpenAI names: 320 →
// 200 ns, BenchmarkStoredHeader). The decisions are storedHeaderFold's
// own, so they cannot disagree with it.
var knownHeaders = func() map[string]bool {
	names := [...]string{
		// Every answer, and the dropped names.
		"Content-Type", "Content-Encoding", "Content-Length", "Date", "Server", "Vary", "Via", "Alt-Svc",
		"Cache-Control", "Connection", "Keep-Alive", "Transfer-Encoding", "Set-Cookie", "Retry-After",
		"Retry-After-Ms", "Age", "Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options",
		"X-Xss-Protection", "Access-Control-Expose-Headers", "Access-Control-Allow-Origin", "Server-Timing",
		"Cf-Ray", "Cf-Cache-Status", "X-Request-Id", "Request-Id", "X-Robots-Tag",
		// OpenAI.
		"Openai-Organization", "Openai-Processing-Ms", "Openai-Project", "Openai-Version",
		"X-Ratelimit-Limit-Requests", "X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Requests",
		"X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Requests", "X-Ratelimit-Reset-Tokens",
		// Anthropic.
		"Anthropic-Organization-Id", "Anthropic-Ratelimit-Requests-Limit", "Anthropic-Ratelimit-Requests-Remaining",
		"Anthropic-Ratelimit-Requests-Reset", "Anthropic-Ratelimit-Tokens-Limit", "Anthropic-Ratelimit-Tokens-Remaining",
		"Anthropic-Ratelimit-Tokens-Reset", "Anthropic-Ratelimit-Input-Tokens-Limit",
		"Anthropic-Ratelimit-Input-Tokens-Remaining", "Anthropic-Ratelimit-Input-Tokens-Reset",
		"Anthropic-Ratelimit-Output-Tokens-Limit", "Anthropic-Ratelimit-Output-Tokens-Remaining",
		"Anthropic-Ratelimit-Output-Tokens-Reset",
	}
	m := make(map[string]bool, len(names))
	for _, k := range names {
		m[k] = storedHeaderFold(k)
	}
	return m
}()

// storedHeaderFold is storedHeader for any other name: it is compared
// with every dropped name, folding case as Unicode folds it ("ſ" is "s").
func storedHeaderFold(k string) bool {
	for _, drop := range droppedHeaders {
		if strings.EqualFold(k, drop) {
			return false
		}
	}
	if wire.IsRateLimitHeader(k) {
		return false
	}
	return !(len(k) >= len(gatewayPrefix) && strings.EqualFold(k[:len(gatewayPrefix)], gatewayPrefix))
}

const gatewayPrefix = "X-Aigateway-"

// droppedHeaders are the names storedHeader drops, in canonical form
// (storedHeader's switch holds them too).
var droppedHeaders = [...]string{"Connection", "Keep-Alive", "Transfer-Encoding", "Te", "Trailer", "Upgrade",
	"Proxy-Authenticate", "Proxy-Connection", "Content-Length", "Date", "Set-Cookie",
	"Retry-After", "Age"}

// maxTrailer is the most an entry's trailer takes (see appendTrailer), but
// for its model and provider names: status, time, flags, six counts, the
// two names' lengths and the trailer's own.
const maxTrailer = binary.MaxVarintLen16 + binary.MaxVarintLen64 + 1 + 6*binary.MaxVarintLen64 + 2*binary.MaxVarintLen16 + 2

// trailerNames is the room newHead leaves for the model and provider names
// of the trailer: most fit, and a longer one costs one copy of the entry.
const trailerNames = 96

// newHead returns a buffer holding an entry's head (the magic and the kept
// headers), with room after it for body bytes of the body and the trailer:
// the whole entry fits without growing when body is the answer's length.
// Each header name is looked at once.
func newHead(h http.Header, body int) []byte {
	type header struct {
		k  string
		vs []string
	}
	var buf [32]header // the kept headers; an answer rarely has more
	kept := buf[:0]
	size := 0
	for k, vs := range h {
		if !storedHeader(k) {
			continue
		}
		kept = append(kept, header{k, vs})
		size += uvarintLen(len(k)) + len(k) + uvarintLen(len(vs))
		for _, v := range vs {
			size += uvarintLen(len(v)) + len(v)
		}
	}
	size += len(entryMagic) + uvarintLen(len(kept))
	b := make([]byte, 0, size+body+maxTrailer+trailerNames)
	b = append(b, entryMagic...)
	b = binary.AppendUvarint(b, uint64(len(kept)))
	for _, kv := range kept {
		b = appendString(b, kv.k)
		b = binary.AppendUvarint(b, uint64(len(kv.vs)))
		for _, v := range kv.vs {
			b = appendString(b, v)
		}
	}
	return b
}

// uvarintLen is the length of n's uvarint encoding.
func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// appendTrailer appends what is known when the call completes, and the
// trailer's length.
func (e *entry) appendTrailer(b []byte) []byte {
	start := len(b)
	b = binary.AppendUvarint(b, uint64(e.status))
	b = binary.AppendVarint(b, e.created.UnixNano())
	var flags byte
	if e.stream {
		flags |= 1
	}
	if e.usageKnown {
		flags |= 2
	}
	b = append(b, flags)
	for _, v := range [...]int64{e.usage.InputTokens, e.usage.OutputTokens, e.usage.CacheReadTokens,
		e.usage.CacheCreationTokens, e.usage.CacheCreation1hTokens, e.usage.ReasoningTokens} {
		b = binary.AppendVarint(b, v)
	}
	model := e.model
	if len(model) > maxModelLen {
		model = model[:maxModelLen]
	}
	b = appendString(b, model)
	prov := e.provider
	if len(prov) > maxModelLen {
		prov = prov[:maxModelLen]
	}
	b = appendString(b, prov)
	return binary.LittleEndian.AppendUint16(b, uint16(len(b)-start))
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decodeEntry reads an entry. Its body shares data.
func decodeEntry(data []byte) (*entry, error) {
	if len(data) < len(entryMagic)+2 || string(data[:len(entryMagic)]) != entryMagic {
		return nil, errBadEntry
	}
	tl := int(binary.LittleEndian.Uint16(data[len(data)-2:]))
	if tl > len(data)-2-len(entryMagic) {
		return nil, errBadEntry
	}
	rest := data[len(entryMagic) : len(data)-2-tl]
	t := decoder{b: data[len(data)-2-tl : len(data)-2]}
	e := &entry{status: int(t.uvarint())}
	e.created = time.Unix(0, t.varint())
	flags := t.byte()
	e.stream, e.usageKnown = flags&1 != 0, flags&2 != 0
	u := &e.usage
	for _, p := range [...]*int64{&u.InputTokens, &u.OutputTokens, &u.CacheReadTokens,
		&u.CacheCreationTokens, &u.CacheCreation1hTokens, &u.ReasoningTokens} {
		*p = t.varint()
	}
	e.model = t.string()
	e.provider = t.string()
	if t.err || len(t.b) != 0 || e.status < 100 || e.status > 999 {
		return nil, errBadEntry
	}

	// The head is read twice: once to find where it ends and how many
	// values it holds, then into one string and one []string shared by
	// every key, so a decoded header costs a few allocations, not one per
	// value.
	d := decoder{b: rest}
	nh := d.uvarint()
	if d.err || nh > uint64(len(d.b)) {
		return nil, errBadEntry
	}
	block, nvalues := d.b, 0
	for range nh {
		d.skip()
		nv := d.uvarint()
		if nv > uint64(len(d.b)) {
			return nil, errBadEntry
		}
		for range nv {
			d.skip()
		}
		nvalues += int(nv)
	}
	if d.err {
		return nil, errBadEntry
	}
	e.body = d.b
	strs := string(block[:len(block)-len(d.b)])
	values := make([]string, nvalues)
	e.values = nvalues
	// Room for the headers a replay adds (X-Aigateway-Cache, Age,
	// Content-Length): the map does not grow for them.
	e.header = make(http.Header, nh+3)
	h := decoder{b: block[:len(strs)]}
	at := func() string { // the next string, as a slice of strs
		n := int(h.uvarint())
		start := len(strs) - len(h.b)
		h.b = h.b[n:]
		return strs[start : start+n]
	}
	for range nh {
		k := at()
		nv := int(h.uvarint())
		vs := values[:nv:nv]
		values = values[nv:]
		for i := range vs {
			vs[i] = at()
		}
		e.header[k] = vs
	}
	return e, nil
}

// decodedSize estimates the memory a decoded entry holds besides its
// encoding, on 64-bit platforms: the entry itself, its model and provider,
// its header's map (see headerMapSize), the values' slices and the strings
// decodeEntry copies out of the head, plus an eighth for the allocator's
// size classes. Its body shares the encoding. The store counts it in its
// budget, so it errs high: TestDecodedSizeCoversWhatDecodingAllocates
// holds it to what the runtime counts.
func (e *entry) decodedSize() int64 {
	n := int64(unsafe.Sizeof(entry{})) + int64(len(e.model)+len(e.provider)) + headerMapSize(len(e.header)+3)
	for k, vs := range e.header {
		n += int64(len(k)) + 16*int64(len(vs))
		for _, v := range vs {
			n += int64(len(v))
		}
	}
	return n + n/8
}

// headerMapSize is what an http.Header made with room for hint names
// holds, as Go's maps lay it out: groups of 8 slots (a string and a
// slice, 40 bytes) behind 8 control bytes; up to 8 names one group,
// beyond that tables of a power of two slots filled to at most 7/8, so
// one name past a step doubles the groups. A flat cost per name misses
// those steps by up to 40%.
func headerMapSize(hint int) int64 {
	const group = 8 + 8*(16+24)
	const header = 48 // the map itself
	if hint <= 8 {
		return header + group
	}
	slots := 16
	for slots*7/8 < hint {
		slots *= 2
	}
	tables := max(slots/1024, 1) // a table holds at most 1024 slots
	return header + int64(tables)*(8+48) + int64(slots/8)*group
}

// replayHeader is a shared entry's header, holding n values, copied for
// one replay: the map cloned whole (with its room for the replay's own
// headers), every value's slice copied into one array, so nothing done to
// one response's header reaches the entry or another response.
func replayHeader(h http.Header, n int) http.Header {
	c := maps.Clone(h)
	values := make([]string, n)
	for k, vs := range c {
		if len(values) < len(vs) { // n was short: never for a decoded entry
			values = make([]string, len(vs))
		}
		m := copy(values, vs)
		c[k] = values[:m:m]
		values = values[m:]
	}
	return c
}

type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) uvarint() uint64 {
	if len(d.b) > 0 && d.b[0] < 0x80 { // most lengths and counts: one byte, decoded inline
		v := d.b[0]
		d.b = d.b[1:]
		return uint64(v)
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.err = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// skip passes over a string.
func (d *decoder) skip() {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err, d.b = true, nil
		return
	}
	d.b = d.b[n:]
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err, d.b = true, nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
