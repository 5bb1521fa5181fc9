package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/pricing"
	"github.com/aigateway-go/aigateway/ratelimit"
)

// Each user may make two calls a minute: the third gets a 429 the SDKs
// parse, which says when to come back and that retrying sooner is useless.
func ExampleNew() {
	upstream := llmtest.NewTransport()
	limiter := ratelimit.New(ratelimit.Config{Rules: []ratelimit.Rule{
		{Name: "per-user", Key: "metadata:user", Requests: 2, Per: time.Minute},
	}})
	gw, err := aigateway.New(upstream, limiter)
	if err != nil {
		panic(err) // a layer's configuration error, named
	}
	defer gw.Close()

	ctx := aigateway.WithMetadata(context.Background(), "user", "u-42")
	for range 3 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, llmtest.TransportURL+"/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := gw.Client().Do(req)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			fmt.Println(resp.StatusCode, resp.Header.Get(ratelimit.HeaderRule), "Retry-After:", resp.Header.Get("Retry-After"), "x-should-retry:", resp.Header.Get("X-Should-Retry"))
			continue
		}
		fmt.Println(resp.StatusCode)
	}
	s, _ := limiter.Status(context.Background(), "per-user", "u-42")
	fmt.Println("remaining:", s.Remaining, "upstream calls:", upstream.Count())
	// Output:
	// 200
	// 200
	// 429 per-user Retry-After: 30 x-should-retry: false
	// remaining: 0 upstream calls: 2
}

// A token limit is settled to the usage the upstream reports, streams
// included.
func ExampleLimiter_Status() {
	upstream := llmtest.NewTransport(llmtest.WithUsage(llmtest.Usage{InputTokens: 900, OutputTokens: 100}))
	limiter := ratelimit.New(ratelimit.Config{
		Rules: []ratelimit.Rule{{Name: "tokens", Tokens: 100_000, Per: time.Minute}},
		// A frozen clock, so that the bucket does not refill (1 666 tokens a
		// second) between the call and the printing, on a slow machine.
		Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
	})
	client := &http.Client{Transport: limiter.Wrap(upstream)} // alone, without a Gateway

	req, _ := http.NewRequest(http.MethodPost, llmtest.TransportURL+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]}`))
	resp, err := client.Do(req)
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	s, _ := limiter.Status(context.Background(), "tokens")
	fmt.Println(s.Remaining, "of", s.Limit)
	// Output:
	// 99000 of 100000
}

// A budget refuses a model the price table lacks, rather than letting it
// through for free, until the model has a price.
func ExampleErrUnpriced() {
	send := func(limiter *ratelimit.Limiter, prices *pricing.Table) {
		gw, err := aigateway.New(llmtest.NewTransport(), limiter)
		if err != nil {
			panic(err) // a layer's configuration error, named
		}
		defer gw.Close()
		gw.Prices = prices // nil: the embedded table
		ctx, tracker := aigateway.Track(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, llmtest.TransportURL+"/v1/chat/completions",
			strings.NewReader(`{"model":"ft:gpt-4o-mini-2024-07-18:acme::9xYz","messages":[{"role":"user","content":"Hi"}]}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := gw.Client().Do(req)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		call := tracker.Last()
		<-call.Done()
		fmt.Println(resp.StatusCode, errors.Is(call.Result().Err, ratelimit.ErrUnpriced))
	}
	rules := []ratelimit.Rule{{Name: "team budget", CostUSD: 500, Period: ratelimit.PeriodMonth}}
	send(ratelimit.New(ratelimit.Config{Rules: rules}), nil)

	prices, err := pricing.Default().Set("openai", "ft:gpt-4o-mini-2024-07-18:acme::9xYz", pricing.Price{Input: 0.30, Output: 1.20})
	if err != nil {
		panic(err)
	}
	send(ratelimit.New(ratelimit.Config{Rules: rules}), prices)
	// Output:
	// 403 true
	// 200 false
}
