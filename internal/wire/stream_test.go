package wire

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsEventStream(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/event-stream":                true,
		"text/event-stream; charset=utf-8": true,
		"Text/Event-Stream":                true,
		"application/json":                 false,
		"text/event":                       false,
		"":                                 false,
	} {
		assert.Equal(t, want, IsEventStream(http.Header{"Content-Type": {ct}}), ct)
	}
}
