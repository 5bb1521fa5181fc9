package pricing_test

import (
	"testing"

	"github.com/aigateway-go/aigateway/pricing"
	"github.com/aigateway-go/aigateway/provider"
)

var sink float64

func BenchmarkCost(b *testing.B) {
	table := pricing.Default()
	u := provider.Usage{InputTokens: 10_000, CacheReadTokens: 4_000, OutputTokens: 2_000, CacheCreationTokens: 1_000}
	for _, bc := range []struct{ name, provider, model string }{
		{"exact", "openai", "gpt-4o"},
		{"dated", "openai", "gpt-4o-mini-2024-07-18"},
		{"anthropic-dated", "anthropic", "claude-haiku-4-5-20251001"},
		{"tiered", "gcp.gemini", "gemini-2.5-pro"},
		{"gemini-path", "gcp.gemini", "models/gemini-2.0-flash-001"},
		{"azure", "azure.ai.openai", "gpt-4o-2024-08-06"},
		{"openrouter", "openrouter", "anthropic/claude-sonnet-4.5"},
		{"unknown", "openai", "no-such-model-2024-01-01"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				usd, _ := table.Cost(bc.provider, bc.model, u)
				sink += usd
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var s float64
			for pb.Next() {
				usd, _ := table.Cost("anthropic", "claude-haiku-4-5-20251001", u)
				s += usd
			}
			_ = s
		})
	})
}
