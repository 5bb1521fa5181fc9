package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

var request1KB = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant that answers questions about the weather. Keep answers short, cite the source, and never invent data you do not have."},{"role":"user","content":"What is the weather like in Paris today? I am planning to walk along the Seine in the afternoon and want to know whether I need an umbrella, a coat, or sunscreen."},{"role":"assistant","content":"Let me check the forecast for Paris.","tool_calls":[{"id":"call_abc123","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris, France\",\"unit\":\"celsius\"}"}}]},{"role":"tool","tool_call_id":"call_abc123","content":"{\"temperature\":18,\"condition\":\"light rain\",\"precipitation_probability\":0.7,\"wind_kph\":14}"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Get the current weather for a location","parameters":{"type":"object","properties":{"location":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}}}],"temperature":0.2,"max_completion_tokens":300,"stream":true,"stream_options":{"include_usage":true},"user":"u-42"}`)

func BenchmarkMembers1KB(b *testing.B) {
	b.SetBytes(int64(len(request1KB)))
	b.ReportAllocs()
	for b.Loop() {
		it := Members(request1KB)
		for it.Next() {
		}
		if it.Err() != nil {
			b.Fatal(it.Err())
		}
	}
}

func BenchmarkValid1KB(b *testing.B) {
	b.Run("jsonscan", func(b *testing.B) {
		b.SetBytes(int64(len(request1KB)))
		b.ReportAllocs()
		for b.Loop() {
			Valid(request1KB)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(request1KB)))
		b.ReportAllocs()
		for b.Loop() {
			json.Valid(request1KB)
		}
	})
}

func BenchmarkCapturer(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[`)
	for i := range 1536 * 8 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("-0.012345678")
	}
	sb.WriteString(`]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`)
	doc := []byte(sb.String())
	var c Capturer
	keys := []string{"usage", "model", "error"}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		c.Reset(0, keys)
		for i := 0; i < len(doc); i += 32 << 10 {
			c.Write(doc[i:min(i+32<<10, len(doc))])
		}
	}
}
