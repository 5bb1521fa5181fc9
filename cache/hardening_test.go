package cache

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
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
		name    string
		url     string
		body    string
		a, b    func(*http.Request) // two tenants
		sameAsA func(*http.Request) // tenant A, its credential spelled another way
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
			name: "Gemini key as Google's $key",
			url:  gemini, body: geminiBody,
			a:       func(r *http.Request) { r.URL.RawQuery = "$key=g-tenant-a" },
			b:       func(r *http.Request) { r.URL.RawQuery = "%24key=g-tenant-b" },
			sameAsA: func(r *http.Request) { r.URL.RawQuery = "key=g-tenant-a" },
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
	for _, name := range keyHeaders {
		assert.Equal(t, http.CanonicalHeaderKey(name), name, "the key reads the prepared (canonical) header by this name as it is")
	}
}

func urlUser(user, pw string) *url.Userinfo { return url.UserPassword(user, pw) }

// Issue 10, item 7: a per-request TTL may shorten how long an answer is
// kept, never lengthen it past what the operator allows (MaxTTL, which is
// TTL unless set).
func TestRequestTTLNeverAboveMaxTTL(t *testing.T) {
	cases := []struct {
		name   string
		cfg    Config
		ctx    func(context.Context) context.Context
		header []string
		kept   time.Duration // how long the answer is a hit
	}{
		{"header above TTL, no MaxTTL", Config{TTL: time.Minute}, nil, []string{aigateway.HeaderCacheTTL, "86400"}, time.Minute},
		{"WithTTL above TTL, no MaxTTL", Config{TTL: time.Minute}, func(c context.Context) context.Context { return WithTTL(c, 24*time.Hour) }, nil, time.Minute},
		{"header below TTL", Config{TTL: time.Minute}, nil, []string{aigateway.HeaderCacheTTL, "10"}, 10 * time.Second},
		{"header up to MaxTTL", Config{TTL: time.Minute, MaxTTL: time.Hour}, nil, []string{aigateway.HeaderCacheTTL, "86400"}, time.Hour},
		{"header within MaxTTL", Config{TTL: time.Minute, MaxTTL: time.Hour}, nil, []string{aigateway.HeaderCacheTTL, "600"}, 10 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(1_700_000_000, 0)
			var mu sync.Mutex
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
			store := NewMemoryStore(1 << 20)
			store.Clock = clock
			tc.cfg.Store, tc.cfg.Now = store, clock
			_, fake, gw := newStack(t, tc.cfg)
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx(ctx)
			}
			first := func(r *http.Request) {
				*r = *r.WithContext(ctx)
				for i := 0; i+1 < len(tc.header); i += 2 {
					r.Header.Set(tc.header[i], tc.header[i+1])
				}
			}
			assert.Equal(t, "MISS", send(t, gw, chatURL, chatBody, first))
			advance(tc.kept - time.Second)
			assert.Equal(t, "HIT", send(t, gw, chatURL, chatBody, func(*http.Request) {}))
			advance(2 * time.Second)
			assert.Equal(t, "MISS", send(t, gw, chatURL, chatBody, func(*http.Request) {}), "expired after %v", tc.kept)
			assert.Equal(t, 2, fake.Count())
		})
	}
	assert.ErrorContains(t, Config{TTL: time.Hour, MaxTTL: time.Minute}.Validate(), "max_ttl")
	assert.ErrorContains(t, Config{MaxTTL: time.Minute}.Validate(), "max_ttl", "shorter than the default TTL")
	assert.NoError(t, Config{MaxTTL: 2 * time.Hour}.Validate())
}

