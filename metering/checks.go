package metering

import (
	"io"

	"github.com/aigateway-go/aigateway"
)

// What users and aigateway.New rely on: a change that breaks one fails
// the build here. New asks every layer for its configuration error (Err)
// and closes the layers that are io.Closers.
var (
	_ aigateway.Middleware     = (*Meter)(nil)
	_ interface{ Err() error } = (*Meter)(nil)
	_ io.Closer                = (*Meter)(nil)
)
