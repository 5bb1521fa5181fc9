package pricing_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/pricing"
	"github.com/aigateway-go/aigateway/provider"
)

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func TestSetReturnsANewTable(t *testing.T) {
	base := pricing.Default()
	table, err := base.Set("openai", "gpt-4o", pricing.Price{Input: 1, Output: 2, CacheRead: 0.5})
	require.NoError(t, err)

	u := provider.Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000}
	got, ok := table.Cost("openai", "gpt-4o-2024-08-06", u)
	require.True(t, ok)
	assert.InDelta(t, 3.0, got, 1e-12, "the override prices dated ids too")

	orig, _ := base.Cost("openai", "gpt-4o", u)
	assert.InDelta(t, 12.5, orig, 1e-12, "the receiver is unchanged")
	orig, _ = pricing.Default().Cost("openai", "gpt-4o", u)
	assert.InDelta(t, 12.5, orig, 1e-12, "Default is unchanged")

	// New rows, new providers, aliases.
	table, err = table.Set("ollama", "llama3.2", pricing.Price{Aliases: []string{"llama3.2:latest"}})
	require.NoError(t, err)
	usd, ok := table.Cost("ollama", "llama3.2:latest", u)
	assert.True(t, ok, "a free local model is known to cost 0")
	assert.Zero(t, usd)
	_, ok = base.Lookup("ollama", "llama3.2")
	assert.False(t, ok)
}

func TestSetCopiesThePrice(t *testing.T) {
	p := pricing.Price{Input: 1, Output: 2, Tiers: []pricing.Tier{{Above: 10, Input: 2, Output: 4}}, Aliases: []string{"a"}}
	table, err := pricing.Default().Set("x", "m", p)
	require.NoError(t, err)
	p.Tiers[0].Input = 100
	p.Aliases[0] = "b"

	row, ok := table.Lookup("x", "a")
	require.True(t, ok)
	assert.Equal(t, 2.0, row.Price.Tiers[0].Input)
	row.Price.Tiers[0].Input = 200 // a Lookup result is the caller's own copy
	row2, _ := table.Lookup("x", "m")
	assert.Equal(t, 2.0, row2.Price.Tiers[0].Input)
	rows := table.Rows()
	rows[0].Price.Input = 999
	assert.NotEqual(t, 999.0, table.Rows()[0].Price.Input)
}

func TestSetRejectsBadPrices(t *testing.T) {
	nan := 0.0
	nan = nan / nan
	for name, tc := range map[string]struct {
		provider, model string
		price           pricing.Price
	}{
		"negative input":      {"openai", "m", pricing.Price{Input: -1}},
		"negative output":     {"openai", "m", pricing.Price{Output: -0.01}},
		"negative cache read": {"openai", "m", pricing.Price{CacheRead: -1}},
		"negative write 1h":   {"anthropic", "m", pricing.Price{CacheWrite1h: -1}},
		"NaN":                 {"openai", "m", pricing.Price{Input: nan}},
		"negative tier":       {"openai", "m", pricing.Price{Tiers: []pricing.Tier{{Above: 1, Output: -1}}}},
		"tier at zero":        {"openai", "m", pricing.Price{Tiers: []pricing.Tier{{Above: 0}}}},
		"tiers out of order":  {"openai", "m", pricing.Price{Tiers: []pricing.Tier{{Above: 2}, {Above: 1}}}},
		"empty alias":         {"openai", "m", pricing.Price{Aliases: []string{""}}},
		"alias is the id":     {"openai", "m", pricing.Price{Aliases: []string{"m"}}},
		"bad date":            {"openai", "m", pricing.Price{Checked: "26/11/2026"}},
		"no provider":         {"", "m", pricing.Price{}},
		"no model":            {"openai", "", pricing.Price{}},
	} {
		_, err := pricing.Default().Set(tc.provider, tc.model, tc.price)
		assert.ErrorIs(t, err, pricing.ErrInvalid, name)
	}
}

