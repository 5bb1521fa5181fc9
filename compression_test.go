package aigateway_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/provider"
)

const (
	gzChatJSON = `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}`
	gzStream   = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],"usage":null}` + "\n\n" +
		`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}],"usage":null}` + "\n\n" +
		`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}` + "\n\n" +
		"data: [DONE]\n\n"
)

// compressingServer answers chat calls in gzip or deflate when the request
// asks for it, flushing a stream event by event, and remembers the
// Accept-Encoding each request came with.
type compressingServer struct {
	*httptest.Server
	mu      sync.Mutex
	accepts []string
	corrupt bool
}

func newCompressingServer(t *testing.T) *compressingServer {
	s := &compressingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.accepts = append(s.accepts, r.Header.Get("Accept-Encoding"))
		corrupt := s.corrupt
		s.mu.Unlock()
		stream := bytes.Contains(body, []byte(`"stream":true`))
		var out io.Writer = w
		var flush func()
		ae := r.Header.Get("Accept-Encoding")
		switch {
		case strings.Contains(ae, "gzip"):
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			defer zw.Close()
			out, flush = zw, func() { zw.Flush() }
		case strings.Contains(ae, "deflate"):
			w.Header().Set("Content-Encoding", "deflate")
			zw := zlib.NewWriter(w)
			defer zw.Close()
			out, flush = zw, func() { zw.Flush() }
		}
		if corrupt {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte("\x1f\x8b\x08\x00garbage that is not deflate"))
			return
		}
		if !stream {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(out, gzChatJSON)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range strings.SplitAfter(gzStream, "\n\n") {
			io.WriteString(out, ev)
			if flush != nil {
				flush()
			}
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *compressingServer) lastAccept() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepts[len(s.accepts)-1]
}

// Issue 10, item 9: a caller that asks for a compressed answer itself gets
// the bytes it asked for, and the stack still reads them: usage known, the
// stream complete, the answer cached and replayed compressed.
func TestCompressedAnswersAreReadAndPassedAsTheyCame(t *testing.T) {
	cases := []struct {
		name, accept, body string
		encoding           string // of the answer the caller gets
		upstreamAccept     string // what the upstream was asked for
		usage              provider.Usage
	}{
		{"JSON in gzip", "gzip", `{"model":"gpt-4o-mini","messages":[]}`, "gzip", "gzip", provider.Usage{InputTokens: 12, OutputTokens: 3}},
		{"JSON in deflate", "deflate", `{"model":"gpt-4o-mini","messages":[]}`, "deflate", "deflate", provider.Usage{InputTokens: 12, OutputTokens: 3}},
		{"a stream in gzip, usage asked by the caller", "gzip", `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[]}`, "gzip", "gzip", provider.Usage{InputTokens: 12, OutputTokens: 2}},
		{"br and zstd are not asked of the upstream", "br, zstd, gzip;q=0.5", `{"model":"gpt-4o-mini","messages":[]}`, "gzip", "gzip;q=0.5", provider.Usage{InputTokens: 12, OutputTokens: 3}},
		// The stack drops the usage chunk it asked for: it must read the
		// stream, so net/http negotiates and inflates it.
		{"a stream whose usage the stack asked for", "gzip", `{"model":"gpt-4o-mini","stream":true,"messages":[]}`, "", "gzip", provider.Usage{InputTokens: 12, OutputTokens: 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newCompressingServer(t)
			gw := mustNew(t, srv.Client().Transport, cache.New(cache.Config{}))
			defer gw.Close()
			get := func() (*http.Response, []byte, aigateway.Result) {
				ctx, tr := aigateway.Track(context.Background())
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(tc.body))
				require.NoError(t, err)
				req.Header.Set("Accept-Encoding", tc.accept)
				resp, err := gw.RoundTrip(req)
				require.NoError(t, err)
				raw, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				resp.Body.Close()
				<-tr.Last().Done()
				return resp, raw, tr.Last().Result()
			}
			resp, raw, r := get()
			assert.Equal(t, tc.encoding, resp.Header.Get("Content-Encoding"))
			plain := inflate(t, tc.encoding, raw)
			if strings.Contains(tc.body, `"stream":true`) {
				assert.Contains(t, plain, "data: [DONE]")
			} else {
				assert.JSONEq(t, gzChatJSON, plain)
			}
			if tc.encoding == "" {
				assert.NotContains(t, plain, `"choices":[]`, "the usage chunk the stack asked for is dropped")
			}
			assert.Equal(t, tc.upstreamAccept, srv.lastAccept())
			assert.NoError(t, r.Err)
			assert.True(t, r.UsageKnown)
			assert.Equal(t, tc.usage, r.Usage)
			assert.Equal(t, aigateway.CacheMiss, r.CacheStatus)

			resp2, raw2, r2 := get()
			assert.Equal(t, aigateway.CacheHit, r2.CacheStatus, "a complete answer is cached")
			assert.Equal(t, tc.encoding, resp2.Header.Get("Content-Encoding"))
			assert.Equal(t, plain, inflate(t, tc.encoding, raw2), "and replayed as it came")
			assert.NoError(t, r2.Err)
		})
	}
	t.Run("a body that does not inflate is not cached", func(t *testing.T) {
		srv := newCompressingServer(t)
		srv.corrupt = true
		c := cache.New(cache.Config{})
		gw := mustNew(t, srv.Client().Transport, c)
		defer gw.Close()
		for range 2 {
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","messages":[]}`))
			require.NoError(t, err)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := gw.RoundTrip(req)
			require.NoError(t, err)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		assert.Equal(t, int64(0), c.Stats().Hits)
	})
}

