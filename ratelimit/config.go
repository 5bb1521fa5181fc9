package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/internal/durjson"
)

// Config configures a Limiter. Only Rules is needed: the zero values of the
// other fields mean an in-memory store, the embedded prices, UTC calendar
// periods, failing open, and the real clock.
type Config struct {
	// Rules are the limits; a call goes upstream only when every rule
	// admits it.
	Rules []Rule `json:"rules"`

	// Store keeps the counters; nil means NewMemoryStore(MaxKeys).
	Store Store `json:"-"`
	// MaxKeys bounds the counters of the default memory store; zero means
	// DefaultMaxKeys.
	MaxKeys int `json:"max_keys,omitempty"`

	// TimeZone is the IANA name of the zone calendar budgets follow
	// ("Europe/Paris"); "" means UTC. Location, when set, is used instead.
	// Loading a zone needs the system's zone database, or an import of
	// time/tzdata.
	TimeZone string         `json:"time_zone,omitempty"`
	Location *time.Location `json:"-"`

	// FailClosed refuses calls (a provider-shaped 503) while the Store
	// fails. By default a call the Store cannot check goes upstream. Store
	// errors are counted in Stats either way.
	FailClosed bool `json:"fail_closed,omitempty"`

	// Now is the clock; nil means time.Now. (A context's deadline is wall
	// time: a Wait rule compares the wait it needs with time.Until the
	// deadline.)
	Now func() time.Time `json:"-"`
	// Sleep waits for d or until ctx ends (then it returns ctx's error),
	// for rules that Wait; nil means a timer. Tests pair it with Now to
	// drive time.
	Sleep func(ctx context.Context, d time.Duration) error `json:"-"`
}

// Rule is one limit: who shares it (Key or KeyFunc), what it counts
// (exactly one of Requests, Tokens and CostUSD) and over which time.
type Rule struct {
	// Name names the rule in refusals, Status and the store's keys. It
	// must be unique within a Config; rules sharing a store across
	// replicas share counters by name.
	Name string `json:"name"`

	// Key says who shares the limit: "" is everyone; otherwise terms
	// joined by commas, each one of "metadata:NAME" (a tag set with
	// aigateway.WithMetadata or X-Aigateway-Metadata), "api_key" (a hash
	// of the caller's credential, never the key), "model" (as requested)
	// and "provider" (gen_ai.provider.name). "metadata:team,model" limits
	// each team on each model. Calls without a tag share one counter, as
	// calls without a credential do.
	Key string `json:"key,omitempty"`
	// KeyFunc, when set, is used instead of Key: calls it maps to the same
	// string share the limit.
	KeyFunc func(*aigateway.Call) string `json:"-"`

	// Requests limits calls: Requests per Per, in bursts of up to Burst.
	Requests int64 `json:"requests,omitempty"`
	// Tokens limits input plus output tokens: Tokens per Per, in bursts
	// of up to Burst.
	Tokens int64 `json:"tokens,omitempty"`
	// ExcludeCachedTokens leaves cache-read input tokens out of what
	// Tokens counts (providers bill them at a fraction, and often do not
	// count them against their own limits).
	ExcludeCachedTokens bool `json:"exclude_cached_tokens,omitempty"`
	// CostUSD is a budget in US dollars, for each calendar Period or for
	// any rolling Per.
	CostUSD float64 `json:"cost_usd,omitempty"`
	// AllowUnpriced lets a budget admit calls it cannot price (a model
	// the Gateway's price table, aigateway.Gateway.Prices, has no row for, a body the stack cannot read), at no
	// cost to it. Without it, a budget refuses them (a provider-shaped
	// 403 whose Result.Err unwraps to ErrUnpriced): a budget that let them
	// through would not hold. Add the price instead when you can
	// (pricing.Table Set, Merge or LoadFile).
	AllowUnpriced bool `json:"allow_unpriced,omitempty"`

	// Per is the window of Requests and Tokens (required), or of a rolling
	// CostUSD budget.
	Per time.Duration `json:"per,omitempty"`
	// Burst is the most a Requests or Tokens bucket holds; zero means the
	// rate itself (Requests or Tokens).
	Burst int64 `json:"burst,omitempty"`
	// Period is the calendar period of a CostUSD budget: "day", "week"
	// (from Monday) or "month", in the Config's time zone. Set Period or
	// Per, not both.
	Period string `json:"period,omitempty"`

	// Wait blocks a call this rule refuses until the rule admits it, or
	// refuses it at once when that cannot happen before the call's context
	// deadline.
	Wait bool `json:"wait,omitempty"`
}

// Calendar periods of CostUSD budgets.
const (
	PeriodDay   = "day"
	PeriodWeek  = "week"
	PeriodMonth = "month"
)

// limits bound what a Rule may say, so that the bucket arithmetic stays
// within int64 nanoseconds (a bucket's depth is under a century).
const (
	maxCostUSD = 1e9
	nanoUSD    = 1e9 // budget units per dollar
	maxDepth   = 100 * 365 * 24 * time.Hour
)

// MarshalJSON writes c as encoding/json would, except that its rules'
// durations are Go duration strings ("1m0s"), the form UnmarshalJSON reads.
func (c Config) MarshalJSON() ([]byte, error) { return durjson.Marshal(&c) }

