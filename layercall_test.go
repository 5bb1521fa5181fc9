package aigateway

import (
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Call is read-only to its users: the LayerCall that records what layers
// do comes from Layer alone. With an exported field, any holder of a
// *Call (a Tracker's) could write aigateway.LayerCall{Call: c} and set its
// cache status, its usage (Replayed), its target or its attempt log.
func TestALayerCallCannotBeMadeFromACall(t *testing.T) {
	typ := reflect.TypeFor[LayerCall]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		assert.False(t, f.IsExported(), "LayerCall.%s is exported: LayerCall{%s: c} makes a Call writable", f.Name, f.Name)
	}
}

// orderCompleter appends its name to order when the call completes.
type orderCompleter struct {
	name  string
	order *[]string
}

func (o *orderCompleter) CallComplete(Result) { *o.order = append(*o.order, o.name) }

// OnCompleteWith registers a layer's per-call state itself: no closure or
// method value to allocate. It runs in the order OnComplete callbacks do,
// mixed with them, once; registered after completion, at once.
func TestOnCompleteWithRunsLikeOnCompleteWithoutAllocating(t *testing.T) {
	var order []string
	c := &Call{done: make(chan struct{})}
	lc := LayerCall{c}
	lc.OnCompleteWith(&orderCompleter{"outer", &order})
	lc.OnComplete(func(Result) { order = append(order, "middle") })
	lc.OnCompleteWith(&orderCompleter{"inner", &order})
	assert.True(t, c.complete(nil))
	assert.False(t, c.complete(nil))
	assert.Equal(t, []string{"inner", "middle", "outer"}, order)
	lc.OnCompleteWith(&orderCompleter{"late", &order})
	assert.Equal(t, []string{"inner", "middle", "outer", "late"}, order, "after completion: at once")

	state := &orderCompleter{"s", new([]string)}
	fresh := &Call{}
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		fresh.onDone = nil
		LayerCall{fresh}.OnCompleteWith(state)
	}), "a pointer registers without an allocation")
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() {
		fresh.onDone = nil
		LayerCall{fresh}.OnComplete(state.CallComplete)
	}), "where a method value costs one")
}

// Done's channel is made when asked for (most calls are never waited on
// so): asked before completion, it closes once the callbacks ran; asked
// after, it is closed already.
func TestDoneIsMadeOnlyWhenAskedFor(t *testing.T) {
	early := &Call{}
	done := early.Done()
	var closedInCallback bool
	LayerCall{early}.OnComplete(func(Result) {
		select {
		case <-done:
			closedInCallback = true
		default:
		}
	})
	assert.Equal(t, (<-chan struct{})(early.done), early.Done(), "one channel")
	require.True(t, early.complete(nil))
	assert.False(t, closedInCallback, "closed only after the callbacks ran")
	<-done

	late := &Call{}
	require.True(t, late.complete(nil))
	assert.Nil(t, late.done, "nobody asked: no channel")
	<-late.Done()
}

// AttemptBody hands a layer's first attempt the prepared body itself
// (nothing read it: no second reader is made), and every other attempt,
// or one after a layer read from the body, a replay of its own.
func TestAttemptBodyHandsOutThePreparedBodyOnce(t *testing.T) {
	var up capture
	upstream := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		up.record(r)
		return jsonResponse(r, 200, chatJSON), nil
	})
	readAll := func(t *testing.T, rc io.ReadCloser) string {
		t.Helper()
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		return string(b)
	}
	for _, tc := range []struct {
		name      string
		readFirst bool // a layer read a byte of the body before the attempts
	}{{"unread", false}, {"read from", true}} {
		t.Run(tc.name, func(t *testing.T) {
			gw := mustNew(t, upstream, MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
				return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
					if tc.readFirst {
						_, err := req.Body.Read(make([]byte, 1))
						require.NoError(t, err)
					}
					first, err := call.AttemptBody(req)
					require.NoError(t, err)
					if tc.readFirst {
						assert.True(t, req.Body != first, "a body read from is not handed on")
					} else {
						assert.True(t, req.Body == first, "the first attempt sends the prepared body itself")
					}
					second, err := call.AttemptBody(req)
					require.NoError(t, err)
					assert.True(t, first != second, "a later attempt gets a reader of its own")
					assert.Equal(t, chatBody, readAll(t, second))
					assert.Equal(t, chatBody, readAll(t, first))
					out := req.Clone(req.Context())
					out.Body = first
					return next.RoundTrip(out)
				})
			}))
			resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody))
			require.NoError(t, err)
			readAll(t, resp.Body)
			resp.Body.Close()
		})
	}

	// A request whose body is not the prepared one replays from GetBody.
	c := &Call{}
	req := &http.Request{Body: io.NopCloser(strings.NewReader("x")), GetBody: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader("replayed")), nil
	}}
	b, err := LayerCall{c}.AttemptBody(req)
	require.NoError(t, err)
	assert.Equal(t, "replayed", readAll(t, b))
	req.GetBody = nil
	_, err = LayerCall{c}.AttemptBody(req)
	assert.Error(t, err, "nothing to replay from")
}

