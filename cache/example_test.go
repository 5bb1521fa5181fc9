package cache_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/llmtest"
)

// The second identical call is answered from the cache: no upstream call,
// and its usage is reported as saved.
func ExampleNew() {
	upstream := llmtest.NewTransport(llmtest.WithUsage(llmtest.Usage{InputTokens: 12, OutputTokens: 3}))
	gw, err := aigateway.New(upstream, cache.New(cache.Config{TTL: time.Hour}))
	if err != nil {
		panic(err) // a layer's configuration error, named
	}
	defer gw.Close()

	for range 2 {
		ctx, tracker := aigateway.Track(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, llmtest.TransportURL+"/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer sk-example")
		resp, err := gw.Client().Do(req)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		r := tracker.Last().Result()
		fmt.Println(resp.Header.Get("X-Aigateway-Cache"), r.CacheStatus, r.Attempts, r.Usage.InputTokens, r.CacheStatus.Saved())
	}
	fmt.Println("upstream calls:", upstream.Count())
	// Output:
	// MISS miss 1 12 false
	// HIT hit 0 12 true
	// upstream calls: 1
}
