package llmtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// formatCase is one request of each format, for faults that apply to all.
type formatCase struct {
	name   string
	path   string
	body   string
	header []string
	sep    string // SSE separator when the request streams
}

var nonStreamCases = []formatCase{
	{name: "openai.chat", path: chatPath, body: chatBody},
	{name: "openai.responses", path: respPath, body: `{"model":"gpt-4.1","input":"hi"}`},
	{name: "openai.embeddings", path: embedPath, body: `{"model":"text-embedding-3-small","input":"hi"}`},
	{name: "anthropic.messages", path: msgPath, body: msgBody, header: anthropicHeaders},
	{name: "gemini", path: geminiPath, body: geminiBody},
}

var streamCases = []formatCase{
	{name: "openai.chat", path: chatPath, body: `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}`, sep: "\n\n"},
	{name: "openai.responses", path: respPath, body: `{"model":"gpt-4.1","input":"hi","stream":true}`, sep: "\n\n"},
	{name: "anthropic.messages", path: msgPath, body: `{"model":"claude-haiku-4-5","max_tokens":99,"stream":true}`, header: anthropicHeaders, sep: "\n\n"},
	{name: "gemini", path: geminiStream, body: geminiBody, sep: "\r\n\r\n"},
}

// errorFields decodes an error body of the format of c into (type, code, message).
func errorFields(t *testing.T, c formatCase, body []byte) (typ, code, msg string) {
	t.Helper()
	switch c.name {
	case "anthropic.messages":
		var e anthropicErrorBody
		decodeStrict(t, string(body), &e)
		require.Equal(t, "error", e.Type)
		assert.Regexp(t, `^req_`, e.RequestID)
		if e.Error.Details != nil {
			code = e.Error.Details.ErrorCode
		}
		return e.Error.Type, code, e.Error.Message
	case "gemini":
		var e geminiErrorBody
		decodeStrict(t, string(body), &e)
		assert.True(t, strings.HasPrefix(string(body), "{\n  \"error\": {\n    \"code\": "), "%s", body)
		return e.Error.Status, "", e.Error.Message
	}
	var e openAIErrorBody
	decodeStrict(t, string(body), &e)
	assert.True(t, strings.HasPrefix(string(body), "{\n    \"error\": {\n        \"message\": "), "OpenAI indents errors by four: %s", body)
	assert.Nil(t, e.Error.Param)
	if e.Error.Code != nil {
		code = *e.Error.Code
	}
	return e.Error.Type, code, e.Error.Message
}

