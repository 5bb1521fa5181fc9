package aigateway_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/fallback"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// writeCounter is an http.Transport whose connections count their writes.
func writeCounter(writes *atomic.Int32) *http.Transport {
	var d net.Dialer
	return &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, writes: writes}, nil
	}}
}

type countingConn struct {
	net.Conn
	writes *atomic.Int32
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// onlyReader hides every type but io.Reader, as a body net/http cannot
// tell is in memory.
type onlyReader struct{ io.Reader }

// Every request the stack sends goes out in one write, headers and body
// together (one TCP segment for a small request), as a request with an
// in-memory body sent directly does: net/http flushes the headers of a
// body it does not know to be in memory in a write of their own, which
// costs a syscall and a segment per call. The control case shows that
// this test sees the difference.
func TestEachRequestGoesOutInOneWrite(t *testing.T) {
	openai := llmtest.NewServer()
	t.Cleanup(openai.Close)
	anthropic := llmtest.NewServer()
	t.Cleanup(anthropic.Close)
	const chat = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}`
	const stream = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello"}]}`

	send := func(t *testing.T, rt http.RoundTripper, body io.Reader) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, openai.URL+"/v1/chat/completions", body)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer sk-test")
		req.Header.Set("Content-Type", "application/json")
		resp, err := rt.RoundTrip(req)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}

	t.Run("control: a body net/http does not know", func(t *testing.T) {
		var writes atomic.Int32
		tr := writeCounter(&writes)
		defer tr.CloseIdleConnections()
		req, err := http.NewRequest(http.MethodPost, openai.URL+"/v1/chat/completions", onlyReader{strings.NewReader(chat)})
		require.NoError(t, err)
		req.ContentLength = int64(len(chat))
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, int32(2), writes.Load(), "headers, then body")
	})

	for _, tc := range []struct {
		name, body string
	}{
		{"json", chat},
		{"stream, usage asked on the caller's behalf", stream},
	} {
		t.Run("gateway: "+tc.name, func(t *testing.T) {
			var writes atomic.Int32
			tr := writeCounter(&writes)
			defer tr.CloseIdleConnections()
			gw, err := aigateway.New(tr)
			require.NoError(t, err)
			defer gw.Close()
			for range 3 {
				send(t, gw, strings.NewReader(tc.body))
			}
			assert.Equal(t, int32(3), writes.Load(), "one write per request")
		})
	}

	t.Run("router: a retry, then a translated attempt", func(t *testing.T) {
		var writes atomic.Int32
		tr := writeCounter(&writes)
		defer tr.CloseIdleConnections()
		openai.Push(llmtest.HTTPError(503))
		r := fallback.New(fallback.Config{
			Targets: []fallback.Target{
				{Name: "primary"},
				{Name: "claude", Provider: provider.Anthropic, BaseURL: anthropic.URL + "/v1", APIKey: "sk-ant-test", Model: "claude-sonnet-4-5", Priority: 1},
			},
			AttemptsPerTarget: 1,
			Sleep:             func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		})
		gw, err := aigateway.New(tr, r)
		require.NoError(t, err)
		defer gw.Close()
		send(t, gw, strings.NewReader(stream))
		require.Equal(t, 1, anthropic.Count(), "the primary failed, the Anthropic target answered")
		assert.Equal(t, int32(2), writes.Load(), "one write per attempt")
	})
}
