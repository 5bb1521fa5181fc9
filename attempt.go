package aigateway

import "time"

// Attempt is one attempt a routing layer (the fallback layer) made for a
// call: where it went and how it ended, as the layer decided. An attempt a
// layer further in refused never went upstream; Result.Upstreams lists the
// requests that did, with what their answers said.
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
