// Package wire is where the stack's knowledge of the providers' wire
// formats lives (docs/wire.md says where each fact comes from):
//
//   - requests: which API a request is for (Detect), the few body members
//     the stack needs (ParseRequest), how to ask for stream usage
//     (WithStreamUsage), which members and headers change the answer
//     (AnswerNeutral, AnswerHeaders), a Responses request run in the
//     background (Background), the path and api-version an attempt to
//     another provider takes (EndpointPath, WithPathModel, WithAPIVersion),
//     the headers that name the caller's account (AccountHeaders);
//   - answers: the usage, model, id, finish reasons and errors of a
//     response as its bytes pass by (ResponseScanner), whether it is a
//     stream (IsStreamAnswer), what one stream event is (ClassifyEvent,
//     HasContent) and whether the answer has begun (StreamStart);
//   - errors and retries: which errors say the account is out of quota
//     (QuotaGone), which headers carry rate-limit state
//     (IsRateLimitHeader), how the SDKs read a wait (RetryAfter); and the
//     provider family that speaks a format (Family).
//
// It is internal: users name providers, formats, usage and errors with
// package provider, which wire builds on (provider never imports wire).
// The root package and the layers (cache, ratelimit, fallback, metering)
// call wire, so that each fact about a provider is written once, here.
//
// Nothing here uses encoding/json on the hot path: request and response
// bodies are read by internal/jsonscan, SSE streams are split by
// internal/sse, and scanning a stream allocates nothing per event.
//
// All values here are immutable or owned by one goroutine
// (ResponseScanner); functions are safe for concurrent use.
package wire