func TestFaultStatus(t *testing.T) {
	type want struct{ typ, code string }
	cases := []struct {
		name   string
		fault  Fault
		status int
		want   map[string]want // by format; OpenAI formats share "openai"
	}{
		{"rate limited", RateLimited(1500 * time.Millisecond), 429, map[string]want{
			"openai": {"requests", "rate_limit_exceeded"}, "anthropic.messages": {"rate_limit_error", ""}, "gemini": {"RESOURCE_EXHAUSTED", ""}}},
		{"insufficient quota", InsufficientQuota(), 429, map[string]want{
			"openai": {"insufficient_quota", "insufficient_quota"}, "anthropic.messages": {"rate_limit_error", "enforced_spend_limit_reached"}, "gemini": {"RESOURCE_EXHAUSTED", ""}}},
		{"overloaded", Overloaded(), 529, map[string]want{
			"openai": {"server_error", ""}, "anthropic.messages": {"overloaded_error", ""}, "gemini": {"UNAVAILABLE", ""}}},
		{"server error", ServerError(), 500, map[string]want{
			"openai": {"server_error", ""}, "anthropic.messages": {"api_error", ""}, "gemini": {"INTERNAL", ""}}},
		{"unavailable", Unavailable(), 503, map[string]want{
			"openai": {"server_error", ""}, "anthropic.messages": {"api_error", ""}, "gemini": {"UNAVAILABLE", ""}}},
		{"bad request", HTTPError(400), 400, map[string]want{
			"openai": {"invalid_request_error", ""}, "anthropic.messages": {"invalid_request_error", ""}, "gemini": {"INVALID_ARGUMENT", ""}}},
		{"overrides", Fault{Status: 418, Type: "custom_type", Code: "custom_code", Message: "custom message"}, 418, map[string]want{
			"openai": {"custom_type", "custom_code"}, "anthropic.messages": {"custom_type", "custom_code"}, "gemini": {"custom_type", ""}}},
	}
	for _, u := range both(t) {
		for _, tc := range cases {
			for _, c := range append(nonStreamCases, streamCases...) {
				t.Run(u.name+"/"+tc.name+"/"+c.name, func(t *testing.T) {
					u.fake.Push(tc.fault)
					resp := u.post(t, c.path, c.body, c.header...)
					body := read(t, resp)
					require.Equal(t, tc.status, resp.StatusCode, "%s", body)
					assert.Contains(t, resp.Header.Get("Content-Type"), "application/json", "errors are JSON, streams too")
					typ, code, msg := errorFields(t, c, body)
					w, ok := tc.want[c.name]
					if !ok {
						w = tc.want["openai"]
					}
					assert.Equal(t, w.typ, typ)
					assert.Equal(t, w.code, code)
					assert.NotEmpty(t, msg)
					if tc.fault.Message != "" {
						assert.Equal(t, tc.fault.Message, msg)
					}
					if tc.fault.RetryAfter > 0 {
						assert.Equal(t, "2", resp.Header.Get("Retry-After"), "whole seconds, rounded up")
						assert.Equal(t, "1500", resp.Header.Get("Retry-After-Ms"))
						if c.name == "gemini" {
							var e geminiErrorBody
							require.NoError(t, json.Unmarshal(body, &e))
							require.Len(t, e.Error.Details, 1)
							assert.Equal(t, "1.5s", e.Error.Details[0].RetryDelay)
						}
					} else {
						assert.Empty(t, resp.Header.Get("Retry-After"))
					}
					if tc.status == 429 && c.name == "anthropic.messages" {
						assert.Equal(t, "0", resp.Header.Get("Anthropic-Ratelimit-Requests-Remaining"))
					}
					if tc.status == 429 && strings.HasPrefix(c.name, "openai") {
						assert.Equal(t, "0", resp.Header.Get("X-Ratelimit-Remaining-Requests"))
					}
				})
			}
		}
	}
}

func TestFaultQueue(t *testing.T) {
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			f := u.fake
			f.Push(ServerError(), Fault{Path: "/v1/messages", Status: 429}, Unavailable())
			assert.Equal(t, 3, f.Pending())
			status := func(path, body string, hdr ...string) int {
				resp := u.post(t, path, body, hdr...)
				read(t, resp)
				return resp.StatusCode
			}
			assert.Equal(t, 500, status(chatPath, chatBody))
			assert.Equal(t, 503, status(chatPath, chatBody), "the Path fault waits for its path")
			assert.Equal(t, 429, status(msgPath, msgBody, anthropicHeaders...))
			assert.Equal(t, 200, status(chatPath, chatBody))
			assert.Equal(t, 0, f.Pending())

			f.Always(Fault{Path: ":generateContent", Status: 503})
			f.Push(HTTPError(400))
			assert.Equal(t, 400, status(geminiPath, geminiBody), "queued faults come first")
			assert.Equal(t, 503, status(geminiPath, geminiBody))
			assert.Equal(t, 503, status(geminiPath, geminiBody))
			assert.Equal(t, 200, status(chatPath, chatBody), "Always respects its Path")
			f.Always(Fault{})
			assert.Equal(t, 200, status(geminiPath, geminiBody))

			f.Push(ServerError())
			f.Always(Unavailable())
			f.Reset()
			assert.Equal(t, 0, f.Pending())
			assert.Equal(t, 0, f.Count())
			assert.Equal(t, 200, status(chatPath, chatBody))
		})
	}
}

