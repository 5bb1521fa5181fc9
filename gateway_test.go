package aigateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/provider"
)

func TestCallerRequestUnchanged(t *testing.T) {
	var got capture
	gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got.record(r)
		return jsonResponse(r, 200, chatJSON), nil
	}))
	req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatStreamBody)
	req.Header.Set(HeaderCacheTTL, "60")
	req.Header.Set(HeaderMetadata, `{"user":"u-1"}`)
	body := newCountingBody(chatStreamBody)
	req.Body = body
	before, err := httputil.DumpRequestOut(req.Clone(context.Background()), false)
	require.NoError(t, err)
	headerBefore := req.Header.Clone()

	resp, err := gw.RoundTrip(req)
	require.NoError(t, err)
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()

	after, err := httputil.DumpRequestOut(req.Clone(context.Background()), false)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
	assert.Equal(t, headerBefore, req.Header, "the caller's header map must not be modified")
	assert.Nil(t, CallFrom(req.Context()), "the caller's context must not change")
	assert.Equal(t, int32(1), body.closes.Load(), "the request body is closed exactly once")

	up, upBody := got.last()
	for k := range up.Header {
		assert.False(t, strings.HasPrefix(strings.ToLower(k), "x-aigateway-"), "gateway header %s reached the upstream", k)
	}
	assert.Equal(t, "Bearer sk-test-secret", up.Header.Get("Authorization"))
	assert.Contains(t, string(upBody), `"include_usage":true`, "the upstream attempt asks for stream usage")
}

func TestControlsAndMetadata(t *testing.T) {
	var seen *Call
	gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = CallFrom(r.Context())
		return jsonResponse(r, 200, chatJSON), nil
	}))
	ctx := WithMetadata(context.Background(), "user", "from-context")
	ctx = WithControls(ctx, Controls{MaxAttempts: 2})
	req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx)
	req.Header.Set(HeaderCacheTTL, "1.5")
	req.Header.Set(HeaderCacheKey, "my-key")
	req.Header.Set(HeaderSkipCache, "true")
	req.Header.Set(HeaderRequestTimeout, "2500")
	req.Header.Set(HeaderMaxAttempts, "5")
	req.Header.Set(HeaderMetadata, `{"user":"spoofed","team":"t-9"}`)

	resp, err := gw.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.NotNil(t, seen)
	assert.Equal(t, Controls{
		CacheTTL: 1500 * time.Millisecond, CacheKey: "my-key", SkipCache: true,
		RequestTimeout: 2500 * time.Millisecond, MaxAttempts: 2,
	}, seen.Controls())
	assert.Equal(t, map[string]string{"user": "from-context", "team": "t-9"}, seen.MetadataMap())
	assert.Equal(t, "t-9", seen.Metadata("team"))
}

func TestBadControlHeaderIsProviderShaped400(t *testing.T) {
	for _, tc := range []struct{ header, value string }{
		{HeaderCacheTTL, "soon"},
		{HeaderSkipCache, "maybe"},
		{HeaderRequestTimeout, "-1"},
		// 584 years: as a time.Duration it wrapped round to 448 µs.
		{HeaderRequestTimeout, "18446744073710"},
		{HeaderMaxAttempts, "zero"},
		{HeaderMetadata, `{"user":1}`},
	} {
		t.Run(tc.header, func(t *testing.T) {
			var up capture
			gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
				up.record(r)
				return jsonResponse(r, 200, chatJSON), nil
			}))
			ctx, tr := Track(context.Background())
			req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx)
			req.Header.Set(tc.header, tc.value)
			resp, err := gw.RoundTrip(req)
			require.NoError(t, err)
			body := readAllString(t, resp.Body)
			resp.Body.Close()
			assert.Equal(t, 400, resp.StatusCode)
			assert.Equal(t, "false", resp.Header.Get("x-should-retry"))
			assert.Contains(t, body, `"error"`)
			assert.Contains(t, body, tc.header)
			assert.Equal(t, 0, up.count(), "nothing is sent")
			require.Len(t, tr.Calls(), 1, "the refusal is a call the tracker sees")
			c := tr.Last()
			<-c.Done()
			assert.Equal(t, "gpt-4o-mini", c.Model())
			assert.Equal(t, 400, c.Result().Status)
			var perr *provider.Error
			require.ErrorAs(t, c.Result().Err, &perr)
			assert.Contains(t, perr.Message, tc.header)
		})
	}
}

