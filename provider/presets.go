package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// AuthStyle is how a provider takes its API key.
type AuthStyle uint8

// The ways providers take their API key.
const (
	AuthBearer       AuthStyle = iota // Authorization: Bearer KEY
	AuthAPIKeyHeader                  // api-key: KEY (Azure OpenAI)
	AuthXAPIKey                       // x-api-key: KEY (Anthropic)
	AuthGoogAPIKey                    // x-goog-api-key: KEY (Gemini)
)

// Header returns the request header that carries a key in this style, in
// canonical form: "Authorization", "Api-Key", "X-Api-Key" or
// "X-Goog-Api-Key".
func (a AuthStyle) Header() string {
	switch a {
	case AuthAPIKeyHeader:
		return "Api-Key"
	case AuthXAPIKey:
		return "X-Api-Key"
	case AuthGoogAPIKey:
		return "X-Goog-Api-Key"
	}
	return "Authorization"
}

// SetKey sets key in h the way this style takes it ("Bearer KEY" in
// Authorization, the bare key in the others).
func (a AuthStyle) SetKey(h http.Header, key string) {
	if a == AuthBearer {
		key = "Bearer " + key
	}
	h.Set(a.Header(), key)
}

// Provider is an immutable description of one LLM provider endpoint. Its
// zero value means "no provider". It marshals to JSON by name: a preset as a
// plain string ("groq"), any other provider as an object
// {"name","base_url","api_version","stream_usage"}.
type Provider struct {
	name        string // OpenTelemetry gen_ai.provider.name
	baseURL     string
	auth        AuthStyle
	family      Format // the native format family: FormatOpenAIChat for OpenAI-compatible, FormatAnthropicMessages, FormatGemini
	streamUsage bool   // accepts stream_options.include_usage
	apiVersion  string // Azure api-version, "" for none
}

// Name returns the OpenTelemetry gen_ai.provider.name ("openai", "groq" ...).
func (p Provider) Name() string { return p.name }

// BaseURL returns the URL that API paths ("/chat/completions") are joined to,
// without a trailing slash.
func (p Provider) BaseURL() string { return p.baseURL }

// Auth returns how the provider takes its API key.
func (p Provider) Auth() AuthStyle { return p.auth }

// StreamUsage reports whether the provider accepts
// stream_options.include_usage on OpenAI chat requests.
func (p Provider) StreamUsage() bool { return p.streamUsage }

// APIVersion returns the Azure api-version query value, "" for none.
func (p Provider) APIVersion() string { return p.apiVersion }

// IsZero reports whether p is the zero Provider.
func (p Provider) IsZero() bool { return p.name == "" }

// Family returns the provider's native wire format: FormatOpenAIChat for
// OpenAI and every OpenAI-compatible provider, FormatAnthropicMessages,
// or FormatGemini.
func (p Provider) Family() Format { return p.family }

// String returns the provider's name.
func (p Provider) String() string { return p.name }

// WithBaseURL returns p with another base URL (a proxy, a local fake, a
// regional endpoint); a trailing slash is dropped.
func (p Provider) WithBaseURL(baseURL string) Provider {
	p.baseURL = strings.TrimRight(baseURL, "/")
	return p
}

// WithStreamUsageAccepted returns p, stating whether the endpoint accepts
// stream_options.include_usage (OpenAICompatible assumes it does not).
func (p Provider) WithStreamUsageAccepted(accepted bool) Provider {
	p.streamUsage = accepted
	return p
}

// Presets, named by their gen_ai.provider.name. Base URLs include the API
// version path, so that "/chat/completions" (or "/messages",
// "/models/{model}:generateContent") is joined to them.
//
// StreamUsage is true where the provider accepts
// stream_options.include_usage. Mistral rejects the field (422
// extra_forbidden) but sends usage on its last chunk anyway; Anthropic and
// Gemini always report usage in their streams.
var (
	OpenAI     = Provider{name: "openai", baseURL: "https://api.openai.com/v1", family: FormatOpenAIChat, streamUsage: true}
	Anthropic  = Provider{name: "anthropic", baseURL: "https://api.anthropic.com/v1", auth: AuthXAPIKey, family: FormatAnthropicMessages}
	Gemini     = Provider{name: "gcp.gemini", baseURL: "https://generativelanguage.googleapis.com/v1beta", auth: AuthGoogAPIKey, family: FormatGemini}
	Groq       = Provider{name: "groq", baseURL: "https://api.groq.com/openai/v1", family: FormatOpenAIChat, streamUsage: true}
	Mistral    = Provider{name: "mistral_ai", baseURL: "https://api.mistral.ai/v1", family: FormatOpenAIChat}
	DeepSeek   = Provider{name: "deepseek", baseURL: "https://api.deepseek.com", family: FormatOpenAIChat, streamUsage: true}
	Together   = Provider{name: "together", baseURL: "https://api.together.xyz/v1", family: FormatOpenAIChat, streamUsage: true}
	OpenRouter = Provider{name: "openrouter", baseURL: "https://openrouter.ai/api/v1", family: FormatOpenAIChat, streamUsage: true}
	XAI        = Provider{name: "x_ai", baseURL: "https://api.x.ai/v1", family: FormatOpenAIChat, streamUsage: true}
	Fireworks  = Provider{name: "fireworks", baseURL: "https://api.fireworks.ai/inference/v1", family: FormatOpenAIChat, streamUsage: true}
	Ollama     = Provider{name: "ollama", baseURL: "http://localhost:11434/v1", family: FormatOpenAIChat, streamUsage: true}
)

