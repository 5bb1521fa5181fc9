package wire

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// usageGen writes random usage objects: the names the readers take and
// others, keys plain and escaped, duplicates, counts good and bad, nulls,
// strings, nested objects and arrays, whitespace, and, now and then,
// something malformed.
type usageGen struct {
	r *rand.Rand
	b bytes.Buffer
}

var (
	// The names of each level: the members the readers take, and others
	// like them.
	usageGenTop = []string{
		"prompt_tokens", "input_tokens", "completion_tokens", "output_tokens", "total_tokens",
		"prompt_tokens_details", "input_tokens_details", "completion_tokens_details", "output_tokens_details",
		"prompt_cache_hit_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "cache_creation",
		"promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "cachedContentTokenCount", "totalTokenCount",
		"service_tier", "promptTokensDetails", "cost", "", "é", "prompt_tokens ", "Prompt_tokens",
		"a_name_longer_than_any_usage_count_name_is",
	}
	usageGenInner = []string{
		"cached_tokens", "cache_write_tokens", "reasoning_tokens", "ephemeral_1h_input_tokens", "thinking_tokens",
		"audio_tokens", "ephemeral_5m_input_tokens", "prompt_tokens", "",
	}
	usageGenCounts = []string{
		"0", "1", "21", "140", "100000000", "100000001", "999999999", "1000000000", "9999999999", "10000000000",
		"99999999999999999999", "-1", "-0", "-0.0", "12.0", "12.00", "12.5", "1e3", "1E3", "1.0e2", "01", "00", "0.0",
	}
	usageGenOthers = []string{
		"null", "true", "false", `"12"`, `""`, `"a\"b"`, `"\\"`, `"\u0041"`, `"é"`, "{}", "[]", "[1,2]",
		`[{"modality":"TEXT","tokenCount":8}]`, `{"upstream_inference_cost":null}`, "0.000075", "-3.5e-2",
	}
	usageGenGarbage = []string{
		"nul", "tru", "nulls", "1.", "-", "+1", "'x'", "{", "]", "}", ",", ":", `"open`, "NaN", "[1,]", `{"a"}`, `{"a":}`, "x",
	}
	usageGenSpace = []string{"", "", "", " ", "\n    ", "\n      ", "\t", "\r\n", "  "}
)

func (g *usageGen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *usageGen) space() { g.b.WriteString(g.pick(usageGenSpace)) }

// key writes a member name from names, now and then with an escape.
func (g *usageGen) key(names []string) {
	name := g.pick(names)
	g.b.WriteByte('"')
	switch n := g.r.IntN(12); {
	case n == 0 && name != "":
		i := g.r.IntN(len(name))
		fmt.Fprintf(&g.b, `%s\u%04x%s`, name[:i], name[i], name[i+1:])
	case n == 1:
		g.b.WriteString(name + `\"`)
	case n == 2 && name != "":
		g.b.WriteString(`\/` + name)
	default:
		g.b.WriteString(name)
	}
	g.b.WriteByte('"')
}

func (g *usageGen) value(depth int) {
	switch n := g.r.IntN(20); {
	case n < 9:
		g.b.WriteString(g.pick(usageGenCounts))
	case n < 13:
		g.b.WriteString(g.pick(usageGenOthers))
	case n < 18 && depth < 3:
		g.object(depth + 1)
	case n < 19:
		g.b.WriteString(g.pick(usageGenGarbage))
	default:
		// A container long enough to leave to the full reader.
		g.b.WriteString(`{"a":"` + strings.Repeat("x", maxQuickNested) + `"}`)
	}
}

func (g *usageGen) object(depth int) {
	// A few names for the object's members, so that most objects repeat
	// some.
	names := usageGenTop
	if depth > 0 {
		names = usageGenInner
	}
	var few [4]string
	for i := range few {
		few[i] = g.pick(names)
	}
	names = few[:1+g.r.IntN(len(few))]
	g.b.WriteByte('{')
	n := g.r.IntN(8)
	for i := range n {
		if i > 0 {
			g.space()
			g.b.WriteByte(',')
		}
		g.space()
		g.key(names)
		g.space()
		g.b.WriteByte(':')
		g.space()
		g.value(depth)
	}
	if n > 0 && g.r.IntN(40) == 0 {
		g.b.WriteByte(',') // a trailing comma
	}
	g.space()
	g.b.WriteByte('}')
}

