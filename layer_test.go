package aigateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/pricing"
	"github.com/aigateway-go/aigateway/provider"
)

// passLayer is a layer that only passes calls on, counting them.
type passLayer struct{ calls atomic.Int32 }

func (p *passLayer) Wrap(next http.RoundTripper) http.RoundTripper {
	return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
		p.calls.Add(1)
		return next.RoundTrip(req)
	})
}

// retryLayer sends every call upstream twice, discarding the first answer,
// like a fallback layer would after a failure.
type retryLayer struct{}

func (retryLayer) Wrap(next http.RoundTripper) http.RoundTripper {
	return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
		first, err := next.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, first.Body)
		first.Body.Close()
		second := req.Clone(req.Context())
		second.Body, _ = req.GetBody()
		return next.RoundTrip(second)
	})
}

// refuseLayer answers every call itself.
type refuseLayer struct{}

func (refuseLayer) Wrap(next http.RoundTripper) http.RoundTripper {
	return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
		return provider.NewErrorResponse(req, call.Format(), provider.ErrorSpec{Status: 429, Message: "local limit"}), nil
	})
}

func okUpstream() http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		return jsonResponse(r, 200, chatJSON), nil
	})
}

func TestUsageScannedOncePerUpstreamResponse(t *testing.T) {
	one := provider.Usage{InputTokens: 12, OutputTokens: 3, CacheReadTokens: 4}
	two := one.Add(one)
	cases := []struct {
		name     string
		rt       func() http.RoundTripper
		usage    provider.Usage
		attempts int
	}{
		{"layer alone", func() http.RoundTripper { return (&passLayer{}).Wrap(okUpstream()) }, one, 1},
		{"layers stacked by hand", func() http.RoundTripper {
			return (&passLayer{}).Wrap((&passLayer{}).Wrap((&passLayer{}).Wrap(okUpstream())))
		}, one, 1},
		{"hand-stacked with a foreign middleware between", func() http.RoundTripper {
			foreign := MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
				return roundTripFunc(func(r *http.Request) (*http.Response, error) { return next.RoundTrip(r) })
			})
			return (&passLayer{}).Wrap(foreign.Wrap((&passLayer{}).Wrap(okUpstream())))
		}, one, 1},
		{"gateway with layers", func() http.RoundTripper { return mustNew(t, okUpstream(), &passLayer{}, &passLayer{}) }, one, 1},
		{"retrying layer alone counts both attempts", func() http.RoundTripper { return retryLayer{}.Wrap(okUpstream()) }, two, 2},
		{"retrying layer under a hand-stacked outer layer", func() http.RoundTripper {
			return (&passLayer{}).Wrap(retryLayer{}.Wrap((&passLayer{}).Wrap(okUpstream())))
		}, two, 2},
		{"retrying layer in a gateway", func() http.RoundTripper { return mustNew(t, okUpstream(), &passLayer{}, retryLayer{}, &passLayer{}) }, two, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, tr := Track(context.Background())
			resp, err := tc.rt().RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
			require.NoError(t, err)
			assert.Equal(t, chatJSON, readAllString(t, resp.Body))
			resp.Body.Close()
			require.Len(t, tr.Calls(), 1, "one call, prepared once")
			r := tr.Last().Result()
			assert.Equal(t, tc.usage, r.Usage)
			assert.Equal(t, tc.attempts, r.Attempts)
		})
	}
}

func TestLocalAnswerIsNotScannedAsUpstream(t *testing.T) {
	for name, rt := range map[string]http.RoundTripper{
		"alone":   (&passLayer{}).Wrap(refuseLayer{}.Wrap(okUpstream())),
		"gateway": mustNew(t, okUpstream(), &passLayer{}, refuseLayer{}),
	} {
		t.Run(name, func(t *testing.T) {
			ctx, tr := Track(context.Background())
			resp, err := rt.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
			require.NoError(t, err)
			readAllString(t, resp.Body)
			resp.Body.Close()
			r := tr.Last().Result()
			assert.Equal(t, 429, r.Status)
			assert.Equal(t, 0, r.Attempts)
			assert.False(t, r.UsageKnown)
			var perr *provider.Error
			require.True(t, errors.As(r.Err, &perr))
			assert.Equal(t, "local limit", perr.Message, "the error is read from the answer the caller got")
			assert.Equal(t, "rate_limit_exceeded", perr.Code)
		})
	}
}