// answering is an upstream that answers every request with status, header
// and body, declaring length as its Content-Length (-1: unknown).
func answering(status int, contentType, body string, length int64) http.RoundTripper {
	return roundTrip(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return &http.Response{
			StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:        http.Header{"Content-Type": {contentType}},
			Body:          io.NopCloser(strings.NewReader(body)),
			ContentLength: length,
			Request:       r,
		}, nil
	})
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Issue 10, items 4 and 10: only answers the scanner recognises as whole
// successes are stored; anything else is the call's error.
func TestOnlyWholeSuccessesAreStored(t *testing.T) {
	const cut = `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hel`
	cases := []struct {
		name, ct, body string
		length         int64
		stream         bool
		wantErr        error  // a sentinel, or nil for a *provider.Error
		wantMsg        string // of the *provider.Error
	}{
		{name: "a 200 whose body is an error object", ct: "application/json",
			body: `{"error":{"message":"The server is overloaded","type":"server_error"}}`, length: -1, wantMsg: "The server is overloaded"},
		{name: "an Anthropic error object in a 200", ct: "application/json",
			body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, length: -1, wantMsg: "Overloaded"},
		{name: "a body cut short matching its Content-Length", ct: "application/json", body: cut, length: int64(len(cut)), wantErr: aigateway.ErrMalformedResponse},
		{name: "an empty 200", ct: "application/json", body: "", length: 0, wantErr: aigateway.ErrMalformedResponse},
		{name: "an empty 200 of unknown length", ct: "application/json", body: "", length: -1, wantErr: aigateway.ErrMalformedResponse},
		{name: "a 200 that is not JSON", ct: "text/html", body: "<html>Bad gateway</html>", length: -1, wantErr: aigateway.ErrMalformedResponse},
		{name: "a JSON array where an object is due", ct: "application/json", body: `[{"id":"chatcmpl-1","choices":[]}]`, length: -1, wantErr: aigateway.ErrMalformedResponse},
		{name: "a JSON string", ct: "application/json", body: `"ok"`, length: -1, wantErr: aigateway.ErrMalformedResponse},
		{name: "garbage after the object", ct: "application/json", body: `{"id":"chatcmpl-1","choices":[]} and more`, length: -1, wantErr: aigateway.ErrMalformedResponse},
		{name: "garbage before the object", ct: "application/json", body: `)]}'` + "\n" + `{"id":"chatcmpl-1","choices":[]}`, length: -1, wantErr: aigateway.ErrMalformedResponse},
		{name: "two objects", ct: "application/json", body: `{"id":"a"}{"id":"b"}`, length: -1, wantErr: aigateway.ErrMalformedResponse},
		{name: "garbage events before [DONE]", ct: "text/event-stream", stream: true,
			body: "data: {not json\n\ndata: garbage\n\ndata: [DONE]\n\n", length: -1, wantErr: aigateway.ErrMalformedResponse},
		{name: "an error event before [DONE]", ct: "text/event-stream", stream: true,
			body: `data: {"error":{"message":"model overloaded","type":"server_error"}}` + "\n\ndata: [DONE]\n\n", length: -1, wantMsg: "model overloaded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := answering(200, tc.ct, tc.body, tc.length)
			calls := 0
			counted := roundTrip(func(r *http.Request) (*http.Response, error) { calls++; return up.RoundTrip(r) })
			c := New(Config{})
			defer c.Close()
			gw := mustNew(t, counted, c)
			body := chatBody
			if tc.stream {
				body = strings.Replace(chatBody, `"temperature":0`, `"temperature":0,"stream":true,"stream_options":{"include_usage":true}`, 1)
			}
			for i := range 2 {
				ctx, tr := aigateway.Track(context.Background())
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, chatURL, strings.NewReader(body))
				require.NoError(t, err)
				resp, err := gw.RoundTrip(req)
				require.NoError(t, err)
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, tc.body, string(got), "the caller gets what came")
				assert.Equal(t, "MISS", resp.Header.Get(aigateway.HeaderCache), "attempt %d", i)
				r := tr.Last().Result()
				require.Error(t, r.Err, "the call records the error")
				if tc.wantErr != nil {
					assert.ErrorIs(t, r.Err, tc.wantErr)
				} else {
					var pe *provider.Error
					require.ErrorAs(t, r.Err, &pe)
					assert.Equal(t, tc.wantMsg, pe.Message)
				}
			}
			assert.Equal(t, 2, calls, "nothing was stored")
			assert.Zero(t, c.Stats().Entries)
		})
	}
}