func TestMerge(t *testing.T) {
	extra, err := pricing.Parse([]byte(`{
		"openai": {
			"gpt-4o": {"input": 5, "output": 15},
			"ft:gpt-4o-mini:acme": {"input": 0.30, "output": 1.20, "cache_read": 0.15, "aliases": ["acme-mini"]}
		},
		"anthropic": {"claude-next": {"input": 1, "output": 2, "aliases": ["claude-opus-4-0"]}}
	}`))
	require.NoError(t, err)
	table := pricing.Default().Merge(extra)

	row, _ := table.Lookup("openai", "gpt-4o")
	assert.Equal(t, 5.0, row.Price.Input, "merged rows replace whole rows")
	assert.Zero(t, row.Price.CacheRead, "not field by field")
	row, _ = table.Lookup("openai", "acme-mini")
	assert.Equal(t, "ft:gpt-4o-mini:acme", row.Model)
	row, _ = table.Lookup("anthropic", "claude-opus-4-0")
	assert.Equal(t, "claude-next", row.Model, "the merged table's aliases win")
	row, _ = table.Lookup("openai", "gpt-4o-mini")
	assert.Equal(t, 0.15, row.Price.Input, "the rest of the default stays")

	assert.Len(t, table.Rows(), len(pricing.Default().Rows())+2)
	assert.Same(t, table, table.Merge(nil))

	// An alias never shadows another row's own id.
	shadow, err := pricing.Default().Set("openai", "my-model", pricing.Price{Input: 9, Output: 9, Aliases: []string{"gpt-4o"}})
	require.NoError(t, err)
	row, _ = shadow.Lookup("openai", "gpt-4o")
	assert.Equal(t, "gpt-4o", row.Model)
}

func TestNilTableIsTheDefault(t *testing.T) {
	var table *pricing.Table
	u := provider.Usage{InputTokens: 1_000, OutputTokens: 1_000}
	got, ok := table.Cost("openai", "gpt-4o", u)
	want, _ := pricing.Default().Cost("openai", "gpt-4o", u)
	assert.True(t, ok)
	assert.Equal(t, want, got)
	assert.Equal(t, pricing.Default().Rows(), table.Rows())
	set, err := table.Set("x", "y", pricing.Price{})
	require.NoError(t, err)
	assert.Len(t, set.Rows(), len(pricing.Default().Rows())+1)
	assert.Len(t, table.Merge(set).Rows(), len(set.Rows()))
	data, err := table.MarshalJSON()
	require.NoError(t, err)
	back, err := pricing.Parse(data)
	require.NoError(t, err)
	assert.Equal(t, pricing.Default().Rows(), back.Rows())
}

func TestParseErrors(t *testing.T) {
	for name, data := range map[string]string{
		"syntax":               `{"openai": {`,
		"not an object":        `[]`,
		"null":                 `null`,
		"trailing data":        `{} {}`,
		"unknown field":        `{"openai": {"m": {"input": 1, "output": 2, "cache_reads": 1}}}`,
		"unknown tier field":   `{"openai": {"m": {"input": 1, "output": 2, "tiers": [{"above": 10, "input": 1, "output": 2, "over": 1}]}}}`,
		"missing input":        `{"openai": {"m": {"output": 2}}}`,
		"missing output":       `{"openai": {"m": {"input": 2}}}`,
		"negative price":       `{"openai": {"m": {"input": -1, "output": 2}}}`,
		"negative cache":       `{"openai": {"m": {"input": 1, "output": 2, "cache_write_5m": -3}}}`,
		"string price":         `{"openai": {"m": {"input": "1", "output": 2}}}`,
		"tier missing above":   `{"openai": {"m": {"input": 1, "output": 2, "tiers": [{"input": 1, "output": 2}]}}}`,
		"tier missing output":  `{"openai": {"m": {"input": 1, "output": 2, "tiers": [{"above": 1, "input": 1}]}}}`,
		"tiers out of order":   `{"openai": {"m": {"input": 1, "output": 2, "tiers": [{"above": 9, "input": 1, "output": 2}, {"above": 9, "input": 1, "output": 2}]}}}`,
		"bad date":             `{"openai": {"m": {"input": 1, "output": 2, "checked": "2026-13-01"}}}`,
		"empty provider":       `{"": {"m": {"input": 1, "output": 2}}}`,
		"empty model":          `{"openai": {"": {"input": 1, "output": 2}}}`,
		"alias names a row":    `{"openai": {"a": {"input": 1, "output": 2}, "b": {"input": 1, "output": 2, "aliases": ["a"]}}}`,
		"alias claimed twice":  `{"openai": {"a": {"input": 1, "output": 2, "aliases": ["x"]}, "b": {"input": 1, "output": 2, "aliases": ["x"]}}}`,
		"alias repeats the id": `{"openai": {"a": {"input": 1, "output": 2, "aliases": ["a"]}}}`,
	} {
		_, err := pricing.Parse([]byte(data))
		assert.ErrorIs(t, err, pricing.ErrInvalid, name)
	}

	_, err := pricing.Parse([]byte(`{"openai": {"gpt-x": {"input": -1, "output": 2}}}`))
	assert.ErrorContains(t, err, `openai "gpt-x": input is -1`, "the error names the row and the field")
	_, err = pricing.Parse([]byte(`{"openai": {"gpt-x": {"input": 1, "output": 2, "bogus": 1}}}`))
	assert.ErrorContains(t, err, `unknown field "bogus"`)
}

