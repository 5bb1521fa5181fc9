package wire

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/aigateway-go/aigateway/provider"
)

// scanUsageIn feeds body to a fresh ResponseScanner of format f in pieces
// of every bytes (all of it at once for every <= 0) and returns its usage.
func scanUsageIn(f provider.Format, body []byte, every int) (provider.Usage, bool) {
	var s ResponseScanner
	s.Reset(f, false, 200)
	if every <= 0 {
		every = len(body) + 1
	}
	for b := body; len(b) > 0; {
		n := min(every, len(b))
		s.Write(b[:n])
		b = b[n:]
	}
	return s.Usage()
}

// checkUsageOnePass holds the usage a scanner reads from answer as it
// passes (one Write: the Capturer hands the usage object to
// readOpenAIUsage) to what it reads from the captured object (a byte at
// a time: the Capturer never can), and both to openAIUsage on the object.
func checkUsageOnePass(t testing.TB, answer, usage []byte) {
	for _, f := range []provider.Format{provider.FormatOpenAIChat, provider.FormatOpenAIResponses, provider.FormatOpenAIEmbeddings} {
		whole, wok := scanUsageIn(f, answer, 0)
		bytewise, bok := scanUsageIn(f, answer, 1)
		if whole != bytewise || wok != bok {
			t.Fatalf("%v: usage of %q in one Write %+v, %v; a byte at a time %+v, %v", f, answer, whole, wok, bytewise, bok)
		}
		if usage != nil {
			u, st := openAIUsage(usage)
			if want := st == usageTaken; wok != want || want && whole != u {
				t.Fatalf("%v: usage of %q %+v, %v; openAIUsage %+v, %d", f, answer, whole, wok, u, st)
			}
		}
	}
}

// The usage an answer's one pass reads (generated usage objects, in
// answers pretty and compact, once or twice, with other members) is what
// reading the captured object reads.
func TestUsageReadAsItPassesMatchesTheCapturedObject(t *testing.T) {
	g := usageGen{r: rand.New(rand.NewPCG(21, 8))}
	for range 4000 {
		u := g.usage()
		if bytes.ContainsAny(u, `,}]`) && g.r.IntN(4) == 0 {
			u = u[:bytes.LastIndexAny(u, `}`)+1] // no garbage after it
		}
		single := []byte(`{"id":"x","usage":` + string(u) + `,"model":"m"}`)
		checkUsageOnePass(t, single, nil)
		if len(u) > 0 && u[0] == '{' && bytes.Count(u, []byte("{")) == bytes.Count(u, []byte("}")) {
			checkUsageOnePass(t, []byte("{\n  \"usage\": "+string(u)+"\n}"), nil)
		}
		two := []byte(`{"usage":` + string(g.usage()) + `, "usage" : ` + string(u) + `}`)
		checkUsageOnePass(t, two, nil)
	}
	checkUsageOnePass(t, []byte(`{"usage":`+string(benchOpenAIUsage)+`}`), benchOpenAIUsage)
	checkUsageOnePass(t, []byte(`{"usage": {"prompt_t\u006fkens":8,"total_tokens":8}}`), []byte(`{"prompt_t\u006fkens":8,"total_tokens":8}`))
}

// FuzzUsageReadAsItPasses: whatever the answer, the usage read as it
// passes is the usage read from the captured object.
func FuzzUsageReadAsItPasses(f *testing.F) {
	f.Add([]byte(`{"usage":` + string(benchOpenAIUsage) + `}`))
	f.Add([]byte(`{"usage":{"prompt_tokens":1,"x":[1,{"a":"}"}]},"usage":{"total_tokens":2}}`))
	f.Add([]byte(`{"usage":{"prompt_tokens":01},"usage":{"prompt_tokens":1}`))
	f.Fuzz(func(t *testing.T, answer []byte) {
		checkUsageOnePass(t, answer, nil)
	})
}
