package fallback

import (
	"bytes"
	"io"

	"github.com/aigateway-go/aigateway/internal/coding"
)

// A caller that sets Accept-Encoding itself gets the compressed bytes it
// asked for (net/http decompresses only what it asked for on its own): the
// router passes them on as they came, and reads an inflated copy where it
// must read an answer (a stream's first events, an error it moves on from).
// The stack asks upstream only for the codings it can inflate, gzip and
// deflate; an answer in another one is not read.

// inflateBounded returns body inflated, at most max bytes of it, or body
// itself when it is plain (or in a coding the router cannot read).
func inflateBounded(c coding.Coding, body []byte, max int64) []byte {
	if c == coding.Identity || c == coding.Opaque {
		return body
	}
	r, err := coding.NewReader(c, bytes.NewReader(body))
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
