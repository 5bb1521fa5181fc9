package llmtest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestTransportMatchesServer sends the same requests, faults included, to
// a Server and a Transport and requires the same status, headers and
// body bytes.
func TestTransportMatchesServer(t *testing.T) {
	type call struct {
		path, body string
		header     []string
		fault      *Fault
	}
	var calls []call
	for _, c := range append(nonStreamCases, streamCases...) {
		calls = append(calls, call{path: c.path, body: c.body, header: c.header})
	}
	calls = append(calls,
		call{path: geminiArray, body: geminiBody},
		call{path: embedPath, body: `{"model":"e","input":["a","b"],"encoding_format":"base64"}`},
		call{path: chatPath, body: `{"model":"m","stream":true}`},
		call{path: chatPath, body: chatBody, fault: &Fault{Status: 429, RetryAfter: 2 * time.Second}},
		call{path: msgPath, body: msgBody, header: anthropicHeaders, fault: &Fault{Status: 529}},
		call{path: geminiStream, body: geminiBody, fault: &Fault{ErrorAt: 2}},
		call{path: respPath, body: `{"model":"m","stream":true}`, fault: &Fault{ErrorAt: 5}},
		call{path: chatPath, body: chatBody, fault: &Fault{Malformed: true}},
		call{path: msgPath, body: `{"model":"c","max_tokens":9,"stream":true}`, header: anthropicHeaders, fault: &Fault{Malformed: true}},
		call{path: "/v1/nothing", body: `{}`},
	)

	srv := NewServer(WithReply("Some reply, a little longer than the default."))
	defer srv.Close()
	tr := NewTransport(WithReply("Some reply, a little longer than the default."))
	defer tr.Close()
	for i, c := range calls {
		send := func(client *http.Client, base string, f *Fake) (*http.Response, []byte) {
			if c.fault != nil {
				f.Push(*c.fault)
			}
			req, err := http.NewRequest(http.MethodPost, base+c.path, strings.NewReader(c.body))
			require.NoError(t, err)
			for i := 0; i+1 < len(c.header); i += 2 {
				req.Header.Set(c.header[i], c.header[i+1])
			}
			resp, err := client.Do(req)
			require.NoError(t, err)
			return resp, read(t, resp)
		}
		sresp, sbody := send(srv.Client(), srv.URL, srv.Fake)
		tresp, tbody := send(tr.Client(), tr.URL, tr.Fake)
		assert.Equal(t, sresp.Status, tresp.Status, "call %d %s", i, c.path)
		assert.Equal(t, sresp.Header, tresp.Header, "call %d %s", i, c.path)
		assert.Equal(t, string(sbody), string(tbody), "call %d %s", i, c.path)
		assert.Equal(t, sresp.ContentLength, tresp.ContentLength, "call %d %s", i, c.path)
	}
}

type trackedBody struct {
	io.Reader
	closed int
}

func (b *trackedBody) Close() error { b.closed++; return nil }

func TestTransportRoundTripContract(t *testing.T) {
	tr := NewTransport()
	body := &trackedBody{Reader: strings.NewReader(chatBody)}
	req, err := http.NewRequest(http.MethodPost, "https://api.openai.com/v1/chat/completions", body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer sk-x")
	before := req.Header.Clone()
	urlBefore := *req.URL

	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, 1, body.closed, "the request body is closed once")
	assert.Equal(t, before, req.Header, "the request is not modified")
	assert.Equal(t, urlBefore, *req.URL)
	assert.Same(t, req, resp.Request)
	assert.Equal(t, "200 OK", resp.Status)
	assert.Equal(t, "HTTP/1.1", resp.Proto)
	assert.Equal(t, int64(len(read(t, resp))), resp.ContentLength)
	last, _ := tr.LastRequest()
	assert.Equal(t, "api.openai.com", last.URL.Host, "any URL works")
	req.URL.Path = "/changed"
	last, _ = tr.LastRequest()
	assert.Equal(t, "/v1/chat/completions", last.URL.Path, "the record keeps its own URL")

	tr.Push(Overloaded())
	resp, err = tr.RoundTrip(mustRequest(t, msgPath, msgBody, anthropicHeaders...))
	require.NoError(t, err)
	assert.Equal(t, "529 status code 529", resp.Status, "as Go's server says it")
	resp.Body.Close()

	ctx, cancel := context.WithCancel(context.Background())
	resp, err = tr.RoundTrip(mustRequest(t, chatPath, chatBody).WithContext(ctx))
	require.NoError(t, err)
	cancel()
	_, err = io.ReadAll(resp.Body)
	assert.ErrorIs(t, err, context.Canceled, "a whole body fails too once the request is cancelled")
	resp.Body.Close()

	n := tr.Count()
	_, err = tr.RoundTrip(mustRequest(t, chatPath, chatBody).WithContext(ctx))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, n, tr.Count(), "a cancelled request never reaches the fake")
}

