package aigateway

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aigateway-go/aigateway/llmtest"
)

// benchBody is a ~1 KB chat request.
var benchBody = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a terse assistant."},{"role":"user","content":"` +
	strings.Repeat("Summarise the quarterly report in one line. ", 20) + `"}],"temperature":0.2,"max_tokens":256}`)

var benchStreamBody = bytes.Replace(benchBody, []byte(`"model"`), []byte(`"stream":true,"model"`), 1)

// benchReply makes a ~1 KB non-stream response.
var benchReply = strings.TrimSpace(strings.Repeat("The quarterly report shows steady growth overall. ", 17))

func benchRoundTrip(b *testing.B, rt http.RoundTripper, body []byte) {
	b.Helper()
	b.ReportAllocs()
	var respBytes int64
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, llmtest.TransportURL+"/v1/chat/completions", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer sk-bench")
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		respBytes = n
	}
	b.ReportMetric(float64(respBytes), "resp-bytes")
}

// BenchmarkOverhead compares a bare RoundTripper (the in-memory fake) with
// the same fake behind a Gateway with no layers: the difference is the cost
// of preparing the Call, scanning usage and completing the call.
func BenchmarkOverhead(b *testing.B) {
	fake := llmtest.NewTransport(llmtest.WithReply(benchReply))
	gw := New(fake)
	for _, tc := range []struct {
		name string
		rt   http.RoundTripper
		body []byte
	}{
		{"json/bare", fake, benchBody},
		{"json/gateway", gw, benchBody},
		{"stream/bare", fake, benchStreamBody},
		{"stream/gateway", gw, benchStreamBody},
	} {
		b.Run(tc.name, func(b *testing.B) { benchRoundTrip(b, tc.rt, tc.body) })
	}
}
