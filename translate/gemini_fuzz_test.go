package translate

import (
	"encoding/json"
	"testing"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
)

func FuzzGeminiDecodeRequest(f *testing.F) {
	f.Add([]byte(geminiFullRequest))
	f.Add([]byte(geminiSnakeCase(geminiFullRequest)))
	f.Add([]byte(geminiBenchRequest))
	f.Add([]byte(`{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f"}},{"text":"","thoughtSignature":"AIGWeA=="}]},{"parts":[{"functionResponse":{"name":"f","response":{"error":[1]}}}]}]}`))
	f.Add([]byte(`{"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"ARRAY","items":{"anyOf":[{"type":"STRING","nullable":true}]}}}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f"]}}}`))
	f.Add([]byte(`{"tools":[{"functionDeclarations":[{"name":"f"},{"name":"g"},{"name":"h"}]}],"toolConfig":{"functionCallingConfig":{"mode":"VALIDATED","allowedFunctionNames":["f","h"]}}}`))
	f.Add([]byte(`{"generationConfig":{"thinkingConfig":{"thinkingBudget":0},"responseMimeType":"application/json","responseJsonSchema":{"$schema":"x"}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c := geminiCodec{}
		r, err := c.DecodeRequest(body, RequestMeta{Model: "gemini-2.5-flash"})
		if err != nil {
			return
		}
		r.Unsupported = nil // refused by every encoder: see what the rest becomes
		out, err := c.EncodeRequest(r, "gemini-3-pro-preview")
		if err != nil {
			return
		}
		if json.Valid(body) && !json.Valid(out) {
			t.Fatalf("valid JSON in, not out:\n%s\n%s", body, out)
		}
		if _, err := c.DecodeRequest(out, RequestMeta{}); err != nil {
			t.Fatalf("re-encoded request does not decode: %v\n%s", err, out)
		}
	})
}

func FuzzGeminiStream(f *testing.F) {
	f.Add([]byte(`{"candidates": [{"content": {"parts": [{"text": "The","thought":true,"thoughtSignature":"c2ln"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}`))
	f.Add([]byte(`{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f","args": {"a": "\u00e9"}}}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 5,"candidatesTokenCount": 2,"thoughtsTokenCount": 3}}`))
	f.Add([]byte(`{"error": {"code": 503,"message": "overloaded","status": "UNAVAILABLE"}}`))
	f.Add([]byte(`{"promptFeedback": {"blockReason": "SAFETY"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ch geminiChunk
		geminiCheckFast(t, &ch, data)
		c := geminiCodec{}
		d := c.NewStreamDecoder()
		s := c.NewStreamEncoder(&Request{Reasoning: Reasoning{IncludeThoughts: true}})
		var out []byte
		emit := func(e *Event) { out = s.Encode(out, e) }
		// Twice: the second read is of a stream already started.
		for range 2 {
			if err := d.Decode(nil, data, emit); err != nil {
				return
			}
		}
		out = s.Encode(out, &Event{Kind: EventDone})
		if json.Valid(data) {
			for _, line := range geminiSplitEvents(out) {
				if !json.Valid(line) {
					t.Fatalf("an event that is not JSON: %s\nfrom %s", line, data)
				}
			}
		}
		if r, err := c.DecodeResponse(data); err == nil {
			if _, err := c.EncodeResponse(r); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// geminiSplitEvents returns the data of each "data: ...\n\n" event.
func geminiSplitEvents(b []byte) [][]byte {
	var events [][]byte
	for len(b) > 0 {
		end := 0
		for end+1 < len(b) && !(b[end] == '\n' && b[end+1] == '\n') {
			end++
		}
		events = append(events, b[len("data: "):end])
		b = b[min(end+2, len(b)):]
	}
	return events
}

// FuzzGeminiReadFast checks that readFast reads a chunk as read does, or
// leaves it to read: alone, and after a chunk of Gemini's (whose usage it
// keeps).
func FuzzGeminiReadFast(f *testing.F) {
	for _, c := range geminiFastChunks {
		f.Add([]byte(c), 0)
	}
	for _, c := range geminiSlowChunks {
		f.Add([]byte(c), 1)
	}
	f.Fuzz(func(t *testing.T, data []byte, before int) {
		var ch geminiChunk
		geminiCheckFast(t, &ch, data)
		if before >= 0 {
			ch = geminiChunk{}
			ch.readFast([]byte(geminiFastChunks[before%len(geminiFastChunks)]))
			geminiCheckFast(t, &ch, data)
			geminiCheckFast(t, &ch, data)
		}
	})
}

// FuzzGeminiAppendValid checks that the one-pass compactor says and
// writes what checking (jsonscan.Valid) then compacting (geminiCompact)
// do.
func FuzzGeminiAppendValid(f *testing.F) {
	for _, v := range geminiJSONValues {
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		got, ok := geminiAppendValid(nil, v)
		valid := jsonscan.Valid(v)
		if ok != valid {
			t.Fatalf("ok %v, valid %v: %q", ok, valid, v)
		}
		if want := geminiCompact(nil, v); ok && string(got) != string(want) {
			t.Fatalf("%q\ngot  %q\nwant %q", v, got, want)
		}
	})
}
