// Package redact keeps credentials out of the error text the stack shows
// beyond the call (health reports, logs): a query parameter that carries
// one (provider.IsCredentialParam: Gemini's ?key=, however its name is
// encoded) and the user info of a URL (a password, or a user name alone,
// which net/http sends as Basic authorization). A *url.Error from an
// http.Client names the request URL, ?key= and all.
//
// It is the reading the root package applies to Result.Err and
// Attempt.Err (its redactError), shared here for the layers.
package redact

import (
	"regexp"
	"strings"

	"github.com/aigateway-go/aigateway/provider"
)

// queryPair finds the name=value pairs of a query string a text quotes,
// userInfo a user:password in a URL, and userOnly a user name alone.
var (
	queryPair = regexp.MustCompile(`[?&;]([^=&;?#\s"'<>]{1,64})=([^&;#\s"'<>]*)`)
	userInfo  = regexp.MustCompile(`(://[^/@\s"'<>:]*:)[^/@\s"'<>]*@`)
	userOnly  = regexp.MustCompile(`://[^/@\s"'<>:]+@`)
)

// Error returns err with the credentials its text quotes replaced by
// REDACTED; err itself when it quotes none. The error it returns still
// unwraps to err, so errors.Is and errors.As see through it.
func Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red := Text(msg)
	if red == msg {
		return err
	}
	return &redacted{msg: red, err: err}
}

// Text returns msg with the credentials it quotes replaced by REDACTED.
func Text(msg string) string {
	if strings.Contains(msg, "=") {
		msg = queryPair.ReplaceAllStringFunc(msg, func(pair string) string {
			name, _, _ := strings.Cut(pair[1:], "=")
			if !provider.IsCredentialParam(name) {
				return pair
			}
			return pair[:1] + name + "=REDACTED"
		})
	}
	if strings.Contains(msg, "@") {
		msg = userInfo.ReplaceAllString(msg, "${1}REDACTED@")
		msg = userOnly.ReplaceAllString(msg, "://REDACTED@")
	}
	return msg
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }
