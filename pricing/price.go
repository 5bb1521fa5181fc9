package pricing

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// ErrInvalid is wrapped by every error that reports bad price data: JSON
// that does not parse or has unknown fields, a missing input or output
// price, a negative or non-finite price, a malformed tier, alias or date.
var ErrInvalid = errors.New("pricing: invalid price data")

// Price is what one model costs, in USD per 1M tokens.
//
// Input and Output always apply (zero means free). The cache prices are
// optional: zero means "not published", and then the cost of those tokens
// is derived. For a row of the "anthropic" provider, cache reads cost 0.1×,
// 5-minute cache writes 1.25× and 1-hour cache writes 2× the input price
// (Anthropic's published multipliers); for every other provider, tokens
// whose price is missing cost the input price, which may overstate the
// cost but never hides it.
type Price struct {
	Input        float64 `json:"input"`                    // uncached input tokens
	Output       float64 `json:"output"`                   // output tokens, reasoning included
	CacheRead    float64 `json:"cache_read,omitempty"`     // input tokens read from the prompt cache
	CacheWrite5m float64 `json:"cache_write_5m,omitempty"` // input tokens written to a 5-minute cache
	CacheWrite1h float64 `json:"cache_write_1h,omitempty"` // input tokens written to a 1-hour cache

	// Tiers are the long-context prices: a request whose input tokens
	// (cached ones included) exceed a tier's Above is priced entirely at
	// that tier, the highest such tier winning.
	Tiers []Tier `json:"tiers,omitempty"`

	// Aliases are other model ids this row prices ("claude-opus-4-0" for
	// "claude-opus-4").
	Aliases []string `json:"aliases,omitempty"`

	Source  string `json:"source,omitempty"`  // the provider's price page
	Checked string `json:"checked,omitempty"` // the date Source was checked, YYYY-MM-DD
}

// Tier is a long-context price: it replaces the row's prices for requests
// with more than Above input tokens. Cache prices it leaves at zero are
// derived from the tier's Input the way a row's are (see Price).
type Tier struct {
	Above        int64   `json:"above"`
	Input        float64 `json:"input"`
	Output       float64 `json:"output"`
	CacheRead    float64 `json:"cache_read,omitempty"`
	CacheWrite5m float64 `json:"cache_write_5m,omitempty"`
	CacheWrite1h float64 `json:"cache_write_1h,omitempty"`
}

// Row is one priced model of a Table: the provider's gen_ai.provider.name,
// the model id, and its Price.
type Row struct {
	Provider string
	Model    string
	Price    Price
}

// Validate reports whether p is usable: finite, non-negative prices;
// tiers with positive, strictly increasing thresholds; non-empty aliases;
// and a Checked date, when set, of the form YYYY-MM-DD. The error wraps
// ErrInvalid.
func (p Price) Validate() error {
	if err := p.check(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

// check is Validate without the sentinel, so callers can add the row's
// name to the message.
func (p Price) check() error {
	if err := checkPrices("", p.Input, p.Output, p.CacheRead, p.CacheWrite5m, p.CacheWrite1h); err != nil {
		return err
	}
	var last int64
	for i, t := range p.Tiers {
		if t.Above <= last {
			return fmt.Errorf("tiers[%d]: above must be positive and greater than the previous tier's (%d <= %d)", i, t.Above, last)
		}
		last = t.Above
		if err := checkPrices(fmt.Sprintf("tiers[%d].", i), t.Input, t.Output, t.CacheRead, t.CacheWrite5m, t.CacheWrite1h); err != nil {
			return err
		}
	}
	for i, a := range p.Aliases {
		if a == "" {
			return fmt.Errorf("aliases[%d] is empty", i)
		}
	}
	if p.Checked != "" {
		if _, err := time.Parse(time.DateOnly, p.Checked); err != nil {
			return fmt.Errorf("checked %q is not a YYYY-MM-DD date", p.Checked)
		}
	}
	return nil
}

func checkPrices(prefix string, in, out, read, w5, w1h float64) error {
	for _, f := range [...]struct {
		name string
		v    float64
	}{{"input", in}, {"output", out}, {"cache_read", read}, {"cache_write_5m", w5}, {"cache_write_1h", w1h}} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%s%s is %v (USD per 1M tokens must be finite and not negative)", prefix, f.name, f.v)
		}
	}
	return nil
}

// clone returns p with its own copies of Tiers and Aliases, so a Price
// handed out never shares memory with a Table.
func (p Price) clone() Price {
	p.Tiers = slices.Clone(p.Tiers)
	p.Aliases = slices.Clone(p.Aliases)
	return p
}
