package metering

import (
	"slices"
	"strings"
	"sync"

	"github.com/aigateway-go/aigateway"
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

// metadataDimension is the prefix of a metadata key's dimension name.
const metadataDimension = "metadata:"

// MaxGroupBytes is the longest value a Ledger keeps as a group of its own,
// and the longest metadata key it makes a dimension of: a longer value adds
// up in OtherGroup, a longer key is not grouped. Real model names and tags
// are far shorter; the bound keeps a request from parking a large string in
// the ledger for the life of the process.
const MaxGroupBytes = 256

// Ledger keeps in-process totals of every call the Meter saw: overall and
// grouped by provider, model, response model, operation, target and
// metadata key. It is safe for concurrent use; its figures are exact (each
// call is added whole, under one lock) and readable at any time.
//
// Its size is bounded whatever the calls carry. Each dimension keeps at
// most Config.LedgerMaxGroups values (default DefaultLedgerMaxGroups),
// each at most MaxGroupBytes long: the calls of the values that come after
// that, or are longer, add up in the OtherGroup group, so a metadata tag
// with unbounded values (a request id) cannot grow the ledger without
// bound, and every dimension still sums to the totals of the calls it
// covers (every call for the fixed dimensions, the calls with that tag for
// a metadata key). The metadata keys grouped are those Config.LedgerMetadata
// lists or, when it lists none, the first Config.LedgerMaxDimensions keys
// seen (default DefaultLedgerMaxDimensions) and those Config.MetricMetadata
// lists; calls are not grouped by any other key (see Ungrouped), so fresh
// keys in every request cannot add dimensions without bound either. A
// group costs at most about 400 bytes (170 for short values), so the
// defaults bound a ledger near 140 MB in the worst case (37 dimensions of
// 10,000 values of 256 bytes); LedgerMaxGroups and LedgerMetadata bound it
// tighter.
type Ledger struct {
	mu        sync.Mutex
	total     Totals
	groups    map[string]map[string]*Totals            // fixed dimension → value → totals
	fixed     [len(fixedDimensions)]map[string]*Totals // the same, by position in fixedDimensions, without a look-up per call
	last      [len(fixedDimensions)]lastGroup          // each fixed dimension's last value and its group
	metadata  map[string]map[string]*Totals            // metadata key → value → totals
	maxGroups int
	keys      map[string]bool // Config.LedgerMetadata; nil: any key, up to maxDims
	named     map[string]bool // when keys is nil: Config.MetricMetadata, kept beyond maxDims
	maxDims   int
	ungrouped int64
}

// lastGroup is the value a fixed dimension last added a call to, and its
// group: consecutive calls mostly share their provider, model and
// operation, and a string compare of the same string is cheaper than a map
// look-up. Only a value with a group of its own is kept, so it holds no
// string the ledger does not keep anyway.
type lastGroup struct {
	value string
	t     *Totals
}

// OtherGroup is the group of a dimension that collects the calls of the
// values seen after the dimension had Config.LedgerMaxGroups of them, and of
// values longer than MaxGroupBytes.
const OtherGroup = "(other)"

func newLedger(cfg Config) *Ledger {
	l := &Ledger{
		groups:    make(map[string]map[string]*Totals),
		metadata:  make(map[string]map[string]*Totals),
		maxGroups: cfg.LedgerMaxGroups,
		maxDims:   cfg.LedgerMaxDimensions,
	}
	if l.maxGroups <= 0 {
		l.maxGroups = DefaultLedgerMaxGroups
	}
	if l.maxDims <= 0 {
		l.maxDims = DefaultLedgerMaxDimensions
	}
	if len(cfg.LedgerMetadata) > 0 {
		l.keys = keySet(cfg.LedgerMetadata)
	} else if len(cfg.MetricMetadata) > 0 {
		l.named = keySet(cfg.MetricMetadata)
	}
	return l
}

func keySet(keys []string) map[string]bool {
	set := make(map[string]bool, len(keys))
	for _, k := range keys {
		set[k] = true
	}
	return set
}

// add adds r, the Record of call, to the totals. The metadata is the
// call's: the Record's copy, when there is one, is for OnRecord and the
// sinks, which may modify it.
func (l *Ledger) add(r *Record, call *aigateway.Call) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total.add(r)
	for i, v := range [len(fixedDimensions)]string{r.Provider, r.Model, r.Response, r.Operation, r.Target} {
		if last := &l.last[i]; last.t != nil && last.value == v {
			last.t.add(r) // groups are never removed: still v's
			continue
		}
		g := l.fixed[i]
		if g == nil {
			g = make(map[string]*Totals)
			l.fixed[i], l.groups[fixedDimensions[i]] = g, g
		}
		if t := l.addTo(g, v, r); g[v] == t {
			l.last[i] = lastGroup{v, t}
		}
	}
	ungrouped := false
	for k, v := range call.MetadataAll() {
		g := l.metadata[k]
		if g == nil {
			switch {
			case l.keys != nil:
				if !l.keys[k] {
					continue // the operator chose the keys: not a loss
				}
			case l.named[k]:
				// The operator named it for metrics: kept even once junk
				// keys have taken every place.
			case len(l.metadata) >= l.maxDims || len(k) > MaxGroupBytes:
				ungrouped = true
				continue
			}
			g = make(map[string]*Totals)
			l.metadata[k] = g
		}
		l.addTo(g, v, r)
	}
	if ungrouped {
		l.ungrouped++
	}
}

// fixedDimensions are the dimensions every call is added to, in the order
// Ledger.add takes their values from a Record.
var fixedDimensions = [...]string{ByProvider, ByModel, ByResponseModel, ByOperation, ByTarget}

// addTo adds r to the group of value in g, made if need be, or to
// OtherGroup, and returns that group.
func (l *Ledger) addTo(g map[string]*Totals, value string, r *Record) *Totals {
	t := g[value]
	if t == nil {
		if len(g) >= l.maxGroups || len(value) > MaxGroupBytes {
			value = OtherGroup
			t = g[value]
		}
		if t == nil {
			t = new(Totals)
			g[value] = t
		}
	}
	t.add(r)
	return t
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
// for a dimension no call had, and for a metadata key the ledger does not
// group by.
func (l *Ledger) By(dimension string) map[string]Totals {
	dimension = strings.TrimSpace(dimension)
	l.mu.Lock()
	defer l.mu.Unlock()
	groups := l.groups[dimension]
	if k, ok := strings.CutPrefix(dimension, metadataDimension); ok {
		groups = l.metadata[k]
	}
	out := make(map[string]Totals, len(groups))
	for v, t := range groups {
		out[v] = *t
	}
	return out
}

// Dimensions returns the dimensions the ledger has groups for, sorted.
func (l *Ledger) Dimensions() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	dims := make([]string, 0, len(l.groups)+len(l.metadata))
	for d := range l.groups {
		dims = append(dims, d)
	}
	for k := range l.metadata {
		dims = append(dims, metadataDimension+k)
	}
	slices.Sort(dims)
	return dims
}

// Ungrouped counts the calls that carried a metadata key the ledger did not
// group by because it already had Config.LedgerMaxDimensions metadata
// dimensions (or because the key is longer than MaxGroupBytes). Keys left
// out by Config.LedgerMetadata are not counted: the operator chose them.
// A count above zero means the totals by some tag are missing: list the
// keys that matter in Config.LedgerMetadata.
func (l *Ledger) Ungrouped() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ungrouped
}