func inflate(t *testing.T, encoding string, b []byte) string {
	t.Helper()
	var r io.Reader = bytes.NewReader(b)
	var err error
	switch encoding {
	case "gzip":
		r, err = gzip.NewReader(r)
	case "deflate":
		r, err = zlib.NewReader(r)
	}
	require.NoError(t, err)
	out, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(out)
}

// The Accept-Encoding that goes upstream names only codings the stack can
// inflate, however the caller wrote it: a coding in a second header line
// went upstream as it was (and an answer in it passed unread: usage
// unknown, never cached).
func TestAcceptEncodingInEveryLineIsRewritten(t *testing.T) {
	cases := []struct {
		name   string
		lines  []string
		stream bool
		want   []string
	}{
		{"one line", []string{"gzip, br"}, false, []string{"gzip"}},
		{"br in a second line", []string{"gzip", "br"}, false, []string{"gzip"}},
		{"two lines the stack can read", []string{"gzip", "deflate"}, false, []string{"gzip", "deflate"}},
		{"nothing the stack can read", []string{"br", "zstd"}, false, nil},
		{"a stream whose usage chunk the stack drops", []string{"gzip", "deflate"}, true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			gw := mustNew(t, rtFunc(func(r *http.Request) (*http.Response, error) {
				got = r.Header.Values("Accept-Encoding")
				io.Copy(io.Discard, r.Body)
				return &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {"application/json"}},
					Body: io.NopCloser(strings.NewReader(`{"error":{"message":"no"}}`)), Request: r}, nil
			}))
			body := `{"model":"gpt-4o-mini","messages":[]}`
			if tc.stream {
				body = `{"model":"gpt-4o-mini","stream":true,"messages":[]}`
			}
			req, err := http.NewRequest(http.MethodPost, "https://api.openai.com/v1/chat/completions", strings.NewReader(body))
			require.NoError(t, err)
			req.Header["Accept-Encoding"] = tc.lines
			before := req.Header.Clone()
			resp, err := gw.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tc.want, got)
			assert.Equal(t, before, req.Header, "the caller's map is untouched")
		})
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
