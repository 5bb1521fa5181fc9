package fallback_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/fallback"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// The primary is overloaded: the call falls back to Groq, with Groq's key
// and model, and the Call says which attempts were made.
func ExampleNew() {
	primary := llmtest.NewTransport()
	primary.Always(llmtest.Unavailable())
	groq := llmtest.NewTransport(llmtest.WithAPIKey("gsk-example"))

	// Two in-memory fakes stand in for api.openai.com and api.groq.com.
	upstreams := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == "api.groq.com" {
			return groq.RoundTrip(r)
		}
		return primary.RoundTrip(r)
	})
	gw, err := aigateway.New(upstreams, fallback.New(fallback.Config{
		Targets: []fallback.Target{
			{Name: "openai"}, // the request as the SDK sent it
			{Name: "groq", Provider: provider.Groq, APIKey: "gsk-example", Model: "llama-3.3-70b-versatile"},
		},
		AttemptsPerTarget: 1,
	}))
	if err != nil {
		panic(err) // a layer's configuration error, named
	}
	defer gw.Close()

	ctx, tracker := aigateway.Track(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://api.openai.com/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`))
	req.Header.Set("Authorization", "Bearer sk-openai")
	resp, err := gw.Client().Do(req)
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	fmt.Println(resp.StatusCode, resp.Header.Get("X-Aigateway-Target"), resp.Header.Get("X-Aigateway-Attempts"))
	r := tracker.Last().Result()
	for _, a := range r.AttemptLog {
		fmt.Println(a.Target, a.Status)
	}
	fmt.Println("fallback:", r.Fallback, "model:", r.ResponseModel)
	// Output:
	// 200 groq 2
	// openai 503
	// groq 200
	// fallback: true model: llama-3.3-70b-versatile
}

// A dashboard's view of the targets: the primary failed and rests, the
// backup answered. (A fixed clock keeps the times in the output steady.)
func ExampleRouter_Health() {
	primary := llmtest.NewTransport()
	primary.Always(llmtest.Unavailable())
	backup := llmtest.NewTransport(llmtest.WithAPIKey("sk-backup"))
	upstreams := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == "backup.example" {
			return backup.RoundTrip(r)
		}
		return primary.RoundTrip(r)
	})
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	router := fallback.New(fallback.Config{
		Targets: []fallback.Target{
			{Name: "primary"},
			{Name: "backup", Provider: provider.OpenAI, BaseURL: "https://backup.example/v1", APIKey: "sk-backup"},
		},
		AttemptsPerTarget: 1,
		CooldownFailures:  1,
		Cooldown:          time.Minute,
		Now:               func() time.Time { return now },
	})
	gw, err := aigateway.New(upstreams, router)
	if err != nil {
		panic(err)
	}
	defer gw.Close()

	req, _ := http.NewRequest(http.MethodPost, "https://api.openai.com/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`))
	req.Header.Set("Authorization", "Bearer sk-openai")
	resp, err := gw.Client().Do(req)
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	for _, h := range router.Health() {
		fmt.Printf("%s: resting %v", h.Name, h.Resting)
		if h.Resting {
			fmt.Printf(" until %s", h.RestUntil.Format(time.TimeOnly))
		}
		fmt.Printf(", %d failures", h.Failures)
		if h.LastError != nil {
			fmt.Printf(", last error at %s: %v", h.LastErrorAt.Format(time.TimeOnly), h.LastError)
		}
		fmt.Println()
	}
	// Output:
	// primary: resting true until 12:01:00, 1 failures, last error at 12:00:00: provider: HTTP 503 server_error: The server is overloaded or not ready yet.
	// backup: resting false, 0 failures
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