func mustRequest(t *testing.T, path, body string, hdr ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, TransportURL+path, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req
}

func TestTransportOpenBodies(t *testing.T) {
	tr := NewTransport()
	r1, err := tr.RoundTrip(mustRequest(t, chatPath, chatBody))
	require.NoError(t, err)
	r2, err := tr.RoundTrip(mustRequest(t, chatPath, `{"model":"m","stream":true}`))
	require.NoError(t, err)
	assert.Equal(t, 2, tr.OpenBodies())
	require.NoError(t, r1.Body.Close())
	require.NoError(t, r1.Body.Close(), "closing twice is harmless")
	assert.Equal(t, 1, tr.OpenBodies())
	require.NoError(t, r2.Body.Close())
	assert.Equal(t, 0, tr.OpenBodies())
	_, err = r1.Body.Read(make([]byte, 8))
	assert.ErrorIs(t, err, errBodyClosed)
	_, err = r2.Body.Read(make([]byte, 8))
	assert.ErrorIs(t, err, errBodyClosed)
}

// TestTransportStreamClosedEarly abandons streams part-way, in every way a
// client can, and requires that nothing is left running.
func TestTransportStreamClosedEarly(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	tr := NewTransport()

	// Read one event, then close.
	resp, err := tr.RoundTrip(mustRequest(t, chatPath, `{"model":"m","stream":true}`))
	require.NoError(t, err)
	assert.Equal(t, int64(-1), resp.ContentLength)
	buf := make([]byte, 4096)
	n, err := resp.Body.Read(buf)
	require.NoError(t, err)
	assert.True(t, bytes.HasSuffix(buf[:n], []byte("\n\n")), "one event per Read")
	assert.Equal(t, 1, bytes.Count(buf[:n], []byte("data: ")))
	require.NoError(t, resp.Body.Close())

	// Close while a Read waits for the next event.
	tr.Push(DelayChunks(time.Hour))
	resp, err = tr.RoundTrip(mustRequest(t, msgPath, `{"model":"c","max_tokens":5,"stream":true}`, anthropicHeaders...))
	require.NoError(t, err)
	_, err = resp.Body.Read(buf)
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() {
		_, err := resp.Body.Read(buf)
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond) // let the Read start waiting; it fails either way
	require.NoError(t, resp.Body.Close())
	assert.ErrorIs(t, <-errc, errBodyClosed)

	// Never read at all, never closed: nothing runs behind the body.
	tr.Push(DelayChunks(time.Hour))
	_, err = tr.RoundTrip(mustRequest(t, chatPath, `{"model":"m","stream":true}`))
	require.NoError(t, err)
	goleak.VerifyNone(t)
	assert.Equal(t, 1, tr.OpenBodies())
}

func TestTransportContextCanceled(t *testing.T) {
	tr := NewTransport()
	ctx, cancel := context.WithCancel(context.Background())
	req := mustRequest(t, chatPath, `{"model":"m","stream":true}`).WithContext(ctx)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	p := make([]byte, 10) // smaller than an event
	_, err = resp.Body.Read(p)
	require.NoError(t, err)
	cancel()
	_, err = resp.Body.Read(p)
	assert.ErrorIs(t, err, context.Canceled, "even mid-event")

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	tr.Push(DelayHeaders(time.Hour))
	_, err = tr.RoundTrip(mustRequest(t, chatPath, chatBody).WithContext(ctx))
	assert.ErrorIs(t, err, context.Canceled)
}

func TestTransportWholeBodyAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	tr := NewTransport(WithCaptureLimit(0))
	body := []byte(chatBody)
	allocs := testing.AllocsPerRun(100, func() {
		req, _ := http.NewRequest(http.MethodPost, TransportURL+chatPath, bytes.NewReader(body))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
	// A regression guard, not a budget: the fake should stay cheap next
	// to the layers benchmarked over it.
	assert.Less(t, allocs, 60.0)
}
