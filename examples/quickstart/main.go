// Command quickstart wraps an openai-go client in an aigateway stack
// (meter, cache, rate limiter, fallback router) and prints, for every call,
// what the stack saw: model, tokens, cost, timings, the targets it tried;
// then a rate-limit refusal; and at the end the meter's ledger: tokens,
// cost, and what the cache saved.
//
// By default it talks to an embedded llmtest fake, so it runs anywhere
// without a key. With OPENAI_API_KEY set it talks to the real OpenAI API
// (model from QUICKSTART_MODEL, default gpt-4o-mini). Either way the
// router's first target is a second embedded fake that is down (it answers
// 503), to show a fallback: to Claude, in Anthropic's wire format (an
// embedded fake, or the real API with ANTHROPIC_API_KEY set), the stack
// translating the request and the answer, then to the request as sent.
//
//	cd examples && go run ./quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/fallback"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/metering"
	"github.com/aigateway-go/aigateway/provider"
	"github.com/aigateway-go/aigateway/ratelimit"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer) error {
	opts := []option.RequestOption{option.WithMaxRetries(0)}
	model := envOr("QUICKSTART_MODEL", "gpt-4o-mini")
	if os.Getenv("OPENAI_API_KEY") == "" {
		fake := llmtest.NewServer()
		defer fake.Close()
		opts = append(opts, option.WithBaseURL(fake.URL+"/v1"), option.WithAPIKey("sk-fake"))
		fmt.Fprintf(out, "upstream: embedded llmtest fake at %s (set OPENAI_API_KEY to use the real API)\n\n", fake.URL)
	} else {
		fmt.Fprintf(out, "upstream: api.openai.com, model %s\n\n", model)
	}

	// A primary upstream that is down: every call to it gets a 503.
	down := llmtest.NewServer()
	defer down.Close()
	down.Always(llmtest.Unavailable())

	// The stack, outermost first. The Gateway knows every call's usage and
	// timing. The meter, outermost so that it sees cache hits too, prices
	// every call, keeps a ledger and reports to OpenTelemetry (the global
	// providers: no-op unless the program installs an SDK). The cache
	// answers repeated calls from memory, the fallbacks' too
	// (CacheFallbacks). The limiter, inside the cache so that hits never
	// count, allows each user 3 calls a minute. The router tries the
	// primary, which is down, then Claude (another provider, another wire
	// format), then the request as the SDK sent it; after one failure the
	// primary rests for a minute, and calls go straight to the next.
	meter := metering.New(metering.Config{})
	limiter := ratelimit.New(ratelimit.Config{Rules: []ratelimit.Rule{
		{Name: "quickstart per-user", Key: "metadata:user", Requests: 3, Per: time.Minute},
	}})
	targets := []fallback.Target{
		{Name: "primary", Provider: provider.OpenAI, BaseURL: down.URL + "/v1", APIKey: "sk-primary", Pace: true},
	}
	// Claude, in Anthropic's format: the stack translates openai-go's
	// requests to it and its answers back. An embedded fake stands in for
	// it, unless ANTHROPIC_API_KEY is set; with OPENAI_API_KEY alone there
	// is no Claude target (the answers would not be the real API's).
	switch key := os.Getenv("ANTHROPIC_API_KEY"); {
	case key != "":
		targets = append(targets, fallback.Target{Name: "claude", Provider: provider.Anthropic, APIKey: key, Model: "claude-haiku-4-5", Priority: 1, Pace: true})
	case os.Getenv("OPENAI_API_KEY") == "":
		claude := llmtest.NewServer()
		defer claude.Close()
		targets = append(targets, fallback.Target{Name: "claude", Provider: provider.Anthropic, BaseURL: claude.URL + "/v1", APIKey: "sk-ant-fake", Model: "claude-haiku-4-5", Priority: 1, Pace: true})
	default:
		fmt.Fprintln(out, "(set ANTHROPIC_API_KEY too to see the fallback to Claude on the real API)")
	}
	// Last, the request as the SDK sent it. Every target is paced by its
	// provider's rate-limit headers.
	targets = append(targets, fallback.Target{Name: "backup", Priority: 2, Pace: true})
	router := fallback.New(fallback.Config{
		Targets:           targets,
		AttemptsPerTarget: 1,
		CooldownFailures:  1,
		Cooldown:          time.Minute,
	})
	gw, err := aigateway.New(nil,
		meter,
		cache.New(cache.Config{TTL: 10 * time.Minute, CacheFallbacks: true}),
		limiter,
		router,
	)
	if err != nil { // a layer's configuration error, naming the layer and the field
		return err
	}
	defer gw.Close()
	client := openai.NewClient(append(opts, option.WithHTTPClient(gw.Client()))...)

	ctx, tracker := aigateway.Track(aigateway.WithMetadata(ctx, "user", "quickstart"))
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	// 1. A plain chat completion, twice: the second is a cache hit, with the
	// same answer, no upstream call, and its tokens counted as saved.
	for range 2 {
		completion, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    model,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello in five words.")},
		})
		if err != nil {
			return fmt.Errorf("chat completion: %w", err)
		}
		fmt.Fprintf(out, "reply:  %s\n", completion.Choices[0].Message.Content)
		report(out, tracker.Last())
	}

	// 2. The same as a stream. openai-go does not ask for stream usage; the
	// stack asks upstream for it anyway and hides it from the SDK, so the
	// call's tokens are known.
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Count to five.")},
	})
	var text strings.Builder
	for stream.Next() {
		for _, c := range stream.Current().Choices {
			text.WriteString(c.Delta.Content)
		}
	}
	if err := stream.Err(); err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	stream.Close()
	fmt.Fprintf(out, "stream: %s\n", text.String())
	report(out, tracker.Last())

	// 3. Two more calls: the user's third call of the minute goes through,
	// the fourth is refused with a 429 in OpenAI's own shape, naming the
	// rule, with Retry-After and x-should-retry: false (openai-go does not
	// retry it). Nothing went upstream for it.
	for _, q := range []string{"Name a colour.", "Name a fruit."} {
		completion, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    model,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(q)},
		})
		var apiErr *openai.Error
		switch {
		case errors.As(err, &apiErr) && apiErr.StatusCode == 429:
			// The refusal, as openai-go raises it: report need not say it
			// again.
			fmt.Fprintf(out, "refused: %d, Retry-After: %s, %s\n", apiErr.StatusCode, apiErr.Response.Header.Get("Retry-After"), apiErr.Message)
		case err != nil:
			return fmt.Errorf("chat completion: %w", err)
		default:
			fmt.Fprintf(out, "reply:  %s\n", completion.Choices[0].Message.Content)
		}
		report(out, tracker.Last())
	}

	// 4. The ledger: what every call used and cost, and what the cache saved.
	printLedger(out, meter.Ledger())
	return nil
}

