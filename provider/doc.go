// Package provider holds what a user of the gateway names about the
// providers it speaks to: the presets (OpenAI, Azure OpenAI, Anthropic,
// Gemini and the OpenAI-compatible ones) and any other endpoint as a
// Provider, the wire Format of a request, the normalised Usage of an
// answer, a provider's Error, the error responses a layer makes in a
// provider's own shape (NewErrorResponse), and the reading of the
// credentials a request carries, for a layer that must fingerprint or
// redact them (Credentials, IsCredentialHeader, WithoutCredentialParams
// ...).
//
// The machinery that reads the wire formats on the hot path (recognising a
// request, reading its body, scanning each upstream response, classifying
// stream events) is the stack's own and lives in an internal package: a
// layer reads its results from the Call.
//
// Usage is normalised across providers so that InputTokens includes cached
// input and OutputTokens includes reasoning, whatever the provider reports.
//
// All values here are immutable; functions are safe for concurrent use.
package provider
