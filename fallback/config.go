package fallback

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/internal/durjson"
	"github.com/aigateway-go/aigateway/provider"
)

// Defaults for the zero Config.
const (
	DefaultAttemptsPerTarget = 2
	DefaultBackoffBase       = 250 * time.Millisecond
	DefaultBackoffMax        = 5 * time.Second
	DefaultMaxRetryWait      = 10 * time.Second
	DefaultCooldownFailures  = 3
	DefaultCooldown          = 30 * time.Second
)

// defaultRetryOn are the statuses that move a call on when Config.RetryOn
// is empty.
var defaultRetryOn = [...]int{401, 402, 403, 404, 408, 409, 429, 500, 502, 503, 504, 529}

// maxRest bounds how long an upstream's Retry-After can rest a target, so a
// bogus date far in the future does not take it out of rotation for good.
// It does not bound the operator's Cooldown.
const maxRest = time.Hour

// Target is one place an attempt can go: a provider (or the request's own),
// a key, a model. The zero Target means "the request as the SDK sent it".
//
// A Target is read once, by New; changing it afterwards has no effect.
type Target struct {
	// Name identifies the target in X-Aigateway-Target, Result.Target and
	// Result.AttemptLog. It defaults to the Provider's name, or "origin" for
	// a target without one. Names must be unique.
	Name string `json:"name,omitempty"`
	// Provider is where the attempt goes, by preset name in JSON ("groq").
	// The zero Provider means the request's own provider and URL.
	Provider provider.Provider `json:"provider,omitempty"`
	// BaseURL overrides the Provider's base URL (a proxy, a local server);
	// with a zero Provider it re-addresses the request's own provider.
	BaseURL string `json:"base_url,omitempty"`
	// APIKey is the key the attempt carries, in the provider's own auth
	// style (Authorization: Bearer, api-key, x-api-key, x-goog-api-key). It
	// is never serialised. Without a key, a target keeps the caller's
	// credentials only when it is the request's own origin; any other target
	// gets none.
	APIKey string `json:"-"`
	// APIKeyEnv names an environment variable holding the key. It is read
	// once, by New (and by Validate); a variable that is unset or empty is a
	// configuration error. Set APIKey or APIKeyEnv, not both.
	APIKeyEnv string `json:"api_key_env,omitempty"`
	// Model replaces the requested model: in the JSON body for the OpenAI
	// and Anthropic formats, in the URL path for Gemini, and as the
	// deployment for Azure OpenAI's deployments shape. Empty keeps the
	// requested model. A target whose provider speaks another wire format
	// than a request (an Anthropic target for an OpenAI chat request) gets
	// the request translated to its format, and its answer translated back:
	// it needs a Model of its own unless the caller names one of its models.
	Model string `json:"model,omitempty"`
	// Models are the requested models this target serves: exact names, or
	// a prefix ending in '*' ("claude-*"). A call tries only the targets
	// that serve its model (a call whose model is not known, its body being
	// unreadable, tries every target), so one router serves calls to
	// several models, each with its own backups. Empty serves every model.
	Models []string `json:"models,omitempty"`
	// Priority orders targets: lower first. Targets of equal priority are
	// tried in the order listed, unless one of them sets a Weight.
	Priority int `json:"priority,omitempty"`
	// Weight is this target's share of the traffic among the targets of
	// its priority: when any of them sets a Weight, each call draws their
	// order at random, a target coming first with probability weight /
	// total weight (a Weight of zero counts as 1 there). When none does,
	// they are a plain fallback chain in the order listed.
	Weight int `json:"weight,omitempty"`
	// Headers are set on every attempt to this target (replacing the
	// caller's values of the same names).
	Headers map[string]string `json:"headers,omitempty"`
	// Pace spares the target before its provider answers 429 rather
	// than after, from the rate-limit headers of every answer it gives
	// (errors and streams included): OpenAI's x-ratelimit-* (which Groq
	// and the other OpenAI-compatible providers send too) and Anthropic's
	// anthropic-ratelimit-*. While the provider says a window lacks what a
	// call needs (a request; tokens: the call's prompt estimate plus
	// max_tokens, as the rate limiter estimates them) until it refills,
	// the call skips the target for one ready sooner or, when none is,
	// waits for it, within MaxRetryWait and the request's deadline (beyond
	// them it moves on, or, at its last target, goes as it would unpaced).
	// Otherwise the target's calls are paced (golang.org/x/time/rate): the
	// provider's capacity until the window's reset spread evenly, a tenth
	// of what is left at once; a call whose turn would come later than
	// another target could take it moves on. Router.Health shows what the
	// provider said. Off by default: a target without Pace ignores the
	// headers.
	Pace bool `json:"pace,omitempty"`
	// Layers wrap this target's attempts only, first listed outermost:
	// a per-target rate limiter, say. A layer's own answer counts as the
	// target's, but a local refusal (a limiter's 429, never sent upstream)
	// moves the call on to the next target at once. The
	// Router's Close closes the layers that have a Close method.
	Layers []aigateway.Middleware `json:"-"`
}

