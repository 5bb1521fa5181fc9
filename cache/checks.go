package cache

import (
	"io"

	"github.com/aigateway-go/aigateway"
)

// What users and aigateway.New rely on: a change that breaks one fails
// the build here. New asks every layer for its configuration error (Err)
// and closes the layers that are io.Closers.
var (
	_ aigateway.Middleware     = (*Cache)(nil)
	_ interface{ Err() error } = (*Cache)(nil)
	_ io.Closer                = (*Cache)(nil)
)
