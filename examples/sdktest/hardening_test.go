package sdktest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/openai/openai-go/v3"
	openaiopt "github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/cache"
	"github.com/aigateway-go/aigateway/provider"
)

// hostileServer is an upstream that answers every chat call with handle,
// counting the calls.
func hostileServer(t *testing.T, handle http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		handle(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func hostileClient(srv *httptest.Server, gw *aigateway.Gateway, w wiring) openai.Client {
	opts := []openaiopt.RequestOption{openaiopt.WithBaseURL(srv.URL + "/v1"), openaiopt.WithAPIKey(apiKey), openaiopt.WithMaxRetries(0)}
	if w == viaHTTPClient {
		opts = append(opts, openaiopt.WithHTTPClient(gw.Client()))
	} else {
		opts = append(opts, openaiopt.WithMiddleware(gw.SDKMiddleware))
	}
	return openai.NewClient(opts...)
}

// Issue 10, item 1: an upstream stream that never ends an event fails the
// openai-go stream with the stack's clear error once the event passes the
// bound; nothing hangs and nothing grows past it.
func TestHostileEndlessEventFailsTheSDKStream(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.String(), func(t *testing.T) {
			line := "data: " + strings.Repeat("x", 4096) + "\n"
			srv, _ := hostileServer(t, func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", "text/event-stream")
				rw.WriteHeader(200)
				for r.Context().Err() == nil {
					if _, err := rw.Write([]byte(line)); err != nil {
						return
					}
				}
			})
			gw := mustNew(t, srv.Client().Transport)
			defer gw.Close()
			ctx, tr := aigateway.Track(context.Background())
			client := hostileClient(srv, gw, w)
			stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
				Model:    gptModel,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
			})
			for stream.Next() {
			}
			require.Error(t, stream.Err())
			stream.Close()
			c := onlyCall(t, tr)
			<-c.Done()
			assert.ErrorIs(t, c.Result().Err, aigateway.ErrEventTooLarge)
		})
	}
}

// Issue 10, item 4: a 200 whose body is an error object (as overloaded
// proxies answer) is the call's error and is never served from the cache.
func TestErrorIn200IsNeverCachedThroughTheSDK(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.String(), func(t *testing.T) {
			srv, calls := hostileServer(t, func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", "application/json")
				fmt.Fprint(rw, `{"error":{"message":"upstream overloaded, try again","type":"server_error","code":null}}`)
			})
			c := cache.New(cache.Config{})
			gw := mustNew(t, srv.Client().Transport, c)
			defer gw.Close()
			client := hostileClient(srv, gw, w)
			for range 2 {
				ctx, tr := aigateway.Track(context.Background())
				_, _ = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
					Model:    gptModel,
					Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
				})
				call := onlyCall(t, tr)
				<-call.Done()
				var pe *provider.Error
				require.ErrorAs(t, call.Result().Err, &pe)
				assert.Equal(t, "upstream overloaded, try again", pe.Message)
				assert.Equal(t, aigateway.CacheMiss, call.Result().CacheStatus)
			}
			assert.Equal(t, int32(2), calls.Load(), "the error was not served from the cache")
			assert.Zero(t, c.Stats().Entries)
		})
	}
}

// Issue 10, item 7: tags sent with the SDK's own header option are bounded:
// too many is a 400 the SDK raises as a typed error, sent nowhere.
func TestHeaderMetadataBoundThroughTheSDK(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.String(), func(t *testing.T) {
			f := newFixture(t, inMemory)
			tags := make([]string, aigateway.MaxHeaderMetadataKeys+1)
			for i := range tags {
				tags[i] = fmt.Sprintf(`"k%d":"v"`, i)
			}
			var attempts attemptCounter
			client := f.openai(w, openaiopt.WithMiddleware(attempts.middleware),
				openaiopt.WithHeader(aigateway.HeaderMetadata, "{"+strings.Join(tags, ",")+"}"))
			_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
				Model:    gptModel,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
			})
			var apiErr *openai.Error
			require.True(t, errors.As(err, &apiErr), "a typed error: %v", err)
			assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
			assert.Contains(t, apiErr.Message, aigateway.HeaderMetadata)
			assert.Equal(t, 1, attempts.count(), "not retried")
			assert.Zero(t, f.Count(), "nothing went upstream")
		})
	}
}
