package llmtest

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// benchRequest is a chat request of about 1 KB; benchReply makes a
// non-stream answer of about 1 KB.
var (
	benchRequest = `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"` +
		strings.Repeat("Tell me something interesting. ", 30) + `"}],"temperature":0.2,"max_tokens":512}`
	benchReply = strings.Repeat("The quick brown fox jumps over the lazy dog. ", 5)
)

func benchTransport(b *testing.B, path, body string, hdr ...string) {
	tr := NewTransport(WithReply(benchReply), WithCaptureLimit(0))
	raw := []byte(body)
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, TransportURL+path, bytes.NewReader(raw))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.ReportMetric(float64(len(raw)), "req-bytes")
	b.ReportMetric(float64(n), "resp-bytes")
}

func BenchmarkTransport(b *testing.B) {
	b.Run("chat", func(b *testing.B) { benchTransport(b, chatPath, benchRequest) })
	b.Run("chat-stream", func(b *testing.B) {
		benchTransport(b, chatPath, strings.Replace(benchRequest, `{"model"`, `{"stream":true,"stream_options":{"include_usage":true},"model"`, 1))
	})
	b.Run("messages", func(b *testing.B) {
		benchTransport(b, msgPath, strings.Replace(benchRequest, `"role":"system",`, `"role":"user",`, 1), anthropicHeaders...)
	})
	b.Run("messages-stream", func(b *testing.B) {
		benchTransport(b, msgPath, strings.Replace(benchRequest, `{"model"`, `{"stream":true,"model"`, 1), anthropicHeaders...)
	})
}

func BenchmarkServer(b *testing.B) {
	s := NewServer(WithReply(benchReply), WithCaptureLimit(0))
	defer s.Close()
	client := s.Client()
	raw := []byte(benchRequest)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Post(s.URL+chatPath, "application/json", bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
