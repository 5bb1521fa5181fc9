// Package wire is where the stack's knowledge of the providers' wire
// formats lives (docs/wire.md says where each fact comes from): which API
// a request is for (Detect), the few request fields the stack needs
// (ParseRequest), how to ask an upstream for stream usage
// (WithStreamUsage), the usage, model and errors in a response as its
// bytes pass by (ResponseScanner), what one stream event is
// (ClassifyEvent, HasContent, Opening), and the provider facts the layers
// act on: which request members and headers change an answer, which
// errors mean an account is out of quota, which response headers carry
// rate-limit state, how the SDKs read Retry-After.
//
// It is internal: users name providers, formats, usage and errors with
// package provider, which wire builds on (provider never imports wire);
// the root package and the layers call wire, so that a fact about a
// provider is written once, here.
//
// Nothing here uses encoding/json on the hot path: request and response
// bodies are read by internal/jsonscan, SSE streams are split by
// internal/sse, and scanning a stream allocates nothing per event.
//
// All values here are immutable or owned by one goroutine
// (ResponseScanner); functions are safe for concurrent use.
package wire