func TestOversizedBodyGets413(t *testing.T) {
	for _, tc := range []struct {
		name, url, want string
		knownLength     bool
	}{
		{"openai known length", "https://api.openai.com/v1/chat/completions", `"error":{`, true},
		{"openai chunked", "https://api.openai.com/v1/chat/completions", `"error":{`, false},
		{"anthropic", "https://api.anthropic.com/v1/messages", `"type":"error"`, false},
		{"gemini", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent", `"status":`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var up capture
			gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
				up.record(r)
				return jsonResponse(r, 200, chatJSON), nil
			}))
			gw.MaxRequestBytes = 64
			big := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("x", 200) + `"}]}`
			req := newChatRequest(t, tc.url, big)
			body := newCountingBody(big)
			req.Body = body
			if !tc.knownLength {
				req.ContentLength = -1
			}
			ctx, tr := Track(context.Background())
			resp, err := gw.RoundTrip(req.WithContext(ctx))
			require.NoError(t, err)
			out := readAllString(t, resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
			assert.Contains(t, out, tc.want)
			assert.Equal(t, 0, up.count())
			assert.Equal(t, int32(1), body.closes.Load())
			require.Len(t, tr.Calls(), 1)
			r := tr.Last().Result()
			assert.Equal(t, 413, r.Status)
			assert.ErrorContains(t, r.Err, "exceeds 64 bytes")
		})
	}
}

func TestMalformedJSONPassesThroughUntouched(t *testing.T) {
	var up capture
	var call *Call
	const upstreamErr = `{"error":{"message":"We could not parse the JSON body of your request.","type":"invalid_request_error","param":null,"code":null}}`
	gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		up.record(r)
		call = CallFrom(r.Context())
		return jsonResponse(r, 400, upstreamErr), nil
	}))
	const bad = `{"model":"gpt-4o","messages":[{"role":"user"`
	ctx, tr := Track(context.Background())
	resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", bad).WithContext(ctx))
	require.NoError(t, err)
	assert.Equal(t, upstreamErr, readAllString(t, resp.Body))
	resp.Body.Close()
	_, body := up.last()
	assert.Equal(t, bad, string(body))
	require.NotNil(t, call)
	assert.False(t, call.parsed)
	r := tr.Last().Result()
	assert.Equal(t, 400, r.Status)
	var perr *provider.Error
	require.ErrorAs(t, r.Err, &perr)
	assert.Contains(t, perr.Message, "could not parse")
}

// rwcBody is a websocket-style body: the same object must reach the upstream.
type rwcBody struct{ io.Reader }

func (rwcBody) Write(p []byte) (int, error) { return len(p), nil }
func (rwcBody) Close() error                { return nil }

func TestUnrecognisedRequestsPassThrough(t *testing.T) {
	mk := func(method, url, ct string, body io.ReadCloser) *http.Request {
		req, err := http.NewRequest(method, url, nil)
		require.NoError(t, err)
		req.Body = body
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		return req
	}
	ws := mk(http.MethodGet, "https://api.openai.com/v1/realtime", "", rwcBody{strings.NewReader("")})
	ws.Header.Set("Upgrade", "websocket")
	cases := map[string]*http.Request{
		"get":       mk(http.MethodGet, "https://api.openai.com/v1/models", "", nil),
		"multipart": mk(http.MethodPost, "https://api.openai.com/v1/audio/transcriptions", "multipart/form-data; boundary=x", newCountingBody("--x--")),
		"files":     mk(http.MethodPost, "https://api.openai.com/v1/files", "multipart/form-data; boundary=y", newCountingBody("--y--")),
		"batches":   mk(http.MethodPost, "https://api.openai.com/v1/batches", "application/json", newCountingBody(`{"input_file_id":"f"}`)),
		"websocket": ws,
	}
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			var seen *http.Request
			gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
				seen = r
				return jsonResponse(r, 200, `{}`), nil
			}))
			resp, err := gw.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Same(t, req, seen, "the very same request goes upstream")
			assert.Nil(t, CallFrom(seen.Context()))
		})
	}
}