func TestParseIsStandalone(t *testing.T) {
	table, err := pricing.Parse([]byte(`{"openai": {"gpt-4o": {"input": 1, "output": 2}}}`))
	require.NoError(t, err)
	assert.Len(t, table.Rows(), 1)
	_, ok := table.Cost("openai", "gpt-4o-mini", provider.Usage{InputTokens: 1})
	assert.False(t, ok)
	empty, err := pricing.Parse([]byte(`{}`))
	require.NoError(t, err)
	assert.Empty(t, empty.Rows())
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "prices.json")
	require.NoError(t, os.WriteFile(good, []byte(`{"groq": {"qwen/qwen3-32b": {"input": 0.29, "output": 0.59}}}`), 0o600))
	extra, err := pricing.LoadFile(good)
	require.NoError(t, err)
	table := pricing.Default().Merge(extra)
	usd, ok := table.Cost("groq", "qwen/qwen3-32b", provider.Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000})
	assert.True(t, ok)
	assert.InDelta(t, 0.88, usd, 1e-12)

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"groq": {"m": {"input": -1, "output": 0}}}`), 0o600))
	_, err = pricing.LoadFile(bad)
	assert.ErrorIs(t, err, pricing.ErrInvalid)
	assert.ErrorContains(t, err, bad)

	_, err = pricing.LoadFile(filepath.Join(dir, "missing.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestMarshalJSONRoundTrips(t *testing.T) {
	data, err := json.Marshal(pricing.Default())
	require.NoError(t, err)
	back, err := pricing.Parse(data)
	require.NoError(t, err)
	assert.Equal(t, pricing.Default().Rows(), back.Rows())
}

// TestConcurrentUse runs readers and writers of one table at once; -race
// proves they share nothing mutable.
func TestConcurrentUse(t *testing.T) {
	table := pricing.Default()
	u := provider.Usage{InputTokens: 10_000, CacheReadTokens: 4_000, OutputTokens: 2_000}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				usd, ok := table.Cost("openai", "gpt-4o-2024-08-06", u)
				if !ok || usd < 0.0399 || usd > 0.0401 {
					t.Errorf("cost %v %v", usd, ok)
					return
				}
				table.Lookup("openrouter", "anthropic/claude-sonnet-4.5")
				if j%50 == 0 {
					mine, err := table.Set("openai", "gpt-4o", pricing.Price{Input: float64(i), Output: 1})
					if err != nil {
						t.Error(err)
						return
					}
					mine.Merge(table).Rows()
				}
			}
		}()
	}
	wg.Wait()
	usd, _ := table.Cost("openai", "gpt-4o", u)
	assert.InDelta(t, 0.04, usd, 1e-12)
}
