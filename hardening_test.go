package aigateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 10, item 8: a context that ends before the answer reaches the
// caller completes the call from context.AfterFunc's goroutine while own()
// is still wrapping the body. go test -race caught the two touching the
// same field.
func TestContextEndedBeforeAnswerIsOwned(t *testing.T) {
	for range 50 {
		ctx, cancel := context.WithCancel(context.Background())
		ctx, tr := Track(ctx)
		gw := New(roundTripFunc(func(r *http.Request) (*http.Response, error) {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
			cancel() // the caller gives up as the answer arrives
			return jsonResponse(r, 200, chatJSON), nil
		}))
		resp, err := gw.RoundTrip(newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx))
		require.NoError(t, err)
		<-tr.Last().Done()
		resp.Body.Close()
		assert.ErrorIs(t, tr.Last().Result().Err, context.Canceled)
	}
}

// blockingBody is a request body whose Read blocks until it is closed, as
// an io.Pipe with a writer that never writes does.
type blockingBody struct {
	closed chan struct{}
	reads  chan struct{}
}

func newBlockingBody() *blockingBody {
	return &blockingBody{closed: make(chan struct{}), reads: make(chan struct{}, 1)}
}

func (b *blockingBody) Read([]byte) (int, error) {
	select {
	case b.reads <- struct{}{}:
	default:
	}
	<-b.closed
	return 0, errors.New("read on closed body")
}

func (b *blockingBody) Close() error {
	select {
	case <-b.closed:
	default:
		close(b.closed)
	}
	return nil
}

// Issue 10, item 8: a context that ends while the stack reads the request
// body returns at once with the context's error, whatever the body.
func TestContextEndsWhileRequestBodyIsRead(t *testing.T) {
	sent := 0
	gw := New(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent++
		return jsonResponse(r, 200, chatJSON), nil
	}))
	ctx, cancel := context.WithCancel(context.Background())
	body := newBlockingBody()
	req := newChatRequest(t, "https://api.openai.com/v1/chat/completions", chatBody).WithContext(ctx)
	req.Body, req.GetBody, req.ContentLength = body, nil, -1
	go func() {
		<-body.reads // the stack is blocked in Read
		cancel()
	}()
	resp, err := gw.RoundTrip(req)
	assert.Nil(t, resp)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, sent, "nothing was sent")
	select {
	case <-body.closed:
	default:
		t.Error("the request body is closed")
	}
}