func TestUnrecognisedUploadStreamsUnbuffered(t *testing.T) {
	// The upstream reads the first part of the upload before the client has
	// written the rest: nothing waits for the whole body.
	pr, pw := io.Pipe()
	firstSeen := make(chan struct{})
	gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		buf := make([]byte, 5)
		_, err := io.ReadFull(r.Body, buf)
		require.NoError(t, err)
		assert.Equal(t, "part1", string(buf))
		close(firstSeen)
		rest, _ := io.ReadAll(r.Body)
		assert.Equal(t, "part2", string(rest))
		r.Body.Close()
		return jsonResponse(r, 200, `{}`), nil
	}))
	req, err := http.NewRequest(http.MethodPost, "https://api.openai.com/v1/files", pr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=z")
	go func() {
		pw.Write([]byte("part1"))
		<-firstSeen
		pw.Write([]byte("part2"))
		pw.Close()
	}()
	resp, err := gw.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
}

func TestFirstChunkArrivesBeforeUpstreamSendsSecond(t *testing.T) {
	for _, clientUsage := range []bool{false, true} {
		t.Run(map[bool]string{false: "usage injected", true: "client asked usage"}[clientUsage], func(t *testing.T) {
			sent := make(chan string, 4)
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
				w.WriteHeader(200)
				io.WriteString(w, chunk("Hel"))
				w.(http.Flusher).Flush()
				sent <- "first"
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
				io.WriteString(w, chunk("lo")+usageChunk+doneEvent)
				sent <- "second"
			}))
			defer srv.Close()
			gw := mustNew(t, srv.Client().Transport)
			body := chatStreamBody
			if clientUsage {
				body = `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[]}`
			}
			resp, err := gw.RoundTrip(newChatRequest(t, srv.URL+"/v1/chat/completions", body))
			require.NoError(t, err)
			defer resp.Body.Close()
			buf := make([]byte, 4096)
			n, err := resp.Body.Read(buf)
			require.NoError(t, err)
			assert.Equal(t, chunk("Hel"), string(buf[:n]), "the first chunk arrived while the upstream still held the second")
			assert.Equal(t, "first", <-sent)
			assert.Empty(t, sent, "the upstream has not sent the second chunk: it waits for release")
			close(release)
			rest := readAllString(t, resp.Body)
			assert.Equal(t, "second", <-sent)
			if clientUsage {
				assert.Equal(t, chunk("lo")+usageChunk+doneEvent, rest)
			} else {
				assert.Equal(t, chunk("lo")+doneEvent, rest, "the usage chunk the client did not ask for is dropped")
			}
		})
	}
}

func streamGateway(t *testing.T, body func() io.ReadCloser) (*Gateway, *Tracker, context.Context) {
	gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Body.Close()
		return sseResponse(r, body()), nil
	}))
	ctx, tr := Track(context.Background())
	return gw, tr, ctx
}

