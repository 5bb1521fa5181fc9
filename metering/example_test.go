package metering_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
)

func Example() {
	// An in-memory fake OpenAI that reports 1000 input tokens (400 of them
	// cached) and 200 output tokens per call.
	upstream := llmtest.NewTransport(llmtest.WithUsage(llmtest.Usage{InputTokens: 1000, CacheReadTokens: 400, OutputTokens: 200}))

	meter := metering.New(metering.Config{}) // global (here no-op) OpenTelemetry providers, embedded prices
	gw, err := aigateway.New(upstream, meter, cache.New(cache.Config{}))
	if err != nil {
		panic(err) // a layer's configuration error, named
	}
	defer gw.Close()

	for _, user := range []string{"ann", "bob", "bob"} {
		ctx := aigateway.WithMetadata(context.Background(), "user", user)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, llmtest.TransportURL+"/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello from `+user+`"}]}`))
		resp, err := gw.RoundTrip(req)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close() // the call completes here: the ledger is up to date
	}

	t := meter.Ledger().Totals()
	fmt.Printf("calls %d, tokens %d in (%d cached) %d out, cost $%.6f\n", t.Requests, t.InputTokens, t.CacheReadTokens, t.OutputTokens, t.CostUSD)
	fmt.Printf("cache hits %d saved $%.6f\n", t.CacheHits, t.SavedUSD)
	for _, user := range []string{"ann", "bob"} {
		u := meter.Ledger().By("metadata:user")[user]
		fmt.Printf("%s: %d calls, $%.6f spent, $%.6f saved\n", user, u.Requests, u.CostUSD, u.SavedUSD)
	}
	// Output:
	// calls 3, tokens 2000 in (800 cached) 400 out, cost $0.000480
	// cache hits 1 saved $0.000240
	// ann: 1 calls, $0.000240 spent, $0.000000 saved
	// bob: 2 calls, $0.000240 spent, $0.000240 saved
}
