package cache

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aigateway-go/aigateway/internal/wire"
)

// benchHeaderNames are the names of an OpenAI answer's headers, as the
// cache sees them on a miss.
var benchHeaderNames = []string{"Openai-Version", "Access-Control-Expose-Headers", "X-Ratelimit-Reset-Tokens", "X-Request-Id",
	"X-Ratelimit-Remaining-Tokens", "Content-Length", "Openai-Organization", "X-Ratelimit-Reset-Requests", "Openai-Processing-Ms",
	"X-Ratelimit-Remaining-Requests", "Date", "Openai-Project", "X-Ratelimit-Limit-Requests", "X-Ratelimit-Limit-Tokens",
	"Content-Type", "Strict-Transport-Security", "Cf-Ray", "Server", "Alt-Svc", "X-Content-Type-Options"}

// headerNameCases returns n random header names: the dropped names and
// prefixes, names of answers, in every case and cut anywhere, joined with
// other names and with bytes a name does not usually hold (non-ASCII,
// characters that fold to ASCII letters, control bytes, '_', digits).
func headerNameCases(n int) []string {
	pieces := []string{"-", "-", "a", "Z", "k", "S", "0", "_", " ", "\x00", "\x7f", "é", "ſ", "\u212a", "\xff", "Retry-After-Ms",
		gatewayPrefix, "X-Ratelimit-", "Anthropic-Ratelimit-", "Tokens", "Requests"}
	pieces = append(pieces, droppedHeaders[:]...)
	pieces = append(pieces, benchHeaderNames...)
	pieces = append(pieces, slices.Sorted(maps.Keys(knownHeaders))...) // sorted: the same cases every run
	r := rand.New(rand.NewPCG(14, 3))
	var names []string
	for range n {
		var b strings.Builder
		for k := r.IntN(4); k >= 0; k-- {
			p := pieces[r.IntN(len(pieces))]
			switch r.IntN(6) {
			case 0:
				p = strings.ToLower(p)
			case 1:
				p = strings.ToUpper(p)
			case 2:
				p = p[r.IntN(len(p)):]
			}
			b.WriteString(p)
		}
		names = append(names, b.String())
	}
	return names
}

// storedHeader reads canonical names a word at a time and compares them
// exactly, other names by folding: over many names, canonical and not, it
// keeps and drops what comparing every name with Unicode folding does.
func TestStoredHeaderAgreesWithFoldingOnGeneratedNames(t *testing.T) {
	canonical := 0
	for _, k := range headerNameCases(200000) {
		if wire.IsCanonicalHeaderName(k) {
			canonical++
		}
		if !assert.Equal(t, storedHeaderFold(k), storedHeader(k), "%q", k) {
			return
		}
	}
	assert.Greater(t, canonical, 20000, "canonical names among the generated")
}

func BenchmarkStoredHeader(b *testing.B) {
	n := 0
	for b.Loop() {
		for _, k := range benchHeaderNames {
			if storedHeader(k) {
				n++
			}
		}
	}
	if n == 0 {
		b.Fatal(n)
	}
}
