package fallback

import "errors"

// ErrExhausted is what the Result.Err of a call unwraps to when every
// attempt the router made failed and the caller got its final error (the
// last error response, or its 502): errors.Is(r.Err, fallback.ErrExhausted).
// errors.As still finds the *provider.Error of that answer. A call answered
// with an error the request itself caused (a 400), or whose context ended,
// does not unwrap to it: the router did not run out of targets.
var ErrExhausted = errors.New("fallback: every attempt failed")