func TestStreamCompletion(t *testing.T) {
	full := chunk("Hel") + chunk("lo") + usageChunk + doneEvent
	t.Run("closed at [DONE] without reading to EOF is a success", func(t *testing.T) {
		gw, tr, ctx := streamGateway(t, func() io.ReadCloser {
			return newGatedBodyReleased(full)
		})
		resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatStreamBody).WithContext(ctx))
		require.NoError(t, err)
		call := tr.Last()
		var got strings.Builder
		buf := make([]byte, 8)
		for !strings.HasSuffix(got.String(), doneEvent) {
			n, err := resp.Body.Read(buf)
			got.Write(buf[:n])
			require.NoError(t, err)
		}
		select {
		case <-call.Done():
		default:
			t.Fatal("the call must complete at [DONE], before the body is closed")
		}
		resp.Body.Close()
		r := call.Result()
		assert.NoError(t, r.Err)
		assert.True(t, r.UsageKnown)
		assert.Equal(t, provider.Usage{InputTokens: 12, OutputTokens: 2}, r.Usage)
		assert.Equal(t, "gpt-4o-mini-2024-07-18", r.ResponseModel)
		assert.Equal(t, 200, r.Status)
		assert.Equal(t, 1, r.Attempts)
		assert.Positive(t, r.TimeToFirstByte)
		assert.Positive(t, r.TimeToFirstChunk)
		assert.GreaterOrEqual(t, r.Duration, r.TimeToFirstChunk)
	})
	t.Run("cut stream", func(t *testing.T) {
		gw, tr, ctx := streamGateway(t, func() io.ReadCloser { return io.NopCloser(strings.NewReader(chunk("Hel"))) })
		resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatStreamBody).WithContext(ctx))
		require.NoError(t, err)
		assert.Equal(t, chunk("Hel"), readAllString(t, resp.Body))
		resp.Body.Close()
		r := tr.Last().Result()
		assert.ErrorIs(t, r.Err, ErrIncompleteStream)
		assert.False(t, r.UsageKnown)
	})
	t.Run("error event mid-stream", func(t *testing.T) {
		const errEvent = `data: {"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}` + "\n\n"
		gw, tr, ctx := streamGateway(t, func() io.ReadCloser { return io.NopCloser(strings.NewReader(chunk("Hel") + errEvent)) })
		resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatStreamBody).WithContext(ctx))
		require.NoError(t, err)
		readAllString(t, resp.Body)
		resp.Body.Close()
		var perr *provider.Error
		require.ErrorAs(t, tr.Last().Result().Err, &perr)
		assert.Equal(t, "server_error", perr.Type)
	})
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("connection reset")
		gw, tr, ctx := streamGateway(t, func() io.ReadCloser {
			return io.NopCloser(io.MultiReader(strings.NewReader(chunk("Hel")), errReader{boom}))
		})
		resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatStreamBody).WithContext(ctx))
		require.NoError(t, err)
		_, err = io.ReadAll(resp.Body)
		assert.ErrorIs(t, err, boom)
		resp.Body.Close()
		assert.ErrorIs(t, tr.Last().Result().Err, boom)
	})
	t.Run("closed early", func(t *testing.T) {
		gb := newGatedBody(chunk("Hel"), chunk("lo"))
		gb.release <- struct{}{}
		gw, tr, ctx := streamGateway(t, func() io.ReadCloser { return gb })
		resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatStreamBody).WithContext(ctx))
		require.NoError(t, err)
		buf := make([]byte, 4096)
		_, err = resp.Body.Read(buf)
		require.NoError(t, err)
		resp.Body.Close()
		assert.ErrorIs(t, tr.Last().Result().Err, ErrClosedEarly)
	})
	t.Run("context ends with the body never closed", func(t *testing.T) {
		gb := newGatedBody(chunk("Hel"))
		gw, tr, ctx := streamGateway(t, func() io.ReadCloser { return gb })
		ctx, cancel := context.WithCancel(ctx)
		resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatStreamBody).WithContext(ctx))
		require.NoError(t, err)
		_ = resp // abandoned: never read, never closed
		cancel()
		select {
		case <-tr.Last().Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the call did not complete when its context ended")
		}
		assert.ErrorIs(t, tr.Last().Result().Err, context.Canceled)
		gb.Close()
	})
}

// newGatedBodyReleased is a body that returns s in one piece.
func newGatedBodyReleased(s string) io.ReadCloser {
	g := newGatedBody(s)
	g.release <- struct{}{}
	return g
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestUsageChunkFilterHoldsBackOnlyIncompleteEvents(t *testing.T) {
	full := chunk("Hel") + chunk("lo") + usageChunk + doneEvent
	for _, size := range []int{1, 2, 7, 64, 4096} {
		gw, tr, ctx := streamGateway(t, func() io.ReadCloser { return io.NopCloser(&smallReader{s: full, n: size}) })
		resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatStreamBody).WithContext(ctx))
		require.NoError(t, err)
		assert.Equal(t, chunk("Hel")+chunk("lo")+doneEvent, readAllString(t, resp.Body), "read size %d", size)
		resp.Body.Close()
		r := tr.Last().Result()
		assert.NoError(t, r.Err)
		assert.Equal(t, int64(12), r.Usage.InputTokens, "usage is still known to the stack")
	}
}

