package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
)

// quickDigits ends a number that starts with a digit where quickSkip
// does, whatever follows its digits: what it passes over itself (plain
// digits before a comma, a brace or whitespace) and what it leaves to
// quickSkip (leading zeros, fractions, exponents, junk, the end).
func TestQuickDigitsEndsWhereQuickSkipDoes(t *testing.T) {
	heads := []string{"0", "1", "7", "00", "01", "10", "123", "1234567890", "99999999999999999999"}
	tails := []string{"", ",", "}", " ", "\n", "\t", "\r", "]", ":", `"`, ".5", "e3", "E3", "x", "-", "0", " ,", "\n  }", ",\"a\":1}"}
	for _, h := range heads {
		for _, tl := range tails {
			v := []byte(h + tl)
			assert.Equal(t, quickSkip(v, 0), quickDigits(v, 0), "%q", v)
			pre := []byte(`"a": ` + h + tl)
			assert.Equal(t, quickSkip(pre, 5), quickDigits(pre, 5), "%q", pre)
		}
	}
}

// quickKey names the member and ends the key as looking for the key's
// end and then its name does: names and their prefixes and extensions,
// escapes, keys cut short, every shape's names.
func TestQuickKeyFindsWhatTheKeysEndAndNameFind(t *testing.T) {
	var keys []string
	for _, sh := range []*usageShape{openAIShape, anthropicShape, geminiShape, openAIShape.members[5].inner} {
		for _, m := range sh.members {
			n := m.name
			keys = append(keys, n, n[:len(n)-1], n+"s", n+`\"`, `\u00`+n, n[:1]+`\"`+n[1:], "x"+n, n+`\\`)
		}
	}
	keys = append(keys, "", "a", "audio_tokens", `\`, "é")
	for _, sh := range []*usageShape{openAIShape, anthropicShape, geminiShape, openAIShape.members[5].inner} {
		for _, k := range keys {
			for _, tail := range []string{`": 1`, `"`, ``} {
				v := []byte(`"` + k + tail)
				for cut := 0; cut <= len(v); cut++ {
					w := v[:cut]
					wantEnd := jsonscan.PlainStringEnd(w, 0)
					var want *usageMember
					if wantEnd >= 0 {
						want = sh.member(w[1 : wantEnd-1])
					}
					if cut == 0 {
						continue // no quote to start from
					}
					m, end := sh.quickKey(w, 0)
					assert.Equal(t, wantEnd, end, "%q", w)
					if wantEnd >= 0 {
						assert.Same(t, want, m, "%q", w)
					}
				}
			}
		}
	}
}