func TestLayerAloneOversizedAndUnrecognised(t *testing.T) {
	var up capture
	rt := (&passLayer{}).Wrap(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		up.record(r)
		return jsonResponse(r, 200, `{}`), nil
	}))
	big := `{"model":"m","input":"` + strings.Repeat("x", DefaultMaxRequestBytes) + `"}`
	resp, err := rt.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/embeddings", big))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 413, resp.StatusCode)
	assert.Equal(t, 0, up.count())

	get, _ := http.NewRequest(http.MethodGet, "https://api.openai.com/v1/models", nil)
	resp, err = rt.RoundTrip(get)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 1, up.count())
}

func TestSDKMiddlewareRoutesByOrigin(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, chatJSON)
	}))
	defer other.Close()
	// A layer that sends the call to another host, like a fallback target.
	redirect := MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			if call.Metadata("to") != "other" {
				return next.RoundTrip(req)
			}
			out := req.Clone(req.Context())
			out.URL.Scheme, out.URL.Host = "http", strings.TrimPrefix(other.URL, "http://")
			out.Host = ""
			out.Body, _ = req.GetBody()
			return next.RoundTrip(out)
		})
	})
	gw := mustNew(t, other.Client().Transport, redirect)
	var nextCalls atomic.Int32
	sdkNext := func(r *http.Request) (*http.Response, error) {
		nextCalls.Add(1)
		if r.URL.Host != "api.openai.com" {
			return nil, errors.New("sdk next: request to another origin")
		}
		r.Body.Close()
		return jsonResponse(r, 200, chatJSON), nil
	}

	resp, err := gw.SDKMiddleware(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody), sdkNext)
	require.NoError(t, err)
	readAllString(t, resp.Body)
	resp.Body.Close()
	assert.Equal(t, int32(1), nextCalls.Load(), "same origin goes through the SDK's next")

	ctx, tr := Track(WithMetadata(context.Background(), "to", "other"))
	resp, err = gw.SDKMiddleware(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx), sdkNext)
	require.NoError(t, err)
	assert.Equal(t, chatJSON, readAllString(t, resp.Body))
	resp.Body.Close()
	assert.Equal(t, int32(1), nextCalls.Load(), "another origin goes through the base transport")
	assert.Equal(t, int64(12), tr.Last().Result().Usage.InputTokens)

	get, _ := http.NewRequest(http.MethodGet, "https://api.openai.com/v1/models", nil)
	_, err = gw.SDKMiddleware(get, func(r *http.Request) (*http.Response, error) {
		assert.Same(t, get, r)
		return jsonResponse(r, 200, `{}`), nil
	})
	require.NoError(t, err)
}

type closingLayer struct {
	passLayer
	closed int
	err    error
}

func (c *closingLayer) Close() error { c.closed++; return c.err }

func TestGatewayCloseClosesLayersOnce(t *testing.T) {
	a, b := &closingLayer{}, &closingLayer{err: errors.New("flush failed")}
	gw := mustNew(t, nil, a, &passLayer{}, nil, b)
	assert.EqualError(t, gw.Close(), "flush failed")
	assert.EqualError(t, gw.Close(), "flush failed")
	assert.Equal(t, 1, a.closed)
	assert.Equal(t, 1, b.closed)
	assert.Same(t, gw, gw.Client().Transport)
}

func TestTrackerNests(t *testing.T) {
	gw := mustNew(t, okUpstream())
	outer, all := Track(context.Background())
	inner, some := Track(outer)
	for _, ctx := range []context.Context{outer, inner} {
		resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
		require.NoError(t, err)
		readAllString(t, resp.Body)
		resp.Body.Close()
	}
	assert.Len(t, all.Calls(), 2)
	assert.Len(t, some.Calls(), 1)
	assert.Len(t, all.Results(), 2)
	assert.Equal(t, 200, some.Results()[0].Status)
}