func TestEventEnd(t *testing.T) {
	for _, tc := range []struct {
		in    string
		atEOF bool
		want  int
	}{
		{"data: x\n\n", false, 9},
		{"data: x\r\n\r\n", false, 11},
		{"data: x\r\r", false, -1}, // the last \r may start \r\n
		{"data: x\r\r", true, 9},
		{"data: x\r\rmore", false, 9},
		{"data: x\n", false, -1},
		{"event: a\ndata: x\n\ndata: y\n\n", false, 18},
		{"\n", false, 1},
	} {
		lfOnly := !strings.Contains(tc.in, "\r")
		assert.Equal(t, tc.want, eventEnd([]byte(tc.in), tc.atEOF, lfOnly), "%q", tc.in)
		if lfOnly {
			assert.Equal(t, tc.want, eventEnd([]byte(tc.in), tc.atEOF, false), "%q (slow path)", tc.in)
		}
	}
}

// The search for an event's end resumes where the last one stopped: an
// event of megabytes that arrives in small reads is searched once, not
// once per read (the usage-chunk filter took 12 s of CPU for a 4 MiB
// event in 1 KiB reads, and a hostile upstream could send one 16 MiB event
// after another). Whatever the pieces, it finds the ends a search of the
// whole finds.
func TestEventSearchResumes(t *testing.T) {
	long := strings.Repeat("x", 100_000)
	for _, tc := range []struct {
		name, stream string
	}{
		{"LF", "data: " + long + "\n\ndata: y\n\n"},
		{"CRLF", "data: " + long + "\r\n\r\ndata: y\r\n\r\n"},
		{"CR", "data: " + long + "\r\rdata: y\r\r"},
		{"LF, then a CR", "event: e\ndata: " + long + "\r\n\n"},
		{"lines", strings.Repeat("data: "+long[:100]+"\n", 1000) + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			whole := []byte(tc.stream)
			var s eventSearch
			cr := false
			var ends []int
			start := 0
			for n := 0; n < len(whole); {
				n = min(n+1000, len(whole))
				p := whole[start:n]
				if !cr && bytes.IndexByte(p, '\r') >= 0 {
					cr = true
					s.lines(p)
				}
				for {
					end := s.end(p, n == len(whole), !cr)
					if end < 0 {
						// Nothing it has seen is looked at again, but a
						// '\r' that may begin "\r\n".
						assert.GreaterOrEqual(t, s.pos, len(p)-1)
						break
					}
					ends = append(ends, start+end)
					start += end
					p = whole[start:n]
					cr = bytes.IndexByte(p, '\r') >= 0
				}
			}
			var want []int
			for at := 0; at < len(whole); {
				end := eventEnd(whole[at:], true, bytes.IndexByte(whole[at:], '\r') < 0)
				if end < 0 {
					break
				}
				at += end
				want = append(want, at)
			}
			assert.Equal(t, want, ends)
		})
	}
}

type smallReader struct {
	s string
	n int
}

func (r *smallReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.s)
	r.s = r.s[n:]
	return n, nil
}

func TestNonStreamCompletionAndUsage(t *testing.T) {
	var upBody *countingBody
	gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Body.Close()
		resp := jsonResponse(r, 200, chatJSON)
		upBody = newCountingBody(chatJSON)
		resp.Body = upBody
		return resp, nil
	}))
	ctx, tr := Track(context.Background())
	resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
	require.NoError(t, err)
	assert.Equal(t, chatJSON, readAllString(t, resp.Body))
	select {
	case <-tr.Last().Done():
	default:
		t.Fatal("a body read to EOF completes the call")
	}
	resp.Body.Close()
	resp.Body.Close()
	assert.Equal(t, int32(1), upBody.closes.Load(), "the upstream body is closed exactly once")
	c := tr.Last()
	assert.Equal(t, "openai", c.Provider())
	assert.Equal(t, "chat", c.Operation())
	assert.Equal(t, "gpt-4o-mini", c.Model())
	assert.False(t, c.Stream())
	r := c.Result()
	assert.NoError(t, r.Err)
	assert.Equal(t, provider.Usage{InputTokens: 12, OutputTokens: 3, CacheReadTokens: 4}, r.Usage)
	assert.Zero(t, r.TimeToFirstChunk)
}

