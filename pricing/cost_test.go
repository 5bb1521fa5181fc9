package pricing_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/pricing"
	"github.com/aigateway-go/aigateway/provider"
)

// anthropicUsage builds the normalised Usage of an Anthropic response from
// its raw fields: input_tokens excludes the cache, the normalised
// InputTokens includes it.
func anthropicUsage(rawInput, cacheWrite, cacheWrite1h, cacheRead, output int64) provider.Usage {
	return provider.Usage{
		InputTokens:           rawInput + cacheWrite + cacheRead,
		OutputTokens:          output,
		CacheReadTokens:       cacheRead,
		CacheCreationTokens:   cacheWrite,
		CacheCreation1hTokens: cacheWrite1h,
	}
}

// TestCost checks each formula against sums worked out by hand, in USD per
// 1M tokens, divided by 1M at the end.
func TestCost(t *testing.T) {
	custom, err := pricing.Default().Set("anthropic", "claude-custom", pricing.Price{Input: 2, Output: 10})
	require.NoError(t, err)

	tests := []struct {
		name     string
		table    *pricing.Table
		provider string
		model    string
		usage    provider.Usage
		want     float64
	}{
		// OpenAI: (input − cached)·in + cached·read + output·out; reasoning is inside output.
		{"openai cached", nil, "openai", "gpt-4o",
			provider.Usage{InputTokens: 10_000, CacheReadTokens: 4_000, OutputTokens: 2_000, ReasoningTokens: 500},
			(6_000*2.50 + 4_000*1.25 + 2_000*10.00) / 1e6}, // 0.04
		{"openai mini 1M", nil, "openai", "gpt-4o-mini-2024-07-18",
			provider.Usage{InputTokens: 1_000_000, CacheReadTokens: 500_000, OutputTokens: 100_000},
			(500_000*0.15 + 500_000*0.075 + 100_000*0.60) / 1e6}, // 0.1725
		{"openai reasoning not added twice", nil, "openai", "o4-mini",
			provider.Usage{InputTokens: 2_000, OutputTokens: 5_000, ReasoningTokens: 4_000},
			(2_000*1.10 + 5_000*4.40) / 1e6}, // 0.0242
		{"openai gpt-5 cached", nil, "openai", "gpt-5-2025-08-07",
			provider.Usage{InputTokens: 100_000, CacheReadTokens: 80_000, OutputTokens: 10_000},
			(20_000*1.25 + 80_000*0.125 + 10_000*10.00) / 1e6}, // 0.135
		{"embeddings", nil, "openai", "text-embedding-3-small",
			provider.Usage{InputTokens: 1_000_000},
			0.02},
		{"azure priced as openai", nil, "azure.ai.openai", "gpt-4o-2024-11-20",
			provider.Usage{InputTokens: 10_000, CacheReadTokens: 4_000, OutputTokens: 2_000},
			0.04},

		// Anthropic: uncached·in + 5m·write_5m + 1h·write_1h + read·read + output·out.
		{"anthropic 5m 1h and reads", nil, "anthropic", "claude-sonnet-4-5-20250929",
			anthropicUsage(1_000, 10_000, 4_000, 50_000, 2_000),
			(1_000*3.00 + 6_000*3.75 + 4_000*6.00 + 50_000*0.30 + 2_000*15.00) / 1e6}, // 0.0945
		{"anthropic 5m only", nil, "anthropic", "claude-haiku-4-5-20251001",
			anthropicUsage(500, 2_000, 0, 0, 100),
			(500*1.00 + 2_000*1.25 + 100*5.00) / 1e6}, // 0.0035
		{"anthropic read only", nil, "anthropic", "claude-3-5-haiku-20241022",
			anthropicUsage(100, 0, 0, 10_000, 50),
			(100*0.80 + 10_000*0.08 + 50*4.00) / 1e6}, // 0.00108
		{"anthropic multipliers when the row has no cache prices", custom, "anthropic", "claude-custom",
			anthropicUsage(1_000, 1_000, 400, 1_000, 100),
			(1_000*2 + 600*2*1.25 + 400*2*2 + 1_000*2*0.1 + 100*10) / 1e6}, // 0.0063
		{"openrouter anthropic", nil, "openrouter", "anthropic/claude-sonnet-4.5",
			anthropicUsage(1_000, 10_000, 4_000, 50_000, 2_000),
			0.0945},

		// Gemini: (prompt − cached)·in + cached·read + (candidates + thoughts)·out.
		{"gemini cached and thoughts", nil, "gcp.gemini", "models/gemini-2.5-flash",
			provider.Usage{InputTokens: 10_000, CacheReadTokens: 6_000, OutputTokens: 800 + 1_200, ReasoningTokens: 1_200},
			(4_000*0.30 + 6_000*0.075 + 2_000*2.50) / 1e6}, // 0.00665
		{"gemini no cache price falls back to input", nil, "gcp.gemini", "gemini-2.5-flash-lite",
			provider.Usage{InputTokens: 2_000, CacheReadTokens: 1_000},
			2_000 * 0.10 / 1e6},

		// Long-context tiers, chosen by the whole input (cached included).
		{"gemini pro at 200k is the base tier", nil, "gcp.gemini", "gemini-2.5-pro",
			provider.Usage{InputTokens: 200_000, OutputTokens: 1_000},
			(200_000*1.25 + 1_000*10.00) / 1e6}, // 0.26
		{"gemini pro above 200k", nil, "gcp.gemini", "gemini-2.5-pro",
			provider.Usage{InputTokens: 200_001, OutputTokens: 1_000},
			(200_001*2.50 + 1_000*15.00) / 1e6}, // 0.5150025
		{"gemini pro long with cache", nil, "gcp.gemini", "gemini-2.5-pro",
			provider.Usage{InputTokens: 250_000, CacheReadTokens: 100_000, OutputTokens: 1_000},
			(150_000*2.50 + 100_000*0.25 + 1_000*15.00) / 1e6}, // 0.415
		{"sonnet at 200k is the base tier", nil, "anthropic", "claude-sonnet-4-5",
			anthropicUsage(200_000, 0, 0, 0, 1_000),
			(200_000*3.00 + 1_000*15.00) / 1e6},
		{"sonnet above 200k", nil, "anthropic", "claude-sonnet-4-5",
			anthropicUsage(200_001, 0, 0, 0, 1_000),
			(200_001*6.00 + 1_000*22.50) / 1e6},
		{"sonnet long: cache reads count toward the threshold, multipliers of the tier input", nil, "anthropic", "claude-sonnet-4-5",
			anthropicUsage(50_000, 0, 0, 200_000, 1_000),
			(50_000*6.00 + 200_000*0.60 + 1_000*22.50) / 1e6}, // 0.4425
		{"sonnet long cache writes", nil, "anthropic", "claude-sonnet-4-5",
			anthropicUsage(100_000, 150_000, 50_000, 0, 0),
			(100_000*6.00 + 100_000*7.50 + 50_000*12.00) / 1e6}, // 1.95

		// The rest of the embedded providers.
		{"deepseek cache hits", nil, "deepseek", "deepseek-v4-flash",
			provider.Usage{InputTokens: 10_000, CacheReadTokens: 8_000, OutputTokens: 1_000},
			(2_000*0.14 + 8_000*0.0028 + 1_000*0.28) / 1e6},
		{"groq", nil, "groq", "openai/gpt-oss-120b",
			provider.Usage{InputTokens: 1_000, OutputTokens: 1_000},
			(1_000*0.15 + 1_000*0.60) / 1e6},
		{"mistral", nil, "mistral_ai", "codestral-latest",
			provider.Usage{InputTokens: 1_000, OutputTokens: 1_000},
			(1_000*0.30 + 1_000*0.90) / 1e6},

		// Inconsistent counts never bill a token twice nor go negative.
		{"cache read above input is capped", nil, "openai", "gpt-4o",
			provider.Usage{InputTokens: 100, CacheReadTokens: 500},
			100 * 1.25 / 1e6},
		{"1h part above the writes is capped", nil, "anthropic", "claude-haiku-4-5",
			anthropicUsage(0, 100, 900, 0, 0),
			100 * 2.00 / 1e6},
		{"negative counts are zero", nil, "openai", "gpt-4o",
			provider.Usage{InputTokens: -5, OutputTokens: -5, CacheReadTokens: -5, CacheCreationTokens: -5, CacheCreation1hTokens: -5},
			0},
		{"no usage costs nothing", nil, "openai", "gpt-4o", provider.Usage{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.table.Cost(tc.provider, tc.model, tc.usage)
			require.True(t, ok, "cost must be known")
			assert.InDelta(t, tc.want, got, 1e-12)
		})
	}
}