func TestLayerReturningNothingIsAnError(t *testing.T) {
	nothing := MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return Layer(next, func(LayerCall, *http.Request, http.RoundTripper) (*http.Response, error) { return nil, nil })
	})
	ctx, tr := Track(context.Background())
	_, err := mustNew(t, okUpstream(), nothing).RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
	require.ErrorIs(t, err, errNoResponse)
	<-tr.Last().Done()
	assert.ErrorIs(t, tr.Last().Result().Err, errNoResponse)
}

func TestNestedStacksScanOnce(t *testing.T) {
	for name, rt := range map[string]http.RoundTripper{
		"gateway in gateway":    mustNew(t, mustNew(t, okUpstream(), &passLayer{}), &passLayer{}),
		"layer around gateway":  (&passLayer{}).Wrap(mustNew(t, okUpstream(), &passLayer{})),
		"gateway around layers": mustNew(t, (&passLayer{}).Wrap(okUpstream())),
	} {
		t.Run(name, func(t *testing.T) {
			ctx, tr := Track(context.Background())
			resp, err := rt.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
			require.NoError(t, err)
			readAllString(t, resp.Body)
			resp.Body.Close()
			r := tr.Last().Result()
			assert.Equal(t, 1, r.Attempts)
			assert.Equal(t, int64(12), r.Usage.InputTokens)
		})
	}
}

func TestResponseWithErrorIsClosed(t *testing.T) {
	body := newCountingBody(chatJSON)
	both := MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return Layer(next, func(LayerCall, *http.Request, http.RoundTripper) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Body: body}, errors.New("both")
		})
	})
	_, err := mustNew(t, okUpstream(), both).RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody))
	require.Error(t, err)
	assert.Equal(t, int32(1), body.closes.Load())
}

// routeLayer sends a first attempt that fails to one target and a second to
// another, recording both the way a router does.
type routeLayer struct{}

func (routeLayer) Wrap(next http.RoundTripper) http.RoundTripper {
	return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
		ctx, _ := call.Route(req.Context(), Route{Provider: provider.OpenAI})
		first, err := next.RoundTrip(req.Clone(ctx))
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, first.Body)
		first.Body.Close()
		call.RecordAttempt(Attempt{Target: "primary", Status: first.StatusCode, Err: errors.New("bad gateway at https://x/?key=AIzaSECRET")})
		ctx, _ = call.Route(req.Context(), Route{Provider: provider.Groq, Model: "llama-3.3-70b-versatile"})
		second := req.Clone(ctx)
		second.Body, _ = req.GetBody()
		resp, err := next.RoundTrip(second)
		if err == nil {
			call.RecordAttempt(Attempt{Target: "groq", Provider: "groq", Status: resp.StatusCode})
			call.SetTarget("groq", true)
		}
		return resp, err
	})
}