// usage returns a new usage object.
func (g *usageGen) usage() []byte {
	g.b.Reset()
	g.object(0)
	g.space()
	switch g.r.IntN(30) {
	case 0:
		g.b.WriteString(g.pick(usageGenGarbage)) // something after the object
	case 1:
		return bytes.Clone(g.b.Bytes()[:g.r.IntN(g.b.Len())]) // cut short
	}
	return bytes.Clone(g.b.Bytes())
}

// checkUsageReaders holds the readers to the reference on v: what they
// return, and, where readQuick reads v, the slots it fills to readFull's.
// It reports whether readQuick read all three shapes.
func checkUsageReaders(t testing.TB, v []byte) (quick bool) {
	u, st := openAIUsage(v)
	ru, rst := openAIUsageRef(v)
	if u != ru || st != rst {
		t.Fatalf("openAIUsage(%q) = %+v, %d; the reference %+v, %d", v, u, st, ru, rst)
	}
	u, st = geminiUsage(v)
	ru, rst = geminiUsageRef(v)
	if u != ru || st != rst {
		t.Fatalf("geminiUsage(%q) = %+v, %d; the reference %+v, %d", v, u, st, ru, rst)
	}
	for _, before := range []anthropicUsage{{}, {input: 5, output: 1, cacheRead: 7, cache1h: 2, thinking: 1}, {rejected: true}} {
		a, ref := before, before
		st, rst := a.merge(v), ref.mergeRef(v)
		if a != ref || st != rst {
			t.Fatalf("merge(%q) onto %+v = %+v, %d; the reference %+v, %d", v, before, a, st, ref, rst)
		}
	}
	quick = len(v) > 0 && v[0] == '{'
	for _, sh := range []*usageShape{openAIShape, anthropicShape, geminiShape} {
		var q, f usageSlots
		if !sh.readQuick(v, &q) {
			quick = false
			continue
		}
		if !sh.readFull(v, &f) {
			t.Fatalf("readQuick read %q, readFull found it malformed", v)
		}
		if q != f {
			t.Fatalf("readQuick(%q) = %+v, readFull %+v", v, q, f)
		}
	}
	return quick
}

// The usage readers, one pass for the usual object and the members
// iterator for the rest, read many generated usage objects as the
// readers they replaced did, with readQuick reading a good share of them
// itself and leaving the rest to readFull.
func TestUsageReadersMatchTheReference(t *testing.T) {
	g := usageGen{r: rand.New(rand.NewPCG(14, 2))}
	const n = 30000
	quick := 0
	for range n {
		if checkUsageReaders(t, g.usage()) {
			quick++
		}
	}
	assert.Greater(t, quick, n/10, "objects readQuick read")
	assert.Less(t, quick, n*9/10, "objects readQuick left to readFull")
}

// The usage objects the providers send are read in one pass: what the
// full reader would make of them, without the members iterator.
func TestUsageQuickReadsProviderShapes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape *usageShape
		v     string
	}{
		{"openai pretty", openAIShape, string(benchOpenAIUsage)},
		{"openai chunk", openAIShape, `{"prompt_tokens":2070,"completion_tokens":12,"total_tokens":2082,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`},
		{"responses", openAIShape, `{"input_tokens":37,"input_tokens_details":{"cached_tokens":10},"output_tokens":11,"output_tokens_details":{"reasoning_tokens":4},"total_tokens":48}`},
		{"deepseek", openAIShape, `{"prompt_tokens":76,"completion_tokens":400,"total_tokens":476,"prompt_tokens_details":{"cached_tokens":64},"completion_tokens_details":{"reasoning_tokens":350},"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":12}`},
		{"openrouter", openAIShape, `{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"cost":0.000075,"is_byok":false,"prompt_tokens_details":{"cached_tokens":0},"cost_details":{"upstream_inference_cost":null},"completion_tokens_details":{"reasoning_tokens":0}}`},
		{"groq", openAIShape, `{"queue_time":0.019,"prompt_tokens":24,"prompt_time":0.006,"completion_tokens":377,"completion_time":0.302,"total_tokens":401,"total_time":0.308}`},
		{"anthropic", anthropicShape, string(benchAnthropicUsage)},
		{"anthropic delta", anthropicShape, `{"output_tokens":15}`},
		{"gemini", geminiShape, string(benchGeminiUsage)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var q, f usageSlots
			require.True(t, tc.shape.readFull([]byte(tc.v), &f))
			assert.True(t, tc.shape.readQuick([]byte(tc.v), &q), "read in one pass")
			assert.Equal(t, f, q)
			checkUsageReaders(t, []byte(tc.v))
		})
	}
}

