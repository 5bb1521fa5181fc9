// Package coding reads the content coding of an answer a caller asked to
// receive compressed (it set Accept-Encoding itself, so net/http's
// transport passes the compressed bytes on as they came): which coding it
// is, and a reader of it inflated, for the layers that must read an answer
// the caller gets as it came. The stack asks upstream only for the codings
// it can inflate (Decodable): gzip and deflate.
package coding

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strings"
)

// Coding is how an answer's body is encoded, as far as the stack can read
// it.
type Coding uint8

// The codings Of tells apart.
const (
	Identity Coding = iota // plain, or decompressed by the transport
	Gzip
	Deflate
	Opaque // a coding the stack cannot decode, or several on top of each other: the body is not read
)

// Of reads resp's Content-Encoding: the codings applied, in order, in one
// line or several ("identity" among them changes nothing). Two codings on
// top of each other are Opaque.
func Of(resp *http.Response) Coding {
	if resp.Uncompressed {
		return Identity
	}
	vs := resp.Header["Content-Encoding"] // Values, without canonicalizing a canonical name (~500 instructions)
	if len(vs) == 0 {
		return Identity
	}
	if len(vs) == 1 && strings.IndexByte(vs[0], ',') < 0 {
		return named(vs[0])
	}
	c := Identity
	for _, v := range vs {
		for _, name := range strings.Split(v, ",") {
			switch n := named(name); {
			case n == Identity:
			case c != Identity:
				return Opaque // one coding on top of another
			default:
				c = n
			}
		}
	}
	return c
}

// named reads one content-coding name.
func named(name string) Coding {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "identity":
		return Identity
	case "gzip", "x-gzip":
		return Gzip
	case "deflate":
		return Deflate
	}
	return Opaque
}

// NewReader returns a reader of r inflated from c, Gzip or Deflate ("deflate"
// is zlib-wrapped by the standard, raw in some servers: both are read). It
// reads the coding's header from r at once.
func NewReader(c Coding, r io.Reader) (io.Reader, error) {
	if c == Gzip {
		return gzip.NewReader(r)
	}
	br := bufio.NewReader(r)
	if h, _ := br.Peek(2); len(h) == 2 && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
		return zlib.NewReader(br)
	}
	return flate.NewReader(br), nil
}

// Decodable returns the Accept-Encoding a request takes upstream: v, the
// caller's, without the codings the stack cannot inflate (br, zstd, "*"
// ...), or "" when none is left (net/http then asks for gzip on its own and
// inflates it for the caller). An answer in a coding the stack can read is
// one it can meter and cache.
func Decodable(v string) string {
	changed := false
	var kept []string
	for _, tok := range strings.Split(v, ",") {
		tok = strings.TrimSpace(tok)
		name, _, _ := strings.Cut(tok, ";")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "gzip", "x-gzip", "deflate", "identity":
			kept = append(kept, tok)
			continue
		}
		changed = true
	}
	if !changed {
		return v
	}
	return strings.Join(kept, ", ")
}
