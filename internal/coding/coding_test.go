package coding

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Content-Encoding names the codings applied in order, in one line or
// several; "identity" among them changes nothing; two codings on top of
// each other are not read.
func TestOf(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  Coding
	}{
		{"none", nil, Identity},
		{"gzip", []string{"gzip"}, Gzip},
		{"GZIP", []string{" GZIP "}, Gzip},
		{"x-gzip", []string{"x-gzip"}, Gzip},
		{"identity, then gzip in one line", []string{"identity, gzip"}, Gzip},
		{"identity, then gzip in two lines", []string{"identity", "gzip"}, Gzip},
		{"gzip, then identity in two lines", []string{"gzip", "identity"}, Gzip},
		{"deflate in a second line", []string{"", "deflate"}, Deflate},
		{"identity, deflate", []string{"identity, deflate"}, Deflate},
		{"gzip on top of br", []string{"br", "gzip"}, Opaque},
		{"gzip twice", []string{"gzip, gzip"}, Opaque},
		{"br", []string{"br"}, Opaque},
		{"zstd", []string{"zstd"}, Opaque},
	} {
		assert.Equal(t, tc.want, Of(&http.Response{Header: http.Header{"Content-Encoding": tc.lines}}), tc.name)
	}
	assert.Equal(t, Identity, Of(&http.Response{Header: http.Header{"Content-Encoding": {"gzip"}}, Uncompressed: true}),
		"decompressed by the transport")
}

func TestNewReader(t *testing.T) {
	const text = `{"id":"x","usage":{"prompt_tokens":1}}`
	var gz, zl, raw bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(text))
	w.Close()
	z := zlib.NewWriter(&zl)
	z.Write([]byte(text))
	z.Close()
	f, _ := flate.NewWriter(&raw, flate.DefaultCompression)
	f.Write([]byte(text))
	f.Close()
	for name, tc := range map[string]struct {
		c Coding
		b []byte
	}{"gzip": {Gzip, gz.Bytes()}, "deflate (zlib)": {Deflate, zl.Bytes()}, "deflate (raw)": {Deflate, raw.Bytes()}} {
		r, err := NewReader(tc.c, bytes.NewReader(tc.b))
		require.NoError(t, err, name)
		out, err := io.ReadAll(r)
		require.NoError(t, err, name)
		assert.Equal(t, text, string(out), name)
	}
}

func TestDecodable(t *testing.T) {
	for in, want := range map[string]string{
		"gzip":                    "gzip",
		"gzip, deflate":           "gzip, deflate",
		"br":                      "",
		"br, zstd, gzip;q=0.5":    "gzip;q=0.5",
		"*":                       "",
		"identity":                "identity",
		"gzip, deflate, br, zstd": "gzip, deflate",
	} {
		assert.Equal(t, want, Decodable(in), in)
	}
}
