// Package sdktest drives the aigateway stack through the real SDK clients,
// openai-go v3 and anthropic-sdk-go v2, against llmtest's fake upstreams.
//
// It holds tests only. They prove, end to end and without a network, that
// what an application sees through its SDK is exactly what the upstream sent
// (answers, streams, usage chunks, typed errors), that the stack's own
// answers (413, 400) parse as the SDK's typed errors and are not retried, that
// every SDK attempt (retries included) is one Call with the right facts and
// normalised usage, that streams stay streams, that gateway headers never leave
// the process, and that an abandoned stream leaks nothing. Both wiring styles
// are covered: option.WithHTTPClient(gw.Client()) and
// option.WithMiddleware(gw.SDKMiddleware).
package sdktest
