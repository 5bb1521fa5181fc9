package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