func TestFaultHeaderAndBody(t *testing.T) {
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			u.fake.Push(Fault{Status: 429, Header: http.Header{"x-should-retry": {"false"}}})
			resp := u.post(t, chatPath, chatBody)
			read(t, resp)
			assert.Equal(t, "false", resp.Header.Get("X-Should-Retry"))

			u.fake.Push(Fault{Status: 502, Body: []byte("<html>bad gateway</html>"), Header: http.Header{"Content-Type": {"text/html"}}})
			resp = u.post(t, chatPath, chatBody)
			assert.Equal(t, "<html>bad gateway</html>", string(read(t, resp)))
			assert.Equal(t, 502, resp.StatusCode)
			assert.Equal(t, "text/html", resp.Header.Get("Content-Type"))

			u.fake.Push(Fault{Body: []byte("data: {\"partial\":\n\n")})
			resp = u.post(t, chatPath, `{"model":"m","stream":true}`)
			assert.Equal(t, "data: {\"partial\":\n\n", string(read(t, resp)))
			assert.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
		})
	}
}

func TestDelayHeaders(t *testing.T) {
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			u.fake.Push(DelayHeaders(30 * time.Millisecond))
			start := time.Now()
			resp := u.post(t, chatPath, chatBody)
			read(t, resp)
			assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)

			// A cancelled request stops waiting at once.
			u.fake.Push(DelayHeaders(time.Hour))
			ctx, cancel := context.WithCancel(context.Background())
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.url+chatPath, strings.NewReader(chatBody))
			require.NoError(t, err)
			time.AfterFunc(10*time.Millisecond, cancel)
			_, err = u.client.Do(req)
			require.ErrorIs(t, err, context.Canceled)
		})
	}
}

func TestDelayChunks(t *testing.T) {
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			u.fake.Push(DelayChunks(5 * time.Millisecond))
			start := time.Now()
			resp := u.post(t, chatPath, `{"model":"m","stream":true}`)
			events := parseSSE(t, read(t, resp), "\n\n")
			assert.GreaterOrEqual(t, time.Since(start), time.Duration(len(events)-1)*5*time.Millisecond)

			u.fake.Push(DelayChunks(time.Hour))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.url+chatPath, strings.NewReader(`{"model":"m","stream":true}`))
			require.NoError(t, err)
			resp, err = u.client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			first := readEvent(t, bufio.NewReader(resp.Body))
			assert.Contains(t, first, `"role":"assistant"`)
			cancel()
			_, err = io.ReadAll(resp.Body)
			require.ErrorIs(t, err, context.Canceled)
		})
	}
}

// readEvent reads one SSE event, through its blank line.
func readEvent(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		b.WriteString(line)
		if line == "\n" {
			return b.String()
		}
	}
}

func TestCutAfter(t *testing.T) {
	for _, u := range both(t) {
		for _, c := range streamCases {
			t.Run(u.name+"/"+c.name, func(t *testing.T) {
				full := read(t, u.post(t, c.path, c.body, c.header...))
				events := strings.SplitAfter(string(full), c.sep)
				for _, n := range []int{0, 2} {
					u.fake.Push(CutAfter(n))
					resp := u.post(t, c.path, c.body, c.header...)
					require.Equal(t, 200, resp.StatusCode)
					got, err := io.ReadAll(resp.Body)
					require.ErrorIs(t, err, io.ErrUnexpectedEOF, "a cut is not a clean end")
					want := strings.Join(events[:n], "")
					// Ids differ between requests: compare the framing and event count.
					assert.Equal(t, n, strings.Count(string(got), c.sep))
					assert.Len(t, got, len(want))
				}
			})
		}
		t.Run(u.name+"/non-stream", func(t *testing.T) {
			u.fake.Push(CutAfter(0))
			resp := u.post(t, chatPath, chatBody)
			got, err := io.ReadAll(resp.Body)
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			assert.False(t, json.Valid(got))
			assert.NotEmpty(t, got)
		})
	}
}

