package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
)

// anthropicFuzzSeeds are real-shaped request bodies.
var anthropicFuzzSeeds = []string{
	`{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Hi"}]}`,
	`{"model":"m","system":[{"type":"text","text":"S","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBO"}},{"type":"text","text":"?"}]},` +
		`{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"r"}],"is_error":true}]}],` +
		`"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"any","disable_parallel_tool_use":true},"thinking":{"type":"enabled","budget_tokens":2048},"stream":true}`,
	`{"model":"claude-opus-4-7","max_tokens":10,"thinking":{"type":"adaptive"},"output_config":{"effort":"low","format":{"type":"json_schema","schema":{"type":"object"}}},"messages":[{"role":"user","content":"x"}],"temperature":1,"top_p":0.99,"stop_sequences":["a"],"metadata":{"user_id":"u"}}`,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","data":"x"}}]}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}`,
}

// Any body: DecodeRequest never panics; a request it decodes encodes
// without panic (or is refused with an UnsupportedError), and what it
// encodes is JSON that decodes again.
func FuzzAnthropicDecodeRequest(f *testing.F) {
	for _, s := range anthropicFuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := anthropicTestCodec.DecodeRequest(body, RequestMeta{})
		if err != nil {
			return
		}
		out, err := anthropicTestCodec.EncodeRequest(r, "claude-sonnet-4-5")
		if err != nil {
			var u *UnsupportedError
			if !errors.As(err, &u) {
				t.Fatalf("EncodeRequest: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("not JSON: %s", out)
		}
		if _, err := anthropicTestCodec.DecodeRequest(out, RequestMeta{}); err != nil {
			t.Fatalf("the encoded request does not decode: %v\n%s", err, out)
		}
	})
}

// Any event data: the stream decoder never panics, and an encoder fed
// what it emits writes whole SSE events whose data is JSON.
func FuzzAnthropicStream(f *testing.F) {
	for _, s := range []string{
		anthropicStartEvent, anthropicPing, anthropicStop,
		"content_block_start\n" + `{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{"a":"\u00e9"}}}`,
		"content_block_delta\n" + `{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}}`,
		"content_block_start\n" + `{"type":"content_block_start","index":1,"content_block":{"type":"thinking","thinking":"","signature":""}}`,
		"content_block_delta\n" + `{"type":"content_block_delta","index":1,"delta":{"type":"signature_delta","signature":"x"}}`,
		"message_delta\n" + `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":3}}`,
		"error\n" + `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		d := anthropicTestCodec.NewStreamDecoder()
		e := anthropicTestCodec.NewStreamEncoder(&Request{Stream: true})
		var out []byte
		emit := func(ev *Event) { out = e.Encode(out, ev) }
		// Lines alternate event name and data, as in the seeds; a
		// decoding error cuts the stream, as the stack does.
		lines := bytes.Split(stream, []byte("\n"))
		for i := 0; i+1 < len(lines); i += 2 {
			if d.Decode(lines[i], lines[i+1], emit) != nil {
				break
			}
		}
		out = e.Encode(out, &Event{Kind: EventDone})
		for _, ev := range strings.SplitAfter(string(out), "\n\n") {
			if ev == "" {
				continue
			}
			_, data, ok := strings.Cut(ev, "\ndata: ")
			if !strings.HasPrefix(ev, "event: ") || !ok || !strings.HasSuffix(data, "\n\n") || !json.Valid([]byte(strings.TrimSuffix(data, "\n\n"))) {
				t.Fatalf("not a whole event with JSON data: %q", ev)
			}
		}
	})
}

// A content_block_delta read on the fast path (Anthropic's compact
// spelling) says what the general reading of the same JSON says (spaced
// out, so that it does not take the fast path), whenever that reading
// takes it.
func FuzzAnthropicStreamFastDelta(f *testing.F) {
	for _, s := range []string{"Hello", `{\"a\": \"b\"}`, `\u00e9\n`, `a"b`, `a\`, `\ud83d\ude00`, "caf\xc3\xa9", "\xff"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(1))
	}
	kinds := [...][2]string{{"text_delta", "text"}, {"input_json_delta", "partial_json"}, {"thinking_delta", "thinking"}, {"signature_delta", "signature"}}
	f.Fuzz(func(t *testing.T, text string, kind uint8) {
		k := kinds[int(kind)%len(kinds)]
		start := [...]string{
			`{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}`,
			`{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`,
		}
		index := "0"
		if k[0] != "input_json_delta" {
			index = "1"
		}
		compact := `{"type":"content_block_delta","index":` + index + `,"delta":{"type":"` + k[0] + `","` + k[1] + `":"` + text + `"}}`
		spaced := `{ "type": "content_block_delta", "index": ` + index + `, "delta": {"type": "` + k[0] + `", "` + k[1] + `": "` + text + `"} }`
		read := func(data string) ([]Event, error) {
			d := anthropicTestCodec.NewStreamDecoder()
			var got []Event
			keep := func(e *Event) { got = append(got, anthropicKept(e)) }
			for _, s := range start {
				if err := d.Decode(nil, []byte(s), keep); err != nil {
					t.Fatal(err)
				}
			}
			got = got[:0]
			err := d.Decode(nil, []byte(data), keep)
			return got, err
		}
		want, err := read(spaced)
		if err != nil {
			return // not JSON: the fast path may still read what it can
		}
		got, err := read(compact)
		if err != nil {
			t.Fatalf("%q: %v", compact, err)
		}
		if len(got) != len(want) || len(got) > 0 && got[0] != want[0] {
			t.Fatalf("%q: fast %+v, general %+v", compact, got, want)
		}
	})
}

// The stream decoder's unescaping decodes what jsonscan decodes, when it
// decodes.
func FuzzAnthropicUnescape(f *testing.F) {
	for _, s := range []string{`plain`, `a\"b\\c\/d\n\t\r\b\f`, `\u00e9`, `bad\x`, `end\`, `quote"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got, ok := anthropicUnescape([]byte("prefix"), []byte(body))
		if !ok {
			if string(got) != "prefix" {
				t.Fatalf("%q: a refusal changed dst to %q", body, got)
			}
			return
		}
		want, wok := jsonscan.AppendString([]byte("prefix"), []byte(`"`+body+`"`))
		if !wok || !bytes.Equal(got, want) {
			t.Fatalf("%q: got %q, jsonscan %q (%v)", body, got, want, wok)
		}
	})
}
