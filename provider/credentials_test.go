package provider

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsCredentialParam(t *testing.T) {
	for name, want := range map[string]bool{
		"key": true, "KEY": true, "k%65y": true, "%6B%65%79": true, "key+": true, "access_token": true,
		"api-key": true, "api%2Dkey": true, "api_key": true, "apikey": true, "subscription-key": true,
		// Google's system parameters may be spelled with a '$' in front.
		"$key": true, "%24key": true, "%24k%65y": true, "$access_token": true, "$alt": false, "$": false,
		"monkey": false, "keys": false, "alt": false, "api-version": false, "": false, "k%zzy": false,
	} {
		assert.Equal(t, want, IsCredentialParam(name), name)
	}
}

func TestWithoutCredentialParams(t *testing.T) {
	for q, want := range map[string]string{
		"":                        "",
		"alt=sse":                 "alt=sse",
		"alt=sse&key=k":           "alt=sse",
		"key=k&alt=sse&key=j&x=1": "alt=sse&x=1",
		"k%65y=k&alt=sse":         "alt=sse",
		"alt=sse;key=k":           "alt=sse",
		"monkey=1&key":            "monkey=1",
		"x=%zz&key=k":             "x=%zz",
		"alt=sse&$key=k":          "alt=sse",
		"%24key=k&alt=sse":        "alt=sse",
	} {
		assert.Equal(t, want, WithoutCredentialParams(q), q)
		assert.False(t, HasCredentialParam(WithoutCredentialParams(q)), q)
	}
}

func TestCredentialsOrderIsStable(t *testing.T) {
	h := http.Header{"authorization": {"b"}, "Authorization": {"a"}, "X-Goog-Api-Key": {"g"}, "x-api-key": {"x"}}
	u, _ := url.Parse("https://u:p@host/p?alt=sse&k%65y=q1&access_token=q2")
	var first []string
	for i := range 20 { // map order changes from run to run
		var got []string
		Credentials(h, u, func(name, value string) { got = append(got, name+"="+value) })
		if i == 0 {
			first = got
			assert.Equal(t, []string{"Authorization=a", "Authorization=b", "X-Api-Key=x", "X-Goog-Api-Key=g",
				"?key=q1", "?access_token=q2", "userinfo=u:p"}, got)
		}
		assert.Equal(t, first, got)
	}
}

func TestDeleteCredentialHeaders(t *testing.T) {
	h := http.Header{"authorization": {"b"}, "Authorization": {"a"}, "X-GOOG-API-KEY": {"g"}, "Content-Type": {"application/json"}, "Ocp-Apim-Subscription-Key": {"s"}}
	DeleteCredentialHeaders(h)
	assert.Equal(t, http.Header{"Content-Type": {"application/json"}}, h)
}

// FuzzCredentialParams checks the query reading against Go's own: every
// parameter net/url decodes to a credential name is one here, and none is
// left once they are removed.
func FuzzCredentialParams(f *testing.F) {
	for _, s := range []string{"key=a", "k%65y=a&x=1", "a=1;key=2", "%zz=1&key=3", "KEY=1", "api%5Fkey=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		vals, _ := url.ParseQuery(q) // parses what it can
		for name := range vals {
			n := strings.ToLower(strings.TrimSpace(name))
			for _, p := range credentialParams {
				if n == p {
					assert.True(t, HasCredentialParam(q), "%q: net/url reads %q", q, name)
				}
			}
		}
		rest := WithoutCredentialParams(q)
		assert.False(t, HasCredentialParam(rest), "%q left %q", q, rest)
		vals, _ = url.ParseQuery(rest)
		for name := range vals {
			assert.False(t, IsCredentialParam(url.QueryEscape(name)), "%q left %q", q, name)
		}
	})
}

func TestLooksLikeCredentialHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "cookie": true, "X-Internal-Access-Token": true, "Cf-Aig-Authorization": true,
		"X-Portkey-Api-Key": true, "Helicone-Auth": true, "X-Session-Id": true, "X-Client-Secret": true,
		"Content-Type": false, "Anthropic-Version": false, "Anthropic-Beta": false, "User-Agent": false,
		"X-Stainless-Retry-Count": false, "Accept": false, "Openai-Organization": false,
	} {
		assert.Equal(t, want, LooksLikeCredentialHeader(name), name)
	}
}