func TestErrorAfter(t *testing.T) {
	wantEvent := map[string]string{
		"openai.chat":        "data: {\"error\":{\"message\":\"The server had an error while processing your request. Sorry about that!\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n",
		"openai.responses":   "event: error\ndata: {\"type\":\"error\",\"sequence_number\":2,\"code\":\"server_error\",\"message\":\"The server had an error while processing your request. Sorry about that!\",\"param\":null}\n\n",
		"anthropic.messages": "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
		"gemini":             "data: {\"error\": {\"code\": 503,\"message\": \"The model is overloaded. Please try again later.\",\"status\": \"UNAVAILABLE\"}}\r\n\r\n",
	}
	for _, u := range both(t) {
		for _, c := range streamCases {
			t.Run(u.name+"/"+c.name, func(t *testing.T) {
				u.fake.Push(ErrorAfter(2))
				resp := u.post(t, c.path, c.body, c.header...)
				require.Equal(t, 200, resp.StatusCode, "the error comes after HTTP 200")
				body := read(t, resp)
				events := parseSSE(t, body, c.sep)
				require.Len(t, events, 3)
				assert.True(t, strings.HasSuffix(string(body), wantEvent[c.name]), "%q", body)
				last := events[2]
				switch c.name {
				case "anthropic.messages", "openai.responses":
					assert.Equal(t, "error", last.name)
				default:
					assert.Contains(t, keys(t, last.data), "error", "a data payload with a top-level error")
				}
			})
		}
	}
	t.Run("overrides", func(t *testing.T) {
		tr := NewTransport()
		tr.Push(Fault{ErrorAt: 1, Type: "api_error", Message: "boom"})
		u := upstream{url: tr.URL, client: tr.Client(), fake: tr.Fake}
		body := read(t, u.post(t, msgPath, `{"model":"c","max_tokens":9,"stream":true}`, anthropicHeaders...))
		assert.Equal(t, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"boom\"}}\n\n", string(body))
	})
}

func TestMalformed(t *testing.T) {
	for _, u := range both(t) {
		for _, c := range nonStreamCases {
			t.Run(u.name+"/"+c.name, func(t *testing.T) {
				u.fake.Push(MalformedJSON())
				resp := u.post(t, c.path, c.body, c.header...)
				body := read(t, resp)
				require.Equal(t, 200, resp.StatusCode)
				assert.NotEmpty(t, body)
				assert.False(t, json.Valid(body), "%s", body)
			})
		}
		for _, c := range streamCases {
			t.Run(u.name+"/stream/"+c.name, func(t *testing.T) {
				u.fake.Push(MalformedJSON())
				events := parseSSE(t, read(t, u.post(t, c.path, c.body, c.header...)), c.sep)
				for i, ev := range events {
					if ev.data == "[DONE]" {
						continue
					}
					assert.Equal(t, i != 1, json.Valid([]byte(ev.data)), "event %d: %s", i, ev.data)
				}
			})
		}
	}
}

// eventReader reads a stream's events in the background, as a client
// would: each read blocks until the upstream sends the next event.
func eventReader(t *testing.T, body io.Reader) <-chan string {
	t.Helper()
	out := make(chan string)
	go func() {
		defer close(out)
		r := bufio.NewReader(body)
		var b strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			b.WriteString(line)
			if line == "\n" {
				out <- b.String()
				b.Reset()
			}
		}
	}()
	return out
}

func TestMalformedEdgeCases(t *testing.T) {
	tr := NewTransport(WithReply("One"))
	u := upstream{url: tr.URL, client: tr.Client(), fake: tr.Fake}
	tr.Push(MalformedJSON())
	events := parseSSE(t, read(t, u.post(t, geminiStream, geminiBody)), "\r\n\r\n")
	require.Len(t, events, 1)
	assert.False(t, json.Valid([]byte(events[0].data)), "a one-event stream breaks its only event")

	tr.Push(MalformedJSON())
	body := read(t, u.post(t, geminiArray, geminiBody))
	assert.False(t, json.Valid(body))
}

