package aigateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 10, item 8: a context that ends before the answer reaches the
// caller completes the call from context.AfterFunc's goroutine while own()
// is still wrapping the body. go test -race caught the two touching the
// same field.
func TestContextEndedBeforeAnswerIsOwned(t *testing.T) {
	for range 50 {
		ctx, cancel := context.WithCancel(context.Background())
		ctx, tr := Track(ctx)
		gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
			cancel() // the caller gives up as the answer arrives
			return jsonResponse(r, 200, chatJSON), nil
		}))
		resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
		require.NoError(t, err)
		<-tr.Last().Done()
		resp.Body.Close()
		assert.ErrorIs(t, tr.Last().Result().Err, context.Canceled)
	}
}

// blockingBody is a request body whose Read blocks until it is closed, as
// an io.Pipe with a writer that never writes does.
type blockingBody struct {
	closed chan struct{}
	reads  chan struct{}
}

func newBlockingBody() *blockingBody {
	return &blockingBody{closed: make(chan struct{}), reads: make(chan struct{}, 1)}
}

func (b *blockingBody) Read([]byte) (int, error) {
	select {
	case b.reads <- struct{}{}:
	default:
	}
	<-b.closed
	return 0, errors.New("read on closed body")
}

func (b *blockingBody) Close() error {
	select {
	case <-b.closed:
	default:
		close(b.closed)
	}
	return nil
}

// Issue 10, item 8: a context that ends while the stack reads the request
// body returns at once with the context's error, whatever the body.
func TestContextEndsWhileRequestBodyIsRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sent := 0
		gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			sent++
			return jsonResponse(r, 200, chatJSON), nil
		}))
		ctx, cancel := context.WithCancel(context.Background())
		body := newBlockingBody()
		req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx)
		req.Body, req.GetBody, req.ContentLength = body, nil, -1
		go func() {
			<-body.reads // the stack is blocked in Read
			cancel()
		}()
		resp, err := gw.RoundTrip(req)
		assert.Nil(t, resp)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Zero(t, sent, "nothing was sent")
		synctest.Wait() // it is closed on a goroutine of its own
		select {
		case <-body.closed:
		default:
			t.Error("the request body is closed")
		}
	})
}

// serverBody is a request body as net/http's server gives a handler one
// (a proxied request's): Read and Close hold the same lock, so a Close
// waits for a Read in progress to return, and a Read waits for the client.
type serverBody struct {
	lock    chan struct{} // held by a Read or a Close in progress
	reading chan struct{} // closed when a Read started
	client  chan struct{} // closed when the client sends the rest (or goes away)
	once    bool
	closed  bool
}

func newServerBody() *serverBody {
	return &serverBody{lock: make(chan struct{}, 1), reading: make(chan struct{}), client: make(chan struct{})}
}

func (b *serverBody) Read(p []byte) (int, error) {
	b.lock <- struct{}{}
	defer func() { <-b.lock }()
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if !b.once {
		b.once = true
		close(b.reading)
	}
	<-b.client
	return 0, io.ErrUnexpectedEOF
}

func (b *serverBody) Close() error {
	b.lock <- struct{}{}
	defer func() { <-b.lock }()
	b.closed = true
	return nil
}

// Issue 10, item 8: a context that ends while the stack reads a proxied
// request's body returns at once with the context's error, even though
// closing that body waits for the Read in progress, which waits for the
// client (RoundTrip stayed blocked in that Close).
func TestContextEndsWhileProxiedBodyIsRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			t.Error("nothing is sent")
			return jsonResponse(r, 200, chatJSON), nil
		}))
		ctx, cancel := context.WithCancel(context.Background())
		body := newServerBody()
		req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx)
		req.Body, req.GetBody, req.ContentLength = body, nil, -1
		go func() {
			<-body.reading // the stack is blocked in Read
			cancel()
		}()
		returned := make(chan error, 1)
		go func() {
			resp, err := gw.RoundTrip(req)
			assert.Nil(t, resp)
			returned <- err
		}()
		synctest.Wait()
		select {
		case err := <-returned:
			assert.ErrorIs(t, err, context.Canceled)
		default:
			t.Error("RoundTrip is blocked until the client sends more")
		}
		close(body.client) // the client goes away: the Read, then the Close, end
		synctest.Wait()
		assert.True(t, body.closed, "the body is closed once its Read returned")
		if t.Failed() {
			<-returned
		}
	})
}

