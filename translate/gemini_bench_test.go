package translate

import (
	"testing"
)

// geminiBenchRequest is a typical 1 KB request: a system prompt, a tool,
// a call and its result, and generation settings.
const geminiBenchRequest = `{"contents":[` +
	`{"role":"user","parts":[{"text":"Weather in Paris on Saturday?"}]},` +
	`{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris","date":"2025-08-16","unit":"celsius"}}}]},` +
	`{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"temperature":24,"conditions":"partly cloudy","rain_chance":0.2}}}]},` +
	`{"role":"model","parts":[{"text":"About 24°C and partly cloudy."}]},` +
	`{"role":"user","parts":[{"text":"And Sunday? An umbrella?"}]}],` +
	`"systemInstruction":{"parts":[{"text":"You are a travel assistant. Be brief."}]},` +
	`"tools":[{"functionDeclarations":[{"name":"get_weather","description":"The forecast for a city on a date.",` +
	`"parametersJsonSchema":{"type":"object","properties":{"city":{"type":"string"},"date":{"type":"string","format":"date"},"unit":{"enum":["celsius","fahrenheit"]}},"required":["city","date"]}}]}],` +
	`"toolConfig":{"functionCallingConfig":{"mode":"AUTO"}},` +
	`"generationConfig":{"maxOutputTokens":1024,"temperature":0.7,"thinkingConfig":{"thinkingBudget":1024}}}`

// BenchmarkGeminiRequest1KB reads a 1 KB Gemini request and writes it
// back: a translation's two halves with Gemini on both sides.
func BenchmarkGeminiRequest1KB(b *testing.B) {
	body := []byte(geminiBenchRequest)
	c := geminiCodec{}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := c.DecodeRequest(body, RequestMeta{Model: "gemini-2.5-flash"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.EncodeRequest(r, "gemini-2.5-flash"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGeminiDecodeRequest1KB(b *testing.B) {
	body := []byte(geminiBenchRequest)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (geminiCodec{}).DecodeRequest(body, RequestMeta{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGeminiEncodeRequest1KB(b *testing.B) {
	r, err := geminiCodec{}.DecodeRequest([]byte(geminiBenchRequest), RequestMeta{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (geminiCodec{}).EncodeRequest(r, "gemini-2.5-flash"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGeminiStreamEvent decodes one real-shaped text chunk and
// encodes the event it says as a Gemini chunk.
func BenchmarkGeminiStreamEvent(b *testing.B) {
	chunk := []byte(`{"candidates": [{"content": {"parts": [{"text": " sky is blue because of Rayleigh scattering"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}`)
	d := geminiCodec{}.NewStreamDecoder()
	s := geminiCodec{}.NewStreamEncoder(&Request{})
	dst := make([]byte, 0, 4096)
	emit := func(e *Event) { dst = s.Encode(dst, e) }
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		dst = dst[:0]
		if err := d.Decode(nil, chunk, emit); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGeminiStreamDecode(b *testing.B) {
	chunk := []byte(`{"candidates": [{"content": {"parts": [{"text": " sky is blue because of Rayleigh scattering"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}`)
	d := geminiCodec{}.NewStreamDecoder()
	emit := func(*Event) {}
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(nil, chunk, emit); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGeminiStreamEncode(b *testing.B) {
	s := geminiCodec{}.NewStreamEncoder(&Request{})
	dst := make([]byte, 0, 4096)
	dst = s.Encode(dst, &Event{Kind: EventStart, ID: "chatcmpl-C2nVqk8sJr3", Model: "gpt-4.1-mini-2025-04-14"})
	e := &Event{Kind: EventText, Text: " sky is blue because of Rayleigh scattering"}
	b.ReportAllocs()
	for b.Loop() {
		dst = s.Encode(dst[:0], e)
	}
}

// BenchmarkGeminiStreamEventNewUsage is BenchmarkGeminiStreamEvent with
// chunks whose usage changes each time (as it does, for some models, in
// every chunk): the decoder cannot take the usage it read last.
func BenchmarkGeminiStreamEventNewUsage(b *testing.B) {
	chunks := [2][]byte{
		[]byte(`{"candidates": [{"content": {"parts": [{"text": " sky is blue because of Rayleigh scattering"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 7,"totalTokenCount": 16,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}`),
		[]byte(`{"candidates": [{"content": {"parts": [{"text": " sky is blue because of Rayleigh scattering"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 8,"totalTokenCount": 17,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}`),
	}
	d := geminiCodec{}.NewStreamDecoder()
	s := geminiCodec{}.NewStreamEncoder(&Request{})
	dst := make([]byte, 0, 4096)
	emit := func(e *Event) { dst = s.Encode(dst, e) }
	b.SetBytes(int64(len(chunks[0])))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		dst = dst[:0]
		n++
		if err := d.Decode(nil, chunks[n&1], emit); err != nil {
			b.Fatal(err)
		}
	}
}
