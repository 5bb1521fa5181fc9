package cache

import (
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/aigateway-go/aigateway/provider"
)

// entry is one stored response, in the upstream's form: for a stream, every
// event as the upstream sent it, its usage chunk included.
type entry struct {
	status     int
	created    time.Time
	stream     bool
	usage      provider.Usage
	usageKnown bool
	model      string
	header     http.Header
	body       []byte
}

const entryMagic = "AGC1"

var errBadEntry = errors.New("cache: stored entry is malformed")

// storedHeader says which response headers an entry keeps: not the
// connection's, not the length (a replay sets its own), not cookies (they
// belong to one caller), not rate-limit state or Retry-After (stale on a
// replay), not the stack's own.
func storedHeader(k string) bool {
	switch http.CanonicalHeaderKey(k) {
	case "Connection", "Keep-Alive", "Transfer-Encoding", "Te", "Trailer", "Upgrade",
		"Proxy-Authenticate", "Proxy-Connection", "Content-Length", "Date", "Set-Cookie",
		"Retry-After", "Retry-After-Ms", "Age":
		return false
	}
	lk := strings.ToLower(k)
	return !strings.HasPrefix(lk, "x-ratelimit-") && !strings.HasPrefix(lk, "anthropic-ratelimit-") &&
		!strings.HasPrefix(lk, "x-aigateway-")
}

// encode appends the entry's bytes; the body goes last so a decoded entry
// can share the stored slice.
func (e *entry) encode() []byte {
	n := len(entryMagic) + 64 + len(e.model) + len(e.body)
	for k, vs := range e.header {
		n += len(k) + 4
		for _, v := range vs {
			n += len(v) + 2
		}
	}
	b := make([]byte, 0, n)
	b = append(b, entryMagic...)
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
	b = appendString(b, e.model)
	var kept int
	for k := range e.header {
		if storedHeader(k) {
			kept++
		}
	}
	b = binary.AppendUvarint(b, uint64(kept))
	for k, vs := range e.header {
		if !storedHeader(k) {
			continue
		}
		b = appendString(b, k)
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			b = appendString(b, v)
		}
	}
	return append(b, e.body...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decodeEntry reads what encode wrote. The entry's body shares data.
func decodeEntry(data []byte) (*entry, error) {
	d := decoder{b: data}
	if len(data) < len(entryMagic) || string(data[:len(entryMagic)]) != entryMagic {
		return nil, errBadEntry
	}
	d.b = d.b[len(entryMagic):]
	e := &entry{status: int(d.uvarint())}
	e.created = time.Unix(0, d.varint())
	flags := d.byte()
	e.stream, e.usageKnown = flags&1 != 0, flags&2 != 0
	u := &e.usage
	for _, p := range [...]*int64{&u.InputTokens, &u.OutputTokens, &u.CacheReadTokens,
		&u.CacheCreationTokens, &u.CacheCreation1hTokens, &u.ReasoningTokens} {
		*p = d.varint()
	}
	e.model = d.string()
	// The header block is read twice: once to find where it ends and how
	// many values it holds, then into one string and one []string shared by
	// every key, so a decoded header costs a few allocations, not one per
	// value.
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
	if d.err || e.status < 100 || e.status > 999 {
		return nil, errBadEntry
	}
	e.body = d.b
	strs := string(block[:len(block)-len(d.b)])
	values := make([]string, nvalues)
	e.header = make(http.Header, nh)
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

type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) uvarint() uint64 {
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