// A streamed answer a proxy labels text/plain (or not at all) is read as
// the SSE stream the SDKs read it as: usage known, complete, cached.
func TestStreamLabelledOtherwiseIsAStream(t *testing.T) {
	const stream = `data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}],"usage":null}` + "\n\n" +
		`data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}` + "\n\n" +
		"data: [DONE]\n\n"
	for _, ct := range []string{"text/plain; charset=utf-8", "", "application/octet-stream"} {
		t.Run(ct, func(t *testing.T) {
			calls := 0
			up := answering(200, ct, stream, -1)
			c := New(Config{})
			defer c.Close()
			gw := mustNew(t, roundTrip(func(r *http.Request) (*http.Response, error) { calls++; return up.RoundTrip(r) }), c)
			body := strings.Replace(chatBody, `"temperature":0`, `"temperature":0,"stream":true,"stream_options":{"include_usage":true}`, 1)
			for i := range 2 {
				ctx, tr := aigateway.Track(context.Background())
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, chatURL, strings.NewReader(body))
				require.NoError(t, err)
				resp, err := gw.RoundTrip(req)
				require.NoError(t, err)
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, stream, string(got))
				r := tr.Last().Result()
				assert.NoError(t, r.Err, "attempt %d", i)
				assert.True(t, r.UsageKnown)
				assert.Equal(t, provider.Usage{InputTokens: 5, OutputTokens: 1}, r.Usage)
			}
			assert.Equal(t, 1, calls, "the second call is a hit")
		})
	}
}

// The caller's credentials go into the key's one SHA-256 with the rest of
// its material (issue 14), not hashed apart first: the key buffer holds
// them in clear only until the key is made, and they are framed by their
// length, so no credential can pass for the fields after it.
func TestKeyCredentialsAreClearedAndFramed(t *testing.T) {
	secret := "sk-tenant-secret-0123456789"
	u, err := url.Parse(chatURL + "?key=g-secret-key")
	require.NoError(t, err)
	m := &keyBuf{}
	m.field("before")
	m.credentials(http.Header{"Authorization": {"Bearer " + secret}}, u)
	m.field("after")
	require.Contains(t, string(m.b), secret, "the material holds the credential until hashed")
	require.Contains(t, string(m.b), "g-secret-key")
	framed := m.b[m.secret[0]-4 : m.secret[0]]
	assert.Equal(t, m.secret[1]-m.secret[0], int(framed[0])<<24|int(framed[1])<<16|int(framed[2])<<8|int(framed[3]),
		"the credentials' length comes first")
	m.release()
	all := string(m.b[:cap(m.b)])
	assert.NotContains(t, all, secret, "a pooled key buffer keeps no credential")
	assert.NotContains(t, all, "g-secret-key")
	assert.Contains(t, all, "after", "only the credentials are cleared")

	// Through the cache: the stored key holds neither the credential nor
	// anything the same for two tenants but the prefix.
	store := &recordingStore{Store: NewMemoryStore(1 << 20)}
	c, _, gw := newStack(t, Config{Store: store})
	for _, tenant := range []string{"Bearer " + secret, "Bearer sk-tenant-other"} {
		assert.Equal(t, "MISS", send(t, gw, chatURL, chatBody, func(r *http.Request) { r.Header.Set("Authorization", tenant) }))
		require.NoError(t, c.Flush(context.Background()))
	}
	require.Len(t, store.keys, 2)
	assert.NotEqual(t, store.keys[0], store.keys[1])
	for _, k := range store.keys {
		assert.NotContains(t, k, secret)
		assert.Len(t, k, len(keyPrefix)+64, "a prefix and a hex SHA-256")
	}
}
