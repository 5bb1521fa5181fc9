package redact

import (
	"errors"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A credential quoted in an error, in any encoding of its name or as a
// URL's user info, is redacted.
func TestErrorRedactsEveryForm(t *testing.T) {
	for _, msg := range []string{
		`Post "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?k%65y=SECRET&alt=sse": timeout`,
		`Post "https://x/v1?alt=sse;key=SECRET": timeout`,
		`Post "https://x/v1?KEY=SECRET": timeout`,
		`Post "https://x/v1?alt=sse&$key=SECRET": timeout`,
		`Post "https://x/v1?%24key=SECRET": timeout`,
		`Post "https://x/v1?access_token=SECRET": timeout`,
		`dial "https://user:SECRET@x/v1": refused`,
		`Post "https://SECRET@x/v1/chat/completions": refused`,
	} {
		t.Run(msg, func(t *testing.T) {
			err := Error(errors.New(msg))
			assert.NotContains(t, err.Error(), "SECRET")
			assert.Contains(t, err.Error(), "REDACTED")
		})
	}
}

// Only the credential goes: the text around it stays as it was.
func TestErrorKeepsTheRestOfTheText(t *testing.T) {
	err := Error(errors.New(`Post "https://x/v1?alt=sse&key=SECRET&n=1": timeout`))
	assert.Equal(t, `Post "https://x/v1?alt=sse&key=REDACTED&n=1": timeout`, err.Error())
}

func TestErrorWithNothingToRedactIsTheSameError(t *testing.T) {
	plain := errors.New(`Post "https://x/v1?alt=sse&monkey=1": timeout`)
	assert.Same(t, plain, Error(plain))
	assert.NoError(t, Error(nil))
}

// errors.Is and errors.As see through the redaction.
func TestRedactedErrorUnwraps(t *testing.T) {
	cause := errors.New("timeout")
	err := Error(&url.Error{Op: "Post", URL: "https://x/v1?key=SECRET", Err: cause})
	require.NotContains(t, err.Error(), "SECRET")
	assert.ErrorIs(t, err, cause)
	var ue *url.Error
	assert.ErrorAs(t, err, &ue)
}
