package wire

import "github.com/aigateway-go/aigateway/internal/sse"

// MaxEventSize bounds one SSE event of a stream the stack reads: 16 MiB,
// room for the largest events providers send (a Responses stream's
// response.completed repeats the whole answer, images in base64 included).
// A stream with a larger event (or one that never ends an event) is not
// read further: see ResponseScanner.TooLarge.
const MaxEventSize = sse.MaxEventSize

// TooLarge reports whether the stream held an event larger than
// MaxEventSize (or one that never ended): the scanner stopped reading it
// there, and keeps nothing of it. A JSON body is never too large: the
// scanner keeps only the few members it reads, each bounded.
func (s *ResponseScanner) TooLarge() bool { return s.stream && s.events.Err() != nil }