func TestCostHandComputedValues(t *testing.T) {
	// The same sums written out as numbers, so a slip in a formula above
	// cannot hide behind the same slip in its expectation.
	for _, tc := range []struct {
		provider, model string
		usage           provider.Usage
		want            float64
	}{
		{"openai", "gpt-4o", provider.Usage{InputTokens: 10_000, CacheReadTokens: 4_000, OutputTokens: 2_000}, 0.04},
		{"openai", "gpt-4o-mini", provider.Usage{InputTokens: 1_000_000, CacheReadTokens: 500_000, OutputTokens: 100_000}, 0.1725},
		{"anthropic", "claude-sonnet-4-5", anthropicUsage(1_000, 10_000, 4_000, 50_000, 2_000), 0.0945},
		{"gcp.gemini", "gemini-2.5-flash", provider.Usage{InputTokens: 10_000, CacheReadTokens: 6_000, OutputTokens: 2_000}, 0.00665},
		{"gcp.gemini", "gemini-2.5-pro", provider.Usage{InputTokens: 250_000, CacheReadTokens: 100_000, OutputTokens: 1_000}, 0.415},
		{"anthropic", "claude-sonnet-4-5", anthropicUsage(100_000, 150_000, 50_000, 0, 0), 1.95},
	} {
		got, ok := pricing.Default().Cost(tc.provider, tc.model, tc.usage)
		require.True(t, ok)
		assert.InDelta(t, tc.want, got, 1e-12, "%s %s", tc.provider, tc.model)
	}
}

