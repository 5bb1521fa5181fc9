package sdktest

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	openaiopt "github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// google.golang.org/genai imports OpenCensus, whose init starts a
		// worker for the life of the process: not ours to stop.
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"))
}

const (
	apiKey = "sk-sdktest-secret"

	gptModel         = "gpt-4o-mini"
	gptDated         = "gpt-4o-mini-2024-07-18"
	embeddingModel   = "text-embedding-3-small"
	claudeModel      = "claude-haiku-4-5"
	claudeDated      = "claude-haiku-4-5-20251001"
	prompt           = "Say hello"
	replyWords       = 3 // llmtest.DefaultReply is "Hello", " from", " llmtest."
	gatewayHeaderPfx = "x-aigateway-"
)

// datedModel answers with a dated model id, as the real APIs do, so that the
// tests can tell the requested model from the reported one.
func datedModel(requested string) string {
	switch requested {
	case gptModel:
		return gptDated
	case claudeModel:
		return claudeDated
	}
	return requested
}

// plainUsage has no cache and no reasoning: every provider reports it alike,
// and the Call's normalised usage equals it field for field.
var plainUsage = llmtest.Usage{InputTokens: 11, OutputTokens: replyWords}

// wiring is one way to put a Gateway under an SDK client.
type wiring int

const (
	viaHTTPClient wiring = iota // option.WithHTTPClient(gw.Client())
	viaMiddleware               // option.WithMiddleware(gw.SDKMiddleware)
)

var wirings = []wiring{viaHTTPClient, viaMiddleware}

func (w wiring) String() string {
	if w == viaMiddleware {
		return "WithMiddleware"
	}
	return "WithHTTPClient"
}

// upstreamKind says how the fake upstream is reached.
type upstreamKind int

const (
	overSocket upstreamKind = iota // llmtest.NewServer
	inMemory                       // llmtest.NewTransport
)

var upstreamKinds = []upstreamKind{overSocket, inMemory}

func (k upstreamKind) String() string {
	if k == inMemory {
		return "Transport"
	}
	return "Server"
}

// fixture is a fake upstream and a Gateway in front of it.
type fixture struct {
	*llmtest.Fake
	url string
	gw  *aigateway.Gateway
	// sdkClient is the client the SDK's own next uses in SDKMiddleware mode:
	// nil over a socket (the SDK's default client), the in-memory transport's
	// client otherwise.
	sdkClient *http.Client
}

// newFixture builds a Gateway with no layers.
func newFixture(t *testing.T, kind upstreamKind, opts ...llmtest.Option) *fixture {
	t.Helper()
	return newStackFixture(t, kind, nil, opts...)
}

// newStackFixture builds a Gateway with layers, outermost first; the
// Gateway's Close closes them when the test ends.
func newStackFixture(t *testing.T, kind upstreamKind, layers []aigateway.Middleware, opts ...llmtest.Option) *fixture {
	t.Helper()
	opts = append([]llmtest.Option{llmtest.WithAPIKey(apiKey), llmtest.WithResponseModel(datedModel)}, opts...)
	f := &fixture{}
	var base http.RoundTripper
	switch kind {
	case inMemory:
		tr := llmtest.NewTransport(opts...)
		f.Fake, f.url, base, f.sdkClient = tr.Fake, tr.URL, tr, tr.Client()
		t.Cleanup(func() {
			// Even a body the application abandons: the stack closes it
			// when the request's context ends.
			assert.Zero(t, tr.OpenBodies(), "every upstream body is closed")
		})
	default:
		srv := llmtest.NewServer(opts...)
		t.Cleanup(srv.Close)
		f.Fake, f.url, base = srv.Fake, srv.URL, srv.Client().Transport
	}
	f.gw = mustNew(t, base, layers...)
	t.Cleanup(func() { assert.NoError(t, f.gw.Close()) })
	return f
}

// openai returns an openai-go client wired to the Gateway. The extra options
// come before the wiring, so an extra middleware is outside the Gateway's.
func (f *fixture) openai(w wiring, extra ...openaiopt.RequestOption) openai.Client {
	opts := []openaiopt.RequestOption{
		openaiopt.WithBaseURL(f.url + "/v1"),
		openaiopt.WithAPIKey(apiKey),
	}
	opts = append(opts, extra...)
	return openai.NewClient(append(opts, f.openaiWiring(w)...)...)
}

func (f *fixture) openaiWiring(w wiring) []openaiopt.RequestOption {
	if w == viaHTTPClient {
		return []openaiopt.RequestOption{openaiopt.WithHTTPClient(f.gw.Client())}
	}
	var opts []openaiopt.RequestOption
	if f.sdkClient != nil {
		opts = append(opts, openaiopt.WithHTTPClient(f.sdkClient))
	}
	return append(opts, openaiopt.WithMiddleware(f.gw.SDKMiddleware))
}