func printLedger(out io.Writer, l *metering.Ledger) {
	t := l.Totals()
	fmt.Fprintf(out, "ledger: %d calls, %d errors\n", t.Requests, t.Errors)
	fmt.Fprintf(out, "  spent: %d in (%d cached), %d out (%d reasoning), %s\n",
		t.InputTokens, t.CacheReadTokens, t.OutputTokens, t.ReasoningTokens, usd(t.CostUSD, t.UnknownCost))
	fmt.Fprintf(out, "  saved: %d cache hits, %d in, %d out, $%.6f\n",
		t.CacheHits, t.SavedInputTokens, t.SavedOutputTokens, t.SavedUSD)
	for model, m := range l.By(metering.ByModel) {
		fmt.Fprintf(out, "  model %s: %d calls, %s spent, $%.6f saved\n", model, m.Requests, usd(m.CostUSD, m.UnknownCost), m.SavedUSD)
	}
}

// usd prints a cost, saying how many calls had no price.
func usd(cost float64, unknown int64) string {
	if unknown > 0 {
		return fmt.Sprintf("$%.6f (+%d calls of unknown cost)", cost, unknown)
	}
	return fmt.Sprintf("$%.6f", cost)
}

// report prints what the stack knows of a call: its route, tokens, cost,
// timings, and its error unless it is the gateway's own refusal (which the
// caller printed as the SDK raised it).
func report(out io.Writer, call *aigateway.Call) {
	<-call.Done()
	r := call.Result()
	kind := "chat"
	if call.Stream() {
		kind = "stream"
	}
	answered := r.ResponseModel
	if answered == "" {
		answered = call.Model()
	}
	switch refused := r.Attempts == 0 && !r.CacheStatus.Saved(); {
	case refused:
		fmt.Fprintf(out, "  call:   %s %s %s -> %d, answered by the gateway itself, nothing sent\n",
			call.Provider(), kind, call.Model(), r.Status)
	default:
		fmt.Fprintf(out, "  call:   %s %s %s -> %d, model %s, attempts %d, cache %s\n",
			call.Provider(), kind, call.Model(), r.Status, answered, r.Attempts, r.CacheStatus)
	}
	if len(r.AttemptLog) > 0 {
		var tried []string
		for _, a := range r.AttemptLog {
			if a.Err != nil {
				tried = append(tried, fmt.Sprintf("%s (%d, %v)", a.Target, a.Status, a.Err))
			} else {
				tried = append(tried, fmt.Sprintf("%s (%d)", a.Target, a.Status))
			}
		}
		fmt.Fprintf(out, "  route:  %s -> answered by %s\n", strings.Join(tried, ", "), r.Target)
	}
	if n := len(r.Upstreams); n > 0 && r.Upstreams[n-1].Format != call.Format() {
		u := r.Upstreams[n-1]
		fmt.Fprintf(out, "  format: sent to %s %s as %s, answer translated back to %s\n", u.Provider, u.Model, u.Format, call.Format())
	}
	if r.UsageKnown {
		spent := "spent"
		if r.CacheStatus.Saved() {
			spent = "saved"
		}
		fmt.Fprintf(out, "  tokens: %d in (%d cached), %d out (%d reasoning), %s\n",
			r.Usage.InputTokens, r.Usage.CacheReadTokens, r.Usage.OutputTokens, r.Usage.ReasoningTokens, spent)
	} else if r.Attempts > 0 {
		fmt.Fprintln(out, "  tokens: unknown")
	}
	switch {
	case r.CostKnown:
		fmt.Fprintf(out, "  cost:   $%.6f\n", r.Cost)
	case r.UsageKnown:
		fmt.Fprintln(out, "  cost:   unknown (no price for this model)")
	}
	if call.Stream() {
		fmt.Fprintf(out, "  timing: first byte %v, first chunk %v, total %v\n",
			round(r.TimeToFirstByte), round(r.TimeToFirstChunk), round(r.Duration))
	} else {
		fmt.Fprintf(out, "  timing: first byte %v, total %v\n", round(r.TimeToFirstByte), round(r.Duration))
	}
	if r.Err != nil && !errors.Is(r.Err, ratelimit.ErrLimited) {
		fmt.Fprintf(out, "  error:  %v\n", r.Err)
	}
	fmt.Fprintln(out)
}

func round(d time.Duration) time.Duration {
	if d > time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
