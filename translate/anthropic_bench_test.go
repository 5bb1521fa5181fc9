package translate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// anthropicBenchRequest is a 1 KB Messages request: a system prompt, a
// tool, a conversation with a tool call and its result.
const anthropicBenchRequest = `{"model":"claude-sonnet-4-5","max_tokens":1024,"system":"You are a helpful assistant for a travel agency. Answer briefly, in the language of the question, and use the tools when the answer needs live data.",` +
	`"messages":[{"role":"user","content":"I am flying from Paris to Rome tomorrow morning. What will the weather be like when I land, and should I pack an umbrella?"},` +
	`{"role":"assistant","content":[{"type":"text","text":"Let me check the forecast for Rome."},{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_forecast","input":{"city":"Rome","country":"IT","date":"tomorrow","hours":[9,10,11,12]}}]},` +
	`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01A09q90qw90lq917835lq9","content":"09:00 14C cloudy, 10:00 15C light rain (60%), 11:00 16C light rain (40%), 12:00 18C partly cloudy"}]}],` +
	`"tools":[{"name":"get_forecast","description":"Hourly weather forecast for a city","input_schema":{"type":"object","properties":{"city":{"type":"string"},"country":{"type":"string"},"date":{"type":"string"},"hours":{"type":"array","items":{"type":"integer"}}},"required":["city","date"]}}],` +
	`"temperature":0.7,"stop_sequences":["###"],"metadata":{"user_id":"user-1234"},"stream":true}`

// A 1 KB request read and written again: the translation's share of a
// request (the budget: 5 us).
func BenchmarkAnthropicRequest1KB(b *testing.B) {
	body := []byte(anthropicBenchRequest)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := anthropicTestCodec.DecodeRequest(body, RequestMeta{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := anthropicTestCodec.EncodeRequest(r, "claude-sonnet-4-5"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAnthropicDecodeRequest1KB(b *testing.B) {
	body := []byte(anthropicBenchRequest)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := anthropicTestCodec.DecodeRequest(body, RequestMeta{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAnthropicEncodeRequest1KB(b *testing.B) {
	r, err := anthropicTestCodec.DecodeRequest([]byte(anthropicBenchRequest), RequestMeta{})
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := anthropicTestCodec.EncodeRequest(r, "claude-sonnet-4-5"); err != nil {
			b.Fatal(err)
		}
	}
}

// anthropicEventBench decodes one stream event and encodes what it says
// into a reused buffer, the stream's steady state (the budget:
// 300 ns, no allocation).
type anthropicEventBench struct {
	d    StreamDecoder
	e    StreamEncoder
	dst  []byte
	emit func(*Event)
}

func newAnthropicEventBench(t testing.TB, setup ...string) *anthropicEventBench {
	x := &anthropicEventBench{d: anthropicTestCodec.NewStreamDecoder(), e: anthropicTestCodec.NewStreamEncoder(&Request{Stream: true})}
	x.emit = func(ev *Event) { x.dst = x.e.Encode(x.dst, ev) }
	for _, s := range setup {
		require.NoError(t, x.d.Decode(nil, []byte(s), x.emit))
	}
	return x
}

func (x *anthropicEventBench) event(data []byte) error {
	x.dst = x.dst[:0]
	return x.d.Decode(nil, data, x.emit)
}

var (
	anthropicBenchTextDelta = []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"The forecast for Rome says light rain "}}`)
	anthropicBenchArgsDelta = []byte(`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Rome\", \"da"}}`)
	anthropicBenchSetup     = []string{
		`{"type":"message_start","message":{"id":"msg_01abc","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":1}}}`,
		`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"warm"}}`,
	}
	anthropicBenchToolSetup = append(anthropicBenchSetup,
		`{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_forecast","input":{}}}`,
		`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"hours\": ["}}`)
)

func BenchmarkAnthropicStreamTextEvent(b *testing.B) {
	x := newAnthropicEventBench(b, anthropicBenchSetup...)
	b.SetBytes(int64(len(anthropicBenchTextDelta)))
	b.ReportAllocs()
	for b.Loop() {
		if err := x.event(anthropicBenchTextDelta); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAnthropicStreamToolArgsEvent(b *testing.B) {
	x := newAnthropicEventBench(b, anthropicBenchToolSetup...)
	b.SetBytes(int64(len(anthropicBenchArgsDelta)))
	b.ReportAllocs()
	for b.Loop() {
		if err := x.event(anthropicBenchArgsDelta); err != nil {
			b.Fatal(err)
		}
	}
}

// A stream's text and argument events, read and written again, allocate
// nothing once the output buffer has grown (escaped text included: it is
// unescaped into the decoder's own buffer).
func TestAnthropicStreamEventsDoNotAllocate(t *testing.T) {
	escaped := []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"line\none \"quoted\" \u00e9"}}`)
	for name, tc := range map[string]struct {
		setup []string
		data  []byte
	}{
		"text":      {anthropicBenchSetup, anthropicBenchTextDelta},
		"escaped":   {anthropicBenchSetup, escaped},
		"arguments": {anthropicBenchToolSetup, anthropicBenchArgsDelta},
	} {
		t.Run(name, func(t *testing.T) {
			x := newAnthropicEventBench(t, tc.setup...)
			require.NoError(t, x.event(tc.data))
			require.NotEmpty(t, x.dst)
			allocs := testing.AllocsPerRun(100, func() {
				if err := x.event(tc.data); err != nil {
					t.Fatal(err)
				}
			})
			assert.Zero(t, allocs)
		})
	}
}