// Issue 10, item 2: every form a provider takes a credential in is part of
// the fingerprint, and the same credential spelled two ways is one tenant.
func TestCredentialHashSeesEveryForm(t *testing.T) {
	hash := func(rawURL string, set func(http.Header)) string {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(chatBody))
		require.NoError(t, err)
		set(req.Header)
		var seen *Call
		gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			seen = CallFrom(r.Context())
			return jsonResponse(r, 200, chatJSON), nil
		}))
		resp, err := gw.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.NotNil(t, seen)
		return seen.CredentialHash()
	}
	none := func(http.Header) {}
	const gemini = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
	same := []struct {
		name string
		a, b string
		ha   func(http.Header)
		hb   func(http.Header)
	}{
		{"percent-encoded query name", gemini + "?key=A", gemini + "?k%65y=A", none, none},
		{"query name in another case", gemini + "?key=A", gemini + "?KEY=A", none, none},
		{"Google's $key", gemini + "?key=A", gemini + "?$key=A", none, none},
		{"Google's $key, percent-encoded", gemini + "?key=A", gemini + "?%24key=A", none, none},
		{"percent-encoded value", gemini + "?key=A-1", gemini + "?key=A%2D1", none, none},
		{"header key in lower case", gemini, gemini,
			func(h http.Header) { h.Set("Authorization", "Bearer A") },
			func(h http.Header) { h["authorization"] = []string{"Bearer A"} }},
	}
	for _, tc := range same {
		t.Run("same/"+tc.name, func(t *testing.T) {
			a := hash(tc.a, tc.ha)
			assert.NotEmpty(t, a)
			assert.Equal(t, a, hash(tc.b, tc.hb))
		})
	}
	seen := map[string]string{"": "no credential"}
	distinct := []struct {
		name string
		url  string
		h    func(http.Header)
	}{
		{"?key=A", gemini + "?key=A", none},
		{"?key=B", gemini + "?key=B", none},
		{"?k%65y=C", gemini + "?k%65y=C", none},
		{"?x=%zz&key=D (a bad escape elsewhere)", gemini + "?x=%zz&key=D", none},
		{";key=E", gemini + "?x=1;key=E", none},
		{"?access_token=F", gemini + "?access_token=F", none},
		{"?$key=K", gemini + "?$key=K", none},
		{"x-goog-api-key in lower case", gemini, func(h http.Header) { h["x-goog-api-key"] = []string{"G"} }},
		{"x-api-key", gemini, func(h http.Header) { h.Set("X-Api-Key", "G") }},
		{"a hosted gateway's key", gemini, func(h http.Header) { h["cf-aig-authorization"] = []string{"Bearer K"} }},
		{"user:password in the URL", "https://u:H@api.openai.com/v1/chat/completions", none},
		{"Authorization and a lower-case twin", gemini, func(h http.Header) {
			h.Set("Authorization", "Bearer I")
			h["authorization"] = []string{"Bearer J"}
		}},
	}
	for _, tc := range distinct {
		got := hash(tc.url, tc.h)
		if other, dup := seen[got]; dup {
			t.Errorf("%s: the same fingerprint as %s", tc.name, other)
		}
		seen[got] = tc.name
		assert.NotContains(t, got, "A")
	}
}

