package aigateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// A Gateway wraps the transport an SDK or plain net/http uses; Track shows
// what each call did.
func ExampleNew() {
	upstream := llmtest.NewTransport() // stands in for http.DefaultTransport
	gw, err := aigateway.New(upstream /* layers: metering, cache, limits, fallback ... */)
	if err != nil {
		panic(err) // a layer's configuration error, named
	}
	defer gw.Close()

	ctx, tracker := aigateway.Track(aigateway.WithMetadata(context.Background(), "user", "u-42"))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, llmtest.TransportURL+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := gw.Client().Do(req)
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	call := tracker.Last()
	r := call.Result()
	fmt.Println(call.Provider(), call.Operation(), call.Model(), call.Metadata("user"))
	fmt.Println(r.Status, r.Attempts, r.UsageKnown, r.Usage.OutputTokens)
	// Output:
	// openai chat gpt-4o-mini u-42
	// 200 1 true 3
}

// Layer is how a middleware becomes a layer of the stack: it gets the
// prepared Call, and works the same alone or inside a Gateway.
func ExampleLayer() {
	logModel := aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return aigateway.Layer(next, func(call aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			call.OnComplete(func(r aigateway.Result) {
				fmt.Printf("%s %s: %d tokens in, %d out\n", call.Provider(), call.Model(), r.Usage.InputTokens, r.Usage.OutputTokens)
			})
			return next.RoundTrip(req)
		})
	})
	// Alone, around any transport:
	client := &http.Client{Transport: logModel.Wrap(llmtest.NewTransport(llmtest.WithUsage(llmtest.Usage{InputTokens: 10, OutputTokens: 4})))}

	req, _ := http.NewRequest(http.MethodPost, llmtest.TransportURL+"/v1/messages",
		strings.NewReader(`{"model":"claude-haiku-4-5","max_tokens":100,"messages":[{"role":"user","content":"Hi"}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("anthropic-version", "2023-06-01")
	resp, err := client.Do(req)
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// Output:
	// anthropic claude-haiku-4-5: 10 tokens in, 4 out
}

// A routing layer sends each attempt as a Route: the stack records every
// request that goes upstream for it (Result.Upstreams), with the provider
// and model it went to, what the answer reported and its price, and tells
// the layer whether an attempt went upstream at all.
func ExampleLayerCall_Route() {
	toGroq := aigateway.MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return aigateway.Layer(next, func(call aigateway.LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			ctx, attempt := call.Route(req.Context(), aigateway.Route{Provider: provider.Groq, Model: "llama-3.3-70b-versatile"})
			resp, err := next.RoundTrip(req.WithContext(ctx))
			if _, sent := attempt.Upstream(); !sent {
				fmt.Println("a layer further in answered it")
			}
			return resp, err
		})
	})
	gw, err := aigateway.New(llmtest.NewTransport(llmtest.WithUsage(llmtest.Usage{InputTokens: 1000, OutputTokens: 100})), toGroq)
	if err != nil {
		panic(err)
	}
	defer gw.Close()
	ctx, tracker := aigateway.Track(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, llmtest.TransportURL+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`))
	resp, err := gw.Client().Do(req)
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	r := tracker.Last().Result()
	for _, u := range r.Upstreams {
		fmt.Printf("%s %s: %d in, %d out, $%.6f (known %t)\n", u.Provider, u.Model, u.Usage.InputTokens, u.Usage.OutputTokens, u.Cost, u.CostKnown)
	}
	fmt.Printf("call: $%.6f\n", r.Cost)
	// Output:
	// groq llama-3.3-70b-versatile: 1000 in, 100 out, $0.000669 (known true)
	// call: $0.000669
}