func TestCostUnknownIsNeverZero(t *testing.T) {
	u := provider.Usage{InputTokens: 1_000, OutputTokens: 1_000}
	for _, tc := range []struct{ provider, model string }{
		{"openai", "gpt-4o-mini-search-preview"}, // a variant without a row
		{"openai", "gpt-9"},
		{"openai", ""},
		{"", "gpt-4o"},           // no provider
		{"together", "gpt-4o"},   // a provider without rows
		{"openrouter", "gpt-4o"}, // OpenRouter ids carry a prefix
		{"openrouter", "openai/gpt-4o:free"},
		{"mistral_ai", "mistral-large-latest"}, // moving alias, not verified
	} {
		usd, ok := pricing.Default().Cost(tc.provider, tc.model, u)
		assert.False(t, ok, "%q %q must be unknown", tc.provider, tc.model)
		assert.Zero(t, usd)
	}
}

func TestCostAllocs(t *testing.T) {
	table := pricing.Default()
	u := provider.Usage{InputTokens: 10_000, CacheReadTokens: 4_000, OutputTokens: 2_000}
	for _, tc := range []struct{ provider, model string }{
		{"openai", "gpt-4o"},
		{"openai", "gpt-4o-mini-2024-07-18"},
		{"anthropic", "claude-haiku-4-5-20251001"},
		{"gcp.gemini", "models/gemini-2.0-flash-001"},
		{"azure.ai.openai", "gpt-4o-2024-08-06"},
		{"openrouter", "anthropic/claude-sonnet-4.5"},
		{"openai", "no-such-model-2024-01-01"},
	} {
		allocs := testing.AllocsPerRun(100, func() { table.Cost(tc.provider, tc.model, u) })
		assert.Zero(t, allocs, "%s %s", tc.provider, tc.model)
	}
}