// anthropic returns an anthropic-sdk-go client wired to the Gateway, without
// the SDK's own OpenTelemetry spans (on by default; an extra option can turn
// them back on). The extra options come before the wiring, so an extra
// middleware is outside the Gateway's.
func (f *fixture) anthropic(w wiring, extra ...anthropicopt.RequestOption) anthropic.Client {
	opts := []anthropicopt.RequestOption{
		anthropicopt.WithBaseURL(f.url),
		anthropicopt.WithAPIKey(apiKey),
		anthropicopt.WithoutOpenTelemetry(),
	}
	opts = append(opts, extra...)
	return anthropic.NewClient(append(opts, f.anthropicWiring(w)...)...)
}

func (f *fixture) anthropicWiring(w wiring) []anthropicopt.RequestOption {
	if w == viaHTTPClient {
		return []anthropicopt.RequestOption{anthropicopt.WithHTTPClient(f.gw.Client())}
	}
	var opts []anthropicopt.RequestOption
	if f.sdkClient != nil {
		opts = append(opts, anthropicopt.WithHTTPClient(f.sdkClient))
	}
	return append(opts, anthropicopt.WithMiddleware(f.gw.SDKMiddleware))
}

// lastRequest returns the latest request the fake received.
func (f *fixture) lastRequest(t *testing.T) llmtest.Request {
	t.Helper()
	r, ok := f.LastRequest()
	require.True(t, ok, "the fake received a request")
	return r
}

// attemptCounter is an SDK middleware, put outermost, that counts the
// attempts the SDK makes, including those the stack answers itself.
type attemptCounter struct{ n atomic.Int32 }

func (c *attemptCounter) middleware(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	c.n.Add(1)
	return next(req)
}

func (c *attemptCounter) count() int { return int(c.n.Load()) }

// onlyCall returns the one Call tr recorded.
func onlyCall(t *testing.T, tr *aigateway.Tracker) *aigateway.Call {
	t.Helper()
	calls := tr.Calls()
	require.Len(t, calls, 1, "one Call per request")
	return calls[0]
}

// requireDone fails unless c is already complete: the SDK call (or stream
// loop) that just returned must have completed it, with nothing left to wait
// for.
func requireDone(t *testing.T, c *aigateway.Call) {
	t.Helper()
	select {
	case <-c.Done():
	default:
		require.Fail(t, "the Call is not complete", "result so far: %+v", c.Result())
	}
}

func requireNotDone(t *testing.T, c *aigateway.Call) {
	t.Helper()
	select {
	case <-c.Done():
		require.Fail(t, "the Call completed too early", "result: %+v", c.Result())
	default:
	}
}

// callWant is what a successful Call must say.
type callWant struct {
	provider, operation, model, responseModel string
	stream                                    bool
	usage                                     provider.Usage
}

// assertSuccess checks a complete, successful Call.
func assertSuccess(t *testing.T, c *aigateway.Call, want callWant) {
	t.Helper()
	assert.Equal(t, want.provider, c.Provider(), "Provider")
	assert.Equal(t, want.operation, c.Operation(), "Operation")
	assert.Equal(t, want.model, c.Model(), "Model")
	assert.Equal(t, want.stream, c.Stream(), "Stream")
	r := c.Result()
	assert.NoError(t, r.Err, "Err")
	assert.Equal(t, http.StatusOK, r.Status, "Status")
	assert.Equal(t, 1, r.Attempts, "Attempts")
	assert.True(t, r.UsageKnown, "UsageKnown")
	assert.Equal(t, want.usage, r.Usage, "Usage")
	assert.Equal(t, want.responseModel, r.ResponseModel, "ResponseModel")
	assert.Positive(t, r.TimeToFirstByte, "TimeToFirstByte")
	assert.Positive(t, r.Duration, "Duration")
	if want.stream {
		assert.Positive(t, r.TimeToFirstChunk, "TimeToFirstChunk")
	}
}

// assertNoGatewayHeaders checks that no X-Aigateway-* header reached the fake.
func assertNoGatewayHeaders(t *testing.T, h http.Header) {
	t.Helper()
	for k := range h {
		assert.False(t, strings.HasPrefix(strings.ToLower(k), gatewayHeaderPfx), "gateway header %s reached the upstream", k)
	}
}

func track() (context.Context, *aigateway.Tracker) { return aigateway.Track(context.Background()) }

func chatParams() openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    gptModel,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
	}
}

func messageParams() anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     claudeModel,
		MaxTokens: 256,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(prompt))},
	}
}

// mustNew builds a Gateway, failing the test on a configuration error.
func mustNew(tb testing.TB, base http.RoundTripper, layers ...aigateway.Middleware) *aigateway.Gateway {
	tb.Helper()
	g, err := aigateway.New(base, layers...)
	require.NoError(tb, err)
	return g
}