func TestGateStream(t *testing.T) {
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			g := NewGate()
			u.fake.Push(Hold(g))
			resp := u.post(t, chatPath, `{"model":"m","stream":true}`)
			require.Equal(t, 200, resp.StatusCode, "headers are not held")
			events := eventReader(t, resp.Body)

			require.Eventually(t, func() bool { return g.Waiting() == 1 }, 5*time.Second, time.Millisecond)
			g.Release()
			assert.Contains(t, <-events, `"role":"assistant"`)
			// The upstream now holds the second event: the first reached
			// the client before the second was sent.
			require.Eventually(t, func() bool { return g.Waiting() == 1 }, 5*time.Second, time.Millisecond)
			select {
			case ev := <-events:
				t.Fatalf("event passed a closed gate: %q", ev)
			default:
			}
			g.Release()
			assert.Contains(t, <-events, `"content":"Hello"`)
			g.Open()
			var last string
			for ev := range events {
				last = ev
			}
			assert.Equal(t, "data: [DONE]\n\n", last)
			assert.Equal(t, 0, g.Waiting())
		})
	}
}

func TestGateWholeBody(t *testing.T) {
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			var g Gate // the zero Gate works
			u.fake.Push(Hold(&g))
			done := make(chan *http.Response, 1)
			go func() {
				req, _ := http.NewRequest(http.MethodPost, u.url+chatPath, strings.NewReader(chatBody))
				resp, err := u.client.Do(req)
				assert.NoError(t, err)
				done <- resp
			}()
			require.Eventually(t, func() bool { return g.Waiting() == 1 }, 5*time.Second, time.Millisecond)
			assert.Equal(t, 1, u.fake.Count(), "the request arrived and is held")
			select {
			case <-done:
				t.Fatal("response before release")
			default:
			}
			g.Release()
			resp := <-done
			require.NotNil(t, resp)
			assert.Equal(t, 200, resp.StatusCode)
			read(t, resp)
		})
	}
}

func TestGateCancel(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // after the upstreams close
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			g := NewGate()
			u.fake.Push(Hold(g))
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u.url+chatPath, strings.NewReader(`{"model":"m","stream":true}`))
			resp, err := u.client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			errc := make(chan error, 1)
			go func() {
				_, err := io.ReadAll(resp.Body)
				errc <- err
			}()
			require.Eventually(t, func() bool { return g.Waiting() == 1 }, 5*time.Second, time.Millisecond)
			cancel()
			require.ErrorIs(t, <-errc, context.Canceled)
			require.Eventually(t, func() bool { return g.Waiting() == 0 }, 5*time.Second, time.Millisecond)
		})
	}
}

func TestServerCloseEndsHeldStreams(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	s := NewServer()
	g := NewGate()
	s.Push(Hold(g))
	req, _ := http.NewRequest(http.MethodPost, s.URL+chatPath, strings.NewReader(`{"model":"m","stream":true}`))
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return g.Waiting() == 1 }, 5*time.Second, time.Millisecond)

	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung on a held stream")
	}
	_, err = io.ReadAll(resp.Body)
	assert.Error(t, err, "the held stream ends without its terminator")
	resp.Body.Close()
}

func TestTransportCloseEndsHeldStreams(t *testing.T) {
	tr := NewTransport()
	g := NewGate()
	tr.Push(Hold(g))
	resp, err := tr.Client().Post(tr.URL+chatPath, "application/json", strings.NewReader(`{"model":"m","stream":true}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(resp.Body)
		errc <- err
	}()
	require.Eventually(t, func() bool { return g.Waiting() == 1 }, 5*time.Second, time.Millisecond)
	tr.Close()
	err = <-errc
	assert.True(t, errors.Is(err, errClosed), "%v", err)
	_, err = tr.Client().Post(tr.URL+chatPath, "application/json", strings.NewReader(chatBody))
	assert.ErrorIs(t, err, errClosed)
}