// String formats t as %+v would, with APIKey redacted, so that logging a
// Target (or a Config, which prints its Targets this way) shows no secret.
func (t Target) String() string { return fmt.Sprintf("%+v", t.redacted()) }

// GoString is %#v's form of t, with APIKey redacted.
func (t Target) GoString() string {
	return "fallback.Target" + strings.TrimPrefix(fmt.Sprintf("%#v", t.redacted()), "fallback.target")
}

// redacted is t without its key, as a type without t's methods.
func (t Target) redacted() any {
	type target Target // no String method: no recursion
	if t.APIKey != "" {
		t.APIKey = "[REDACTED]"
	}
	return target(t)
}

// Config configures a Router. Only Targets is required; zero values mean
// the defaults above.
type Config struct {
	// Targets are where attempts go, tried by Priority, then in the order
	// listed, or in weighted random order among equal priorities that set
	// a Weight.
	Targets []Target `json:"targets"`

	// MaxAttempts caps the attempts of one call across all targets. Zero
	// means AttemptsPerTarget for every target. The X-Aigateway-Max-Attempts
	// request header (or aigateway.WithControls) may lower the cap for one
	// call, never raise it: any caller can send the header.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// AttemptsPerTarget caps the attempts on one target in one call (the
	// first one and its retries). Zero means DefaultAttemptsPerTarget.
	AttemptsPerTarget int `json:"attempts_per_target,omitempty"`
	// BackoffBase and BackoffMax shape the wait before a retry on the same
	// target when the upstream gave no Retry-After: BackoffBase doubled per
	// retry, at most BackoffMax, with random jitter down to half of it.
	BackoffBase time.Duration `json:"backoff_base,omitempty"`
	BackoffMax  time.Duration `json:"backoff_max,omitempty"`
	// MaxRetryWait caps how long the router honours a Retry-After (or
	// retry-after-ms) before retrying the same target; a longer one moves
	// the call on to the next target at once. Zero means DefaultMaxRetryWait.
	MaxRetryWait time.Duration `json:"max_retry_wait,omitempty"`

	// RequestTimeout bounds one attempt until its response headers and, for
	// a stream, until its first content event. Zero means no bound but the
	// caller's context. The X-Aigateway-Request-Timeout request header (or
	// aigateway.WithControls) may shorten it for one call, never lengthen
	// it; without a RequestTimeout the header's timeout applies as given.
	RequestTimeout time.Duration `json:"request_timeout,omitempty"`
	// IdleTimeout ends a stream, with ErrIdleTimeout, when the upstream
	// sends nothing for this long while the caller (or, before the first
	// content event, the router) waits for it; before the first content
	// event the call then moves on. Zero means no bound.
	IdleTimeout time.Duration `json:"idle_timeout,omitempty"`

	// CooldownFailures is how many failed attempts in a row, across calls,
	// rest a target. Zero means DefaultCooldownFailures; a negative value
	// turns failure cooldown off (a 429 with Retry-After still rests it).
	CooldownFailures int `json:"cooldown_failures,omitempty"`
	// Cooldown is how long a failing target rests. Zero means
	// DefaultCooldown.
	Cooldown time.Duration `json:"cooldown,omitempty"`

	// RetryOn lists the HTTP statuses that move a call on to another
	// attempt; any other error status is returned to the caller at once.
	// Empty means 401, 402, 403, 404, 408, 409, 429, 500, 502, 503, 504 and
	// 529. Of these, 401, 402, 403 and 404 concern one target (a bad key, an
	// unpaid account, a model it does not serve): they move on to the next
	// target, never to the same one again; the others may be retried on the
	// same target first. Transport errors and timeouts always move on.
	RetryOn []int `json:"retry_on,omitempty"`

	// Rand draws the weighted order of equal-priority targets and the
	// backoff jitter; nil means math/rand/v2's global source. The Router
	// serialises its use.
	Rand *rand.Rand `json:"-"`
	// Now is the clock for cooldowns, Retry-After dates and attempt
	// durations; nil means time.Now.
	Now func() time.Time `json:"-"`
	// Sleep waits between attempts; it must return ctx's error as soon as
	// ctx ends. Nil means a timer. Tests inject one to skip real waits.
	Sleep func(ctx context.Context, d time.Duration) error `json:"-"`
}

