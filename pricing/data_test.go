package pricing_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/pricing"
	"github.com/aigateway-go/aigateway/provider"
)

// TestEmbeddedRowsHaveSourceAndDate: every price in prices.json says where
// it comes from and when it was checked.
func TestEmbeddedRowsHaveSourceAndDate(t *testing.T) {
	rows := pricing.Default().Rows()
	require.NotEmpty(t, rows)
	for _, r := range rows {
		name := r.Provider + " " + r.Model
		assert.True(t, strings.HasPrefix(r.Price.Source, "https://"), "%s: source %q", name, r.Price.Source)
		checked, err := time.Parse(time.DateOnly, r.Price.Checked)
		if assert.NoError(t, err, name) {
			assert.False(t, checked.Before(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)), "%s checked %s", name, r.Price.Checked)
		}
		assert.NoError(t, r.Price.Validate(), name)
		assert.Positive(t, r.Price.Input, name)
	}
}

// TestEmbeddedProvidersArePresets: rows are filed under the
// gen_ai.provider.name the provider package reports, or they would never
// be found.
func TestEmbeddedProvidersArePresets(t *testing.T) {
	for _, r := range pricing.Default().Rows() {
		p, ok := provider.ByName(r.Provider)
		if assert.True(t, ok, "%s is not a provider preset", r.Provider) {
			assert.Equal(t, r.Provider, p.Name())
		}
	}
	// The names resolution treats specially.
	assert.Equal(t, "anthropic", provider.Anthropic.Name())
	assert.Equal(t, "openai", provider.OpenAI.Name())
	assert.Equal(t, "openrouter", provider.OpenRouter.Name())
	assert.Equal(t, "azure.ai.openai", provider.AzureOpenAI("contoso", "").Name())
}

// TestWireRows: the verified price rows (the providers' list prices, checked
// 2026-11-26; each row's source is in prices.json) exactly as the table
// holds them.
func TestWireRows(t *testing.T) {
	type tier struct {
		above   int64
		in, out float64
	}
	tests := []struct {
		provider, model      string
		in, out, read, write float64 // write: the 5-minute cache write; 0 for "—"
		tier                 *tier
	}{
		{"openai", "gpt-4o", 2.50, 10.00, 1.25, 0, nil},
		{"openai", "gpt-4o-mini", 0.15, 0.60, 0.075, 0, nil},
		{"openai", "gpt-4.1", 2.00, 8.00, 0.50, 0, nil},
		{"openai", "gpt-4.1-mini", 0.40, 1.60, 0.10, 0, nil},
		{"openai", "gpt-4.1-nano", 0.10, 0.40, 0.025, 0, nil},
		{"openai", "o3-mini", 1.10, 4.40, 0.55, 0, nil},
		{"openai", "o4-mini", 1.10, 4.40, 0.275, 0, nil},
		{"anthropic", "claude-sonnet-4-5", 3.00, 15.00, 0.30, 3.75, &tier{200_000, 6.00, 22.50}},
		{"anthropic", "claude-haiku-4-5", 1.00, 5.00, 0.10, 1.25, nil},
		{"anthropic", "claude-3-5-haiku-20241022", 0.80, 4.00, 0.08, 1.00, nil},
		{"gcp.gemini", "gemini-2.0-flash", 0.10, 0.40, 0.025, 0, nil},
		{"gcp.gemini", "gemini-2.5-flash", 0.30, 2.50, 0.075, 0, nil},
		{"openai", "text-embedding-3-small", 0.02, 0, 0, 0, nil},
	}
	for _, tc := range tests {
		row, ok := pricing.Default().Lookup(tc.provider, tc.model)
		if !assert.True(t, ok, tc.model) {
			continue
		}
		p := row.Price
		assert.Equal(t, tc.model, row.Model)
		assert.Equal(t, tc.in, p.Input, tc.model)
		assert.Equal(t, tc.out, p.Output, tc.model)
		assert.Equal(t, tc.read, p.CacheRead, tc.model)
		assert.Equal(t, tc.write, p.CacheWrite5m, tc.model)
		assert.Equal(t, "2026-11-26", p.Checked, tc.model)
		if tc.tier == nil {
			assert.Empty(t, p.Tiers, tc.model)
		} else if assert.Len(t, p.Tiers, 1, tc.model) {
			assert.Equal(t, pricing.Tier{Above: tc.tier.above, Input: tc.tier.in, Output: tc.tier.out}, p.Tiers[0], tc.model)
		}
	}
	// Anthropic's 1-hour writes at 2× the input price (docs/wire.md, "Cost").
	for _, m := range []string{"claude-sonnet-4-5", "claude-haiku-4-5", "claude-3-5-haiku-20241022"} {
		row, _ := pricing.Default().Lookup("anthropic", m)
		assert.InDelta(t, 2*row.Price.Input, row.Price.CacheWrite1h, 1e-12, m)
	}
}

// TestEmbeddedCoverage lists the models the embedded table must price.
func TestEmbeddedCoverage(t *testing.T) {
	for prov, models := range map[string][]string{
		"openai": {"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o1", "o3", "o3-mini", "o4-mini",
			"gpt-5", "gpt-5-mini", "gpt-5-nano", "text-embedding-3-small", "text-embedding-3-large"},
		"anthropic": {"claude-sonnet-4-5", "claude-sonnet-4", "claude-haiku-4-5", "claude-opus-4-1", "claude-opus-4", "claude-opus-4-5",
			"claude-3-7-sonnet", "claude-3-5-sonnet", "claude-3-5-haiku-20241022", "claude-3-haiku"},
		"gcp.gemini": {"gemini-2.0-flash", "gemini-2.0-flash-lite", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro"},
		"groq":       {"llama-3.3-70b-versatile", "llama-3.1-8b-instant", "openai/gpt-oss-120b"},
		"mistral_ai": {"codestral", "mistral-medium-2508", "mistral-large-2411"},
		"deepseek":   {"deepseek-v4-flash"},
	} {
		for _, m := range models {
			row, ok := pricing.Default().Lookup(prov, m)
			if assert.True(t, ok, "%s %s", prov, m) {
				assert.Equal(t, m, row.Model)
			}
		}
	}
	// Anthropic rows publish every cache price; the multipliers are for rows
	// users add.
	for _, r := range pricing.Default().Rows() {
		if r.Provider == "anthropic" {
			assert.Positive(t, r.Price.CacheRead, r.Model)
			assert.Positive(t, r.Price.CacheWrite5m, r.Model)
			assert.Positive(t, r.Price.CacheWrite1h, r.Model)
		}
	}
}
