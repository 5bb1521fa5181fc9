package aigateway

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"net/http"
	"strings"
)

// A caller that sets Accept-Encoding itself gets the compressed bytes it
// asked for: net/http's transport decompresses only what it asked for on its
// own. The stack still reads such an answer, through an inflater that
// decompresses a copy for the scanner while the caller's bytes pass as they
// are. It can inflate gzip and deflate, so the Accept-Encoding a request
// takes upstream names nothing else (see decodableEncodings).

// bodyCoding is how an answer's body is encoded, as far as the stack can
// read it.
type bodyCoding uint8

const (
	codingIdentity bodyCoding = iota // plain, or decompressed by the transport
	codingGzip
	codingDeflate
	codingOpaque // an encoding the stack cannot decode: it does not read the body
)

// codingOf reads resp's Content-Encoding: the codings applied, in order,
// in one line or several ("identity" among them changes nothing). The stack
// reads a body in no coding or in one it can inflate; two codings on top
// of each other are opaque to it.
func codingOf(resp *http.Response) bodyCoding {
	if resp.Uncompressed {
		return codingIdentity
	}
	vs := resp.Header.Values("Content-Encoding")
	if len(vs) == 0 {
		return codingIdentity
	}
	if len(vs) == 1 && strings.IndexByte(vs[0], ',') < 0 {
		return codingNamed(vs[0])
	}
	c := codingIdentity
	for _, v := range vs {
		for _, name := range strings.Split(v, ",") {
			switch n := codingNamed(name); {
			case n == codingIdentity:
			case c != codingIdentity:
				return codingOpaque // one coding on top of another
			default:
				c = n
			}
		}
	}
	return c
}

// codingNamed reads one content-coding name.
func codingNamed(name string) bodyCoding {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "identity":
		return codingIdentity
	case "gzip", "x-gzip":
		return codingGzip
	case "deflate":
		return codingDeflate
	}
	return codingOpaque
}

// inflater decompresses a body fed to it in pieces, on a goroutine of its
// own (compress/flate reads from an io.Reader and cannot resume after
// running out of input), and hands the decompressed bytes to write.
type inflater struct {
	pw    *io.PipeWriter
	done  chan struct{}
	state inflated // set before done closes
}

// inflated is how far an inflater got.
type inflated uint8

const (
	inflatedWhole    inflated = iota // every byte of the body, decompressed
	inflatedCorrupt                  // the body did not decompress
	inflatedTooLarge                 // past maxInflatedBytes: the rest went unread
)

func startInflater(c bodyCoding, write func([]byte)) *inflater {
	pr, pw := io.Pipe()
	f := &inflater{pw: pw, done: make(chan struct{})}
	go f.run(c, pr, write)
	return f
}

func (f *inflater) run(c bodyCoding, pr *io.PipeReader, write func([]byte)) {
	defer close(f.done)
	br := bufio.NewReader(pr)
	var r io.Reader
	var err error
	switch c {
	case codingGzip:
		r, err = gzip.NewReader(br)
	case codingDeflate:
		// "deflate" is zlib-wrapped by the standard, raw in some servers.
		if h, _ := br.Peek(2); len(h) == 2 && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
			r, err = zlib.NewReader(br)
		} else {
			r = flate.NewReader(br)
		}
	}
	if err == nil {
		buf := make([]byte, 16<<10)
		total := 0
		for {
			var n int
			n, err = r.Read(buf)
			if n > 0 {
				write(buf[:n])
			}
			if total += n; err == nil && total > maxInflatedBytes {
				err = errInflatedTooLarge // a compression bomb: not worth the CPU to read
			}
			if err != nil {
				break
			}
		}
	}
	switch err {
	case io.EOF:
	case errInflatedTooLarge:
		f.state = inflatedTooLarge
	default:
		f.state = inflatedCorrupt
	}
	// Whatever is fed from now on is taken and dropped, so feed never
	// blocks on an inflater that gave up.
	pr.CloseWithError(errInflaterDone)
}

var (
	errInflaterDone     = errors.New("aigateway: inflater done")
	errInflatedTooLarge = errors.New("aigateway: answer inflates to more than 256 MiB")
)

// maxInflatedBytes bounds what the stack inflates of one compressed answer
// to read it: far more than any model's answer, far less than a
// compression bomb's. Past it the answer is passed on unread (its usage
// unknown, never cached).
var maxInflatedBytes = 256 << 20 // a variable for tests

// feed hands the inflater the next compressed bytes; it returns once they
// are taken (not necessarily decompressed yet).
func (f *inflater) feed(p []byte) { f.pw.Write(p) }

// finish ends the input and waits until every decompressed byte has gone to
// write. It reports how far the body decompressed.
func (f *inflater) finish() inflated {
	f.pw.Close()
	<-f.done
	return f.state
}

// decodableEncodings returns the Accept-Encoding a request takes upstream:
// the caller's, without the codings the stack cannot decompress (br, zstd
// ...), or "" when none is left (net/http then asks for gzip on its own,
// and decompresses it for the caller). An answer in a coding the stack can
// read is one it can meter and cache.
func decodableEncodings(v string) string {
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
		changed = true // br, zstd, compress, "*" ...
	}
	if !changed {
		return v
	}
	return strings.Join(kept, ", ")
}
