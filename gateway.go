package aigateway

import (
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/aigateway-go/aigateway/pricing"
)

// Middleware is one layer of the stack.
type Middleware interface {
	// Wrap returns the layer's RoundTripper around next. New calls it once.
	Wrap(next http.RoundTripper) http.RoundTripper
}

// MiddlewareFunc adapts a function to Middleware.
type MiddlewareFunc func(next http.RoundTripper) http.RoundTripper

// Wrap calls f(next).
func (f MiddlewareFunc) Wrap(next http.RoundTripper) http.RoundTripper { return f(next) }

// Gateway is a stack of layers around a base transport. It is an
// http.RoundTripper, safe for concurrent use.
type Gateway struct {
	// MaxRequestBytes bounds the request bodies the Gateway reads; a larger
	// recognised body gets a provider-shaped 413 and is not sent. Zero means
	// DefaultMaxRequestBytes. Set it before the first request.
	MaxRequestBytes int64
	// IgnoreControlHeaders makes the Gateway strip the X-Aigateway-*
	// request headers without reading them, and ignore a request's
	// Cache-Control: only the controls and tags the application puts in
	// the context (WithControls, WithMetadata ...) count. Set it when the
	// requests come from callers the application does not trust with
	// them, as a service that forwards its own clients' requests does: a
	// header could otherwise pick a cache key, refresh the cache, or tag
	// the call with the metadata a rate limit is keyed by. Set it before
	// the first request.
	IgnoreControlHeaders bool
	// Prices prices every answer of the calls that go through the
	// Gateway, once, where the stack reads it (Upstream.Cost, Result.Cost):
	// the meter reports that price and the budgets charge it. Nil means
	// pricing.Default(), the embedded table. A call prepared further out (a
	// Layer or a Gateway around this one) takes this table when it enters,
	// unless nil: the Gateway that sends a call prices it. Layers used
	// without a Gateway price with the embedded table. Set it before the
	// first request.
	Prices *pricing.Table

	base      http.RoundTripper
	chain     http.RoundTripper
	layers    []Middleware
	client    *http.Client
	closeOnce sync.Once
	closeErr  error
}

// New stacks layers around base, the first listed outermost, and calls each
// layer's Wrap once, here. A nil base means http.DefaultTransport; nil layers
// are skipped.
//
// It first asks every layer that can be misconfigured for its configuration
// error (a layer with an Err() error method: the cache, the rate limiter,
// the meter, the fallback router, whose error includes a missing APIKeyEnv
// variable and its targets' layers), and returns them joined, each naming
// its layer and field, with no Gateway. The Gateway takes the layers: when
// New fails, it closes those that have a Close method.
//
// Put the metering layer first so it sees every call, cache hits included.
func New(base http.RoundTripper, layers ...Middleware) (*Gateway, error) {
	var errs []error
	for _, l := range layers {
		if c, ok := l.(interface{ Err() error }); ok {
			if err := c.Err(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		closeLayers(layers)
		return nil, errors.Join(errs...)
	}
	if base == nil {
		base = http.DefaultTransport
	}
	g := &Gateway{base: base}
	var rt http.RoundTripper = &transport{base: base, mark: new(layer)}
	for i := len(layers) - 1; i >= 0; i-- {
		if layers[i] == nil {
			continue
		}
		rt = layers[i].Wrap(rt)
		g.layers = append(g.layers, layers[i])
	}
	g.chain = rt
	g.client = &http.Client{Transport: g}
	return g, nil
}

// Client returns an http.Client that sends every request through the
// Gateway, for openai.NewClient(option.WithHTTPClient(gw.Client())) and the
// like. It has no Timeout: bound calls with their contexts.
func (g *Gateway) Client() *http.Client { return g.client }

// RoundTrip sends req through the stack. A recognised request gets a Call
// (see CallFrom); its response body is the caller's to close, and the Call
// completes when the caller reads it to the end, closes it, or the request's
// context ends. Unrecognised requests go through the layers untouched.
func (g *Gateway) RoundTrip(req *http.Request) (*http.Response, error) {
	return g.serve(req, nil)
}

// SDKMiddleware has the shape openai-go's and anthropic-sdk-go's
// option.WithMiddleware take, without importing either SDK:
//
//	client := openai.NewClient(option.WithMiddleware(gw.SDKMiddleware))
//
// Attempts to the SDK's own origin go through next; attempts another layer
// sends elsewhere (a fallback target) go through the Gateway's base transport,
// since the SDK's next refuses other origins.
func (g *Gateway) SDKMiddleware(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	return g.serve(req, next)
}

func (g *Gateway) serve(req *http.Request, sdkNext func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	if call := CallFrom(req.Context()); call != nil { // already prepared by a stack further out
		if g.Prices != nil {
			call.adoptPrices(g.Prices)
		}
		return g.chain.RoundTrip(req)
	}
	call, out, err := prepare(req, g.MaxRequestBytes, g.IgnoreControlHeaders, g.Prices)
	switch {
	case err != nil:
		return nil, err
	case call == nil && sdkNext != nil:
		return sdkNext(req)
	case call == nil:
		return g.chain.RoundTrip(req)
	}
	if sdkNext != nil {
		call.sdkNext = sdkNext
		call.sdkOrigin = req.URL.Scheme + "://" + req.URL.Host
	}
	resp, err := g.chain.RoundTrip(out)
	return finishOwned(call, out, resp, err)
}

// Close closes every layer that has a Close method, once. Layers must not
// be used after.
func (g *Gateway) Close() error {
	g.closeOnce.Do(func() { g.closeErr = closeLayers(g.layers) })
	return g.closeErr
}

// closeLayers closes every layer that has a Close method, and returns
// their errors joined.
func closeLayers(layers []Middleware) error {
	var errs []error
	for _, l := range layers {
		switch c := l.(type) {
		case io.Closer:
			errs = append(errs, c.Close())
		case interface{ Close() }:
			c.Close()
		}
	}
	return errors.Join(errs...)
}
