package jsonscan

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReplaceMember(t *testing.T) {
	cases := []struct {
		body, key, value, want string
		ok                     bool
	}{
		{`{"model":"a","x":1}`, "model", `"b"`, `{"model":"b","x":1}`, true},
		{`{"x":1, "model" : "a" }`, "model", `"b"`, `{"x":1, "model" : "b" }`, true},
		{`{"x":1}`, "model", `"b"`, `{"x":1}`, false},
		{`{"a":1,"stream_options":{"include_usage":true},"b":2}`, "stream_options", "", `{"a":1,"b":2}`, true},
		{`{"stream_options":{"include_usage":true} , "b":2}`, "stream_options", "", `{ "b":2}`, true},
		{`{"a":1,"stream_options":{}}`, "stream_options", "", `{"a":1}`, true},
		{`{"stream_options":null}`, "stream_options", "", `{}`, true},
	}
	for _, c := range cases {
		var v []byte
		if c.value != "" {
			v = []byte(c.value)
		}
		got, ok := ReplaceMember([]byte(c.body), c.key, v)
		assert.Equal(t, c.ok, ok, c.body)
		assert.Equal(t, c.want, string(got), c.body)
		assert.True(t, json.Valid(got), string(got))
	}
}