// UnmarshalJSON reads c as encoding/json would, except that its rules'
// durations are Go duration strings, as time.ParseDuration reads them
// ("90s", "1h"): a number for one is an error naming the rule and the field
// ("rules[0].per"), since it could mean seconds as well as nanoseconds.
func (c *Config) UnmarshalJSON(data []byte) error { return durjson.Unmarshal("ratelimit", data, c) }

// MarshalJSON writes r as encoding/json would, except that its durations
// are Go duration strings ("1m0s"), the form UnmarshalJSON reads.
func (r Rule) MarshalJSON() ([]byte, error) { return durjson.Marshal(&r) }

// UnmarshalJSON reads r as encoding/json would, except that its durations
// are Go duration strings, as time.ParseDuration reads them ("90s", "1h"):
// a number for one is an error naming the field, since it could mean
// seconds as well as nanoseconds.
func (r *Rule) UnmarshalJSON(data []byte) error { return durjson.Unmarshal("ratelimit", data, r) }

// Validate reports a configuration the limiter cannot work with.
func (c Config) Validate() error {
	var errs []error
	if len(c.Rules) == 0 {
		errs = append(errs, errors.New("ratelimit: no rules"))
	}
	if c.MaxKeys < 0 {
		errs = append(errs, fmt.Errorf("ratelimit: max_keys %d is negative", c.MaxKeys))
	}
	if c.Location == nil && c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			errs = append(errs, fmt.Errorf("ratelimit: time_zone: %w", err))
		}
	}
	seen := make(map[string]bool, len(c.Rules))
	for i, r := range c.Rules {
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("rules[%d]", i)
			errs = append(errs, fmt.Errorf("ratelimit: %s has no name", name))
		} else if seen[name] {
			errs = append(errs, fmt.Errorf("ratelimit: rule name %q is used twice", name))
		}
		seen[name] = true
		if err := r.validate(); err != nil {
			errs = append(errs, fmt.Errorf("ratelimit: rule %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func (r Rule) validate() error {
	var errs []error
	kinds := 0
	for _, set := range []bool{r.Requests != 0, r.Tokens != 0, r.CostUSD != 0} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		errs = append(errs, errors.New("set exactly one of requests, tokens and cost_usd"))
	}
	if r.Per < 0 {
		errs = append(errs, fmt.Errorf("per %v is negative", r.Per))
	}
	if r.Burst < 0 {
		errs = append(errs, fmt.Errorf("burst %d is negative", r.Burst))
	}
	switch {
	case r.Requests < 0:
		errs = append(errs, fmt.Errorf("requests %d is negative", r.Requests))
	case r.Tokens < 0:
		errs = append(errs, fmt.Errorf("tokens %d is negative", r.Tokens))
	case r.CostUSD < 0 || math.IsNaN(r.CostUSD) || r.CostUSD > maxCostUSD:
		errs = append(errs, fmt.Errorf("cost_usd %v is not between 0 and %g", r.CostUSD, float64(maxCostUSD)))
	}
	if r.CostUSD != 0 {
		switch {
		case r.Period != "" && r.Per != 0:
			errs = append(errs, errors.New("a budget takes period or per, not both"))
		case r.Period == "" && r.Per == 0:
			errs = append(errs, errors.New("a budget needs a period (day, week, month) or per"))
		case r.Period != "" && r.Period != PeriodDay && r.Period != PeriodWeek && r.Period != PeriodMonth:
			errs = append(errs, fmt.Errorf("period %q: want day, week or month", r.Period))
		}
		if r.Burst != 0 {
			errs = append(errs, errors.New("burst applies to requests and tokens, not to a budget"))
		}
	} else {
		if r.Per == 0 {
			errs = append(errs, errors.New("per is required"))
		}
		if r.Period != "" {
			errs = append(errs, errors.New("period applies to a cost_usd budget"))
		}
	}
	if r.ExcludeCachedTokens && r.Tokens == 0 {
		errs = append(errs, errors.New("exclude_cached_tokens applies to a tokens rule"))
	}
	if r.AllowUnpriced && r.CostUSD == 0 {
		errs = append(errs, errors.New("allow_unpriced applies to a cost_usd budget"))
	}
	if len(errs) == 0 && r.Per > 0 {
		rate, burst := r.rateBurst()
		if float64(burst)*float64(r.Per)/float64(rate) > float64(maxDepth) {
			errs = append(errs, fmt.Errorf("a burst of %d at %d per %v takes over a century to refill", burst, rate, r.Per))
		}
	}
	if r.KeyFunc == nil {
		if _, err := aigateway.ParseKeySpec(r.Key); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// rateBurst is a bucket rule's rate and depth, in its units.
func (r Rule) rateBurst() (rate, burst int64) {
	switch {
	case r.Requests > 0:
		rate = r.Requests
	case r.Tokens > 0:
		rate = r.Tokens
	default:
		rate = int64(math.Round(r.CostUSD * nanoUSD))
		return max(rate, 1), max(rate, 1)
	}
	burst = r.Burst
	if burst == 0 {
		burst = rate
	}
	return rate, burst
}
