package fallback

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// Issue 10, item 2: the caller's credential, in any form the provider would
// take it, never goes to another host beside the target's own key.
func TestCallerCredentialNeverLeavesItsOrigin(t *testing.T) {
	const geminiPath = "/v1beta/models/gemini-2.0-flash:generateContent"
	const secret = "SECRET-of-the-caller"
	cases := []struct {
		name   string
		url    string
		body   string
		set    func(*http.Request)
		target Target
	}{
		{"?k%65y= to another Gemini host", primaryURL + geminiPath + "?alt=sse&k%65y=" + secret, `{"contents":[]}`,
			func(*http.Request) {}, Target{Provider: provider.Gemini, BaseURL: backupURL + "/v1beta", APIKey: "g-key"}},
		{"?$key= (a Google system parameter's other spelling) to another Gemini host", primaryURL + geminiPath + "?alt=sse&$key=" + secret, `{"contents":[]}`,
			func(*http.Request) {}, Target{Provider: provider.Gemini, BaseURL: backupURL + "/v1beta", APIKey: "g-key"}},
		{"?%24key= to another Gemini host", primaryURL + geminiPath + "?%24key=" + secret, `{"contents":[]}`,
			func(*http.Request) {}, Target{Provider: provider.Gemini, BaseURL: backupURL + "/v1beta", APIKey: "g-key"}},
		{";key= to another Gemini host", primaryURL + geminiPath + "?alt=sse;key=" + secret, `{"contents":[]}`,
			func(*http.Request) {}, Target{Provider: provider.Gemini, BaseURL: backupURL + "/v1beta", APIKey: "g-key"}},
		{"?access_token= to another Gemini host", primaryURL + geminiPath + "?access_token=" + secret, `{"contents":[]}`,
			func(*http.Request) {}, Target{Provider: provider.Gemini, BaseURL: backupURL + "/v1beta", APIKey: "g-key"}},
		{"x-goog-api-key in lower case to another Gemini host", primaryURL + geminiPath, `{"contents":[]}`,
			func(r *http.Request) { r.Header["x-goog-api-key"] = []string{secret} },
			Target{Provider: provider.Gemini, BaseURL: backupURL + "/v1beta", APIKey: "g-key"}},
		{"authorization in lower case to Groq", primaryURL + chatPath, chatBody,
			func(r *http.Request) { r.Header["authorization"] = []string{"Bearer " + secret} },
			Target{Provider: provider.Groq, APIKey: "gsk"}},
		{"authorization in lower case, a second key at the same origin", primaryURL + chatPath, chatBody,
			func(r *http.Request) { r.Header["authorization"] = []string{"Bearer " + secret} },
			Target{APIKey: "sk-second"}},
		{"user:password in the URL to Groq", primaryURL + chatPath, chatBody,
			func(r *http.Request) { r.URL.User = url.UserPassword("u", secret) },
			Target{Provider: provider.Groq, APIKey: "gsk"}},
		{"a cookie to Groq", primaryURL + chatPath, chatBody,
			func(r *http.Request) { r.Header.Set("Cookie", "session="+secret) },
			Target{Provider: provider.Groq, APIKey: "gsk"}},
		{"a hosted gateway's key to Groq", primaryURL + chatPath, chatBody,
			func(r *http.Request) { r.Header.Set("cf-aig-authorization", "Bearer "+secret) },
			Target{Provider: provider.Groq, APIKey: "gsk"}},
		{"a secret under a name no list knows, to Groq", primaryURL + chatPath, chatBody,
			func(r *http.Request) { r.Header.Set("X-Internal-Access-Token", secret) },
			Target{Provider: provider.Groq, APIKey: "gsk"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{fake: llmtest.NewTransport()}
			rt := New(Config{Targets: []Target{tc.target}}).Wrap(rec)
			req, err := http.NewRequest(http.MethodPost, tc.url, strings.NewReader(tc.body))
			require.NoError(t, err)
			tc.set(req)
			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			require.Len(t, rec.reqs, 1)
			got := rec.reqs[0]
			assert.NotContains(t, got.URL.String(), secret)
			for k, vs := range got.Header {
				for _, v := range vs {
					assert.NotContains(t, v, secret, "header %s", k)
				}
			}
			if got.URL.User != nil {
				p, _ := got.URL.User.Password()
				assert.NotEqual(t, secret, p)
			}
		})
	}
}

// The credentials a target's own BaseURL carries (a proxy behind basic
// authentication: https://user:password@host/v1) are the target's, not the
// caller's: the attempt keeps them, whether the target has a key or not.
func TestTargetOwnUserinfoIsKept(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target Target
		caller *url.Userinfo
	}{
		{"keyless target elsewhere", Target{BaseURL: "http://proxy:pw-of-the-target@backup.test/v1"}, nil},
		{"target with a key elsewhere", Target{BaseURL: "http://proxy:pw-of-the-target@backup.test/v1", APIKey: "sk-backup"}, nil},
		{"the caller's own userinfo replaced by the target's", Target{BaseURL: "http://proxy:pw-of-the-target@backup.test/v1"},
			url.UserPassword("u", "SECRET-of-the-caller")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{fake: llmtest.NewTransport()}
			rt := New(Config{Targets: []Target{tc.target}}).Wrap(rec)
			req, err := http.NewRequest(http.MethodPost, primaryURL+chatPath, strings.NewReader(chatBody))
			require.NoError(t, err)
			req.URL.User = tc.caller
			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			require.Len(t, rec.reqs, 1)
			got := rec.reqs[0].URL
			assert.Equal(t, "backup.test", got.Host)
			require.NotNil(t, got.User, "the target's own credentials go with its attempts")
			p, _ := got.User.Password()
			assert.Equal(t, "proxy", got.User.Username())
			assert.Equal(t, "pw-of-the-target", p)
		})
	}
}
