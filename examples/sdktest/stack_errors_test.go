package sdktest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	openaiopt "github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
)

// stackRefusals are answers the stack gives itself, without sending
// anything: each must parse as the SDK's typed error and stop its retries
// (x-should-retry: false).
var stackRefusals = []struct {
	name    string
	status  int
	message string // part of the error message the SDK gets
	// setup prepares the Gateway and returns the prompt and any request
	// header to send.
	setup func(gw *aigateway.Gateway) (prompt string, header [2]string)
}{
	{"413 over MaxRequestBytes", http.StatusRequestEntityTooLarge, "exceeds 256 bytes",
		func(gw *aigateway.Gateway) (string, [2]string) {
			gw.MaxRequestBytes = 256
			return strings.Repeat("too long ", 64), [2]string{}
		}},
	{"400 malformed cache ttl", http.StatusBadRequest, aigateway.HeaderCacheTTL,
		func(*aigateway.Gateway) (string, [2]string) {
			return prompt, [2]string{aigateway.HeaderCacheTTL, "soon"}
		}},
}

func TestStackRefusalsParseInOpenAI(t *testing.T) {
	for _, tc := range stackRefusals {
		for _, stream := range []bool{false, true} {
			for _, w := range wirings {
				for _, kind := range upstreamKinds {
					t.Run(fmt.Sprintf("%s/stream=%v/%v/%v", tc.name, stream, w, kind), func(t *testing.T) {
						f := newFixture(t, kind)
						text, header := tc.setup(f.gw)
						var attempts attemptCounter
						opts := []openaiopt.RequestOption{openaiopt.WithMiddleware(attempts.middleware)} // outermost
						if header[0] != "" {
							opts = append(opts, openaiopt.WithHeader(header[0], header[1]))
						}
						client := f.openai(w, opts...) // the SDK's default retries
						params := chatParams()
						params.Messages = []openai.ChatCompletionMessageParamUnion{openai.UserMessage(text)}

						var err error
						if stream {
							s := client.Chat.Completions.NewStreaming(t.Context(), params)
							assert.False(t, s.Next())
							err = s.Err()
							assert.NoError(t, s.Close())
						} else {
							_, err = client.Chat.Completions.New(t.Context(), params)
						}
						var apiErr *openai.Error
						require.ErrorAs(t, err, &apiErr)
						assert.Equal(t, tc.status, apiErr.StatusCode)
						assert.Contains(t, apiErr.Message, tc.message)
						assert.Equal(t, "false", apiErr.Response.Header.Get("X-Should-Retry"))
						assert.Equal(t, 1, attempts.count(), "the SDK does not retry")
						assert.Zero(t, f.Count(), "nothing reaches the upstream")
					})
				}
			}
		}
	}
}

func TestStackRefusalsParseInAnthropic(t *testing.T) {
	for _, tc := range stackRefusals {
		for _, stream := range []bool{false, true} {
			for _, w := range wirings {
				for _, kind := range upstreamKinds {
					t.Run(fmt.Sprintf("%s/stream=%v/%v/%v", tc.name, stream, w, kind), func(t *testing.T) {
						f := newFixture(t, kind)
						text, header := tc.setup(f.gw)
						var attempts attemptCounter
						opts := []anthropicopt.RequestOption{anthropicopt.WithMiddleware(attempts.middleware)} // outermost
						if header[0] != "" {
							opts = append(opts, anthropicopt.WithHeader(header[0], header[1]))
						}
						client := f.anthropic(w, opts...)
						params := messageParams()
						params.Messages = []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(text))}

						var err error
						if stream {
							s := client.Messages.NewStreaming(t.Context(), params)
							assert.False(t, s.Next())
							err = s.Err()
							assert.NoError(t, s.Close())
						} else {
							_, err = client.Messages.New(t.Context(), params)
						}
						var apiErr *anthropic.Error
						require.ErrorAs(t, err, &apiErr)
						assert.Equal(t, tc.status, apiErr.StatusCode)
						assert.Contains(t, apiErr.Message, tc.message)
						assert.NotEmpty(t, apiErr.Type(), "error.type parsed")
						assert.Equal(t, "false", apiErr.Response.Header.Get("X-Should-Retry"))
						assert.Equal(t, 1, attempts.count(), "the SDK does not retry")
						assert.Zero(t, f.Count(), "nothing reaches the upstream")
					})
				}
			}
		}
	}
}
