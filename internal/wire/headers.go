package wire

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AnswerHeaders returns the request headers, in canonical form, that change
// a provider's answer: Anthropic's API version and beta features, and the
// OpenAI account the request is billed to (see AccountHeaders), whose
// models and settings may differ. A cache keys on them; the order is fixed.
func AnswerHeaders() [4]string {
	return [...]string{"Anthropic-Version", "Anthropic-Beta", "Openai-Organization", "Openai-Project"}
}

// AccountHeaders returns the request headers, in canonical form, that name
// the caller's account at a provider: OpenAI's organization and project. A
// user key in several organizations is billed to the one named; the same
// headers sent with another account's key are refused.
func AccountHeaders() [2]string {
	return [...]string{"Openai-Organization", "Openai-Project"}
}

// IsRateLimitHeader reports whether a response header of this name, in any
// case, carries the upstream's rate-limit state at the time of the answer:
// OpenAI's x-ratelimit-* (and the OpenAI-compatible providers'),
// Anthropic's anthropic-ratelimit-*, and the retry-after-ms the providers
// and the SDKs add to Retry-After. It is stale on any other answer.
func IsRateLimitHeader(name string) bool {
	if IsCanonicalHeaderName(name) {
		return IsRateLimitHeaderCanonical(name)
	}
	return isRateLimitHeaderFold(name)
}

// IsRateLimitHeaderCanonical is IsRateLimitHeader for a name
// IsCanonicalHeaderName accepts, as net/http and the SDKs write them: the
// names are compared exactly. Every header of every answer the cache
// stores passes through here.
func IsRateLimitHeaderCanonical(name string) bool {
	return strings.HasPrefix(name, rateLimitX) || strings.HasPrefix(name, rateLimitAnthropic) || name == retryAfterMs
}

const (
	rateLimitX         = "X-Ratelimit-"
	rateLimitAnthropic = "Anthropic-Ratelimit-"
	retryAfterMs       = "Retry-After-Ms"
)

// isRateLimitHeaderFold is IsRateLimitHeader for any other name: folding
// case, as Unicode folds it ("ſ" is "s").
func isRateLimitHeaderFold(name string) bool {
	for _, p := range [...]string{rateLimitX, rateLimitAnthropic} {
		if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
			return true
		}
	}
	return strings.EqualFold(name, retryAfterMs)
}

// IsCanonicalHeaderName reports whether name is ASCII and written as
// textproto.CanonicalMIMEHeaderKey writes a name, as far as letters go:
// upper case first and after each '-', lower case elsewhere. Two names so
// written are equal, folding case, only when they are the same (and the
// start of one is so written too): the names the stack compares with are,
// so such a name is compared exactly.
func IsCanonicalHeaderName(name string) bool {
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= utf8.RuneSelf || upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			return false
		}
		upper = c == '-'
	}
	return true
}

// RetryAfter reads how long an answer asks to wait before a retry, as the
// SDKs read it: retry-after-ms (milliseconds, fractional) first, then
// Retry-After in seconds (fractional) or as an HTTP date, relative to now
// (a date past is 0). ok is false when neither is there or readable.
func RetryAfter(h http.Header, now time.Time) (d time.Duration, ok bool) {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && ms >= 0 && !math.IsInf(ms, 0) {
			return durationOf(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || math.IsNaN(s) {
			return 0, false
		}
		return durationOf(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// durationOf converts nanoseconds to a Duration, saturating: a wait too
// long to represent is the longest one.
func durationOf(ns float64) time.Duration {
	if ns >= float64(math.MaxInt64) {
		return math.MaxInt64
	}
	return time.Duration(ns)
}