func TestAttemptsArePricedForTheProviderThatAnswered(t *testing.T) {
	var n atomic.Int32
	up := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		if n.Add(1) == 1 {
			return jsonResponse(r, 502, `{"error":{"message":"bad gateway","type":"server_error"}}`), nil
		}
		return jsonResponse(r, 200, chatJSON), nil
	})
	for name, rt := range map[string]http.RoundTripper{
		"alone":      routeLayer{}.Wrap(up),
		"in gateway": mustNew(t, up, &passLayer{}, routeLayer{}),
	} {
		t.Run(name, func(t *testing.T) {
			n.Store(0)
			ctx, tr := Track(context.Background())
			resp, err := rt.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
			require.NoError(t, err)
			readAllString(t, resp.Body)
			resp.Body.Close()
			call := tr.Last()
			r := call.Result()
			assert.Equal(t, 2, r.Attempts)
			assert.Equal(t, "groq", r.Target)
			assert.True(t, r.Fallback)
			require.Len(t, r.AttemptLog, 2)
			assert.Equal(t, "primary", r.AttemptLog[0].Target)
			assert.Equal(t, 502, r.AttemptLog[0].Status)
			assert.NotContains(t, r.AttemptLog[0].Err.Error(), "AIzaSECRET")
			assert.Equal(t, "groq", r.AttemptLog[1].Target)
			require.Len(t, r.Upstreams, 2, "one record per upstream request")
			first, second := r.Upstreams[0], r.Upstreams[1]
			assert.Equal(t, "openai", first.Provider)
			assert.Equal(t, 502, first.Status)
			assert.False(t, first.UsageKnown, "the 502 reported no usage")
			assert.False(t, first.CostKnown)
			var perr *provider.Error
			assert.ErrorAs(t, first.Err, &perr, "the attempt's own error")
			assert.Equal(t, "groq", second.Provider)
			assert.Equal(t, "llama-3.3-70b-versatile", second.Model, "the model the attempt asked for")
			assert.Equal(t, provider.FormatOpenAIChat, second.Format)
			assert.True(t, second.UsageKnown)
			assert.Equal(t, r.Usage, second.Usage, "the call's usage is its answers'")
			// chatJSON reports gpt-4o-mini, which groq does not serve: the
			// answer is priced as the model asked for, for groq.
			want, ok := pricing.Default().Cost("groq", "llama-3.3-70b-versatile", second.Usage)
			require.True(t, ok)
			assert.True(t, second.CostKnown)
			assert.InDelta(t, want, second.Cost, 1e-12)
			assert.True(t, r.CostKnown)
			assert.InDelta(t, want, r.Cost, 1e-12, "the call costs what its answers cost")
			assert.Equal(t, "openai", call.Provider(), "the call's own provider is unchanged")
		})
	}
}

// A refused call passes every layer that asks to see it (SeeRefused),
// whether they are stacked by hand or in nested Gateways; the others never
// see it, so none can replace the stack's answer; the upstream never sees
// it either.
func TestRefusedCallReachesTheLayersThatAskForIt(t *testing.T) {
	var up atomic.Int32
	upstream := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		up.Add(1)
		return jsonResponse(r, 200, chatJSON), nil
	})
	var seen, handled atomic.Int32
	see := MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			if call.Refused() {
				seen.Add(1)
			}
			return next.RoundTrip(req)
		}, SeeRefused())
	})
	// A layer that would answer every call itself: it must not replace
	// the refusal.
	answer := MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			handled.Add(1)
			return jsonResponse(req, 200, chatJSON), nil
		})
	})
	for name, rt := range map[string]http.RoundTripper{
		"by hand":              see.Wrap(answer.Wrap(see.Wrap(upstream))),
		"answering outermost":  answer.Wrap(see.Wrap(see.Wrap(upstream))),
		"gateway":              mustNew(t, upstream, see, answer, see),
		"layer on a gateway":   see.Wrap(mustNew(t, upstream, answer, see)),
		"gateway on a gateway": mustNew(t, mustNew(t, upstream, see), answer, see),
	} {
		t.Run(name, func(t *testing.T) {
			seen.Store(0)
			handled.Store(0)
			req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody)
			req.Header.Set(HeaderCacheTTL, "soon")
			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			assert.Equal(t, 400, resp.StatusCode)
			assert.Equal(t, "false", resp.Header.Get("x-should-retry"))
			assert.Contains(t, readAllString(t, resp.Body), "Cache-Ttl")
			resp.Body.Close()
			assert.Equal(t, int32(2), seen.Load())
			assert.Zero(t, handled.Load(), "a layer that did not ask never sees it")
			assert.Zero(t, up.Load())
		})
	}
}

var errLocal = errors.New("local refusal")

// An answer a layer tags is what the call's error unwraps to, when it is
// the answer the caller gets.
func TestTaggedAnswer(t *testing.T) {
	tagging := MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			resp := provider.NewErrorResponse(req, call.Format(), provider.ErrorSpec{Status: 429, Message: "local limit"})
			call.TagAnswer(resp, errLocal)
			return resp, nil
		})
	})
	ctx, tr := Track(context.Background())
	resp, err := mustNew(t, okUpstream(), &passLayer{}, tagging).RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
	require.NoError(t, err)
	readAllString(t, resp.Body)
	resp.Body.Close()
	r := tr.Last().Result()
	assert.ErrorIs(t, r.Err, errLocal)
	var perr *provider.Error
	require.ErrorAs(t, r.Err, &perr)
	assert.Equal(t, "local limit", perr.Message)
	assert.Equal(t, perr.Error(), r.Err.Error(), "the tag adds no words")
}