// Issue 10, items 2 and 10: the stack's own headers are stripped in every
// case and the bare name too; a control header written in lower case is
// read as the canonical one.
func TestGatewayHeadersInAnyForm(t *testing.T) {
	var up *http.Request
	var call *Call
	gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		up, call = r, CallFrom(r.Context())
		return jsonResponse(r, 200, chatJSON), nil
	}))
	req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody)
	req.Header["X-Aigateway"] = []string{"bare"}
	req.Header["x-aigateway-cache-ttl"] = []string{"42"}
	req.Header["X-AIGATEWAY-SKIP-CACHE"] = []string{"true"}
	req.Header["X-Aigatewayish"] = []string{"namespace"}
	before := req.Header.Clone()
	resp, err := gw.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	for k := range up.Header {
		assert.False(t, strings.HasPrefix(strings.ToLower(k), "x-aigateway"), "%s reached the upstream", k)
	}
	assert.Equal(t, 42*time.Second, call.Controls().CacheTTL)
	assert.True(t, call.Controls().SkipCache)
	assert.Equal(t, before, req.Header, "the caller's map is untouched")
	assert.Equal(t, "Bearer sk-test-secret", up.Header.Get("Authorization"))
}

// Issue 10, item 6: a request is recognised by its method and path, so a
// chat body with an odd Content-Type, an Upgrade header or an odd spelling
// of the path is metered and limited like any other: it goes upstream
// untouched, in a Call.
func TestRecognisedByMethodAndPath(t *testing.T) {
	cases := []struct {
		name, method, url string
		set               func(h http.Header)
		parsed            bool
	}{
		{"text/plain", http.MethodPost, "https://api.openai.com/v1/chat/completions", func(h http.Header) { h.Set("Content-Type", "text/plain") }, true},
		{"text/json", http.MethodPost, "https://api.openai.com/v1/chat/completions", func(h http.Header) { h.Set("Content-Type", "text/json") }, true},
		{"form-encoded", http.MethodPost, "https://api.openai.com/v1/chat/completions", func(h http.Header) { h.Set("Content-Type", "application/x-www-form-urlencoded") }, true},
		{"no Content-Type", http.MethodPost, "https://api.openai.com/v1/chat/completions", func(h http.Header) { h.Del("Content-Type") }, true},
		{"Upgrade header", http.MethodPost, "https://api.openai.com/v1/chat/completions", func(h http.Header) { h.Set("Upgrade", "h2c"); h.Set("Connection", "Upgrade") }, true},
		{"method in lower case", "post", "https://api.openai.com/v1/chat/completions", func(http.Header) {}, true},
		{"empty path segment", http.MethodPost, "https://api.openai.com/v1//chat/completions", func(http.Header) {}, true},
		{"dot segments", http.MethodPost, "https://api.openai.com/v1/x/../chat/completions", func(http.Header) {}, true},
		{"percent-encoded path", http.MethodPost, "https://api.openai.com/v1/chat/%63ompletions", func(http.Header) {}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got capture
			var call *Call
			gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
				call = CallFrom(r.Context())
				got.record(r)
				return jsonResponse(r, 200, chatJSON), nil
			}))
			req, err := http.NewRequest(tc.method, tc.url, strings.NewReader(chatBody))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			tc.set(req.Header)
			ctx, tr := Track(context.Background())
			resp, err := gw.RoundTrip(req.WithContext(ctx))
			require.NoError(t, err)
			readAllString(t, resp.Body)
			resp.Body.Close()
			require.NotNil(t, call, "the request is a Call")
			assert.Equal(t, tc.parsed, call.parsed)
			_, body := got.last()
			assert.Equal(t, chatBody, string(body), "sent as it came")
			r := tr.Last().Result()
			assert.True(t, r.UsageKnown, "metered")
		})
	}
	t.Run("a body that is not JSON is a Call, not parsed", func(t *testing.T) {
		var call *Call
		var got capture
		gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			call = CallFrom(r.Context())
			got.record(r)
			return jsonResponse(r, 400, `{"error":{"message":"bad","type":"invalid_request_error"}}`), nil
		}))
		req, err := http.NewRequest(http.MethodPost, "https://api.openai.com/v1/chat/completions", strings.NewReader("model=gpt-4o&stream=true"))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := gw.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.NotNil(t, call)
		assert.False(t, call.parsed)
		_, body := got.last()
		assert.Equal(t, "model=gpt-4o&stream=true", string(body))
	})
}

