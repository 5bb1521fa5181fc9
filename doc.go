// Package aigateway is an AI gateway that lives inside the application: a
// stack of http.RoundTripper layers around the http.Client a Go service
// hands to openai-go, anthropic-sdk-go or plain net/http.
//
// A Gateway stacks layers (cache, rate limits, fallback, metering ...) around
// a base transport:
//
//	gw, err := aigateway.New(http.DefaultTransport, meter, cache, limiter, router)
//	if err != nil { // the layers' configuration errors, each naming its layer and field
//		log.Fatal(err)
//	}
//	defer gw.Close()
//	client := openai.NewClient(option.WithHTTPClient(gw.Client()), option.WithMaxRetries(0))
//
// Every request the stack recognises (OpenAI chat completions, responses and
// embeddings, Anthropic messages, Gemini generateContent, and the
// OpenAI-compatible providers) becomes one Call: prepared once by the
// outermost layer that meets it, and complete when the caller has read the
// response body to its end, closed it, or the request's context ended. Track
// and Call.Result tell the caller what happened: usage, cost, cache status,
// target, timings, and each request that went upstream (Result.Upstreams).
//
// One request's path through the code: Gateway.RoundTrip (gateway.go),
// prepare (prepare.go), the layers (layer.go: each Handler gets a
// LayerCall, the layers' view of the Call), the upstream edge
// (transport.go: one record per attempt, priced once with Gateway.Prices),
// and the body the caller reads (body.go).
//
// Requests the stack does not recognise (GETs, file uploads, websocket
// upgrades) pass through untouched: not buffered, not bounded, not wrapped.
//
// Layers are written with Layer, so each one also works alone, and never
// sees a call the stack refused unless it asks (SeeRefused):
//
//	client := &http.Client{Transport: someLayer.Wrap(http.DefaultTransport)}
package aigateway
