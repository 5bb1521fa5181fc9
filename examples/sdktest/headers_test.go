package sdktest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	anthropicopt "github.com/anthropics/anthropic-sdk-go/v2/option"
	openaiopt "github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway"
)

// TestGatewayHeadersStayInProcess: X-Aigateway-* headers set with the SDK's
// option.WithHeader are read by the stack and never reach the upstream;
// aigateway.WithMetadata tags the call too, and wins over a header.
func TestGatewayHeadersStayInProcess(t *testing.T) {
	cases := []struct {
		name     string
		header   string // X-Aigateway-Metadata, "" for none
		ctxUser  string // aigateway.WithMetadata(ctx, "user", ...), "" for none
		wantMeta map[string]string
	}{
		{"header", `{"user":"u-1"}`, "", map[string]string{"user": "u-1"}},
		{"context", "", "u-2", map[string]string{"user": "u-2"}},
		{"context wins over header", `{"user":"spoofed","team":"t-1"}`, "u-3", map[string]string{"user": "u-3", "team": "t-1"}},
	}
	sdks := []struct {
		name string
		call func(t *testing.T, ctx context.Context, f *fixture, w wiring, headers http.Header)
	}{
		{"openai", func(t *testing.T, ctx context.Context, f *fixture, w wiring, headers http.Header) {
			opts := []openaiopt.RequestOption{openaiopt.WithMaxRetries(0)}
			for k := range headers {
				opts = append(opts, openaiopt.WithHeader(k, headers.Get(k)))
			}
			client := f.openai(w, opts...)
			_, err := client.Chat.Completions.New(ctx, chatParams())
			require.NoError(t, err)
		}},
		{"anthropic", func(t *testing.T, ctx context.Context, f *fixture, w wiring, headers http.Header) {
			opts := []anthropicopt.RequestOption{anthropicopt.WithMaxRetries(0)}
			for k := range headers {
				opts = append(opts, anthropicopt.WithHeader(k, headers.Get(k)))
			}
			client := f.anthropic(w, opts...)
			_, err := client.Messages.New(ctx, messageParams())
			require.NoError(t, err)
		}},
	}
	for _, tc := range cases {
		for _, sdk := range sdks {
			for _, w := range wirings {
				for _, kind := range upstreamKinds {
					t.Run(fmt.Sprint(tc.name, "/", sdk.name, "/", w, "/", kind), func(t *testing.T) {
						f := newFixture(t, kind)
						headers := http.Header{}
						headers.Set(aigateway.HeaderCacheTTL, "60")
						if tc.header != "" {
							headers.Set(aigateway.HeaderMetadata, tc.header)
						}
						ctx, tr := track()
						if tc.ctxUser != "" {
							ctx = aigateway.WithMetadata(ctx, "user", tc.ctxUser)
						}

						sdk.call(t, ctx, f, w, headers)

						up := f.lastRequest(t)
						assertNoGatewayHeaders(t, up.Header)
						c := onlyCall(t, tr)
						requireDone(t, c)
						assert.NoError(t, c.Result().Err)
						assert.Equal(t, tc.wantMeta, c.MetadataMap())
						assert.Equal(t, tc.wantMeta["user"], c.Metadata("user"))
						assert.Equal(t, time.Minute, c.Controls().CacheTTL, "the control header was read")
					})
				}
			}
		}
	}
}
