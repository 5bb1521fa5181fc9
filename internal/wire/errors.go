package wire

import (
	"bytes"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/provider"
)

// errorFrom reads an error value: an object in any of the three providers'
// shapes ({"message","type","param","code"}; {"type","message","details":
// {"error_code"}}; {"code","message","status","details":[ErrorInfo]}) or a
// bare string (some OpenAI-compatible servers). nil when v is neither.
func errorFrom(v []byte, status int) *provider.Error {
	if s, ok := jsonscan.String(v); ok {
		return &provider.Error{Status: status, Message: string(s)}
	}
	if !jsonscan.IsObject(v) {
		return nil
	}
	// The last of duplicate keys is the one read, as the SDK reads it.
	var message, typ, st, code, details []byte
	it := jsonscan.Members(v)
	for it.Next() {
		switch val := it.Value(); string(it.Key()) {
		case "message":
			message = val
		case "type":
			typ = val
		case "status":
			st = val
		case "code":
			code = val
		case "details":
			details = val
		}
	}
	e := &provider.Error{Status: status, Message: str(message), Type: str(typ)}
	if s := str(st); s != "" { // Gemini's canonical status wins over a type
		e.Type = s
	}
	// OpenAI's code is a string; Gemini's (and some servers') is the HTTP
	// status as a number, which says nothing new.
	if s, ok := jsonscan.String(code); ok {
		e.Code = string(s)
	}
	if details != nil {
		if c := detailsCode(details); c != "" {
			e.Code = c
		}
	}
	return e
}

// detailsCode finds Anthropic's details.error_code or the reason of a
// Gemini google.rpc.ErrorInfo detail.
func detailsCode(v []byte) string {
	if jsonscan.IsObject(v) {
		if c, ok := jsonscan.Get(v, "error_code"); ok {
			return str(c)
		}
		return ""
	}
	it := jsonscan.Elements(v)
	for it.Next() {
		d := it.Value()
		if !jsonscan.IsObject(d) {
			continue
		}
		if t, ok := jsonscan.Get(d, "@type"); ok && bytes.HasSuffix(decoded(t), []byte("ErrorInfo")) {
			if r, ok := jsonscan.Get(d, "reason"); ok {
				return str(r)
			}
		}
	}
	return ""
}

// decoded returns the contents of the string value v, nil for anything else.
func decoded(v []byte) []byte {
	s, _ := jsonscan.String(v)
	return s
}

// str returns the string value v, "" for anything else.
func str(v []byte) string {
	s, ok := jsonscan.String(v)
	if !ok {
		return ""
	}
	return string(s)
}

// QuotaGone reports whether a provider's error (a 429's) says the account
// is out of quota or money: OpenAI's insufficient_quota, Anthropic's
// enforced_spend_limit_reached or a billing_error, as a code or a type.
// Retrying the same account cannot help, unlike a rate limit.
func QuotaGone(e *provider.Error) bool {
	for _, s := range [...]string{e.Code, e.Type} {
		switch s {
		case "insufficient_quota", "enforced_spend_limit_reached", "billing_error":
			return true
		}
	}
	return false
}
