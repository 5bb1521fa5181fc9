package fallback

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// compressing answers in the coding the request asks for, as a server in
// front of a provider does: the fake's answer, gzip- or zlib-compressed,
// each piece flushed as it comes (a stream stays a stream).
type compressing struct {
	rt       http.RoundTripper
	encoding string
}

func (c compressing) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(r)
	if err != nil || !strings.Contains(r.Header.Get("Accept-Encoding"), c.encoding) {
		return resp, err
	}
	pr, pw := io.Pipe()
	plain := resp.Body
	go func() {
		var zw interface {
			io.WriteCloser
			Flush() error
		} = gzip.NewWriter(pw)
		if c.encoding == "deflate" {
			zw = zlib.NewWriter(pw)
		}
		buf := make([]byte, 32<<10)
		for {
			n, err := plain.Read(buf)
			if n > 0 {
				zw.Write(buf[:n])
				if zw.Flush() != nil {
					break // the reader is gone
				}
			}
			if err != nil {
				zw.Close()
				break
			}
		}
		plain.Close()
		pw.Close()
	}()
	resp.Header.Set("Content-Encoding", c.encoding)
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	resp.Body = &compressedBody{PipeReader: pr, plain: plain}
	return resp, nil
}

// compressedBody closes the fake's body too, so that a compressing
// goroutine waiting on it ends.
type compressedBody struct {
	*io.PipeReader
	plain io.Closer
}

func (b *compressedBody) Close() error {
	b.PipeReader.Close()
	return b.plain.Close()
}

func inflated(t *testing.T, encoding string, b []byte) string {
	t.Helper()
	var r io.Reader
	var err error
	if encoding == "deflate" {
		r, err = zlib.NewReader(bytes.NewReader(b))
	} else {
		r, err = gzip.NewReader(bytes.NewReader(b))
	}
	require.NoError(t, err)
	out, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(out)
}

// Issue 10, item 9: a caller that asks for a compressed answer itself gets
// the compressed bytes, and the router still reads them as the provider
// wrote them: a good stream is the answer (the router had read its
// compressed bytes as events, found none, and failed every target with
// ErrNoContent), an error event before its first content still falls
// back, and a compressed 429 that says the quota is gone is read as one.
func TestCompressedAnswersAreReadByTheRouter(t *testing.T) {
	// The caller asks for usage itself: the stack passes its Accept-Encoding
	// on (it does not when it drops a usage chunk it asked for).
	const streamBody = `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello"}]}`
	for _, encoding := range []string{"gzip", "deflate"} {
		for _, gateway := range []bool{false, true} {
			name := encoding + "/router alone"
			if gateway {
				name = encoding + "/in a gateway"
			}
			t.Run(name+"/a good stream is the answer", func(t *testing.T) {
				g := newRig(t, Config{}, gateway)
				compressed := compressing{g.primary, encoding}
				g.rt = withBase(t, g, compressed, gateway)
				resp, call, err := g.send(context.Background(), streamBody, http.Header{"Accept-Encoding": {encoding}})
				require.NoError(t, err)
				raw, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, encoding, resp.Header.Get("Content-Encoding"), "the bytes the caller asked for")
				body := inflated(t, encoding, raw)
				assert.True(t, strings.HasSuffix(body, "data: [DONE]\n\n"))
				assert.Equal(t, 1, strings.Count(body, `"role":"assistant"`))
				assert.Equal(t, []string{"primary"}, targets(call))
				assert.Equal(t, "primary", resp.Header.Get(aigateway.HeaderTarget))
				assert.Zero(t, g.backup.Count())
				if gateway {
					<-call.Done()
					assert.NoError(t, call.Result().Err)
				}
			})
			t.Run(name+"/an error event before content falls back", func(t *testing.T) {
				g := newRig(t, Config{AttemptsPerTarget: 1}, gateway)
				g.primary.Always(llmtest.ErrorAfter(0))
				g.rt = withBase(t, g, compressing{g.primary, encoding}, gateway)
				resp, call, err := g.send(context.Background(), streamBody, http.Header{"Accept-Encoding": {encoding}})
				require.NoError(t, err)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				require.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, []string{"primary", "backup"}, targets(call))
				var perr *provider.Error
				assert.ErrorAs(t, call.Result().AttemptLog[0].Err, &perr, "the error event, read inflated")
			})
			t.Run(name+"/a 429 out of quota is read as one", func(t *testing.T) {
				g := newRig(t, Config{}, gateway)
				g.primary.Always(llmtest.InsufficientQuota())
				g.rt = withBase(t, g, compressing{g.primary, encoding}, gateway)
				resp, call, err := g.send(context.Background(), chatBody, http.Header{"Accept-Encoding": {encoding}})
				require.NoError(t, err)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				assert.Equal(t, []string{"primary", "backup"}, targets(call), "not retried on the primary")
				var perr *provider.Error
				require.ErrorAs(t, call.Result().AttemptLog[0].Err, &perr)
				assert.Equal(t, "insufficient_quota", perr.Code)
			})
		}
	}
}

// A compressed stream is not held back either: the router hands it on
// once the first content event inflated, while the upstream still holds
// the next.
func TestCompressedStreamIsNotBuffered(t *testing.T) {
	const streamBody = `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello"}]}`
	g := newRig(t, Config{}, true)
	gate := llmtest.NewGate()
	g.primary.Always(llmtest.Hold(gate))
	g.rt = withBase(t, g, compressing{g.primary, "gzip"}, true)
	gate.Release() // the role chunk only
	resp, call, err := g.send(context.Background(), streamBody, http.Header{"Accept-Encoding": {"gzip"}})
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	zr, err := gzip.NewReader(resp.Body)
	require.NoError(t, err)
	buf := make([]byte, 4096)
	n, err := zr.Read(buf)
	require.NoError(t, err)
	assert.Contains(t, string(buf[:n]), `"role":"assistant"`)
	assert.NotContains(t, string(buf[:n]), "Hello", "the upstream has not sent the first word yet")
	gate.Open()
	rest, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Contains(t, string(rest), "[DONE]")
	resp.Body.Close()
	<-call.Done()
	assert.NoError(t, call.Result().Err)
	assert.Equal(t, []string{"primary"}, targets(call))
}

// withBase rebuilds g's round tripper with primary answering through
// primary (a wrapper of g.primary).
func withBase(t *testing.T, g *rig, primary http.RoundTripper, gateway bool) http.RoundTripper {
	t.Helper()
	base := hosts{"primary.test": primary, "backup.test": g.backup}
	if gateway {
		gw := mustNew(t, base, g.router)
		t.Cleanup(func() { gw.Close() })
		return gw
	}
	return g.router.Wrap(base)
}