func TestTransportErrorCompletesCall(t *testing.T) {
	boom := errors.New("dial tcp: connection refused")
	gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Body.Close()
		return nil, boom
	}))
	ctx, tr := Track(context.Background())
	_, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
	require.ErrorIs(t, err, boom)
	r := tr.Last().Result()
	assert.ErrorIs(t, r.Err, boom)
	assert.Equal(t, 1, r.Attempts)
	<-tr.Last().Done()
}

func TestOnCompleteOrderAndTiming(t *testing.T) {
	var order []string
	mk := func(name string) Middleware {
		return MiddlewareFunc(func(next http.RoundTripper) http.RoundTripper {
			return Layer(next, func(call LayerCall, req *http.Request, next http.RoundTripper) (*http.Response, error) {
				call.OnComplete(func(Result) { order = append(order, name) })
				return next.RoundTrip(req)
			})
		})
	}
	gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Body.Close()
		return jsonResponse(r, 200, chatJSON), nil
	}), mk("outer"), mk("inner"))
	resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody))
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, []string{"inner", "outer"}, order, "callbacks ran innermost first, before the read returned")
	resp.Body.Close()
	assert.Len(t, order, 2, "exactly once")
}

func TestCacheControlHeader(t *testing.T) {
	for _, tc := range []struct {
		value         string
		skip, refresh bool
	}{
		{"no-store", true, false},
		{"No-Cache", false, true},
		{"max-age=0, no-cache, no-store", true, true},
		{"max-age=60", false, false},
	} {
		var seen *Call
		gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			seen = CallFrom(r.Context())
			r.Body.Close()
			return jsonResponse(r, 200, chatJSON), nil
		}))
		req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody)
		req.Header.Set("Cache-Control", tc.value)
		resp, err := gw.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		// The standard header is the request's own: a cache decides
		// whether it counts (cache.Config.HonorCacheControl).
		assert.Equal(t, tc.skip, seen.Controls().CacheControlNoStore, tc.value)
		assert.Equal(t, tc.refresh, seen.Controls().CacheControlNoCache, tc.value)
		assert.False(t, seen.Controls().SkipCache || seen.Controls().RefreshCache, tc.value)
	}
	for value, want := range map[string]Controls{
		"true":  {SkipCache: true},
		"false": {},
	} {
		var seen *Call
		gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			seen = CallFrom(r.Context())
			return jsonResponse(r, 200, chatJSON), nil
		}))
		req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody)
		req.Header.Set(HeaderSkipCache, value)
		resp, err := gw.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, seen.Controls(), value)
		req = newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody)
		req.Header.Set(HeaderRefreshCache, value)
		resp, err = gw.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, Controls{RefreshCache: want.SkipCache}, seen.Controls(), value)
	}
}

func TestCredentialHash(t *testing.T) {
	hashOf := func(url string, header ...string) string {
		var seen *Call
		gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			seen = CallFrom(r.Context())
			r.Body.Close()
			return jsonResponse(r, 200, chatJSON), nil
		}))
		req := newChatRequest(t, url, chatBody)
		req.Header.Del("Authorization")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := gw.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		return seen.CredentialHash()
	}
	const chat = "https://api.openai.com/v1/chat/completions"
	const gemini = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
	a := hashOf(chat, "Authorization", "Bearer sk-aaaa")
	assert.Len(t, a, 64)
	assert.NotContains(t, a, "sk-aaaa")
	assert.Equal(t, a, hashOf(chat, "Authorization", "Bearer sk-aaaa"), "stable")
	assert.NotEqual(t, a, hashOf(chat, "Authorization", "Bearer sk-bbbb"))
	assert.NotEqual(t, hashOf(chat, "X-Api-Key", "k1"), hashOf(chat, "X-Api-Key", "k2"))
	assert.NotEqual(t, hashOf(chat, "Api-Key", "k1"), hashOf(chat, "X-Api-Key", "k1"), "the header is part of it")
	assert.NotEqual(t, hashOf(gemini+"?key=g1"), hashOf(gemini+"?key=g2"))
	assert.NotEqual(t, hashOf(gemini, "X-Goog-Api-Key", "g1"), hashOf(gemini, "X-Goog-Api-Key", "g2"))
	assert.Empty(t, hashOf(chat))
}

