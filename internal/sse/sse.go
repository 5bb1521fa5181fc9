// Package sse splits a Server-Sent Events byte stream into events.
//
// CONTRACT (the helper implementing it keeps these names and signatures).
package sse

// Event is one dispatched SSE event. Its slices are valid until the next
// call to Feed, Next or Flush.
type Event struct {
	Name []byte // value of the last "event:" line; nil if none
	Data []byte // "data:" lines joined by "\n"; nil if none
}

// Scanner splits a stream fed in arbitrary pieces into events. Events may be
// separated by "\n\n", "\r\n\r\n" (or "\r\r"); ":" comment lines and
// "retry:"/"id:" lines are skipped; one leading space after the colon is
// dropped. No allocation per event once its buffer has grown.
type Scanner struct {
	// implementation-defined
}

// Feed hands the scanner the next bytes of the stream. The scanner does not
// keep p after the next Feed: it copies only an incomplete trailing event.
func (s *Scanner) Feed(p []byte) { panic("unimplemented") }

// Next advances to the next complete event in what was fed; false when none.
func (s *Scanner) Next() bool { panic("unimplemented") }

// Event returns the current event.
func (s *Scanner) Event() Event { panic("unimplemented") }

// Flush, at end of stream, makes a trailing event without its blank line
// available to Next.
func (s *Scanner) Flush() { panic("unimplemented") }

// Reset empties the scanner for reuse.
func (s *Scanner) Reset() { panic("unimplemented") }
