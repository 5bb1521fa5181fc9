package fallback

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strings"
)

// A caller that sets Accept-Encoding itself gets the compressed bytes it
// asked for (net/http decompresses only what it asked for on its own): the
// router passes them on as they came, and reads an inflated copy where it
// must read an answer (a stream's first events, an error it moves on from).
// The stack asks upstream only for the codings it can inflate, gzip and
// deflate; an answer in another one is not read.

// coding is how an answer's body is encoded, as far as the router can read
// it.
type coding uint8

const (
	identity coding = iota // plain, or decompressed by the transport
	gzipped
	deflated
	opaque // a coding the router cannot decode
)

// codingOf reads resp's Content-Encoding: the codings applied, in order,
// in one line or several ("identity" among them changes nothing). Two
// codings on top of each other are opaque to the router.
func codingOf(resp *http.Response) coding {
	if resp.Uncompressed {
		return identity
	}
	vs := resp.Header.Values("Content-Encoding")
	if len(vs) == 0 {
		return identity
	}
	c := identity
	for _, v := range vs {
		for _, name := range strings.Split(v, ",") {
			switch n := codingNamed(name); {
			case n == identity:
			case c != identity:
				return opaque // one coding on top of another
			default:
				c = n
			}
		}
	}
	return c
}

// codingNamed reads one content-coding name.
func codingNamed(name string) coding {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "identity":
		return identity
	case "gzip", "x-gzip":
		return gzipped
	case "deflate":
		return deflated
	}
	return opaque
}

// decoder returns a reader of r inflated. It reads the coding's header
// from r at once.
func decoder(c coding, r io.Reader) (io.Reader, error) {
	if c == gzipped {
		return gzip.NewReader(r)
	}
	// "deflate" is zlib-wrapped by the standard, raw in some servers.
	br := bufio.NewReader(r)
	if h, _ := br.Peek(2); len(h) == 2 && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
		return zlib.NewReader(br)
	}
	return flate.NewReader(br), nil
}

// inflateBounded returns body inflated, at most max bytes of it, or body
// itself when it is plain (or in a coding the router cannot read).
func inflateBounded(c coding, body []byte, max int64) []byte {
	if c == identity || c == opaque {
		return body
	}
	r, err := decoder(c, bytes.NewReader(body))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(io.LimitReader(r, max)) // what inflated before an error is all there is
	return out
}

// recording is a reader that keeps every byte it reads from r, and r's
// error.
type recording struct {
	r   io.Reader
	buf []byte
	err error
}

func (r *recording) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.buf = append(r.buf, p[:n]...)
	if err != nil {
		r.err = err
	}
	return n, err
}
