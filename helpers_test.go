package aigateway

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// countingBody counts its Close calls.
type countingBody struct {
	io.Reader
	closes atomic.Int32
}

func (b *countingBody) Close() error { b.closes.Add(1); return nil }

func newCountingBody(s string) *countingBody { return &countingBody{Reader: strings.NewReader(s)} }

// capture records what reached the upstream.
type capture struct {
	mu     sync.Mutex
	reqs   []*http.Request
	bodies [][]byte
}

func (c *capture) record(r *http.Request) []byte {
	var b []byte
	if r.Body != nil {
		b, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	c.mu.Lock()
	c.reqs = append(c.reqs, r)
	c.bodies = append(c.bodies, b)
	c.mu.Unlock()
	return b
}

func (c *capture) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.reqs)
}

func (c *capture) last() (*http.Request, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reqs[len(c.reqs)-1], c.bodies[len(c.bodies)-1]
}

func jsonResponse(req *http.Request, status int, body string) *http.Response {
	return &http.Response{
		StatusCode:    status,
		Status:        http.StatusText(status),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

func sseResponse(req *http.Request, body io.ReadCloser) *http.Response {
	return &http.Response{
		StatusCode:    200,
		Status:        "200 OK",
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"text/event-stream; charset=utf-8"}},
		Body:          body,
		ContentLength: -1,
		Request:       req,
	}
}

const chatBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}`
const chatStreamBody = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello"}]}`

const chatJSON = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":0}}}`

func chunk(content string) string {
	return `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"` + content + `"},"finish_reason":null}],"usage":null}` + "\n\n"
}

const usageChunk = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}` + "\n\n"
const doneEvent = "data: [DONE]\n\n"

func newChatRequest(t testing.TB, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-test-secret")
	return req
}

// gatedBody hands out its chunks one at a time: a chunk only after the test
// releases it.
type gatedBody struct {
	chunks  []string
	release chan struct{}
	pending []byte
	closed  chan struct{}
	once    sync.Once
}

func newGatedBody(chunks ...string) *gatedBody {
	return &gatedBody{chunks: chunks, release: make(chan struct{}, len(chunks)), closed: make(chan struct{})}
}

func (g *gatedBody) Read(p []byte) (int, error) {
	if len(g.pending) == 0 {
		if len(g.chunks) == 0 {
			return 0, io.EOF
		}
		select {
		case <-g.release:
		case <-g.closed:
			return 0, io.ErrClosedPipe
		}
		g.pending, g.chunks = []byte(g.chunks[0]), g.chunks[1:]
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	return n, nil
}

func (g *gatedBody) Close() error {
	g.once.Do(func() { close(g.closed) })
	return nil
}

func readAllString(t testing.TB, r io.Reader) string {
	t.Helper()
	var buf bytes.Buffer
	_, err := io.Copy(&buf, r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return buf.String()
}

// mustNew builds a Gateway, failing the test on a configuration error.
func mustNew(tb testing.TB, base http.RoundTripper, layers ...Middleware) *Gateway {
	tb.Helper()
	g, err := New(base, layers...)
	if err != nil {
		tb.Fatalf("aigateway.New: %v", err)
	}
	return g
}
