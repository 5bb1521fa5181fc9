package aigateway

import (
	"io"
	"net/http"
)

// What users plug these types into: a change that breaks one fails the
// build here, not in their code.
var (
	_ http.RoundTripper = (*Gateway)(nil) // http.Client.Transport
	_ io.Closer         = (*Gateway)(nil)
	_ Middleware        = MiddlewareFunc(nil)
)
