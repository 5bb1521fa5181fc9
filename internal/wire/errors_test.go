package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aigateway-go/aigateway/provider"
)

// Only the errors that say the money is gone end an account's turn; a rate
// limit passes.
func TestQuotaGone(t *testing.T) {
	cases := []struct {
		name string
		err  provider.Error
		want bool
	}{
		{"openai insufficient_quota code", provider.Error{Status: 429, Type: "insufficient_quota", Code: "insufficient_quota"}, true},
		{"openai insufficient_quota as the type only", provider.Error{Status: 429, Type: "insufficient_quota"}, true},
		{"openai rate limit", provider.Error{Status: 429, Type: "requests", Code: "rate_limit_exceeded"}, false},
		{"anthropic spend limit", provider.Error{Status: 429, Type: "rate_limit_error", Code: "enforced_spend_limit_reached"}, true},
		{"anthropic billing error", provider.Error{Status: 400, Type: "billing_error"}, true},
		{"anthropic rate limit", provider.Error{Status: 429, Type: "rate_limit_error"}, false},
		{"no type, no code", provider.Error{Status: 429, Message: "insufficient_quota"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, QuotaGone(&tc.err))
		})
	}
}