// Issue 10, item 2: a credential quoted in an error, in any encoding of its
// name or as a URL's password, is redacted.
func TestRedactionSeesEveryForm(t *testing.T) {
	for _, msg := range []string{
		`Post "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?k%65y=SECRET&alt=sse": timeout`,
		`Post "https://x/v1?alt=sse;key=SECRET": timeout`,
		`Post "https://x/v1?KEY=SECRET": timeout`,
		`Post "https://x/v1?alt=sse&$key=SECRET": timeout`,
		`Post "https://x/v1?%24key=SECRET": timeout`,
		`Post "https://x/v1?access_token=SECRET": timeout`,
		`dial "https://user:SECRET@x/v1": refused`,
		// A key as the user name alone, which net/http sends as Basic
		// authorization (and Credentials fingerprints) as well.
		`Post "https://SECRET@x/v1/chat/completions": refused`,
	} {
		err := redactError(errors.New(msg))
		assert.NotContains(t, err.Error(), "SECRET", msg)
		assert.Contains(t, err.Error(), "REDACTED", msg)
	}
	plain := errors.New(`Post "https://x/v1?alt=sse&monkey=1": timeout`)
	assert.Same(t, plain, redactError(plain), "nothing to redact: the same error")
}

// Issue 10, item 7: tags from an X-Aigateway-Metadata header are bounded
// (every tag is a ledger group, a span attribute, a record field); the
// application's own WithMetadata tags are not.
func TestHeaderMetadataIsBounded(t *testing.T) {
	many := func(n int) string {
		var b strings.Builder
		b.WriteByte('{')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"k%d":"v"`, i)
		}
		return b.String() + "}"
	}
	cases := []struct {
		name, header string
		ok           bool
	}{
		{"16 tags", many(MaxHeaderMetadataKeys), true},
		{"17 tags", many(MaxHeaderMetadataKeys + 1), false},
		{"a long name", `{"` + strings.Repeat("k", MaxHeaderMetadataKeyBytes+1) + `":"v"}`, false},
		{"a name with a space", `{"user id":"v"}`, false},
		{"an empty name", `{"":"v"}`, false},
		{"a long value", `{"k":"` + strings.Repeat("v", MaxHeaderMetadataValueBytes+1) + `"}`, false},
		{"names as they are used", `{"user":"u-1","team.name":"a","feature-x":"b","trace_id":"c"}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sent := 0
			gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
				sent++
				return jsonResponse(r, 200, chatJSON), nil
			}))
			req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody)
			req.Header.Set(HeaderMetadata, tc.header)
			resp, err := gw.RoundTrip(req)
			require.NoError(t, err)
			body := readAllString(t, resp.Body)
			resp.Body.Close()
			if tc.ok {
				assert.Equal(t, 200, resp.StatusCode)
				return
			}
			assert.Equal(t, 400, resp.StatusCode)
			assert.Contains(t, body, HeaderMetadata)
			assert.Zero(t, sent)
		})
	}
	t.Run("WithMetadata is the application's own", func(t *testing.T) {
		ctx := context.Background()
		for i := range 40 {
			ctx = WithMetadata(ctx, fmt.Sprintf("key %d", i), strings.Repeat("v", 1000))
		}
		resp, err := mustNew(t, okUpstream()).RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
	})
}

