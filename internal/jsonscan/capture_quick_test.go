package jsonscan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// capturerView is what a Capturer tells of a document.
type capturerView interface {
	Value(key string) ([]byte, bool)
	Completed() int
	Done() bool
	Root() byte
	Junk() bool
	Elements() (int, bool)
	ElementIsObject(i int) bool
	ElementValue(i, k int) ([]byte, bool)
}

// capturerState returns all a Capturer tells, as text to compare.
func capturerState(c capturerView, keys, elemKeys []string) string {
	var b strings.Builder
	for _, k := range keys {
		v, ok := c.Value(k)
		fmt.Fprintf(&b, "%s=%q,%v ", k, v, ok)
	}
	n, ok := c.Elements()
	fmt.Fprintf(&b, "completed=%d done=%v root=%q junk=%v elements=%d,%v", c.Completed(), c.Done(), c.Root(), c.Junk(), n, ok)
	for i := range n {
		fmt.Fprintf(&b, " [%d object=%v", i, c.ElementIsObject(i))
		for k := range elemKeys {
			v, ok := c.ElementValue(i, k)
			fmt.Fprintf(&b, " %q,%v", v, ok)
		}
		b.WriteString("]")
	}
	return b.String()
}

// sameCapture reports whether a and b tell the same (capturerState,
// without the text).
func sameCapture(a, b capturerView, keys, elemKeys []string) bool {
	for _, k := range keys {
		va, oka := a.Value(k)
		vb, okb := b.Value(k)
		if oka != okb || !bytes.Equal(va, vb) {
			return false
		}
	}
	na, oka := a.Elements()
	nb, okb := b.Elements()
	if na != nb || oka != okb || a.Completed() != b.Completed() || a.Done() != b.Done() || a.Root() != b.Root() || a.Junk() != b.Junk() {
		return false
	}
	for i := range na {
		if a.ElementIsObject(i) != b.ElementIsObject(i) {
			return false
		}
		for k := range elemKeys {
			va, oka := a.ElementValue(i, k)
			vb, okb := b.ElementValue(i, k)
			if oka != okb || !bytes.Equal(va, vb) {
				return false
			}
		}
	}
	return true
}

// captureGen writes random documents of the shapes a Capturer follows:
// answers with the watched members and a watched array, keys plain and
// escaped, strings short and long with escapes (runs of backslashes
// above all), nesting, indentation, and now and then something
// malformed.
type captureGen struct {
	r *rand.Rand
	b bytes.Buffer
}

var (
	captureGenKeys    = []string{"usage", "model", "error", "id", "choices", "index", "finish_reason", "message", "content", "x", ""}
	captureGenStrings = []string{"", "a", "stop", "gpt-4o-mini", "The quarterly report shows steady growth overall.", `\"`, `\\`, `\\\"`, `\\\\`,
		`a\"b`, `\u0075`, `\n`, "é", "\xff", `{"a":"b"}`, `\"usage\": {\"prompt_tokens\": 1}`, "]}", "\\", "\\\\\\"}
	captureGenSpace = []string{"", "", " ", "\n  ", "\n      ", "\t", "\r\n"}
)

func (g *captureGen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *captureGen) str() {
	g.b.WriteByte('"')
	for k := g.r.IntN(5); k > 0; k-- {
		g.b.WriteString(g.pick(captureGenStrings))
	}
	g.b.WriteByte('"')
}

func (g *captureGen) key() {
	k := g.pick(captureGenKeys)
	switch g.r.IntN(8) {
	case 0:
		if k != "" {
			i := g.r.IntN(len(k))
			k = fmt.Sprintf(`%s\u%04x%s`, k[:i], k[i], k[i+1:])
		}
	case 1:
		k += `\\`
	case 2:
		k = strings.Repeat(k, 40) // longer than any watched name, and than the key buffer
	}
	g.b.WriteString(`"` + k + `"`)
}

