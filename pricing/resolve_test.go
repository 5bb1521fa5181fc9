package pricing_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aigateway-go/aigateway/pricing"
	"github.com/aigateway-go/aigateway/provider"
)

func TestLookupResolution(t *testing.T) {
	tests := []struct {
		provider, model         string
		wantProvider, wantModel string // "" for unknown
	}{
		// Exact ids, and prefixes of one another that must stay apart.
		{"openai", "gpt-4o", "openai", "gpt-4o"},
		{"openai", "gpt-4o-mini", "openai", "gpt-4o-mini"},
		{"openai", "gpt-4.1", "openai", "gpt-4.1"},
		{"openai", "gpt-4.1-mini", "openai", "gpt-4.1-mini"},
		{"openai", "gpt-4.1-nano", "openai", "gpt-4.1-nano"},
		{"openai", "o3", "openai", "o3"},
		{"openai", "o3-mini", "openai", "o3-mini"},
		{"openai", "gpt-5", "openai", "gpt-5"},
		{"openai", "gpt-5-mini", "openai", "gpt-5-mini"},
		{"openai", "gpt-5-nano", "openai", "gpt-5-nano"},

		// Dated snapshots resolve to their family, never a shorter one.
		{"openai", "gpt-4o-mini-2024-07-18", "openai", "gpt-4o-mini"},
		{"openai", "gpt-4o-2024-08-06", "openai", "gpt-4o"},
		{"openai", "gpt-4o-2024-11-20", "openai", "gpt-4o"},
		{"openai", "gpt-4.1-mini-2025-04-14", "openai", "gpt-4.1-mini"},
		{"openai", "gpt-4.1-nano-2025-04-14", "openai", "gpt-4.1-nano"},
		{"openai", "gpt-4.1-2025-04-14", "openai", "gpt-4.1"},
		{"openai", "o3-mini-2025-01-31", "openai", "o3-mini"},
		{"openai", "o3-2025-04-16", "openai", "o3"},
		{"openai", "o4-mini-2025-04-16", "openai", "o4-mini"},
		{"openai", "o1-2024-12-17", "openai", "o1"},
		{"openai", "gpt-5-mini-2025-08-07", "openai", "gpt-5-mini"},
		// A snapshot with its own price has its own row.
		{"openai", "gpt-4o-2024-05-13", "openai", "gpt-4o-2024-05-13"},

		// Variants without a row stay unknown rather than borrow a price.
		{"openai", "gpt-4o-mini-search-preview", "", ""},
		{"openai", "gpt-4.1-mini-x", "", ""},
		{"openai", "o3-pro", "", ""},
		{"openai", "o1-mini-2024-09-12", "", ""},
		{"openai", "gpt-4-0613", "", ""},
		{"openai", "gpt-5-chat-latest", "", ""},
		{"openai", "GPT-4O", "", ""},

		// Anthropic: dated ids, aliases, -latest.
		{"anthropic", "claude-haiku-4-5-20251001", "anthropic", "claude-haiku-4-5"},
		{"anthropic", "claude-sonnet-4-5-20250929", "anthropic", "claude-sonnet-4-5"},
		{"anthropic", "claude-sonnet-4-20250514", "anthropic", "claude-sonnet-4"},
		{"anthropic", "claude-sonnet-4-0", "anthropic", "claude-sonnet-4"},
		{"anthropic", "claude-opus-4-20250514", "anthropic", "claude-opus-4"},
		{"anthropic", "claude-opus-4-0", "anthropic", "claude-opus-4"},
		{"anthropic", "claude-opus-4-1-20250805", "anthropic", "claude-opus-4-1"},
		{"anthropic", "claude-opus-4-5-20251101", "anthropic", "claude-opus-4-5"},
		{"anthropic", "claude-3-5-haiku-20241022", "anthropic", "claude-3-5-haiku-20241022"},
		{"anthropic", "claude-3-5-haiku-latest", "anthropic", "claude-3-5-haiku-20241022"},
		{"anthropic", "claude-3-7-sonnet-20250219", "anthropic", "claude-3-7-sonnet"},
		{"anthropic", "claude-3-7-sonnet-latest", "anthropic", "claude-3-7-sonnet"},
		{"anthropic", "claude-3-5-sonnet-20240620", "anthropic", "claude-3-5-sonnet"},
		{"anthropic", "claude-3-haiku-20240307", "anthropic", "claude-3-haiku"},
		{"anthropic", "claude-sonnet-4-5-extra", "", ""},

		// Gemini: models/ prefix, version suffix, and lite never as its family.
		{"gcp.gemini", "models/gemini-2.5-flash", "gcp.gemini", "gemini-2.5-flash"},
		{"gcp.gemini", "gemini-2.0-flash-001", "gcp.gemini", "gemini-2.0-flash"},
		{"gcp.gemini", "models/gemini-2.0-flash-001", "gcp.gemini", "gemini-2.0-flash"},
		{"gcp.gemini", "gemini-2.0-flash-lite-001", "gcp.gemini", "gemini-2.0-flash-lite"},
		{"gcp.gemini", "gemini-2.5-flash-lite", "gcp.gemini", "gemini-2.5-flash-lite"},
		{"gcp.gemini", "publishers/google/models/gemini-2.5-pro", "gcp.gemini", "gemini-2.5-pro"},
		{"gcp.gemini", "gemini-2.5-flash-preview-05-20", "", ""},
		{"gcp.gemini", "xmodels/gemini-2.5-flash", "", ""},

		// Azure is priced like OpenAI.
		{"azure.ai.openai", "gpt-4o", "openai", "gpt-4o"},
		{"azure.ai.openai", "gpt-4o-mini-2024-07-18", "openai", "gpt-4o-mini"},

		// OpenRouter by the model's own prefix.
		{"openrouter", "openai/gpt-4o", "openai", "gpt-4o"},
		{"openrouter", "openai/gpt-4o-mini", "openai", "gpt-4o-mini"},
		{"openrouter", "anthropic/claude-sonnet-4.5", "anthropic", "claude-sonnet-4-5"},
		{"openrouter", "anthropic/claude-3.5-haiku", "anthropic", "claude-3-5-haiku-20241022"},
		{"openrouter", "anthropic/claude-3.7-sonnet", "anthropic", "claude-3-7-sonnet"},
		{"openrouter", "anthropic/claude-opus-4.1", "anthropic", "claude-opus-4-1"},
		{"openrouter", "google/gemini-2.5-pro", "gcp.gemini", "gemini-2.5-pro"},
		{"openrouter", "deepseek/deepseek-chat", "deepseek", "deepseek-v4-flash"},
		{"openrouter", "mistralai/codestral-2508", "mistral_ai", "codestral"},
		{"openrouter", "openai/gpt-4o:free", "", ""},
		{"openrouter", "openai/", "", ""},
		{"openrouter", "gpt-4o", "", ""},

		// Slashes are part of some providers' own ids: no prefix stripping there.
		{"groq", "openai/gpt-oss-120b", "groq", "openai/gpt-oss-120b"},
		{"groq", "meta-llama/llama-4-scout-17b-16e-instruct", "groq", "meta-llama/llama-4-scout-17b-16e-instruct"},
		{"openai", "openai/gpt-oss-120b", "", ""},

		// Other providers.
		{"groq", "llama-3.3-70b-versatile", "groq", "llama-3.3-70b-versatile"},
		{"deepseek", "deepseek-chat", "deepseek", "deepseek-v4-flash"},
		{"deepseek", "deepseek-reasoner", "deepseek", "deepseek-v4-flash"},
		{"mistral_ai", "codestral-latest", "mistral_ai", "codestral"},
		{"mistral_ai", "mistral-medium-2505", "mistral_ai", "mistral-medium-2508"},
		{"mistral_ai", "mistral-large-2411", "mistral_ai", "mistral-large-2411"},
		{"mistral_ai", "mistral-large-latest", "", ""},
		{"", "gpt-4o", "", ""},
	}
	for _, tc := range tests {
		row, ok := pricing.Default().Lookup(tc.provider, tc.model)
		if tc.wantModel == "" {
			assert.False(t, ok, "%s %q resolved to %s %q", tc.provider, tc.model, row.Provider, row.Model)
			continue
		}
		if assert.True(t, ok, "%s %q is unknown", tc.provider, tc.model) {
			assert.Equal(t, tc.wantProvider+" "+tc.wantModel, row.Provider+" "+row.Model, "%s %q", tc.provider, tc.model)
		}
	}
}