// A refused call keeps the metadata its context carries, so that the
// meter's records and ledger put the refusal on the right user.
func TestRefusedCallKeepsContextMetadata(t *testing.T) {
	big := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("x", 200) + `"}]}`
	for name, mk := range map[string]func() *http.Request{
		"oversized body": func() *http.Request {
			return newChatRequest(t, "https://api.openai.com/v1/chat/completions", big)
		},
		"bad header": func() *http.Request {
			req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody)
			req.Header.Set(HeaderMaxAttempts, "many")
			return req
		},
	} {
		t.Run(name, func(t *testing.T) {
			gw := mustNew(t, okUpstream(), &passLayer{})
			gw.MaxRequestBytes = 64
			ctx, tr := Track(WithMetadata(context.Background(), "user", "u-42"))
			resp, err := gw.RoundTrip(mk().WithContext(ctx))
			require.NoError(t, err)
			readAllString(t, resp.Body)
			resp.Body.Close()
			call := tr.Last()
			require.True(t, call.Refused())
			assert.Equal(t, "u-42", call.Metadata("user"))
		})
	}
}

// Result.AttemptLog is shared with the Call, but a caller's append to its
// snapshot cannot write where the Call records its next attempt.
func TestAttemptLogSnapshotIsClipped(t *testing.T) {
	ctx, tr := Track(context.Background())
	resp, err := mustNew(t, okUpstream(), &passLayer{}).RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
	require.NoError(t, err)
	readAllString(t, resp.Body)
	resp.Body.Close()
	call := tr.Last()
	for _, name := range []string{"a", "b", "c"} {
		LayerCall{call}.RecordAttempt(Attempt{Target: name})
	}
	r := call.Result()
	mine := append(r.AttemptLog, Attempt{Target: "mine"})
	LayerCall{call}.RecordAttempt(Attempt{Target: "d"})
	assert.Equal(t, "mine", mine[3].Target)
	assert.Equal(t, "d", call.Result().AttemptLog[3].Target)
}

// When an upstream attempt failed and a layer then answered the caller
// itself (a backup target's local limit), the call's error is the error of
// the answer the caller got, not the failed attempt's.
func TestOwnAnswerAfterAFailedAttempt(t *testing.T) {
	up := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		return jsonResponse(r, 503, `{"error":{"message":"overloaded","type":"server_error"}}`), nil
	})
	tryThenRefuse := MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			first, err := next.RoundTrip(req)
			if err != nil {
				return nil, err
			}
			io.Copy(io.Discard, first.Body)
			first.Body.Close()
			resp := provider.NewErrorResponse(req, call.Format(), provider.ErrorSpec{Status: 429, Code: "rate_limit_exceeded", Message: "local limit"})
			call.TagAnswer(resp, errLocal)
			return resp, nil
		})
	})
	for name, rt := range map[string]http.RoundTripper{
		"alone":   tryThenRefuse.Wrap(up),
		"gateway": mustNew(t, up, &passLayer{}, tryThenRefuse),
	} {
		t.Run(name, func(t *testing.T) {
			ctx, tr := Track(context.Background())
			resp, err := rt.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
			require.NoError(t, err)
			readAllString(t, resp.Body)
			resp.Body.Close()
			r := tr.Last().Result()
			assert.Equal(t, 429, r.Status)
			assert.Equal(t, 1, r.Attempts)
			assert.ErrorIs(t, r.Err, errLocal)
			var perr *provider.Error
			require.ErrorAs(t, r.Err, &perr)
			assert.Equal(t, 429, perr.Status)
			assert.Equal(t, "local limit", perr.Message)
		})
	}
}