func TestContextControlsAndEachAttemptsUsage(t *testing.T) {
	ctx := WithControls(context.Background(), Controls{CacheTTL: time.Minute})
	c := ContextControls(ctx)
	c.SkipCache = true
	ctx = WithControls(ctx, c)
	assert.Equal(t, Controls{CacheTTL: time.Minute, SkipCache: true}, ContextControls(ctx))

	ctx, tr := Track(context.Background())
	resp, err := mustNew(t, okUpstream(), retryLayer{}).RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
	require.NoError(t, err)
	readAllString(t, resp.Body)
	resp.Body.Close()
	ups := tr.Last().Result().Upstreams
	require.Len(t, ups, 2)
	u := ups[1].Usage
	assert.True(t, ups[1].UsageKnown)
	assert.Equal(t, provider.Usage{InputTokens: 12, OutputTokens: 3, CacheReadTokens: 4}, u, "one response's usage")
	assert.Equal(t, u.Add(u), tr.Last().Result().Usage, "the result sums both attempts")
}

func TestUnknownLengthBodyClosedEarly(t *testing.T) {
	chunked := func(body string) *Gateway {
		return mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r.Body.Close()
			resp := jsonResponse(r, 200, body)
			resp.ContentLength = -1 // chunked, or unzipped by the transport
			return resp, nil
		}))
	}
	t.Run("whole JSON read by a decoder, closed before EOF: success", func(t *testing.T) {
		ctx, tr := Track(context.Background())
		resp, err := chunked(chatJSON).RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
		require.NoError(t, err)
		buf := make([]byte, len(chatJSON)) // exactly the value, EOF not seen
		_, err = io.ReadFull(resp.Body, buf)
		require.NoError(t, err)
		resp.Body.Close()
		assert.NoError(t, tr.Last().Result().Err)
	})
	t.Run("part of the JSON, closed: closed early", func(t *testing.T) {
		ctx, tr := Track(context.Background())
		resp, err := chunked(chatJSON).RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
		require.NoError(t, err)
		_, err = io.ReadFull(resp.Body, make([]byte, 20))
		require.NoError(t, err)
		resp.Body.Close()
		assert.ErrorIs(t, tr.Last().Result().Err, ErrClosedEarly)
		require.Len(t, tr.Last().Result().Upstreams, 1)
		assert.False(t, tr.Last().Result().Upstreams[0].Complete)
	})
}

func TestCacheTTLHeaderBounds(t *testing.T) {
	for _, v := range []string{"NaN", "Inf", "1e300", "-1"} {
		gw := mustNew(t, okUpstream())
		req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody)
		req.Header.Set(HeaderCacheTTL, v)
		resp, err := gw.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 400, resp.StatusCode, v)
	}
}

func TestResultErrKeepsQueryKeysOut(t *testing.T) {
	urlErr := &url.Error{Op: "Post", URL: "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?alt=sse&key=AIzaSECRET",
		Err: context.DeadlineExceeded}
	gw := mustNew(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Body.Close()
		return nil, urlErr
	}))
	ctx, tr := Track(context.Background())
	_, err := gw.RoundTrip(newChatRequest(t, "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent", `{"contents":[]}`).WithContext(ctx))
	require.Error(t, err)
	r := tr.Last().Result()
	assert.NotContains(t, r.Err.Error(), "AIzaSECRET")
	assert.Contains(t, r.Err.Error(), "alt=sse&key=REDACTED")
	assert.ErrorIs(t, r.Err, context.DeadlineExceeded, "still unwraps")
	var ue *url.Error
	assert.ErrorAs(t, r.Err, &ue)
}
