package cache

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
)

// send sends one request built by build through rt, reads the answer, and
// returns its X-Aigateway-Cache status.
func send(t *testing.T, rt http.RoundTripper, url, body string, build func(*http.Request)) string {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	build(req)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	return resp.Header.Get(aigateway.HeaderCache)
}

// Issue 10, item 2: a credential in a form the stack did not see (a
// percent-encoded query name, a header map key written in lower case, a
// name after ';') made another tenant's entry a hit.
func TestTenantsKeptApartInEveryCredentialForm(t *testing.T) {
	gemini := llmtest.TransportURL + "/v1beta/models/gemini-2.5-flash:generateContent"
	geminiBody := `{"contents":[{"parts":[{"text":"hi"}]}]}`
	cases := []struct {
		name     string
		url      string
		body     string
		a, b     func(*http.Request) // two tenants
		sameAsA  func(*http.Request) // tenant A, its credential spelled another way
		noCredOK bool
	}{
		{
			name: "Gemini key, percent-encoded name",
			url:  gemini, body: geminiBody,
			a:       func(r *http.Request) { r.URL.RawQuery = "key=g-tenant-a" },
			b:       func(r *http.Request) { r.URL.RawQuery = "k%65y=g-tenant-b" },
			sameAsA: func(r *http.Request) { r.URL.RawQuery = "k%65y=g-tenant-a" },
		},
		{
			name: "Gemini key after ';' and beside a bad escape",
			url:  gemini, body: geminiBody,
			a:       func(r *http.Request) { r.URL.RawQuery = "x=%zz;key=g-tenant-a" },
			b:       func(r *http.Request) { r.URL.RawQuery = "x=%zz;key=g-tenant-b" },
			sameAsA: func(r *http.Request) { r.URL.RawQuery = "x=%zz;key=g-tenant-a" },
		},
		{
			name: "Gemini access_token",
			url:  gemini, body: geminiBody,
			a: func(r *http.Request) { r.URL.RawQuery = "access_token=ya29.a" },
			b: func(r *http.Request) { r.URL.RawQuery = "access_token=ya29.b" },
		},
		{
			name: "Authorization written in lower case",
			url:  chatURL, body: chatBody,
			a:       func(r *http.Request) { r.Header["authorization"] = []string{"Bearer sk-tenant-a"} },
			b:       func(r *http.Request) { r.Header["authorization"] = []string{"Bearer sk-tenant-b"} },
			sameAsA: func(r *http.Request) { r.Header.Set("Authorization", "Bearer sk-tenant-a") },
		},
		{
			name: "x-goog-api-key written in lower case",
			url:  gemini, body: geminiBody,
			a: func(r *http.Request) { r.Header["x-goog-api-key"] = []string{"g-tenant-a"} },
			b: func(r *http.Request) { r.Header["x-goog-api-key"] = []string{"g-tenant-b"} },
		},
		{
			name: "user and password in the URL",
			url:  chatURL, body: chatBody,
			a: func(r *http.Request) { r.URL.User = nil; r.URL.Host = "a:pw-a@" + r.URL.Host },
			b: func(r *http.Request) { r.URL.User = nil; r.URL.Host = "a:pw-b@" + r.URL.Host },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, fake, gw := newStack(t, Config{})
			userinfo := func(f func(*http.Request)) func(*http.Request) {
				return func(r *http.Request) {
					f(r)
					if h, rest, ok := strings.Cut(r.URL.Host, "@"); ok { // a:pw@host, set above
						user, pw, _ := strings.Cut(h, ":")
						r.URL.Host = rest
						r.URL.User = urlUser(user, pw)
					}
				}
			}
			assert.Equal(t, "MISS", send(t, gw, tc.url, tc.body, userinfo(tc.a)))
			assert.Equal(t, "HIT", send(t, gw, tc.url, tc.body, userinfo(tc.a)), "the same tenant hits")
			before := fake.Count()
			assert.Equal(t, "MISS", send(t, gw, tc.url, tc.body, userinfo(tc.b)), "another tenant never gets A's answer")
			assert.Equal(t, before+1, fake.Count())
			assert.Equal(t, "MISS", send(t, gw, tc.url, tc.body, func(*http.Request) {}), "nor does a caller without credentials")
			if tc.sameAsA != nil {
				assert.Equal(t, "HIT", send(t, gw, tc.url, tc.body, userinfo(tc.sameAsA)), "A's credential spelled as the provider reads it is still A")
			}
		})
	}
}

// Issue 10, item 10: the header values in a key were framed by separators,
// so values could be arranged to pass for others; every field is
// length-prefixed now.
func TestKeyHeaderFraming(t *testing.T) {
	_, fake, gw := newStack(t, Config{})
	url := llmtest.TransportURL + "/v1/messages"
	body := `{"model":"claude-haiku-4-5","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`
	headers := []http.Header{
		{"Anthropic-Version": {"a b"}},
		{"Anthropic-Version": {"a"}, "Anthropic-Beta": {"b"}},
		{"Anthropic-Version": {"a", "b"}},
		{"Anthropic-Version": {"a"}, "Anthropic-Beta": {"", "b"}},
		{"Anthropic-Beta": {"a", "b"}},
		// Separators inside values (a transport other than net/http's may
		// send them): the same bytes under the old framing.
		{"Anthropic-Version": {"v\x00Anthropic-Beta"}, "Anthropic-Beta": {"b"}},
		{"Anthropic-Version": {"v"}, "Anthropic-Beta": {"Anthropic-Beta", "b"}},
	}
	for i, h := range headers {
		before := fake.Count()
		assert.Equal(t, "MISS", send(t, gw, url, body, func(r *http.Request) {
			for k, v := range h {
				r.Header[k] = v
			}
		}), "headers %d: %v", i, h)
		assert.Equal(t, before+1, fake.Count())
	}
}

// Issue 10, item 2: a header that changes the answer, written in lower case
// in the caller's map, splits the key as the canonical one does.
func TestKeyHeadersInAnyCase(t *testing.T) {
	_, _, gw := newStack(t, Config{})
	url := llmtest.TransportURL + "/v1/messages"
	body := `{"model":"claude-haiku-4-5","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`
	base := func(r *http.Request) {
		r.Header.Set("X-Api-Key", "sk-ant-a")
		r.Header.Set("Anthropic-Version", "2023-06-01")
	}
	assert.Equal(t, "MISS", send(t, gw, url, body, base))
	assert.Equal(t, "MISS", send(t, gw, url, body, func(r *http.Request) {
		base(r)
		r.Header["anthropic-beta"] = []string{"prompt-caching-2024-07-31"}
	}), "a beta header set in lower case changes the answer")
	assert.Equal(t, "HIT", send(t, gw, url, body, func(r *http.Request) {
		base(r)
		r.Header.Set("Anthropic-Beta", "prompt-caching-2024-07-31")
	}), "and is the same header as the canonical one")
}

func urlUser(user, pw string) *url.Userinfo { return url.UserPassword(user, pw) }
