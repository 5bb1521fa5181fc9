package jsonscan

import (
	"bytes"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"testing"
)

// checkCapturerReading is checkCapturer with a ValueReader on "usage"
// (ValueEnd's end, the bytes' hash kept): the Capturer tells what the
// reference tells after every piece, and whenever Read says the reader
// read the value Value returns, what it kept is that value's.
func checkCapturerReading(t testing.TB, doc []byte, cuts []int, decline bool) {
	setup := func(c *Capturer) {
		c.ReadWith("usage", func(p []byte, i int) (end int, st ReadState) {
			if decline && (len(p)-i)%2 == 0 {
				return -1, st
			}
			if end = ValueEnd(p, i); end < 0 {
				return -1, st
			}
			h := fnv.New64a()
			h.Write(p[i:end])
			st[0], st[1] = h.Sum64(), uint64(end-i)
			return end, st
		})
	}
	checkCapturerWith(t, doc, cuts, setup, func(c *Capturer, at int) {
		v, ok := c.Value("usage")
		st, read := c.Read("usage")
		if read {
			h := fnv.New64a()
			h.Write(v)
			if !ok || st[0] != h.Sum64() || st[1] != uint64(len(v)) {
				t.Fatalf("after %d bytes of %q (cut at %v): Read says it read %q, kept %v", at, doc, cuts, v, st[:2])
			}
		}
	})
}

// With a ValueReader on a watched member, the Capturer tells of
// generated documents, whole and cut anywhere, what the reference
// tells, whether the reader reads the values it is handed or declines
// some; and Read owns to the values the reader read, no other.
func TestCapturerWithReaderMatchesTheReference(t *testing.T) {
	g := captureGen{r: rand.New(rand.NewPCG(99, 7))}
	for range 4000 {
		doc := g.doc()
		for _, decline := range []bool{false, true} {
			checkCapturerReading(t, doc, nil, decline)
			checkCapturerReading(t, doc, []int{g.r.IntN(len(doc) + 1), g.r.IntN(len(doc) + 1)}, decline)
		}
	}
}

// Values nested deeper than valueEnd's quickDepth and than maxDepth,
// in a watched member with a reader, in one nobody watches and in the
// watched array's elements, read as the reference reads them.
func TestCapturerWithReaderMatchesTheReferenceDeepDown(t *testing.T) {
	for _, d := range []int{31, 32, 33, 2000, maxDepth + 1} {
		inner := strings.Repeat(`[{"a":`, d) + `"}]"` + strings.Repeat("}]", d)
		doc := []byte(`{"usage":` + inner + `,"x":1,"y":` + inner + `,"choices":[{"index":` + inner +
			`,"message":` + inner + `,"finish_reason":"s"}]}`)
		for _, cut := range []int{0, 1, 9, 10, len(doc) / 3, len(doc) / 2, len(doc) - 40, len(doc) - 1} {
			checkCapturer(t, doc, []int{cut})
			checkCapturerReading(t, doc, []int{cut}, false)
		}
	}
}

// FuzzCapturerWithReaderMatchesTheReference: whatever the document and
// wherever it is cut, a Capturer with a ValueReader tells what the
// reference tells, and Read what the reader read of the value Value
// returns.
func FuzzCapturerWithReaderMatchesTheReference(f *testing.F) {
	g := captureGen{r: rand.New(rand.NewPCG(61, 4))}
	for range 30 {
		doc := g.doc()
		f.Add(doc, uint16(g.r.IntN(len(doc)+1)), uint16(g.r.IntN(len(doc)+1)), false)
	}
	f.Add([]byte(`{"usage":{"a":1},"usage":{"b":2},"usage":{"c":"`), uint16(10), uint16(30), true)
	f.Fuzz(func(t *testing.T, doc []byte, a, b uint16, decline bool) {
		if bytes.Count(doc, []byte("usage")) == 0 {
			doc = append([]byte(`{"usage":`), doc...)
		}
		checkCapturerReading(t, doc, []int{int(a), int(b)}, decline)
	})
}