// MarshalJSON writes c as encoding/json would, except that its durations
// are Go duration strings ("30s"), the form UnmarshalJSON reads.
func (c Config) MarshalJSON() ([]byte, error) { return durjson.Marshal(&c) }

// UnmarshalJSON reads c as encoding/json would, except that its durations
// are Go duration strings, as time.ParseDuration reads them ("90s", "1h"):
// a number for one is an error naming the field, since it could mean
// seconds as well as nanoseconds.
func (c *Config) UnmarshalJSON(data []byte) error { return durjson.Unmarshal("fallback", data, c) }

// Validate reports a configuration the router cannot work with: no
// targets, duplicate names, a key given twice or missing from the
// environment, a bad base URL, a bad model pattern, negative numbers, and
// statuses that are not errors. Targets may speak different wire formats:
// the stack translates between them. It reads the environment variables
// the targets name.
func (c Config) Validate() error {
	var errs []error
	if len(c.Targets) == 0 {
		errs = append(errs, errors.New("fallback: no targets"))
	}
	names := make(map[string]bool, len(c.Targets))
	for i, t := range c.Targets {
		name := targetName(t)
		if names[name] {
			errs = append(errs, fmt.Errorf("fallback: target %d: name %q is used twice", i, name))
		}
		names[name] = true
		if err := t.validate(); err != nil {
			errs = append(errs, fmt.Errorf("fallback: target %q: %w", name, err))
		}
	}
	if c.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("fallback: max_attempts %d is negative", c.MaxAttempts))
	}
	if c.AttemptsPerTarget < 0 {
		errs = append(errs, fmt.Errorf("fallback: attempts_per_target %d is negative", c.AttemptsPerTarget))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"backoff_base", c.BackoffBase}, {"backoff_max", c.BackoffMax}, {"max_retry_wait", c.MaxRetryWait},
		{"request_timeout", c.RequestTimeout}, {"idle_timeout", c.IdleTimeout}, {"cooldown", c.Cooldown},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("fallback: %s %v is negative", d.name, d.v))
		}
	}
	for _, s := range c.RetryOn {
		if s < 400 || s > 599 {
			errs = append(errs, fmt.Errorf("fallback: retry_on status %d is not an HTTP error status", s))
		}
	}
	return errors.Join(errs...)
}

func (t Target) validate() error {
	var errs []error
	if t.APIKey != "" && t.APIKeyEnv != "" {
		errs = append(errs, errors.New("set api_key or api_key_env, not both"))
	}
	if t.APIKeyEnv != "" && os.Getenv(t.APIKeyEnv) == "" {
		errs = append(errs, fmt.Errorf("environment variable %s is not set", t.APIKeyEnv))
	}
	if t.BaseURL != "" {
		u, err := url.Parse(t.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("base_url %q is not an absolute http(s) URL", t.BaseURL))
		}
	}
	if t.Weight < 0 {
		errs = append(errs, fmt.Errorf("weight %d is negative", t.Weight))
	}
	for k := range t.Headers {
		if k == "" {
			errs = append(errs, errors.New("a header name is empty"))
		}
	}
	for _, m := range t.Models {
		if m == "" || strings.IndexByte(m[:len(m)-1], '*') >= 0 {
			errs = append(errs, fmt.Errorf("models: %q is not a model name or a prefix ending in '*'", m))
		}
	}
	return errors.Join(errs...)
}

// targetName is the target's name, defaulted.
func targetName(t Target) string {
	switch {
	case t.Name != "":
		return t.Name
	case !t.Provider.IsZero():
		return t.Provider.Name()
	}
	return "origin"
}
