package fallback

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// A ~1 KB chat request and a ~1 KB answer, as in the other layers'
// benchmarks.
var (
	benchBody  = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"` + strings.Repeat("Summarise the quarterly report in one line. ", 20) + `"}],"temperature":0}`)
	benchReply = strings.TrimSpace(strings.Repeat("The quarterly report shows steady growth overall. ", 17))
)

func benchCalls(b *testing.B, rt http.RoundTripper, body []byte) {
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, primaryURL+chatPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer sk-bench")
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkRouter compares, in one run: the bare in-memory fake; a Gateway
// with no layers; a Gateway with a single-target router, without and with
// Pace; and a Gateway whose
// router falls back after one failure (the primary answers 503, the backup
// with its own key and model), with cooldown off so every call pays the
// failed attempt.
func BenchmarkRouter(b *testing.B) {
	fake := llmtest.NewTransport(llmtest.WithReply(benchReply))
	b.Run("bare", func(b *testing.B) { benchCalls(b, fake, benchBody) })
	b.Run("gateway", func(b *testing.B) { benchCalls(b, mustNew(b, fake), benchBody) })
	b.Run("single-target", func(b *testing.B) {
		gw := mustNew(b, fake, New(Config{Targets: []Target{{Name: "primary"}}}))
		benchCalls(b, gw, benchBody)
	})
	b.Run("single-target-paced", func(b *testing.B) {
		// The fake's answers say 9999 of 10000 requests are left: paced,
		// never held.
		gw := mustNew(b, fake, New(Config{Targets: []Target{{Name: "primary", Pace: true}}}))
		benchCalls(b, gw, benchBody)
	})
	b.Run("fallback-after-failure", func(b *testing.B) {
		primary := llmtest.NewTransport()
		primary.Always(llmtest.Unavailable())
		backup := llmtest.NewTransport(llmtest.WithReply(benchReply))
		gw := mustNew(b, hosts{"primary.test": primary, "backup.test": backup}, New(Config{
			AttemptsPerTarget: 1,
			CooldownFailures:  -1,
			Targets: []Target{
				{Name: "primary"},
				{Name: "backup", Provider: provider.OpenAI, BaseURL: backupURL + "/v1", APIKey: "sk-backup", Model: "gpt-backup", Priority: 1},
			},
		}))
		benchCalls(b, gw, benchBody)
	})
	b.Run("bare-failure-then-success", func(b *testing.B) {
		// The bare cost of the two upstream calls the fallback makes.
		primary := llmtest.NewTransport()
		primary.Always(llmtest.Unavailable())
		both := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			resp, err := primary.RoundTrip(r)
			if err != nil {
				return nil, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(body))
			return fake.RoundTrip(r)
		})
		benchCalls(b, both, benchBody)
	})
}
