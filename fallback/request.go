package fallback

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aigateway-go/aigateway"
	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/provider"
)

// anthropicVersion is the anthropic-version a translated attempt to an
// Anthropic target sends: the API version the translation writes.
const anthropicVersion = "2023-06-01"

var errNoReplay = errors.New("fallback: the request body cannot be replayed (no GetBody)")

// attemptRequest builds the request of one attempt to t: a fresh clone of
// req with the target's URL, credentials, headers and model, the body
// replayed from GetBody, and the attempt's route in its context (the
// provider and model it goes to: the target's layers, a budget, price
// them, and the stack records and prices its answer for them). req itself
// is never modified.
func attemptRequest(ctx context.Context, call aigateway.LayerCall, req *http.Request, t *target) (*http.Request, *aigateway.Routed, error) {
	route := aigateway.Route{Provider: t.provider, Format: t.format(call.Format())}
	if t.model != "" && call.Parsed() {
		// An unparsed body goes as it came: its model is not the target's.
		route.Model = t.model
	}
	if req.GetBody == nil {
		_, routed := call.Route(ctx, route)
		return nil, routed, errNoReplay
	}
	if t.plain {
		// The request as the SDK sent it: a shallow copy is enough, since
		// nothing but the body and the context changes. The first attempt
		// sends the prepared body itself.
		out, routed := call.RouteRequest(ctx, req, route)
		body, err := call.AttemptBody(req)
		if err != nil {
			return nil, routed, err
		}
		out.Body = body
		return out, routed, nil
	}
	ctx, routed := call.Route(ctx, route)
	out, err := attemptRequestIn(ctx, call, req, t)
	return out, routed, err
}

// attemptRequestIn builds the request of an attempt to a target that is
// not plain: its URL, credentials, headers and model are the target's.
func attemptRequestIn(ctx context.Context, call aigateway.LayerCall, req *http.Request, t *target) (*http.Request, error) {
	out := req.Clone(ctx)
	u, sameOrigin := t.url(call, req.URL)
	if u != req.URL {
		out.URL, out.Host = u, ""
	}
	if f := t.format(call.Format()); f != call.Format() {
		// Translated: the caller's format's own headers go (before the
		// target's key is set: Gemini's is an X-Goog- header), the
		// target's come (the transport translates the body).
		for k := range out.Header {
			if strings.HasPrefix(k, "Anthropic-") || strings.HasPrefix(k, "X-Goog-") {
				delete(out.Header, k)
			}
		}
		if f == provider.FormatAnthropicMessages {
			out.Header.Set("Anthropic-Version", anthropicVersion)
		}
	}
	if !sameOrigin {
		// The caller's account (a user key in several organisations is
		// billed to the one named) never goes to another host; a key of
		// another account at the same origin gets a 401, which moves the
		// call on. A target's Headers can set its own.
		for _, k := range wire.AccountHeaders() {
			out.Header.Del(k)
		}
	}
	if t.key != "" || !sameOrigin {
		// Every credential the caller sent, in every form the provider
		// would take it (out.URL is Clone's copy, or t.url's).
		provider.DeleteCredentialHeaders(out.Header)
		out.URL.RawQuery = provider.WithoutCredentialParams(out.URL.RawQuery)
		if !t.readdress {
			// The caller's user:password. A readdressed URL carries only
			// the target's own, from its BaseURL (a proxy behind basic
			// authentication): those go with its attempts.
			out.URL.User = nil
		}
		if !sameOrigin {
			// Whatever else may be a secret of the caller's origin: its
			// cookies, a hosted gateway's key, a header no list names.
			for k := range out.Header {
				if provider.LooksLikeCredentialHeader(k) {
					delete(out.Header, k)
				}
			}
		}
	}
	if t.key != "" {
		t.auth(call.Call()).SetKey(out.Header, t.key)
	}
	for _, h := range t.headers {
		out.Header[h[0]] = []string{h[1]}
	}
	if b, changed := t.rewriteBody(call); changed {
		out.Body = io.NopCloser(bytes.NewReader(b))
		out.ContentLength = int64(len(b))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		return out, nil
	}
	body, err := call.AttemptBody(req)
	if err != nil {
		return nil, err
	}
	out.Body = body
	return out, nil
}

// url returns the URL of an attempt to t (orig itself when unchanged), and
// whether it is orig's origin.
func (t *target) url(call aigateway.LayerCall, orig *url.URL) (*url.URL, bool) {
	model := t.model
	if model == "" {
		model = call.Model()
	}
	if !t.readdress {
		if t.model == "" {
			return orig, true
		}
		u := *orig
		u.Path, u.RawPath = wire.WithPathModel(orig.Path, call.Format(), t.model), ""
		return &u, true
	}
	u := *t.base // scheme, host and base path
	apiVersion := t.provider.APIVersion()
	f := t.format(call.Format())
	reqPath, query := orig.Path, provider.WithoutCredentialParams(orig.RawQuery)
	if f != call.Format() {
		// Translated: the path and query are the target format's own (the
		// caller's query belongs to its API).
		reqPath, query = ":generateContent", ""
		if call.Stream() {
			reqPath, query = ":streamGenerateContent", "alt=sse"
		}
		if f != provider.FormatGemini {
			query = ""
		}
	}
	// An api-version means Azure's deployments shape.
	u.Path = wire.EndpointPath(strings.TrimRight(u.Path, "/"), f, model, reqPath, apiVersion != "")
	u.RawPath = ""
	// The target sets its own api-version (none: none).
	u.RawQuery = wire.WithAPIVersion(query, apiVersion)
	return &u, u.Scheme == orig.Scheme && strings.EqualFold(u.Host, orig.Host)
}

// rewriteBody returns the call's body as target t needs it: with t's model
// (formats that name it in the body). changed is false when the prepared
// body goes as it is. (Whether a stream asks for its usage is the
// transport's decision, for the provider each attempt goes to.)
func (t *target) rewriteBody(call aigateway.LayerCall) (body []byte, changed bool) {
	if !call.Parsed() {
		return nil, false
	}
	body = call.Body()
	if t.model != "" && call.Format() != provider.FormatGemini {
		if b, ok := jsonscan.ReplaceMember(body, "model", jsonscan.AppendQuote(nil, t.model)); ok {
			body, changed = b, true
		}
	}
	return body, changed
}
