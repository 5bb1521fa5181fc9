package aigateway

import (
	"context"
	"slices"
	"time"
)

// Attempt is one upstream request a routing layer (the fallback layer) made
// for a call: where it went and how it ended.
type Attempt struct {
	// Target is the name of the target the attempt went to.
	Target string `json:"target"`
	// Provider is the gen_ai.provider.name of that target ("" when it is the
	// call's own provider).
	Provider string `json:"provider,omitempty"`
	// Model is the model the attempt asked for ("" when the request's own).
	Model string `json:"model,omitempty"`
	// Status is the HTTP status the target answered (0 for a transport error
	// or a timeout before the headers).
	Status int `json:"status,omitempty"`
	// Duration is from sending the attempt to the router's decision about it:
	// the response headers, or the first streamed event for a stream.
	Duration time.Duration `json:"duration"`
	// Err is why the attempt was given up (nil for the attempt that answered).
	// Like Result.Err, it carries no credential.
	Err error `json:"-"`
}

// RecordAttempt appends one attempt to the call's Result.AttemptLog. A
// routing layer records each attempt it makes, in order, once its outcome
// is decided.
func (c *Call) RecordAttempt(a Attempt) {
	if a.Err != nil {
		a.Err = redactError(a.Err)
	}
	c.mu.Lock()
	// Clipped: a snapshot's AttemptLog (Result) shares this array, and a
	// caller's append to it must not write where the next attempt goes.
	c.result.AttemptLog = slices.Clip(append(c.result.AttemptLog, a))
	c.mu.Unlock()
}

type upstreamProviderKey struct{}

// WithUpstreamProvider returns a copy of ctx saying that the request made with
// it goes to provider (a gen_ai.provider.name such as "groq"), which may differ
// from the provider the call was made for: a routing layer sets it on each
// attempt, so that the usage of the response is recorded, and priced, for
// the provider that answered (Response.Provider).
func WithUpstreamProvider(ctx context.Context, provider string) context.Context {
	return context.WithValue(ctx, upstreamProviderKey{}, provider)
}

// upstreamProvider is the provider a request's response is recorded for.
func upstreamProvider(ctx context.Context, call *Call) string {
	if p, ok := ctx.Value(upstreamProviderKey{}).(string); ok && p != "" {
		return p
	}
	return call.Provider
}

type upstreamModelKey struct{}

// WithUpstreamModel returns a copy of ctx saying that the request made with
// it asks upstream for model, in place of the model the call was made for
// (Call.Model): a routing layer that replaces the model (a fallback
// target's Model) sets it on each attempt, so that the layers the attempt
// goes through (a budget in a target's own layers) price what is sent.
func WithUpstreamModel(ctx context.Context, model string) context.Context {
	return context.WithValue(ctx, upstreamModelKey{}, model)
}

// UpstreamOf returns the provider (a gen_ai.provider.name) and the model a
// request made with ctx, for call, goes to: those a routing layer set with
// WithUpstreamProvider and WithUpstreamModel, else the call's own.
func UpstreamOf(ctx context.Context, call *Call) (provider, model string) {
	model = call.Model
	if m, ok := ctx.Value(upstreamModelKey{}).(string); ok && m != "" {
		model = m
	}
	return upstreamProvider(ctx, call), model
}
