package aigateway_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aigateway-go/aigateway/fallback"
)

// A request recognised by its path alone may have no body. It goes upstream
// as it came, with Content-Length: 0, on the first attempt and on a retry:
// the stack had sent it chunked (an empty body of unknown length), which
// some servers in front of the providers refuse.
func TestEmptyBodyIsSentAsEmpty(t *testing.T) {
	type seen struct {
		transferEncoding []string
		contentLength    int64
	}
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		got = append(got, seen{r.TransferEncoding, r.ContentLength})
		n := len(got)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // retried
		} else {
			w.WriteHeader(http.StatusBadRequest)
		}
		io.WriteString(w, `{"error":{"message":"we could not parse the JSON body of your request","type":"invalid_request_error"}}`)
	}))
	defer srv.Close()
	router := fallback.New(fallback.Config{Targets: []fallback.Target{{Name: "own"}}, Sleep: func(context.Context, time.Duration) error { return nil }})
	gw := mustNew(t, srv.Client().Transport, router)
	defer gw.Close()
	for _, body := range []io.Reader{nil, http.NoBody, strings.NewReader("")} {
		got = nil
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", body)
		require.NoError(t, err)
		resp, err := gw.RoundTrip(req)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Len(t, got, 2, "the first attempt and its retry")
		for _, s := range got {
			assert.Empty(t, s.transferEncoding)
			assert.Equal(t, int64(0), s.contentLength)
		}
	}
}
