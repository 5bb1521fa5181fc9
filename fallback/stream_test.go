package fallback

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/llmtest"
	"github.com/aigateway-go/aigateway/provider"
)

// sendClaude sends an Anthropic streaming request to the primary.
func (g *rig) sendClaude(t *testing.T) result {
	t.Helper()
	return g.sendTo(t, "/v1/messages", claudeBody, true)
}

// Before the first content event reaches the caller, a stream that fails
// still falls back; the caller sees one clean stream from the backup.
func TestStreamFallsBackBeforeFirstContent(t *testing.T) {
	cases := []struct {
		name  string
		fault llmtest.Fault
	}{
		{"error event first after 200", llmtest.ErrorAfter(0)},
		{"cut before the first event", llmtest.CutAfter(0)},
		{"500", llmtest.ServerError()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newRig(t, Config{AttemptsPerTarget: 1}, true)
			g.primary.Always(c.fault)
			r := g.do(t, nil, streamBody)
			require.Equal(t, 200, r.status)
			require.NoError(t, r.err)
			assert.Equal(t, "backup", r.header.Get(aigateway.HeaderTarget))
			assert.Equal(t, 1, strings.Count(r.body, `"role":"assistant"`), "only the backup's stream reached the caller")
			assert.True(t, strings.HasSuffix(r.body, "data: [DONE]\n\n"))
			assert.NotContains(t, r.body, `"error"`)
			res := r.call.Result()
			assert.NoError(t, res.Err)
			assert.Equal(t, []string{"primary", "backup"}, targets(r.call))
			assert.Error(t, res.AttemptLog[0].Err)
		})
	}
}

// Anthropic's overloaded error after message_start: nothing the caller can
// use was sent, so it still falls back.
func TestStreamAnthropicOverloadedAfter200(t *testing.T) {
	g := newRig(t, Config{AttemptsPerTarget: 1, Targets: []Target{
		{Name: "primary"},
		{Name: "backup", Provider: provider.Anthropic, BaseURL: backupURL + "/v1", APIKey: backupKey, Priority: 1},
	}}, true)
	g.primary.Always(llmtest.Fault{ErrorAt: 2, Type: "overloaded_error", Message: "Overloaded"})
	r := g.sendClaude(t)
	require.Equal(t, 200, r.status)
	require.NoError(t, r.err)
	assert.Equal(t, "backup", r.header.Get(aigateway.HeaderTarget))
	assert.Equal(t, 1, strings.Count(r.body, "event: message_start"))
	assert.Contains(t, r.body, "event: message_stop")
	assert.NotContains(t, r.body, "overloaded")
	var perr *provider.Error
	require.ErrorAs(t, r.call.Result().AttemptLog[0].Err, &perr)
	assert.Equal(t, "overloaded_error", perr.Type)
	assert.Equal(t, 200, r.call.Result().AttemptLog[0].Status)
	b, _ := g.backup.LastRequest()
	assert.Equal(t, backupKey, b.Header.Get("X-Api-Key"), "Anthropic's auth style")
	assert.Empty(t, b.Header.Get("Authorization"))
}

// After the first content byte went to the caller, an upstream failure is
// the stream's error: no fallback, the Call records it.
func TestStreamMidStreamCutReachesTheCaller(t *testing.T) {
	g := newRig(t, Config{}, true)
	g.primary.Always(llmtest.CutAfter(2))
	r := g.do(t, nil, streamBody)
	require.Equal(t, 200, r.status)
	assert.ErrorIs(t, r.err, io.ErrUnexpectedEOF)
	assert.Contains(t, r.body, `"role":"assistant"`)
	assert.Zero(t, g.backup.Count())
	assert.Error(t, r.call.Result().Err)
}

// Streams stay streams: the router answers as soon as the first content
// event arrived, and the caller reads it while the upstream still holds the
// next one.
func TestStreamIsNotBuffered(t *testing.T) {
	g := newRig(t, Config{}, true)
	gate := llmtest.NewGate()
	g.primary.Always(llmtest.Hold(gate))
	gate.Release() // the role chunk only
	resp, call, err := g.send(context.Background(), streamBody, nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)

	buf := make([]byte, 4096)
	n, err := resp.Body.Read(buf)
	require.NoError(t, err)
	assert.Contains(t, string(buf[:n]), `"role":"assistant"`)
	assert.NotContains(t, string(buf[:n]), "Hello", "the upstream has not sent the first word yet")

	gate.Release()
	n, err = resp.Body.Read(buf)
	require.NoError(t, err)
	assert.Contains(t, string(buf[:n]), "Hello")
	requireNotDone(t, call)

	gate.Open()
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(rest), "[DONE]")
}

// The request timeout covers a stream until its first content event.
func TestStreamTimeoutBeforeFirstContent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newRig(t, Config{AttemptsPerTarget: 1, RequestTimeout: time.Second}, true)
		g.primary.Always(llmtest.Hold(llmtest.NewGate())) // headers, then nothing
		r := g.do(t, nil, streamBody)
		require.Equal(t, 200, r.status)
		require.NoError(t, r.err)
		assert.Equal(t, []string{"primary", "backup"}, targets(r.call))
		assert.ErrorIs(t, r.call.Result().AttemptLog[0].Err, ErrAttemptTimeout)
	})
}