func TestAzureAndOpenRouterRowsOfTheirOwnWin(t *testing.T) {
	table, err := pricing.Default().Set("azure.ai.openai", "gpt-4o", pricing.Price{Input: 2.75, Output: 11})
	assert.NoError(t, err)
	table, err = table.Set("openrouter", "openai/gpt-4o", pricing.Price{Input: 3, Output: 12})
	assert.NoError(t, err)

	row, _ := table.Lookup("azure.ai.openai", "gpt-4o-2024-08-06")
	assert.Equal(t, "azure.ai.openai gpt-4o 2.75", row.Provider+" "+row.Model+" "+ftoa(row.Price.Input))
	row, _ = table.Lookup("openrouter", "openai/gpt-4o")
	assert.Equal(t, "openrouter openai/gpt-4o 3", row.Provider+" "+row.Model+" "+ftoa(row.Price.Input))
	row, _ = table.Lookup("openrouter", "openai/gpt-4o-mini")
	assert.Equal(t, "openai gpt-4o-mini", row.Provider+" "+row.Model)
}

func TestRememberedResolutionsAreBounded(t *testing.T) {
	table, err := pricing.Default().Set("x", "base", pricing.Price{Input: 1, Output: 1})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 3000)
	for i := range ids {
		ids[i] = "no-such-model-" + strconv.Itoa(i)
	}
	for _, id := range ids {
		_, ok := table.Lookup("x", id)
		assert.False(t, ok)
	}
	// Past the bound, ids are still resolved right, without allocating.
	assert.Zero(t, testing.AllocsPerRun(100, func() { table.Cost("x", ids[2999], provider.Usage{}) }))
	_, ok := table.Lookup("x", "base-2025-01-01")
	assert.True(t, ok)
	row, ok := table.Lookup("openai", "gpt-4o-mini-2024-07-18")
	assert.True(t, ok)
	assert.Equal(t, "gpt-4o-mini", row.Model)
}

func TestLongIdsResolveWithoutBeingRemembered(t *testing.T) {
	long := "gpt-4o-mini" + strings.Repeat("-x", 1000)
	_, ok := pricing.Default().Lookup("openai", long)
	assert.False(t, ok)
	table, err := pricing.Default().Set("openai", long, pricing.Price{Input: 1, Output: 1})
	assert.NoError(t, err)
	row, ok := table.Lookup("openai", long+"-2025-01-01")
	assert.True(t, ok)
	assert.Equal(t, long, row.Model)
}