// Issue 10, item 9: a compressed answer that inflates without end (a
// compression bomb) is passed on unread past a bound, not inflated to its
// end; and an answer the stack did not read (past that bound, or in a
// coding it cannot inflate) is not judged by what it could not see: it is
// neither malformed nor a cut stream (the bomb had made a well-formed JSON
// answer ErrMalformedResponse and a whole stream ErrIncompleteStream, and
// so had an answer in br). Its usage is unknown, and it is not cached.
func TestAnswersNotReadAreNotJudged(t *testing.T) {
	defer func(n int) { maxInflatedBytes = n }(maxInflatedBytes)
	maxInflatedBytes = 1 << 20
	gzipped := func(parts ...string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		for _, p := range parts {
			zw.Write([]byte(p))
		}
		zw.Close()
		return b.Bytes()
	}
	pad := strings.Repeat("a", 8<<20)
	var events strings.Builder
	events.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}` + "\n\n")
	for events.Len() < 4<<20 {
		events.WriteString(chunk(strings.Repeat("a", 1000)))
	}
	events.WriteString(usageChunk + doneEvent)
	const streamBody = `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[]}`
	for _, tc := range []struct {
		name, encoding, contentType, request string
		body                                 []byte
	}{
		{"a JSON bomb", "gzip", "application/json", chatBody,
			gzipped(`{"id":"x","pad":"`, pad, `","usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)},
		{"a stream bomb", "gzip", "text/event-stream", streamBody, gzipped(events.String())},
		{"a stream in br", "br", "text/event-stream", streamBody, []byte(usageChunk + doneEvent)},
		{"a JSON answer in br", "br", "application/json", chatBody, []byte(chatJSON)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
				resp := jsonResponse(r, 200, "")
				resp.Header.Set("Content-Type", tc.contentType)
				resp.Header.Set("Content-Encoding", tc.encoding)
				resp.Body = io.NopCloser(bytes.NewReader(tc.body))
				resp.ContentLength = int64(len(tc.body))
				return resp, nil
			}))
			ctx, tr := Track(context.Background())
			req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", tc.request).WithContext(ctx)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := gw.RoundTrip(req)
			require.NoError(t, err)
			n, err := io.Copy(io.Discard, resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, int64(len(tc.body)), n, "the caller gets the bytes as they came")
			r := tr.Last().Result()
			assert.NoError(t, r.Err, "not read, so not judged")
			assert.False(t, r.UsageKnown, "the usage at its end is not read")
			require.Len(t, r.Upstreams, 1)
			assert.False(t, r.Upstreams[0].Complete, "so it is not stored")
		})
	}
}

// A model name from the request body reaches metric attributes, span names
// and records: an absurd one is cut for those uses.
func TestLongModelNameIsCut(t *testing.T) {
	var call *Call
	var got capture
	gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		call = CallFrom(r.Context())
		got.record(r)
		return jsonResponse(r, 200, chatJSON), nil
	}))
	long := strings.Repeat("m", 10<<10)
	body := `{"model":"` + long + `","messages":[]}`
	resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", body))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, long[:MaxModelBytes], call.Model())
	_, sent := got.last()
	assert.Equal(t, body, string(sent), "the request goes upstream as it came")

	// Cut between two letters, never inside one: an attribute that is not
	// UTF-8 makes an OTLP exporter fail the whole batch it is in.
	for _, model := range []string{
		strings.Repeat("m", MaxModelBytes-1) + "é" + "tail",
		strings.Repeat("m", MaxModelBytes-2) + "€" + "tail",
		strings.Repeat("é", 1000),
	} {
		resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", `{"model":"`+model+`","messages":[]}`))
		require.NoError(t, err)
		resp.Body.Close()
		assert.True(t, utf8.ValidString(call.Model()), "%q", call.Model())
		assert.LessOrEqual(t, len(call.Model()), MaxModelBytes)
		assert.Greater(t, len(call.Model()), MaxModelBytes-utf8.UTFMax)
		assert.True(t, strings.HasPrefix(model, call.Model()))
	}
}

