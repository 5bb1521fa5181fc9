package fallback

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/provider"
)

// target is a Target resolved by New, with its health.
type target struct {
	name     string
	index    int // position in Config.Targets
	provider provider.Provider
	// readdress: the attempt goes to base instead of the request's URL.
	readdress bool
	base      *url.URL
	key       string
	model     string
	models    []string // Target.Models
	priority  int
	weight    int
	headers   [][2]string // canonical name, value
	layers    []aigateway.Middleware
	// plain: nothing about the request changes but its body and context.
	plain bool
	// pace is the provider's rate-limit state (Target.Pace); nil when the
	// target does not pace its calls.
	pace *pacer

	// health, under Router.mu
	failures  int       // failed attempts in a row
	restUntil time.Time // resting until then; zero once an attempt succeeds
	probing   bool      // a call is probing it after its rest
	probeID   uint64    // counts the probes, so a call releases only its own
	// For Health: failures is set back below CooldownFailures by a rest,
	// streak keeps counting until a success.
	streak    int
	lastErr   error // the latest attempt's error, as it came: redacted by Health
	lastErrAt time.Time
}

func newTarget(i int, t Target) *target {
	rt := &target{
		name:     targetName(t),
		index:    i,
		provider: t.Provider,
		key:      t.APIKey,
		model:    t.Model,
		models:   t.Models,
		priority: t.Priority,
		weight:   max(t.Weight, 1),
	}
	if t.APIKeyEnv != "" {
		rt.key = os.Getenv(t.APIKeyEnv)
	}
	base := t.BaseURL
	if base == "" {
		base = t.Provider.BaseURL()
	}
	if base != "" {
		if u, err := url.Parse(base); err == nil {
			rt.base, rt.readdress = u, true
		}
	}
	if !rt.provider.IsZero() && t.BaseURL != "" {
		rt.provider = rt.provider.WithBaseURL(t.BaseURL)
	}
	for k, v := range t.Headers {
		rt.headers = append(rt.headers, [2]string{http.CanonicalHeaderKey(k), v})
	}
	for _, l := range t.Layers {
		if l != nil {
			rt.layers = append(rt.layers, l)
		}
	}
	if t.Pace {
		rt.pace = &pacer{}
	}
	rt.plain = !rt.readdress && rt.key == "" && rt.model == "" && len(rt.headers) == 0
	return rt
}

// auth is how t takes its key.
func (t *target) auth(call *aigateway.Call) provider.AuthStyle {
	if t.provider.IsZero() {
		return call.Preset().Auth()
	}
	return t.provider.Auth()
}

// format is the wire format t's attempts speak for a call in format f: f
// itself when t's provider speaks it (or t has none: the request's own
// provider), else the chat format of t's provider's family, to which the
// stack translates the request (and from which it translates the answer).
func (t *target) format(f provider.Format) provider.Format {
	if t.provider.IsZero() || t.provider.Family() == wire.Family(f) {
		return f
	}
	return t.provider.Family()
}

// serves reports whether t serves model (see Target.Models).
func (t *target) serves(model string) bool {
	if len(t.models) == 0 {
		return true
	}
	for _, m := range t.models {
		if m == model || strings.HasSuffix(m, "*") && strings.HasPrefix(model, m[:len(m)-1]) {
			return true
		}
	}
	return false
}
