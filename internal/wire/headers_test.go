package wire

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		h    http.Header
		want time.Duration
		ok   bool
	}{
		{http.Header{"Retry-After-Ms": {"1500"}, "Retry-After": {"9"}}, 1500 * time.Millisecond, true},
		{http.Header{"Retry-After": {"3"}}, 3 * time.Second, true},
		{http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond, true},
		{http.Header{"Retry-After": {now.Add(7 * time.Second).Format(http.TimeFormat)}}, 7 * time.Second, true},
		{http.Header{"Retry-After": {now.Add(-time.Hour).Format(http.TimeFormat)}}, 0, true},
		{http.Header{"Retry-After": {"soon"}}, 0, false},
		{http.Header{"Retry-After": {"-1"}}, 0, false},
		{http.Header{}, 0, false},
	}
	for _, c := range cases {
		got, ok := RetryAfter(c.h, now)
		assert.Equal(t, c.ok, ok, "%v", c.h)
		assert.Equal(t, c.want, got, "%v", c.h)
	}
}

// The cache keys on these headers, in this order: a change re-keys every
// stored answer.
func TestAnswerHeaders(t *testing.T) {
	assert.Equal(t, [4]string{"Anthropic-Version", "Anthropic-Beta", "Openai-Organization", "Openai-Project"}, AnswerHeaders())
	for _, h := range AnswerHeaders() {
		assert.Equal(t, http.CanonicalHeaderKey(h), h, "canonical, as prepared requests carry them")
	}
	for _, h := range AccountHeaders() {
		assert.Contains(t, AnswerHeaders(), h, "the account changes the answer")
		assert.Equal(t, http.CanonicalHeaderKey(h), h)
	}
}

func TestIsRateLimitHeader(t *testing.T) {
	cases := []struct {
		name string
		want bool
	}{
		{"X-Ratelimit-Remaining-Tokens", true},
		{"x-ratelimit-reset-requests", true},
		{"Anthropic-Ratelimit-Input-Tokens-Remaining", true},
		{"anthropic-ratelimit-requests-reset", true},
		{"Retry-After-Ms", true},
		{"retry-after-ms", true},
		{"Retry-After", false}, // HTTP's own: the caller decides
		{"X-Ratelimit", false},
		{"Content-Type", false},
		{"X-Request-Id", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, IsRateLimitHeader(tc.name))
		})
	}
}

// IsRateLimitHeader compares an ASCII name with one candidate; it must
// answer as folding every name does.
func TestIsRateLimitHeaderAgreesWithFolding(t *testing.T) {
	for _, name := range []string{"X-Ratelimit-Remaining-Tokens", "x-RATELIMIT-", "X-Ratelimit", "Xx-Ratelimit-", "",
		"Anthropic-Ratelimit-Requests-Reset", "anthropic-ratelimit-", "Anthropic-Ratelimit", "Anthropic-Version",
		"Retry-After-Ms", "RETRY-AFTER-MS", "Retry-After-Msx", "Retry-After", "Retry-After-Mſ", "X-Ratelimit-ſ",
		"Content-Type", "Age"} {
		assert.Equal(t, isRateLimitHeaderFold(name), IsRateLimitHeader(name), "%q", name)
	}
	assert.True(t, IsRateLimitHeader("Retry-After-Mſ"), "a folded spelling is still the header")
}

func TestIsCanonicalHeaderName(t *testing.T) {
	for name, want := range map[string]bool{
		"Content-Type": true, "X-Ratelimit-Limit-Requests": true, "Te": true, "": true, "X-": true, "A-B-C": true,
		"Www-Authenticate": true, "Content-type": false, "content-Type": false, "X-RateLimit": false, "TE": false,
		"Retry-After-Mſ": false, "Ünicode": false,
	} {
		assert.Equal(t, want, IsCanonicalHeaderName(name), name)
		if want && name != "" {
			assert.Equal(t, http.CanonicalHeaderKey(name), name, "as net/http writes it")
		}
	}
}