// AzureOpenAIName is the gen_ai.provider.name of Azure OpenAI, every
// resource's (see AzureOpenAI): what a layer compares Provider.Name with to
// tell an Azure target.
const AzureOpenAIName = "azure.ai.openai"

// AzureOpenAI is the preset for one Azure OpenAI resource, name
// "azure.ai.openai", authenticated with the api-key header.
//
// resource is the resource name ("contoso" for contoso.openai.azure.com),
// a host name, or a base URL. With an apiVersion the base URL is
// https://{resource}.openai.azure.com/openai and requests take the
// deployments shape (/deployments/{deployment}/chat/completions?api-version=);
// without one it is the v1 shape, .../openai/v1, which takes no api-version.
//
// StreamUsage is true for the v1 shape and for api-version 2024-09-01-preview
// or later (including "preview" and "latest"); older versions reject
// stream_options.
func AzureOpenAI(resource, apiVersion string) Provider {
	base := strings.TrimRight(resource, "/")
	switch {
	case strings.Contains(base, "://"):
	case strings.Contains(base, "."):
		base = "https://" + base
	default:
		base = "https://" + base + ".openai.azure.com"
	}
	if !strings.HasSuffix(base, "/openai") && !strings.HasSuffix(base, "/openai/v1") {
		base += "/openai"
	}
	if apiVersion == "" && strings.HasSuffix(base, "/openai") {
		base += "/v1"
	}
	return azure(base, apiVersion)
}

func azure(baseURL, apiVersion string) Provider {
	return Provider{
		name:        AzureOpenAIName,
		baseURL:     baseURL,
		auth:        AuthAPIKeyHeader,
		family:      FormatOpenAIChat,
		streamUsage: azureStreamUsage(apiVersion),
		apiVersion:  apiVersion,
	}
}

// azureStreamUsage reports whether an Azure api-version accepts
// stream_options: dated versions from 2024-09-01(-preview) on, and the
// undated ones of the v1 API.
func azureStreamUsage(v string) bool {
	if v == "" || v[0] < '0' || v[0] > '9' {
		return true
	}
	if len(v) > 10 {
		v = v[:10]
	}
	return v >= "2024-09-01"
}

// OpenAICompatible describes any other OpenAI-compatible endpoint: chat
// format, Bearer auth, baseURL without its trailing slash. It is assumed not
// to accept stream_options (see WithStreamUsageAccepted).
func OpenAICompatible(name, baseURL string) Provider {
	return Provider{name: name, baseURL: strings.TrimRight(baseURL, "/"), family: FormatOpenAIChat}
}

var presets = [...]*Provider{&OpenAI, &Anthropic, &Gemini, &Groq, &Mistral, &DeepSeek, &Together, &OpenRouter, &XAI, &Fireworks, &Ollama}

// ByName returns the preset with that gen_ai.provider.name.
func ByName(name string) (Provider, bool) {
	for _, p := range presets {
		if p.name == name {
			return *p, true
		}
	}
	return Provider{}, false
}

// ErrUnknownProvider is returned when JSON names a provider that is neither
// a preset nor described with a base_url.
var ErrUnknownProvider = errors.New("provider: unknown provider")

type providerJSON struct {
	Name        string `json:"name"`
	BaseURL     string `json:"base_url,omitempty"`
	APIVersion  string `json:"api_version,omitempty"`
	StreamUsage *bool  `json:"stream_usage,omitempty"`
}

