package translate

import (
	"testing"
)

// openAIBenchRequest is a 1 KB chat request: a system prompt, a few turns,
// a tool call and its result, one tool.
const openAIBenchRequest = `{"model":"gpt-4o-mini","messages":[` +
	`{"role":"system","content":"You are a helpful assistant for a travel agency. Answer briefly, in the customer's language, and use the tools when a question needs live data."},` +
	`{"role":"user","content":"Hello! I am planning a trip to Paris next week. What will the weather be like, and is there anything special happening in the city?"},` +
	`{"role":"assistant","content":null,"tool_calls":[{"id":"call_8Bf3kX2","type":"function","function":{"name":"get_forecast","arguments":"{\"city\":\"Paris\",\"days\":7}"}}]},` +
	`{"role":"tool","tool_call_id":"call_8Bf3kX2","content":"{\"daily\":[{\"day\":\"Mon\",\"high\":18,\"low\":11,\"rain\":0.2},{\"day\":\"Tue\",\"high\":20,\"low\":12,\"rain\":0.1}]}"},` +
	`{"role":"assistant","content":"Mild: highs around 18-20°C with little rain early in the week. The Fête de la Musique is on Saturday."},` +
	`{"role":"user","content":"Great, thanks. Can you also suggest a couple of museums that are open on Monday?"}],` +
	`"tools":[{"type":"function","function":{"name":"get_forecast","description":"Daily weather forecast for a city","parameters":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","minimum":1,"maximum":14}},"required":["city"]}}}],` +
	`"tool_choice":"auto","max_tokens":512,"temperature":0.7,"stream":true,"stream_options":{"include_usage":true},"user":"cust-1234"}`

func BenchmarkOpenAIDecodeRequest(b *testing.B) {
	body := []byte(openAIBenchRequest)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (openAICodec{}).DecodeRequest(body, RequestMeta{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenAIEncodeRequest(b *testing.B) {
	r, err := openAICodec{}.DecodeRequest([]byte(openAIBenchRequest), RequestMeta{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (openAICodec{}).EncodeRequest(r, "gpt-4.1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenAITranslateRequest is a whole translation of a 1 KB
// request through the representation (OpenAI both sides, the other
// formats' halves being their own).
func BenchmarkOpenAITranslateRequest(b *testing.B) {
	body := []byte(openAIBenchRequest)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := openAICodec{}.DecodeRequest(body, RequestMeta{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := (openAICodec{}).EncodeRequest(r, "gpt-4.1"); err != nil {
			b.Fatal(err)
		}
	}
}

// openAIBenchStreamEvent decodes one chunk and encodes what it says, as a
// translated stream does for every event.
func openAIBenchStreamEvent(b *testing.B, chunk string) {
	d := openAICodec{}.NewStreamDecoder()
	enc := openAITestEncoder(&Request{StreamUsage: true})
	dst := make([]byte, 0, 4096)
	emit := func(e *Event) { dst = enc.Encode(dst[:0], e) }
	if err := d.Decode(nil, []byte(openAITestToolStream[0]), emit); err != nil {
		b.Fatal(err)
	}
	data := []byte(chunk)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(nil, data, emit); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenAIStreamEvent(b *testing.B) {
	b.Run("text", func(b *testing.B) {
		openAIBenchStreamEvent(b, `{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_fc9f1d7035","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"usage":null}`)
	})
	b.Run("tool args", func(b *testing.B) {
		openAIBenchStreamEvent(b, `{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_fc9f1d7035","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"Pa"}}]},"logprobs":null,"finish_reason":null}],"usage":null}`)
	})
}