// Issue 10, item 7: a service that forwards its own clients' requests can
// stop their headers from steering the stack: stripped, not read.
func TestIgnoreControlHeaders(t *testing.T) {
	var up *http.Request
	var call *Call
	gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		up, call = r, CallFrom(r.Context())
		return jsonResponse(r, 200, chatJSON), nil
	}))
	gw.IgnoreControlHeaders = true
	ctx := WithMetadata(context.Background(), "team", "app-set")
	req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx)
	req.Header.Set(HeaderMetadata, `{"user":"spoofed","team":"spoofed"}`)
	req.Header.Set(HeaderCacheKey, "chosen-by-the-client")
	req.Header.Set(HeaderCacheTTL, "not a number") // not even parsed
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := gw.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, Controls{}, call.Controls())
	assert.Equal(t, map[string]string{"team": "app-set"}, call.MetadataMap())
	for k := range up.Header {
		assert.False(t, strings.HasPrefix(strings.ToLower(k), "x-aigateway"), "%s reached the upstream", k)
	}
}

// canonicalKey is the cheap check prepare runs on every header name: it
// never calls a name canonical that textproto would rewrite, and it agrees
// with textproto on every valid name.
func TestCanonicalKey(t *testing.T) {
	for _, k := range []string{"Authorization", "X-Api-Key", "Content-Type", "X-Aigateway-Cache-Ttl", "authorization",
		"X-API-KEY", "content-type", "X-goog-api-key", "Www-Authenticate", "X--Y", "-X", "", "A1-B2", "a1-b2", "X_y", "x_Y",
		"Content Type", "ÄB"} {
		canonical := textproto.CanonicalMIMEHeaderKey(k) == k
		if canonicalKey(k) {
			assert.True(t, canonical, k)
		}
		if !strings.ContainsAny(k, " Ä") {
			assert.Equal(t, canonical, canonicalKey(k), k)
		}
	}
}

// Content-Encoding names the codings applied in order, in one line or
// several, "identity" among them changing nothing (internal/coding tests
// the reading): "identity" then "gzip" is a gzip body, which the stack read
// as plain JSON and called malformed.
func TestContentEncodingInEveryLine(t *testing.T) {
	t.Run("an answer in identity, then gzip, is read", func(t *testing.T) {
		var zipped bytes.Buffer
		zw := gzip.NewWriter(&zipped)
		zw.Write([]byte(chatJSON))
		zw.Close()
		gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp := jsonResponse(r, 200, "")
			resp.Header["Content-Encoding"] = []string{"identity", "gzip"}
			resp.Body = io.NopCloser(bytes.NewReader(zipped.Bytes()))
			resp.ContentLength = int64(zipped.Len())
			return resp, nil
		}))
		ctx, tr := Track(context.Background())
		req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := gw.RoundTrip(req)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		r := tr.Last().Result()
		assert.NoError(t, r.Err)
		assert.True(t, r.UsageKnown)
	})
}

// Strings the stack takes from request and answer content reach metric
// and span attributes, which an OTLP exporter refuses whole batches over
// when they are not valid UTF-8: they are read as encoding/json reads them.
func TestStringsFromContentAreValidUTF8(t *testing.T) {
	gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return jsonResponse(r, 200, "{\"id\":\"chatcmpl-\xff\",\"model\":\"gpt-4o\xc3\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"st\xfeop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}"), nil
	}))
	ctx, tr := Track(context.Background())
	resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", "{\"model\":\"gpt\xff-4o\",\"messages\":[]}").WithContext(ctx))
	require.NoError(t, err)
	readAllString(t, resp.Body)
	resp.Body.Close()
	c := tr.Last()
	r := c.Result()
	assert.Equal(t, "gpt\uFFFD-4o", c.Model())
	assert.Equal(t, "gpt-4o\uFFFD", r.ResponseModel)
	assert.Equal(t, "chatcmpl-\uFFFD", r.ResponseID)
	assert.Equal(t, []string{"st\uFFFDop"}, r.FinishReasons)
}
