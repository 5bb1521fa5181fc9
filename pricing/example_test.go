package pricing_test

import (
	"fmt"

	"github.com/aigateway-go/aigateway/pricing"
	"github.com/aigateway-go/aigateway/provider"
)

func ExampleTable_Cost() {
	prices := pricing.Default()

	// An OpenAI response: 10,000 prompt tokens of which 4,000 were cached,
	// 2,000 completion tokens (reasoning included).
	usd, ok := prices.Cost("openai", "gpt-4o-2024-08-06", provider.Usage{
		InputTokens: 10_000, CacheReadTokens: 4_000, OutputTokens: 2_000,
	})
	fmt.Printf("gpt-4o: $%.4f %v\n", usd, ok)

	// An Anthropic response that wrote 10,000 tokens to the cache (4,000 of
	// them for an hour) and read 50,000.
	usd, ok = prices.Cost("anthropic", "claude-sonnet-4-5-20250929", provider.Usage{
		InputTokens: 61_000, CacheCreationTokens: 10_000, CacheCreation1hTokens: 4_000,
		CacheReadTokens: 50_000, OutputTokens: 2_000,
	})
	fmt.Printf("claude-sonnet-4-5: $%.4f %v\n", usd, ok)

	// A model without a price: unknown, not free.
	_, ok = prices.Cost("openai", "gpt-4o-mini-search-preview", provider.Usage{InputTokens: 100})
	fmt.Println("unknown model known:", ok)
	// Output:
	// gpt-4o: $0.0400 true
	// claude-sonnet-4-5: $0.0945 true
	// unknown model known: false
}

func ExampleTable_Set() {
	prices, err := pricing.Default().Set("openai", "ft:gpt-4o-mini:acme", pricing.Price{
		Input: 0.30, Output: 1.20, CacheRead: 0.15,
	})
	if err != nil {
		panic(err)
	}
	usd, ok := prices.Cost("openai", "ft:gpt-4o-mini:acme", provider.Usage{InputTokens: 1_000_000, OutputTokens: 100_000})
	fmt.Printf("$%.2f %v\n", usd, ok)
	// Output: $0.42 true
}

func ExampleParse() {
	extra, err := pricing.Parse([]byte(`{
		"groq": {"qwen/qwen3-32b": {"input": 0.29, "output": 0.59}}
	}`))
	if err != nil {
		panic(err)
	}
	prices := pricing.Default().Merge(extra)
	row, ok := prices.Lookup("groq", "qwen/qwen3-32b")
	fmt.Println(row.Provider, row.Model, row.Price.Input, row.Price.Output, ok)
	// Output: groq qwen/qwen3-32b 0.29 0.59 true
}