// An upstream silent for IdleTimeout between chunks ends the stream with
// ErrIdleTimeout; the request timeout no longer applies once it streams.
func TestStreamIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newRig(t, Config{IdleTimeout: 250 * time.Millisecond, RequestTimeout: time.Hour}, true)
		gate := llmtest.NewGate()
		g.primary.Always(llmtest.Hold(gate))
		gate.Release()
		resp, call, err := g.send(context.Background(), streamBody, nil)
		require.NoError(t, err)
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		assert.ErrorIs(t, err, ErrIdleTimeout)
		<-call.Done()
		assert.Error(t, call.Result().Err)
	})
}

// A stream that goes silent after its headers, before its first content
// event, is an idle upstream too: without a request timeout, the idle
// timeout moves the call on. (It applies to the backup's stream too: it is
// long enough for an in-memory stream on a loaded machine; the held primary
// never sends, whatever the timeout.)
func TestStreamIdleTimeoutBeforeFirstContent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newRig(t, Config{AttemptsPerTarget: 1, IdleTimeout: time.Second}, true)
		g.primary.Always(llmtest.Hold(llmtest.NewGate())) // headers, then nothing
		r := g.do(t, nil, streamBody)
		require.Equal(t, 200, r.status)
		require.NoError(t, r.err)
		assert.Equal(t, []string{"primary", "backup"}, targets(r.call))
		assert.ErrorIs(t, r.call.Result().AttemptLog[0].Err, ErrIdleTimeout)
		assert.True(t, strings.HasSuffix(r.body, "data: [DONE]\n\n"))
	})
}

// ctxBody is an upstream stream whose events are all there at once; like
// a real transport's body, it fails once its request's context ends.
type ctxBody struct {
	ctx    context.Context
	events []string
}

func (b *ctxBody) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	if len(b.events) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.events[0])
	b.events[0] = b.events[0][n:]
	if b.events[0] == "" {
		b.events = b.events[1:]
	}
	return n, nil
}

func (b *ctxBody) Close() error { return nil }

// A caller slow to read is not an idle upstream: the idle timer runs only
// while a Read waits for the upstream, so pausing between Reads for far
// longer than IdleTimeout neither ends the attempt nor fails the stream.
func TestStreamIdleTimeoutIgnoresSlowReaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const idle = 50 * time.Millisecond
		attempt := make(chan context.Context, 1)
		base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			attempt <- r.Context()
			return &http.Response{
				StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}, Request: r,
				Body: &ctxBody{ctx: r.Context(), events: []string{
					"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
					"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}\n\n",
					"data: [DONE]\n\n",
				}},
			}, nil
		})
		rt := New(Config{Targets: []Target{{}}, IdleTimeout: idle}).Wrap(base)
		req, _ := http.NewRequest(http.MethodPost, primaryURL+chatPath, strings.NewReader(streamBody))
		resp, err := rt.RoundTrip(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		ctx := <-attempt

		buf := make([]byte, 64) // one Read at a time, with pauses between them
		var got strings.Builder
		for {
			n, err := resp.Body.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			time.Sleep(5 * idle) // the slow reader
			require.NoError(t, ctx.Err(), "the attempt ended while the caller paused")
		}
		assert.Contains(t, got.String(), "Hello")
		assert.True(t, strings.HasSuffix(got.String(), "data: [DONE]\n\n"))
	})
}

func requireNotDone(t *testing.T, c *aigateway.Call) {
	t.Helper()
	select {
	case <-c.Done():
		require.Fail(t, "the call completed too early")
	default:
	}
}

// sendTo sends body to path on the primary, with Anthropic's headers when
// anthropic is set.
func (g *rig) sendTo(t *testing.T, path, body string, anthropic bool) result {
	t.Helper()
	ctx, tr := aigateway.Track(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, primaryURL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if anthropic {
		req.Header.Set("X-Api-Key", callerKey)
		req.Header.Set("Anthropic-Version", "2023-06-01")
	} else {
		req.Header.Set("Authorization", "Bearer "+callerKey)
	}
	resp, err := g.rt.RoundTrip(req)
	require.NoError(t, err)
	b, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	return result{status: resp.StatusCode, header: resp.Header, body: string(b), err: rerr, call: tr.Calls()[0]}
}

// The Responses API opens its streams with response.created and
// response.in_progress: an error after them still falls back.
func TestStreamResponsesErrorAfterPreamble(t *testing.T) {
	g := newRig(t, Config{AttemptsPerTarget: 1}, true)
	g.primary.Always(llmtest.ErrorAfter(2))
	r := g.sendTo(t, "/v1/responses", `{"model":"gpt-4o-mini","input":"Say hello","stream":true}`, false)
	require.Equal(t, 200, r.status)
	require.NoError(t, r.err)
	assert.Equal(t, "backup", r.header.Get(aigateway.HeaderTarget))
	assert.Equal(t, 1, strings.Count(r.body, "event: response.created"))
	assert.Contains(t, r.body, "event: response.completed")
}

// Anthropic's spend limit (429 enforced_spend_limit_reached) is never
// retried on the same target.
func TestAnthropicSpendLimitMovesOn(t *testing.T) {
	g := newRig(t, Config{Targets: []Target{
		{Name: "primary"},
		{Name: "backup", Provider: provider.Anthropic, BaseURL: backupURL + "/v1", APIKey: backupKey, Priority: 1},
	}}, true)
	g.primary.Always(llmtest.InsufficientQuota())
	r := g.sendTo(t, "/v1/messages", claudeBody, true)
	require.Equal(t, 200, r.status)
	assert.Equal(t, []string{"primary", "backup"}, targets(r.call))
	var perr *provider.Error
	require.ErrorAs(t, r.call.Result().AttemptLog[0].Err, &perr)
	assert.Equal(t, "enforced_spend_limit_reached", perr.Code)
}