// MarshalJSON encodes a preset as its name, the zero Provider as null, and
// any other provider as an object.
func (p Provider) MarshalJSON() ([]byte, error) {
	if p.IsZero() {
		return []byte("null"), nil
	}
	if q, ok := ByName(p.name); ok && q == p {
		return json.Marshal(p.name)
	}
	o := providerJSON{Name: p.name, BaseURL: p.baseURL, APIVersion: p.apiVersion}
	if q, err := fromJSON(o); err != nil || q.streamUsage != p.streamUsage {
		o.StreamUsage = &p.streamUsage
	}
	return json.Marshal(o)
}

// UnmarshalJSON accepts what MarshalJSON writes: a preset name, or an object
// whose name is a preset (base_url then overrides its URL), "azure.ai.openai"
// (with base_url and optional api_version), or any other name with a
// base_url (an OpenAI-compatible endpoint). Unknown names are an error.
func (p *Provider) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*p = Provider{}
		return nil
	}
	var name string
	if err := json.Unmarshal(data, &name); err == nil {
		if name == "" {
			*p = Provider{}
			return nil
		}
		q, ok := ByName(name)
		if !ok {
			return fmt.Errorf("%w %q", ErrUnknownProvider, name)
		}
		*p = q
		return nil
	}
	var o providerJSON
	if err := json.Unmarshal(data, &o); err != nil {
		return fmt.Errorf("provider: a provider is a name or an object: %w", err)
	}
	q, err := fromJSON(o)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

func fromJSON(o providerJSON) (Provider, error) {
	var p Provider
	switch q, ok := ByName(o.Name); {
	case ok:
		p = q
		if o.BaseURL != "" {
			p = p.WithBaseURL(o.BaseURL)
		}
		p.apiVersion = o.APIVersion
	case o.Name == AzureOpenAIName:
		if o.BaseURL == "" {
			return Provider{}, errors.New("provider: azure.ai.openai needs a base_url")
		}
		p = azure(strings.TrimRight(o.BaseURL, "/"), o.APIVersion)
	case o.Name != "" && o.BaseURL != "":
		p = OpenAICompatible(o.Name, o.BaseURL)
		p.apiVersion = o.APIVersion
	default:
		return Provider{}, fmt.Errorf("%w %q (a provider that is not a preset needs a base_url)", ErrUnknownProvider, o.Name)
	}
	if o.StreamUsage != nil {
		p.streamUsage = *o.StreamUsage
	}
	return p, nil
}

// knownHosts maps the API hosts of the presets to them. Azure's resource
// hosts are matched by suffix in ByURL.
var knownHosts = [...]struct {
	host string
	p    *Provider
}{
	{"api.openai.com", &OpenAI},
	{"api.anthropic.com", &Anthropic},
	{"generativelanguage.googleapis.com", &Gemini},
	{"api.groq.com", &Groq},
	{"api.mistral.ai", &Mistral},
	{"api.deepseek.com", &DeepSeek},
	{"api.together.xyz", &Together},
	{"api.together.ai", &Together},
	{"openrouter.ai", &OpenRouter},
	{"api.x.ai", &XAI},
	{"api.fireworks.ai", &Fireworks},
}

// ByURL returns the provider whose API host u names: a preset's host (in
// any case, with or without a port), or an Azure OpenAI resource
// (*.openai.azure.com), whose Provider carries the resource's base URL (the
// v1 shape when the path is /openai/v1/..., else the deployments shape,
// with the URL's api-version). Any other host, a local fake or a proxy
// included, is not known: (Provider{}, false). u may be nil.
//
// ByURL allocates nothing, except for an Azure OpenAI resource.
func ByURL(u *url.URL) (Provider, bool) {
	if u == nil {
		return Provider{}, false
	}
	host := u.Hostname()
	for _, k := range knownHosts {
		if len(host) == len(k.host) && strings.EqualFold(host, k.host) {
			return *k.p, true
		}
	}
	if hasSuffixFold(host, ".openai.azure.com") {
		return azureOf(u), true
	}
	return Provider{}, false
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// azureOf builds the Provider of an Azure OpenAI resource from a request URL:
// the v1 shape (/openai/v1/...) or the deployments shape with its api-version.
func azureOf(u *url.URL) Provider {
	scheme := u.Scheme
	if scheme == "" {
		scheme = "https"
	}
	base := scheme + "://" + u.Host + "/openai"
	if strings.Contains(u.Path, "/openai/v1/") {
		base += "/v1"
	}
	return azure(base, queryValue(u.RawQuery, "api-version"))
}

// queryValue returns the raw value of key in a query string without
// parsing the whole query (no allocation; values are not unescaped, which
// api-version values never need).
func queryValue(q, key string) string {
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}