// The headers layers add to an answer cut their values from one array of
// the call's, and a caller's append to one never writes into another's.
func TestSetHeaderCutsValuesFromOneArray(t *testing.T) {
	lc := LayerCall{&Call{}}
	h := http.Header{}
	allocs := testing.AllocsPerRun(1, func() {
		lc.SetHeader(h, "x-aigateway-cache", "MISS")
		lc.SetHeader(h, HeaderTarget, "primary")
		lc.SetHeader(h, HeaderAttempts, "1")
	})
	assert.Equal(t, 1.0, allocs, "one array for three values")
	assert.Equal(t, "MISS", h.Get(HeaderCache), "the name is made canonical")
	assert.Equal(t, []string{"primary"}, h[HeaderTarget])
	h[HeaderCache] = append(h[HeaderCache], "more")
	assert.Equal(t, []string{"primary"}, h[HeaderTarget], "an append to one value moves it")
	for i := range headerValues {
		lc.SetHeader(h, "X-N", strconv.Itoa(i))
	}
	assert.Equal(t, strconv.Itoa(headerValues-1), h.Get("X-N"), "a new array once one is used up")
}

// A call's first attempt is recorded in the Call (most make one); the log
// a Result holds is clipped, so a caller's append never writes where the
// next attempt goes.
func TestRecordAttemptKeepsTheFirstInTheCall(t *testing.T) {
	c := &Call{}
	lc := LayerCall{c}
	assert.Zero(t, testing.AllocsPerRun(10, func() {
		c.result.AttemptLog = nil
		lc.RecordAttempt(Attempt{Target: "primary", Status: 503})
	}))
	first := c.Result().AttemptLog
	require.Len(t, first, 1)
	_ = append(first, Attempt{Target: "caller's"})
	lc.RecordAttempt(Attempt{Target: "backup", Status: 200})
	log := c.Result().AttemptLog
	require.Len(t, log, 2)
	assert.Equal(t, "primary", log[0].Target)
	assert.Equal(t, "backup", log[1].Target)
	assert.Equal(t, "primary", first[0].Target, "a snapshot keeps what it had")
}

// RouteRequest is Route and WithContext in one allocation: the request has
// the attempt's context, whose route layers further in read, and req is
// left as it was.
func TestRouteRequestIsRouteWithTheRequest(t *testing.T) {
	var seen []Route
	gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Body.Close()
		return jsonResponse(r, 200, chatJSON), nil
	}), MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
		return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
			before := req.Context()
			out, routed := call.RouteRequest(req.Context(), req, Route{Model: "gpt-4o"})
			assert.Equal(t, before, req.Context(), "req keeps its context")
			assert.Same(t, routed, routeOf(out.Context()))
			assert.Equal(t, req.URL, out.URL)
			seen = append(seen, call.RouteOf(out.Context()))
			allocs := testing.AllocsPerRun(10, func() { call.RouteRequest(req.Context(), req, Route{}) })
			assert.Equal(t, 1.0, allocs, "the request and its context together")
			return next.RoundTrip(out)
		})
	}))
	resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody))
	require.NoError(t, err)
	resp.Body.Close()
	require.Len(t, seen, 1)
	assert.Equal(t, "gpt-4o", seen[0].Model)
	assert.Equal(t, "openai", seen[0].Provider.Name())
}

// The names the stack sets are the canonical ones SetHeader writes without
// canonicalizing them again.
func TestStackHeaderNamesAreCanonical(t *testing.T) {
	for _, name := range []string{HeaderCache, HeaderTarget, HeaderAttempts, "Age", "Content-Length"} {
		assert.Equal(t, http.CanonicalHeaderKey(name), name)
	}
}
