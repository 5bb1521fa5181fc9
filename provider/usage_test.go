package provider

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUsageAdd(t *testing.T) {
	a := Usage{1, 2, 3, 4, 5, 6}
	assert.Equal(t, Usage{2, 4, 6, 8, 10, 12}, a.Add(a))
	assert.Equal(t, int64(3), a.TotalTokens())
}

func TestErrorString(t *testing.T) {
	assert.Equal(t, "provider: HTTP 429 rate_limit_error (enforced_spend_limit_reached): limit", (&Error{Status: 429, Type: "rate_limit_error", Code: "enforced_spend_limit_reached", Message: "limit"}).Error())
	assert.Equal(t, "provider: stream error overloaded_error: Overloaded", (&Error{Type: "overloaded_error", Message: "Overloaded"}).Error())
	assert.Equal(t, "provider: HTTP 500", (&Error{Status: 500}).Error())
}
