package ratelimit

import "github.com/aigateway-go/aigateway"

// What users and aigateway.New rely on: a change that breaks one fails
// the build here. New asks every layer for its configuration error (Err).
var (
	_ aigateway.Middleware     = (*Limiter)(nil)
	_ interface{ Err() error } = (*Limiter)(nil)
)