func (g *captureGen) value(depth int) {
	switch n := g.r.IntN(12); {
	case n < 4:
		g.str()
	case n < 6:
		g.b.WriteString(g.pick([]string{"0", "12", "-1.5e3", "null", "true", "false"}))
	case n < 9 && depth < 4:
		g.object(depth + 1)
	case n < 11 && depth < 4:
		g.b.WriteByte('[')
		for k := g.r.IntN(4); k >= 0; k-- {
			g.space()
			g.value(depth + 1)
			if k > 0 {
				g.b.WriteByte(',')
			}
		}
		g.space()
		g.b.WriteByte(']')
	default:
		g.b.WriteString(g.pick([]string{"}", "]", ",", ":", `"`, "{", "x", `\`}))
	}
}

func (g *captureGen) space() { g.b.WriteString(g.pick(captureGenSpace)) }

func (g *captureGen) object(depth int) {
	g.b.WriteByte('{')
	for k := g.r.IntN(6); k > 0; k-- {
		g.space()
		g.key()
		g.space()
		g.b.WriteByte(':')
		g.space()
		g.value(depth)
		if k > 1 {
			g.b.WriteByte(',')
		}
	}
	g.space()
	g.b.WriteByte('}')
}

func (g *captureGen) doc() []byte {
	g.b.Reset()
	g.space()
	switch g.r.IntN(10) {
	case 0:
		g.b.WriteByte('[')
		g.object(0)
		g.b.WriteString(",")
		g.object(0)
		g.b.WriteByte(']')
	case 1:
		g.value(0)
	default:
		g.object(0)
	}
	g.space()
	return bytes.Clone(g.b.Bytes())
}

// checkCapturer feeds doc in pieces cut at cuts to a Capturer and to the
// reference and fails when they tell anything different after any piece.
func checkCapturer(t testing.TB, doc []byte, cuts []int) {
	checkCapturerWith(t, doc, cuts, nil, nil)
}

// checkCapturerWith is checkCapturer with setup run on the Capturer
// after its Reset, and after run on it after each piece (at: the bytes
// written so far); either may be nil.
func checkCapturerWith(t testing.TB, doc []byte, cuts []int, setup func(*Capturer), after func(c *Capturer, at int)) {
	keys := []string{"usage", "model", "error", "id", "x", ""}
	elemKeys := []string{"index", "finish_reason"}
	var c Capturer
	var ref capturerRef
	c.Reset(0, keys)
	ref.Reset(0, keys)
	c.WatchElements("choices", elemKeys)
	ref.WatchElements("choices", elemKeys)
	if setup != nil {
		setup(&c)
	}
	at := 0
	for _, cut := range append(cuts, len(doc)) {
		cut = min(max(cut, at), len(doc))
		c.Write(doc[at:cut])
		ref.Write(doc[at:cut])
		at = cut
		if !sameCapture(&c, &ref, keys, elemKeys) {
			t.Fatalf("after %d bytes of %q (cut at %v):\n got %s\nwant %s", at, doc, cuts,
				capturerState(&c, keys, elemKeys), capturerState(&ref, keys, elemKeys))
		}
		if after != nil {
			after(&c, at)
		}
	}
}

// The Capturer, reading whole strings in one step, tells of many
// generated documents, whole and cut anywhere, what the Capturer that
// went byte by byte told.
func TestCapturerMatchesTheReference(t *testing.T) {
	g := captureGen{r: rand.New(rand.NewPCG(14, 4))}
	for range 6000 {
		doc := g.doc()
		checkCapturer(t, doc, nil)
		var cuts []int
		for k := g.r.IntN(4); k >= 0; k-- {
			cuts = append(cuts, g.r.IntN(len(doc)+1))
		}
		checkCapturer(t, doc, cuts)
		every := 1 + g.r.IntN(9)
		cuts = cuts[:0]
		for i := every; i < len(doc); i += every {
			cuts = append(cuts, i)
		}
		checkCapturer(t, doc, cuts)
	}
}

// FuzzCapturerMatchesTheReference: whatever the document and wherever it
// is cut, the Capturer tells what the reference tells.
func FuzzCapturerMatchesTheReference(f *testing.F) {
	g := captureGen{r: rand.New(rand.NewPCG(60, 4))}
	for range 30 {
		doc := g.doc()
		f.Add(doc, uint16(g.r.IntN(len(doc)+1)), uint16(g.r.IntN(len(doc)+1)))
	}
	f.Add([]byte(`{"usage":{"a":"\\\""},"model":"m\\","choices":[{"index":0,"finish_reason":"st\"op"}]}`), uint16(20), uint16(31))
	f.Fuzz(func(t *testing.T, doc []byte, a, b uint16) {
		checkCapturer(t, doc, []int{int(a), int(b)})
	})
}

// A key longer than the Capturer's key buffer matches no name, read in
// one step or byte by byte, as before: even a name that long, which is
// more than a Capturer is asked to watch.
func TestCapturerKeyLongerThanItsBufferMatchesNothing(t *testing.T) {
	long := strings.Repeat("k", maxRawKey+1)
	doc := []byte(`{"` + long + `":1,"id":2}`)
	for _, cut := range []int{len(doc), 5} {
		var c Capturer
		var ref capturerRef
		c.Reset(0, []string{long, "id"})
		ref.Reset(0, []string{long, "id"})
		c.Write(doc[:cut])
		c.Write(doc[cut:])
		ref.Write(doc[:cut])
		ref.Write(doc[cut:])
		_, ok := c.Value(long)
		assert.False(t, ok)
		assert.Equal(t, capturerState(&ref, []string{long, "id"}, nil), capturerState(&c, []string{long, "id"}, nil))
	}
}
