package aigateway

import (
	"errors"
	"io"

	"github.com/aigateway-go/aigateway/internal/coding"
)

// A caller that sets Accept-Encoding itself gets the compressed bytes it
// asked for: net/http's transport decompresses only what it asked for on its
// own. The stack still reads such an answer, through an inflater that
// decompresses a copy for the scanner while the caller's bytes pass as they
// are. It can inflate gzip and deflate, so the Accept-Encoding a request
// takes upstream names nothing else (see coding.Decodable).

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

func startInflater(c coding.Coding, write func([]byte)) *inflater {
	pr, pw := io.Pipe()
	f := &inflater{pw: pw, done: make(chan struct{})}
	go f.run(c, pr, write)
	return f
}

func (f *inflater) run(c coding.Coding, pr *io.PipeReader, write func([]byte)) {
	defer close(f.done)
	r, err := coding.NewReader(c, pr)
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
