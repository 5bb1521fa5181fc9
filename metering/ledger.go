package metering

import (
	"maps"
	"slices"
	"strings"
	"sync"
)

// Totals add up completed calls.
type Totals struct {
	// Requests counts completed calls; Errors those that failed.
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`

	// Tokens spent: InputTokens includes the cached ones (CacheReadTokens,
	// CacheCreationTokens), OutputTokens the reasoning ones.
	InputTokens         int64 `json:"input_tokens"`
	OutputTokens        int64 `json:"output_tokens"`
	CacheReadTokens     int64 `json:"cache_read_tokens"`
	CacheCreationTokens int64 `json:"cache_creation_tokens"`
	ReasoningTokens     int64 `json:"reasoning_tokens"`
	// CostUSD is what the spent tokens cost; UnknownCost counts the calls
	// with usage whose model has no price, whose cost is not in CostUSD.
	CostUSD     float64 `json:"cost_usd"`
	UnknownCost int64   `json:"unknown_cost"`

	// CacheHits counts calls answered from the cache (hit or coalesced);
	// their tokens are in the Saved fields, not the spent ones, and SavedUSD
	// is what they would have cost (when priced).
	CacheHits         int64   `json:"cache_hits"`
	SavedInputTokens  int64   `json:"saved_input_tokens"`
	SavedOutputTokens int64   `json:"saved_output_tokens"`
	SavedUSD          float64 `json:"saved_usd"`
}

func (t *Totals) add(r *Record) {
	t.Requests++
	if r.ErrorType != "" {
		t.Errors++
	}
	if r.Saved {
		t.CacheHits++
		if r.UsageKnown {
			t.SavedInputTokens += r.Usage.InputTokens
			t.SavedOutputTokens += r.Usage.OutputTokens
		}
		if r.CostKnown {
			t.SavedUSD += r.Cost
		}
		return
	}
	if !r.UsageKnown {
		return
	}
	u := r.Usage
	t.InputTokens += u.InputTokens
	t.OutputTokens += u.OutputTokens
	t.CacheReadTokens += u.CacheReadTokens
	t.CacheCreationTokens += u.CacheCreationTokens
	t.ReasoningTokens += u.ReasoningTokens
	if r.CostKnown {
		t.CostUSD += r.Cost
	} else {
		t.UnknownCost++
	}
}

// Dimensions the Ledger groups by, beside "metadata:<key>".
const (
	ByProvider      = "provider"       // gen_ai.provider.name
	ByModel         = "model"          // the model requested
	ByResponseModel = "response_model" // the model the response reported ("" when none did)
	ByOperation     = "operation"      // gen_ai.operation.name
	ByTarget        = "target"         // the fallback target that answered ("" without one)
)

// Ledger keeps in-process totals of every call the Meter saw: overall and
// grouped by provider, model, response model, operation, target and every
// metadata key. It is safe for concurrent use; its figures are exact (each
// call is added whole, under one lock) and readable at any time.
//
// Each dimension keeps at most Config.LedgerMaxGroups values (default
// DefaultLedgerMaxGroups): the calls of the values that come after that
// add up in the OtherGroup group, so a metadata tag with unbounded values
// (a request id) cannot grow the ledger without bound, and every dimension
// still sums to the overall totals.
type Ledger struct {
	mu        sync.Mutex
	total     Totals
	groups    map[string]map[string]*Totals // dimension → value → totals
	maxGroups int
}

// OtherGroup is the group of a dimension that collects the calls of the
// values seen after the dimension had Config.LedgerMaxGroups of them.
const OtherGroup = "(other)"

func newLedger(maxGroups int) *Ledger {
	if maxGroups <= 0 {
		maxGroups = DefaultLedgerMaxGroups
	}
	return &Ledger{groups: make(map[string]map[string]*Totals), maxGroups: maxGroups}
}

func (l *Ledger) add(r *Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total.add(r)
	l.addTo(ByProvider, r.Provider, r)
	l.addTo(ByModel, r.Model, r)
	l.addTo(ByResponseModel, r.Response, r)
	l.addTo(ByOperation, r.Operation, r)
	l.addTo(ByTarget, r.Target, r)
	for k, v := range r.Metadata {
		l.addTo("metadata:"+k, v, r)
	}
}

func (l *Ledger) addTo(dim, value string, r *Record) {
	g := l.groups[dim]
	if g == nil {
		g = make(map[string]*Totals)
		l.groups[dim] = g
	}
	t := g[value]
	if t == nil {
		if len(g) >= l.maxGroups {
			value = OtherGroup
			t = g[value]
		}
		if t == nil {
			t = new(Totals)
			g[value] = t
		}
	}
	t.add(r)
}

// Totals returns the totals over every call so far.
func (l *Ledger) Totals() Totals {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// By returns the totals grouped by one dimension: ByProvider, ByModel,
// ByResponseModel, ByOperation, ByTarget, or "metadata:<key>" (calls
// without that tag are not in any group). The map is a copy; it is empty
// for a dimension no call had.
func (l *Ledger) By(dimension string) map[string]Totals {
	dimension = strings.TrimSpace(dimension)
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]Totals, len(l.groups[dimension]))
	for v, t := range l.groups[dimension] {
		out[v] = *t
	}
	return out
}

// Dimensions returns the dimensions the ledger has groups for.
func (l *Ledger) Dimensions() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return sortedKeys(l.groups)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
