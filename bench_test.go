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

// cannedUpstream answers every request with the same prepared response, so
// that what a benchmark measures is the stack, not the fake. Every answer
// shares one header map, into which a stack writes its own headers (its
// cache drops them from what it stores): benchmarks call it one call at a
// time.
type cannedUpstream struct {
	header http.Header
	body   []byte
	status int
}

func newCanned(b *testing.B, rt http.RoundTripper, body []byte) *cannedUpstream {
	req, _ := http.NewRequest(http.MethodPost, llmtest.TransportURL+"/v1/chat/completions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return &cannedUpstream{header: resp.Header, body: out, status: resp.StatusCode}
}

// NewCanned is newCanned for the benchmarks of the external test package
// (BenchmarkStack).
var NewCanned = newCanned

func (c *cannedUpstream) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{
		StatusCode: c.status, Header: c.header, Body: io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)), Request: req,
	}, nil
}

// BenchmarkOverhead compares a bare RoundTripper (the in-memory fake) with
// the same fake behind a Gateway with no layers: the difference is the cost
// of preparing the Call, scanning usage and completing the call.
func BenchmarkOverhead(b *testing.B) {
	fake := llmtest.NewTransport(llmtest.WithReply(benchReply))
	gw := mustNew(b, fake)
	cannedJSON := newCanned(b, fake, benchBody)
	// The stream the gateway's upstream request gets: with the usage chunk.
	cannedStream := newCanned(b, fake, bytes.Replace(benchStreamBody, []byte(`"stream":true`), []byte(`"stream":true,"stream_options":{"include_usage":true}`), 1))
	for _, tc := range []struct {
		name string
		rt   http.RoundTripper
		body []byte
	}{
		{"json/bare", fake, benchBody},
		{"json/gateway", gw, benchBody},
		{"json-canned/bare", cannedJSON, benchBody},
		{"json-canned/gateway", mustNew(b, cannedJSON), benchBody},
		{"stream/bare", fake, benchStreamBody},
		{"stream/gateway", gw, benchStreamBody},
		{"stream-canned/bare", cannedStream, benchStreamBody},
		{"stream-canned/gateway", mustNew(b, cannedStream), benchStreamBody},
	} {
		b.Run(tc.name, func(b *testing.B) { benchRoundTrip(b, tc.rt, tc.body) })
	}
}
