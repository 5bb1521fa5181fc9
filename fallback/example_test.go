package fallback_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

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

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
