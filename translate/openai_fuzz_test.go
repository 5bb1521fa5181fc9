package translate

import (
	"strings"
	"testing"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
)

// Any body: DecodeRequest never panics; a request it reads is written
// again without panic (or refused), and what it writes reads again the
// same.
func FuzzOpenAIDecodeRequest(f *testing.F) {
	f.Add([]byte(openAITestFullRequest))
	f.Add([]byte(openAIBenchRequest))
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},{"role":"tool","tool_call_id":"x","content":[{"type":"text","text":"r"}]}],"n":2}`))
	f.Add([]byte(`{"messages":[{"role":"assistant","content":[{"type":"refusal","refusal":"no"}],"tool_calls":[{"id":"a","function":{"name":"f","arguments":{"k":1}}}]}],"tool_choice":{"type":"function","function":{"name":"f"}}}`))
	f.Add([]byte(`{"messages":[],"stop":"\u0000","user":"\ud800","temperature":1e400}`))
	f.Add([]byte(`{"messages":[{"role":"assistant","content":[{"type":"refusal"}],"tool_calls":[{}]}]}`))
	f.Add([]byte("{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"arguments\":{\"\x86\":0}}}]}]}"))
	f.Add([]byte(`{"messages":[],"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"g"}}]}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := openAICodec{}.DecodeRequest(body, RequestMeta{})
		if err != nil {
			return
		}
		out, err := openAICodec{}.EncodeRequest(r, "gpt-4o")
		if err != nil {
			return
		}
		if !jsonscan.Valid(out) {
			t.Fatalf("wrote invalid JSON %q", out)
		}
		again, err := openAICodec{}.DecodeRequest(out, RequestMeta{})
		if err != nil {
			t.Fatalf("cannot read what it wrote %q: %v", out, err)
		}
		out2, err := openAICodec{}.EncodeRequest(again, "gpt-4o")
		if err != nil || string(out2) != string(out) {
			t.Fatalf("the second write differs:\n%s\n%s (%v)", out, out2, err)
		}
	})
}

// Any chunk: the stream decoder never panics, and the stream encoder
// writes whatever it emits as valid chunks.
func FuzzOpenAIStreamDecode(f *testing.F) {
	for _, c := range openAITestToolStream {
		f.Add([]byte(c), []byte(c))
	}
	f.Add([]byte(`{"id":"x","choices":[{"delta":{"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{}"}}]}}]}`), []byte(`{"id":"x","choices":[{"delta":{"tool_calls":[{"function":{"arguments":"\u00e9"}}]}}]}`))
	f.Add([]byte(`{"error":{"message":"m"}}`), []byte(`[DONE]`))
	f.Fuzz(func(t *testing.T, first, second []byte) {
		d := openAICodec{}.NewStreamDecoder()
		enc := openAITestEncoder(&Request{StreamUsage: true})
		var out []byte
		emit := func(e *Event) { out = enc.Encode(out, e) }
		_ = d.Decode(nil, first, emit)
		_ = d.Decode(nil, second, emit)
		out = enc.Encode(out, &Event{Kind: EventDone})
		for _, ev := range strings.Split(strings.TrimSuffix(string(out), "\n\n"), "\n\n") {
			data, ok := strings.CutPrefix(ev, "data: ")
			if !ok || data != "[DONE]" && !jsonscan.Valid([]byte(data)) {
				t.Fatalf("wrote a bad event %q", ev)
			}
		}
	})
}

// Any body: DecodeResponse never panics, and an answer it reads is
// written and read again the same.
func FuzzOpenAIDecodeResponse(f *testing.F) {
	f.Add([]byte(openAITestResponse))
	f.Add([]byte(`{"id":"x","choices":[{"message":{"content":[{"type":"thinking","thinking":[{"type":"text","text":"t"}]}],"refusal":"r"},"finish_reason":"length"}],"usage":{"prompt_tokens":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := openAICodec{}.DecodeResponse(body)
		if err != nil {
			return
		}
		if r.Created == 0 {
			r.Created = 1
		}
		if r.ID == "" {
			r.ID = "x"
		}
		out, err := openAICodec{}.EncodeResponse(r)
		if err != nil {
			t.Fatal(err)
		}
		if !jsonscan.Valid(out) {
			t.Fatalf("wrote invalid JSON %q", out)
		}
		if _, err := (openAICodec{}).DecodeResponse(out); err != nil {
			t.Fatalf("cannot read what it wrote %q: %v", out, err)
		}
	})
}

// Any chunk, read whole or after a start it shares with the one before:
// the quick reading emits what the cursor emits, and fails where it
// fails.
func FuzzOpenAIStreamQuickReading(f *testing.F) {
	for i, rest := range openAITestQuickRests {
		f.Add(rest, openAITestQuickRests[(i+1)%len(openAITestQuickRests)])
	}
	f.Fuzz(func(t *testing.T, rest, next string) {
		start := [2]string{"", openAITestQuickHead + `[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`}
		text := [2]string{"", openAITestQuickHead + openAITestQuickRests[0]}
		openAITestReadBothWays(t, start, text, [2]string{"", openAITestQuickHead + rest}, [2]string{"", openAITestQuickHead + next})
		openAITestReadBothWays(t, [2]string{"", `{"choices":` + rest}, [2]string{"", `{"choices":` + next})
	})
}
