package provider

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// credentialHeaders are the request headers a key or token travels in, as
// the providers (and the gateways in front of them) read them, whatever
// their case: the four AuthStyles, Azure API Management's subscription
// key, which fronts Azure OpenAI deployments, and the keys of the hosted
// gateways an application may still call through (Cloudflare AI Gateway,
// Portkey, Helicone).
var credentialHeaders = [...]string{"Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key", "Ocp-Apim-Subscription-Key",
	"Cf-Aig-Authorization", "X-Portkey-Api-Key", "Helicone-Auth"}

// credentialParams are the query parameters a key or token travels in:
// Gemini's (every Google API's) key and OAuth access_token, and the
// api-key spellings some OpenAI-compatible servers and Azure API Management
// accept.
var credentialParams = [...]string{"key", "access_token", "api-key", "api_key", "apikey", "subscription-key"}

// IsCredentialHeader reports whether a request header of this name carries a
// credential: Authorization, X-Api-Key, Api-Key, X-Goog-Api-Key or
// Ocp-Apim-Subscription-Key, in any case (net/http sends a header map key
// as it is written, and servers read names without regard to case).
func IsCredentialHeader(name string) bool {
	for _, h := range credentialHeaders {
		if len(name) == len(h) && strings.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// LooksLikeCredentialHeader reports whether a request header of this name
// may carry a secret, by its name: a credential header (IsCredentialHeader),
// Cookie, or any name holding "auth", "key", "token", "secret", "password"
// or "session" in any case. It is wider than any provider's list on
// purpose, for a request going to another host than the caller's: a
// header it matches that was not a secret costs nothing there, a secret
// under a name no list knows would leak.
func LooksLikeCredentialHeader(name string) bool {
	if IsCredentialHeader(name) || strings.EqualFold(name, "Cookie") {
		return true
	}
	lower := strings.ToLower(name)
	for _, w := range [...]string{"auth", "key", "token", "secret", "password", "session"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// IsCredentialParam reports whether a query parameter of this name, as it
// is written in a raw query, carries a credential: key, access_token,
// api-key, api_key, apikey or subscription-key, once percent-decoded as
// servers decode it ("k%65y" is "key"), in any case, spaces around it
// ignored, and with or without the '$' in front that Google's system
// parameters take ("$key", "%24key"). The match is wider than any one
// provider's, on purpose: a name matched here is fingerprinted and never
// sent to another host, so a spelling the provider would not take costs
// nothing, and one it would take is never missed.
func IsCredentialParam(rawName string) bool {
	name := paramName(rawName)
	for _, p := range credentialParams {
		if len(name) == len(p) && strings.EqualFold(name, p) {
			return true
		}
	}
	return false
}

// paramName is a raw query parameter name as a server reads it:
// percent-decoded, spaces around it ignored, without the '$' of a Google
// system parameter. (Case is left to the caller.)
func paramName(rawName string) string {
	name := rawName
	if strings.ContainsAny(name, "%+") {
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
	}
	name = strings.TrimSpace(name)
	if len(name) > 1 && name[0] == '$' {
		name = name[1:]
	}
	return name
}

// Credentials calls fn for every credential a request with header h to URL
// u carries, in a stable order: each credential header's values (whatever
// the case of its key in h), then each credential query parameter (see
// IsCredentialParam; parameters split on '&' and ';', values decoded where
// they can be), then a user:password in the URL, which net/http sends as
// Basic authorization. name says where the value came from
// ("Authorization", "?key", "userinfo"). u may be nil.
//
// It is the one reading of a request's credentials every consumer shares:
// the cache's tenant fingerprint, the limiter's api_key keys, the fallback
// layer that must not carry them to another host.
func Credentials(h http.Header, u *url.URL, fn func(name, value string)) {
	// One pass over h: header maps are small, and a key written by hand
	// (h["authorization"]) is found in any case. Keys are ordered by
	// credential, then by spelling, so the order is the same every time.
	type found struct {
		i int
		k string
	}
	var buf [4]found
	keys := buf[:0]
	for k := range h {
		for i, c := range credentialHeaders {
			if len(k) == len(c) && strings.EqualFold(k, c) {
				keys = append(keys, found{i, k})
				break
			}
		}
	}
	if len(keys) > 1 {
		slices.SortFunc(keys, func(a, b found) int {
			if a.i != b.i {
				return a.i - b.i
			}
			return strings.Compare(a.k, b.k)
		})
	}
	for _, f := range keys {
		for _, v := range h[f.k] {
			fn(credentialHeaders[f.i], v)
		}
	}
	if u == nil {
		return
	}
	for q := u.RawQuery; q != ""; {
		var kv string
		kv, q = cutParam(q)
		name, value, _ := strings.Cut(kv, "=")
		if !IsCredentialParam(name) {
			continue
		}
		if v, err := url.QueryUnescape(value); err == nil {
			value = v
		}
		fn("?"+strings.ToLower(paramName(name)), value)
	}
	if u.User != nil {
		fn("userinfo", u.User.String())
	}
}

// cutParam splits the first parameter off a raw query, at '&' or ';'.
func cutParam(q string) (param, rest string) {
	if i := strings.IndexAny(q, "&;"); i >= 0 {
		return q[:i], q[i+1:]
	}
	return q, ""
}

// HasCredentialParam reports whether the raw query holds a credential
// parameter (see IsCredentialParam).
func HasCredentialParam(rawQuery string) bool {
	for q := rawQuery; q != ""; {
		var kv string
		kv, q = cutParam(q)
		name, _, _ := strings.Cut(kv, "=")
		if IsCredentialParam(name) {
			return true
		}
	}
	return false
}

// WithoutCredentialParams returns the raw query without its credential
// parameters (see IsCredentialParam), the others kept as they were written,
// joined by '&'.
func WithoutCredentialParams(rawQuery string) string {
	if !HasCredentialParam(rawQuery) {
		return rawQuery
	}
	var b strings.Builder
	for q := rawQuery; q != ""; {
		var kv string
		kv, q = cutParam(q)
		name, _, _ := strings.Cut(kv, "=")
		if kv == "" || IsCredentialParam(name) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv)
	}
	return b.String()
}

// DeleteCredentialHeaders removes every credential header from h, in any
// case its keys are written.
func DeleteCredentialHeaders(h http.Header) {
	for k := range h {
		if IsCredentialHeader(k) {
			delete(h, k)
		}
	}
}
