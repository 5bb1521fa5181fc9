package sdktest

import (
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	openaiopt "github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/fallback"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
	"github.com/aigateway-go/aigateway/provider"
	"github.com/aigateway-go/aigateway/ratelimit"
)

// The whole default stack under openai-go, in the pattern the rate limiter
// and the router document together: Groq first, at 2 requests a minute
// (a limiter in the Groq target's own layers), then OpenAI. The limiter's
// local 429 sends the call on to OpenAI; each upstream sees only its own
// key and model; the meter prices each answer for the provider that gave
// it; the cache outside the router answers repeats without a route.
func TestWholeStackGroqThenOpenAI(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.String(), func(t *testing.T) {
			const groqKey, groqModel = "gsk-groq-secret", "llama-3.3-70b-versatile"
			groq := llmtest.NewServer(llmtest.WithAPIKey(groqKey))
			defer groq.Close()
			openaiFake := llmtest.NewServer(llmtest.WithAPIKey(apiKey), llmtest.WithUsage(plainUsage))
			defer openaiFake.Close()

			meter := metering.New(metering.Config{})
			groqLimit := ratelimit.New(ratelimit.Config{Rules: []ratelimit.Rule{
				{Name: "groq rpm", Requests: 2, Per: time.Minute},
			}})
			router := fallback.New(fallback.Config{Targets: []fallback.Target{
				{Name: "groq", Provider: provider.Groq, BaseURL: groq.URL + "/openai/v1", APIKey: groqKey, Model: groqModel,
					Layers: []aigateway.Middleware{groqLimit}},
				{Name: "openai"},
			}})
			gw := mustNew(t, nil, meter, cache.New(cache.Config{CacheFallbacks: true}), router)
			defer gw.Close()
			var sdkAttempts attemptCounter // outermost, before the gateway: default SDK retries stay on
			opts := []openaiopt.RequestOption{openaiopt.WithBaseURL(openaiFake.URL + "/v1"), openaiopt.WithAPIKey(apiKey),
				openaiopt.WithMiddleware(sdkAttempts.middleware)}
			if w == viaMiddleware {
				opts = append(opts, openaiopt.WithMiddleware(gw.SDKMiddleware))
			} else {
				opts = append(opts, openaiopt.WithHTTPClient(gw.Client()))
			}
			client := openai.NewClient(opts...)

			var targets []string
			for i, q := range []string{"one", "two", "three", "four", "one"} {
				ctx, tr := track()
				resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
					Model:    gptModel,
					Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(q)},
				})
				require.NoError(t, err, "call %d", i)
				require.NotEmpty(t, resp.Choices)
				c := onlyCall(t, tr)
				requireDone(t, c)
				r := c.Result()
				require.NoError(t, r.Err)
				targets = append(targets, r.Target+"/"+r.CacheStatus.String())
			}
			assert.Equal(t, []string{"groq/miss", "groq/miss", "openai/miss", "openai/miss", "/hit"}, targets,
				"Groq until its limit, then OpenAI; the repeat is a hit, which no target answered")
			assert.Equal(t, 5, sdkAttempts.count(), "no SDK retry: the local 429 never reached the SDK")

			require.Equal(t, 2, groq.Count())
			for _, r := range groq.Requests() {
				assert.Equal(t, "Bearer "+groqKey, r.Header.Get("Authorization"), "Groq sees only its own key")
				assert.Contains(t, string(r.Body), `"model":"`+groqModel+`"`)
			}
			require.Equal(t, 2, openaiFake.Count())
			for _, r := range openaiFake.Requests() {
				assert.Equal(t, "Bearer "+apiKey, r.Header.Get("Authorization"))
				assert.Contains(t, string(r.Body), `"model":"`+gptModel+`"`)
			}

			by := meter.Ledger().By(metering.ByTarget)
			assert.Equal(t, int64(2), by["groq"].Requests)
			assert.Equal(t, int64(2), by["openai"].Requests)
			assert.Equal(t, int64(1), by[""].CacheHits)
			assert.Positive(t, by["groq"].CostUSD)
			assert.Positive(t, by["openai"].CostUSD)
			assert.Zero(t, meter.Ledger().Totals().UnknownCost, "Groq's llama and OpenAI's gpt-4o-mini are both priced")
			assert.Zero(t, meter.Ledger().Totals().Errors)
		})
	}
}
