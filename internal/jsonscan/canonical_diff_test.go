package jsonscan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkCanonicalAsTheReference requires the Canonicalizer to write what the
// reference writes for doc, and to fail where and how it fails.
func checkCanonicalAsTheReference(t *testing.T, c *Canonicalizer, doc []byte, skip func([]byte) bool) {
	t.Helper()
	var want, got bytes.Buffer
	var ref refCanonicalizer
	wantErr := ref.Write(&want, doc, skip)
	gotErr := c.Write(&got, doc, skip)
	require.Equal(t, fmt.Sprint(wantErr), fmt.Sprint(gotErr), "%q", doc)
	require.Equal(t, want.String(), got.String(), "%q", doc)
}

// canonicalDiffDocs are documents whose strings, keys and members take every
// path of the canonical writer: escapes of every kind, \u sequences,
// surrogates paired and lone, invalid UTF-8, control characters, numbers of
// every form, keys that share their first eight bytes or differ only past
// them, keys that end before their eighth byte where another has one below
// '"' there, duplicates, more members than the insertion sort takes, nesting.
func canonicalDiffDocs() []string {
	docs := []string{string(request1KB)}
	docs = append(docs, fastTestValues...)
	for _, s := range fastTestStrings(400) {
		docs = append(docs,
			`"`+s+`"`,
			`{"`+s+`":1,"a":"`+s+`"}`,
			`{"z":["`+s+`",{"`+s+`":"`+s+`","`+s+`x":0}],"`+s+`":null}`,
		)
	}
	keys := []string{"a", "ab", "abcdefg", "abcdefgh", "abcdefghi", "abcdefgh\\u0000", "abcdefghz", "abcdefgha",
		"max_tokens", "max_completion_tokens", "model", "\\u00e9", "é", "\\ud83d\\ude00", "\\ud800", "\\u0022",
		"\\\\", "\\/", "", "\\u0001", "b\\n", "\xff", "zzzzzzzzzzzzzzzz", "zzzzzzzzzzzzzzzy",
		// Seven bytes and the same with an eighth below the quote that
		// follows a key: its first word must stop at its end.
		"abcdefg!", "abcdefg "}
	nums := []string{"0", "-0", "1", "12.5", "-3e7", "1E+2", "0.0e-1", "01", "1.", "-", "1e", "true", "null", "falsey"}
	rnd := rand.New(rand.NewPCG(9, 10))
	for range 300 {
		var b strings.Builder
		b.WriteString("{")
		for m := rnd.IntN(20); m >= 0; m-- {
			fmt.Fprintf(&b, `"%s" : %s`, keys[rnd.IntN(len(keys))], nums[rnd.IntN(len(nums))])
			if m > 0 {
				b.WriteString(" ,\n")
			}
		}
		b.WriteString("}")
		docs = append(docs, b.String())
	}
	docs = append(docs, strings.Repeat(`{"b":[`, 200)+`1`+strings.Repeat(`]}`, 200),
		strings.Repeat(`[`, maxDepth)+strings.Repeat(`]`, maxDepth),
		strings.Repeat(`[`, maxDepth+1)+strings.Repeat(`]`, maxDepth+1))
	return docs
}

// The Canonicalizer writes every document as the one before it did, byte
// for byte, and fails on the same ones with the same errors: whole, with
// junk after the value, cut anywhere, and changed at random.
func TestCanonicalMatchesTheReference(t *testing.T) {
	var c Canonicalizer // reused, as the pool reuses one
	skipUser := func(k []byte) bool { return string(k) == "user" || string(k) == "stream_options" }
	rnd := rand.New(rand.NewPCG(11, 12))
	const alphabet = "{}[]\",: \\/u0189abefnrtDdEe-.\x00\x1f\x7f\xc3\xa9\xff"
	for _, doc := range canonicalDiffDocs() {
		for _, skip := range []func([]byte) bool{nil, skipUser} {
			checkCanonicalAsTheReference(t, &c, []byte(doc), skip)
			checkCanonicalAsTheReference(t, &c, []byte(doc+" x"), skip)
			checkCanonicalAsTheReference(t, &c, []byte(" "+doc+" \n"), skip)
		}
		if len(doc) < 2000 {
			for cut := 0; cut < len(doc); cut++ {
				checkCanonicalAsTheReference(t, &c, []byte(doc[:cut]), nil)
			}
		}
		for range 30 {
			b := []byte(doc)
			if len(b) == 0 {
				break
			}
			b[rnd.IntN(len(b))] = alphabet[rnd.IntN(len(alphabet))]
			checkCanonicalAsTheReference(t, &c, b, skipUser)
		}
	}
}

func FuzzCanonicalMatchesTheReference(f *testing.F) {
	for _, doc := range canonicalDiffDocs()[:200] {
		f.Add([]byte(doc))
	}
	skip := func(k []byte) bool { return string(k) == "user" }
	f.Fuzz(func(t *testing.T, doc []byte) {
		var c Canonicalizer
		checkCanonicalAsTheReference(t, &c, doc, skip)
		checkCanonicalAsTheReference(t, &c, doc, nil)
	})
}
