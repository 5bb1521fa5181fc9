package pricing

import (
	"strings"
	"sync"
	"sync/atomic"
)

// The gen_ai.provider.name values resolution treats specially (see the
// provider package's presets).
const (
	anthropicName  = "anthropic"
	azureName      = "azure.ai.openai"
	openAIName     = "openai"
	openRouterName = "openrouter"
)

// maxRemembered and maxRememberedLen bound the ids a Table remembers the
// resolution of, so model names a client makes up cannot grow it without
// end: at most 1024 ids of at most 256 bytes. Ids past the bounds are
// still resolved, only not remembered.
const (
	maxRemembered    = 1024
	maxRememberedLen = 256
)

// resolutions remembers how ids that are not a row's own resolved (nil for
// unknown). Readers load an immutable map; a writer copies it under mu.
type resolutions struct {
	m  atomic.Pointer[map[key]*entry]
	mu sync.Mutex
}

// resolve finds the row pricing model when providerName answered. A row's
// own id costs one map lookup; any other id is resolved once and then
// remembered, so the second lookup of a dated id costs two. It allocates
// only to remember an id.
func (t *Table) resolve(providerName, model string) *entry {
	k := key{providerName, model}
	if e := t.index[k]; e != nil {
		return e
	}
	if m := t.remembered.m.Load(); m != nil {
		if e, ok := (*m)[k]; ok {
			return e
		}
	}
	e := t.resolveSlow(providerName, model)
	t.remember(k, e)
	return e
}

func (t *Table) remember(k key, e *entry) {
	if len(k.provider)+len(k.model) > maxRememberedLen {
		return
	}
	t.remembered.mu.Lock()
	defer t.remembered.mu.Unlock()
	var old map[key]*entry
	if p := t.remembered.m.Load(); p != nil {
		old = *p
	}
	if _, done := old[k]; done || len(old) >= maxRemembered {
		return
	}
	m := make(map[key]*entry, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	// Clone the strings: they may be slices of a whole request body.
	m[key{strings.Clone(k.provider), strings.Clone(k.model)}] = e
	t.remembered.m.Store(&m)
}

// resolveSlow finds the row for an id that is not a row's own without
// allocating: every candidate id is a substring of model.
func (t *Table) resolveSlow(providerName, model string) *entry {
	if e := t.find(providerName, model); e != nil {
		return e
	}
	switch providerName {
	case azureName:
		// Azure OpenAI bills the OpenAI list price unless a row says
		// otherwise.
		return t.find(openAIName, model)
	case openRouterName:
		// OpenRouter names models "openai/gpt-4o": priced as the
		// provider the prefix names.
		org, rest, ok := strings.Cut(model, "/")
		if !ok || rest == "" {
			return nil
		}
		return t.find(openRouterOrg(org), rest)
	}
	return nil
}

// find looks model up among providerName's rows: as given, then without a
// "models/" path prefix (Gemini), a "-latest" suffix, and a trailing
// snapshot date or version ("-2024-07-18", "-20251001", "-001"), in that
// order. It never shortens a name any further, so a variant without a row
// of its own ("gpt-4o-mini-search-preview") stays unknown instead of being
// priced as its family, and "gpt-4o-mini" can never become "gpt-4o".
func (t *Table) find(providerName, model string) *entry {
	if e := t.index[key{providerName, model}]; e != nil {
		return e
	}
	m := model
	if i := strings.LastIndex(m, "models/"); i >= 0 && (i == 0 || m[i-1] == '/') {
		m = m[i+len("models/"):]
		if e := t.index[key{providerName, m}]; e != nil {
			return e
		}
	}
	if s, ok := strings.CutSuffix(m, "-latest"); ok {
		m = s
		if e := t.index[key{providerName, m}]; e != nil {
			return e
		}
	}
	if s, ok := cutSnapshot(m); ok {
		if e := t.index[key{providerName, s}]; e != nil {
			return e
		}
	}
	return nil
}

// cutSnapshot removes a trailing snapshot suffix: an OpenAI date
// (-YYYY-MM-DD), an Anthropic date (-YYYYMMDD) or a Gemini version (-NNN).
func cutSnapshot(m string) (string, bool) {
	for _, pattern := range [...]string{"-dddd-dd-dd", "-dddddddd", "-ddd"} {
		n := len(pattern)
		if len(m) <= n {
			continue
		}
		tail := m[len(m)-n:]
		match := true
		for i := 0; i < n && match; i++ {
			if pattern[i] == 'd' {
				match = tail[i] >= '0' && tail[i] <= '9'
			} else {
				match = tail[i] == pattern[i]
			}
		}
		// "-ddd" must not be the end of a longer run of digits
		// ("gpt-4-0613" keeps its suffix).
		if match && pattern == "-ddd" && isDigit(m[len(m)-n-1]) {
			match = false
		}
		if match {
			return m[:len(m)-n], true
		}
	}
	return m, false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// openRouterOrg maps an OpenRouter model prefix to the gen_ai.provider.name
// whose rows price it; other prefixes are taken as provider names.
func openRouterOrg(org string) string {
	switch org {
	case "google":
		return "gcp.gemini"
	case "mistralai":
		return "mistral_ai"
	case "x-ai":
		return "x_ai"
	}
	return org
}

// altNames returns the ids besides its own that find e's row: its aliases
// and, for Anthropic rows, the dotted spellings OpenRouter uses
// ("claude-sonnet-4.5" for "claude-sonnet-4-5").
func (e *entry) altNames() []string {
	names := append([]string(nil), e.row.Price.Aliases...)
	if e.row.Provider == anthropicName {
		for _, n := range append([]string{e.row.Model}, e.row.Price.Aliases...) {
			if d := dotted(n); d != n {
				names = append(names, d)
			}
		}
	}
	return names
}

// dotted turns each dash between two single digits into a dot:
// "claude-3-5-haiku" becomes "claude-3.5-haiku"; a date stays as it is.
func dotted(s string) string {
	b := []byte(s)
	for i := 1; i+1 < len(b); i++ {
		if b[i] != '-' || !isDigit(b[i-1]) || !isDigit(b[i+1]) {
			continue
		}
		if (i >= 2 && isDigit(b[i-2])) || (i+2 < len(b) && isDigit(b[i+2])) {
			continue
		}
		b[i] = '.'
	}
	return string(b)
}
