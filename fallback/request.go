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
	"github.com/aigateway-go/aigateway/provider"
)

var errNoReplay = errors.New("fallback: the request body cannot be replayed (no GetBody)")

// accountHeaders name the caller's OpenAI account. They stay with a second
// key at the same origin (a user key in several organisations is billed to
// the one named; a key of another organisation gets a 401, which moves the
// call on) but never go to another host. A target's Headers can set its own.
var accountHeaders = [...]string{"Openai-Organization", "Openai-Project"}

// attemptRequest builds the request of one attempt to t: a fresh clone of
// req with the target's URL, credentials, headers and model, the body
// replayed from GetBody, and the attempt's route in its context (the
// provider and model it goes to: the target's layers, a budget, price
// them, and the stack records and prices its answer for them). req itself
// is never modified.
func attemptRequest(ctx context.Context, call aigateway.LayerCall, req *http.Request, t *target) (*http.Request, *aigateway.Routed, error) {
	route := aigateway.Route{Provider: t.provider}
	if t.model != "" && call.Parsed() {
		// An unparsed body goes as it came: its model is not the target's.
		route.Model = t.model
	}
	ctx, routed := call.Route(ctx, route)
	out, err := attemptRequestIn(ctx, call, req, t)
	return out, routed, err
}

func attemptRequestIn(ctx context.Context, call aigateway.LayerCall, req *http.Request, t *target) (*http.Request, error) {
	if req.GetBody == nil {
		return nil, errNoReplay
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	if t.plain {
		// The request as the SDK sent it: a shallow copy is enough, since
		// nothing but the body and the context changes.
		out := req.WithContext(ctx)
		out.Body = body
		return out, nil
	}
	out := req.Clone(ctx)
	out.Body = body
	u, sameOrigin := t.url(call, req.URL)
	if u != req.URL {
		out.URL, out.Host = u, ""
	}
	if !sameOrigin {
		for _, k := range accountHeaders {
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
		body.Close()
		out.Body = io.NopCloser(bytes.NewReader(b))
		out.ContentLength = int64(len(b))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
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
		u.Path, u.RawPath = withPathModel(orig.Path, call.Format(), t.model), ""
		return &u, true
	}
	u := *t.base // scheme, host and base path
	u.Path = strings.TrimRight(u.Path, "/")
	apiVersion := t.provider.APIVersion()
	switch f := call.Format(); f {
	case provider.FormatOpenAIChat, provider.FormatOpenAIEmbeddings:
		if apiVersion != "" { // Azure's deployments shape
			u.Path += "/deployments/" + url.PathEscape(model)
		}
		if f == provider.FormatOpenAIChat {
			u.Path += "/chat/completions"
		} else {
			u.Path += "/embeddings"
		}
	case provider.FormatOpenAIResponses:
		u.Path += "/responses"
	case provider.FormatAnthropicMessages:
		u.Path += "/messages"
	case provider.FormatGemini:
		method := orig.Path[strings.LastIndexByte(orig.Path, ':'):]
		u.Path += "/models/" + model + method
	}
	u.RawPath = ""
	q := provider.WithoutCredentialParams(orig.RawQuery)
	if q != "" {
		q = withoutQuery(q, "api-version") // the target sets its own
	}
	if apiVersion != "" {
		if q != "" {
			q += "&"
		}
		q += "api-version=" + url.QueryEscape(apiVersion)
	}
	u.RawQuery = q
	return &u, u.Scheme == orig.Scheme && strings.EqualFold(u.Host, orig.Host)
}

// withPathModel puts model in a Gemini path (.../models/{model}:method) or
// an Azure deployments path (.../deployments/{deployment}/...); other paths
// carry no model.
func withPathModel(path string, f provider.Format, model string) string {
	if f == provider.FormatGemini {
		i, c := strings.LastIndex(path, "/models/"), strings.LastIndexByte(path, ':')
		if i >= 0 && c > i {
			return path[:i+len("/models/")] + model + path[c:]
		}
		return path
	}
	const seg = "/deployments/"
	if i := strings.Index(path, seg); i >= 0 {
		rest := path[i+len(seg):]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			return path[:i+len(seg)] + model + rest[j:]
		}
	}
	return path
}

// withoutQuery returns the raw query q without the parameters named key,
// keeping the others as they were written.
func withoutQuery(q, key string) string {
	var b strings.Builder
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, _, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil && uk == key {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv)
	}
	return b.String()
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