// What readQuick does not read itself it leaves to readFull, which reads
// it as before: escaped keys, counts not in plain digits, long nested
// values, malformed objects.
func TestUsageQuickLeavesTheUnusualToTheFullReader(t *testing.T) {
	for _, v := range []string{
		`{"prompt_\u0074okens":5,"completion_tokens":3}`,
		`{"prompt_tokens":5,"x\"":1}`,
		`{"prompt_tokens":-5,"completion_tokens":3}`,
		`{"prompt_tokens":-0,"completion_tokens":3}`,
		`{"prompt_tokens":12.0,"completion_tokens":3}`,
		`{"prompt_tokens":1e3,"completion_tokens":3}`,
		`{"prompt_tokens":01,"completion_tokens":3}`,
		`{"prompt_tokens":12345678901,"completion_tokens":3}`,
		`{"prompt_tokens":5,"completion_tokens":3,"x":[` + strings.Repeat(`{"a":1},`, maxQuickNested/8) + `1]}`,
		// Nested as deep as the members iterator refuses, not as deep as
		// jsonscan.ValueEnd does: the iterator counts the usage object.
		`{"prompt_tokens":5,"completion_tokens":3,"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
		`{"prompt_tokens":5,"prompt_tokens_details":{"cached_tokens":-1}}`,
		`{"prompt_tokens":5,}`,
		`{"prompt_tokens":5} x`,
		`{"prompt_tokens":5`,
		`{"prompt_tokens" 5}`,
	} {
		t.Run(v[:min(len(v), 60)], func(t *testing.T) {
			var q usageSlots
			assert.False(t, openAIShape.readQuick([]byte(v), &q))
			checkUsageReaders(t, []byte(v))
		})
	}
}

// FuzzUsageReadersMatchTheReference: whatever the bytes, the usage
// readers say what the readers they replaced said, and readQuick, where
// it reads them, fills the slots readFull fills.
func FuzzUsageReadersMatchTheReference(f *testing.F) {
	f.Add(benchOpenAIUsage)
	f.Add(benchAnthropicUsage)
	f.Add(benchGeminiUsage)
	f.Add([]byte(`{"prompt_tokens":5,"completion_tokens":3,"prompt_tokens":null,"prompt_tokens_details":{"cached_tokens":9},"prompt_tokens_details":{"cached_tokens":2}}`))
	f.Add([]byte(`{"input_tokens":50,"completion_tokens":3,"prompt_tokens":5,"prompt_cache_hit_tokens":100000001}`))
	f.Add([]byte(`{"cache_creation":{"ephemeral_1h_input_tokens":5},"output_tokens_details":{"thinking_tokens":1e2}}`))
	g := usageGen{r: rand.New(rand.NewPCG(60, 1))}
	for range 40 {
		f.Add(g.usage())
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		checkUsageReaders(t, v)
	})
}

// A usage object read by the full reader allocates nothing for the
// object members it lacks (jsonscan.Get on nothing makes a syntax error).
func TestUsageFullReaderAllocatesNothingForAbsentDetails(t *testing.T) {
	v := []byte(`{"prompt_t\u006fkens":8,"total_tokens":8}`) // an escaped key: the full reader
	var s usageSlots
	require.False(t, openAIShape.readQuick(v, &s))
	assert.Zero(t, testing.AllocsPerRun(10, func() {
		if _, st := openAIUsage(v); st != usageTaken {
			t.Fatal(st)
		}
	}))
}
