package pricing

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
)

//go:embed prices.json
var embedded []byte

// Table is a set of prices by provider and model. Its prices never change
// once built: Set and Merge return a new Table and leave the receiver as it
// was. A Table is safe for concurrent use and may be shared freely; the
// only thing it learns is how model ids resolved, remembered (for up to
// 1024 ids) so that pricing a dated id stays as cheap as pricing a row's
// own.
//
// The nil *Table stands for Default() in every method, so a Config field
// of type *Table works at its zero value (encoding/json still writes a nil
// *Table as null).
type Table struct {
	rows  map[key]*entry // canonical rows
	index map[key]*entry // canonical ids, aliases and derived spellings
	rank  int            // highest entry rank: Set and Merge add above it

	remembered resolutions // ids resolved by Cost and Lookup
}

type key struct{ provider, model string }

// entry is one row, compiled for Cost.
type entry struct {
	row   Row
	rank  int // a row merged in later outranks earlier ones on alias clashes
	base  rates
	tiers []tierRates // ascending by above
}

var defaultTable = sync.OnceValue(func() *Table {
	t, err := Parse(embedded)
	if err != nil {
		// The embedded file is checked by the package's tests; reaching
		// this is a build of a broken prices.json.
		panic("pricing: embedded prices.json: " + err.Error())
	}
	return t
})

// Default returns the table embedded in the package (prices.json, the
// providers' published list prices, each row with its source and the date
// it was checked). It is parsed once, on first use, and shared: it never
// changes.
func Default() *Table { return defaultTable() }

func (t *Table) orDefault() *Table {
	if t == nil {
		return Default()
	}
	return t
}

// Parse reads a price table from JSON, standalone: the result holds only
// the rows in data. Merge it over Default() to add to or override the
// embedded prices.
//
// The format is the one prices.json uses, an object of providers (by
// gen_ai.provider.name) holding objects of models:
//
//	{"openai": {"ft:gpt-4o-mini:acme": {"input": 0.30, "output": 1.20, "cache_read": 0.15}}}
//
// Each model takes the fields of Price (input and output are required,
// tiers take above, input and output). Unknown fields, negative prices, a
// tier out of order, an alias naming another row of the same provider and
// anything else Price.Validate refuses are errors wrapping ErrInvalid.
func Parse(data []byte) (*Table, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var file map[string]map[string]jsonPrice
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the price table", ErrInvalid)
	}
	if file == nil {
		return nil, fmt.Errorf("%w: null is not a price table", ErrInvalid)
	}
	rows := make(map[key]*entry)
	names := make(map[key]string) // alias or id -> the model that claims it
	for prov, models := range file {
		if prov == "" {
			return nil, fmt.Errorf("%w: empty provider name", ErrInvalid)
		}
		for model, jp := range models {
			p, err := jp.price()
			if err == nil {
				err = checkRow(prov, model, p)
			}
			if err != nil {
				return nil, fmt.Errorf("%w: %s %q: %v", ErrInvalid, prov, model, err)
			}
			rows[key{prov, model}] = newEntry(prov, model, p, 0)
			names[key{prov, model}] = model
		}
	}
	// An alias may not be claimed twice, nor name another row: within one
	// file that is a typo, never an intent.
	for _, k := range sortedKeys(rows) {
		for _, a := range rows[k].row.Price.Aliases {
			ak := key{k.provider, a}
			if other, taken := names[ak]; taken {
				return nil, fmt.Errorf("%w: %s %q: alias %q is already %s", ErrInvalid, k.provider, k.model, a, describe(other, a))
			}
			names[ak] = k.model
		}
	}
	return build(rows, 0), nil
}

func describe(owner, name string) string {
	if owner == name {
		return "a model of its own"
	}
	return fmt.Sprintf("an alias of %q", owner)
}

// LoadFile reads a price table from a JSON file in the format of Parse,
// standalone; merge it over Default() to keep the embedded prices:
//
//	extra, err := pricing.LoadFile("prices.json")
//	if err != nil { ... }
//	table := pricing.Default().Merge(extra)
func LoadFile(path string) (*Table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pricing: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return t, nil
}

// Set returns a copy of t in which model of providerName costs p; t itself
// is unchanged. The row replaces any row of that provider and model; its
// aliases win over the aliases of existing rows but never over another
// row's own model id. The error, wrapping ErrInvalid, reports an invalid
// price or an empty name.
//
//	table, err := pricing.Default().Set("openai", "ft:gpt-4o-mini:acme", pricing.Price{Input: 0.30, Output: 1.20})
func (t *Table) Set(providerName, model string, p Price) (*Table, error) {
	t = t.orDefault()
	if err := checkRow(providerName, model, p); err != nil {
		return nil, fmt.Errorf("%w: %s %q: %v", ErrInvalid, providerName, model, err)
	}
	rows := maps(t.rows)
	rows[key{providerName, model}] = newEntry(providerName, model, p.clone(), t.rank+1)
	return build(rows, t.rank+1), nil
}

// Merge returns a table with the rows of t and other, other's rows
// replacing t's rows of the same provider and model (whole rows, not field
// by field) and their aliases winning over t's. Neither table changes. A
// nil other merges nothing.
func (t *Table) Merge(other *Table) *Table {
	t = t.orDefault()
	if other == nil {
		return t
	}
	rows := maps(t.rows)
	top := t.rank
	for k, e := range other.rows {
		n := *e
		n.rank = t.rank + 1 + e.rank
		top = max(top, n.rank)
		rows[k] = &n
	}
	return build(rows, top)
}

// Lookup returns the row that prices model when providerName answered,
// resolving the model id as Cost does (see the package documentation). The
// Row names the provider and model of the row found, which may differ from
// the arguments (an alias, a dated id, Azure priced as OpenAI).
func (t *Table) Lookup(providerName, model string) (Row, bool) {
	e := t.orDefault().resolve(providerName, model)
	if e == nil {
		return Row{}, false
	}
	r := e.row
	r.Price = r.Price.clone()
	return r, true
}

// Rows returns every row of t, sorted by provider and model.
func (t *Table) Rows() []Row {
	t = t.orDefault()
	out := make([]Row, 0, len(t.rows))
	for _, k := range sortedKeys(t.rows) {
		r := t.rows[k].row
		r.Price = r.Price.clone()
		out = append(out, r)
	}
	return out
}

// MarshalJSON encodes t in the format Parse reads.
func (t *Table) MarshalJSON() ([]byte, error) {
	t = t.orDefault()
	file := make(map[string]map[string]Price)
	for k, e := range t.rows {
		if file[k.provider] == nil {
			file[k.provider] = make(map[string]Price)
		}
		file[k.provider][k.model] = e.row.Price
	}
	return json.Marshal(file)
}

func checkRow(providerName, model string, p Price) error {
	switch {
	case providerName == "":
		return errors.New("empty provider name")
	case model == "":
		return errors.New("empty model id")
	}
	if err := p.check(); err != nil {
		return err
	}
	for _, a := range p.Aliases {
		if a == model {
			return fmt.Errorf("alias %q repeats the model id", a)
		}
	}
	return nil
}

func newEntry(providerName, model string, p Price, rank int) *entry {
	e := &entry{
		row:  Row{Provider: providerName, Model: model, Price: p},
		rank: rank,
		base: compile(providerName, p.Input, p.Output, p.CacheRead, p.CacheWrite5m, p.CacheWrite1h),
	}
	for _, tr := range p.Tiers { // ascending: Validate requires it
		e.tiers = append(e.tiers, tierRates{above: tr.Above, r: compile(providerName, tr.Input, tr.Output, tr.CacheRead, tr.CacheWrite5m, tr.CacheWrite1h)})
	}
	return e
}

// build indexes rows. Every row is found by its own model id; aliases and
// derived spellings fill the rest, a higher-ranked row winning a clash, and
// never shadow a model id.
func build(rows map[key]*entry, rank int) *Table {
	order := make([]*entry, 0, len(rows))
	for _, e := range rows {
		order = append(order, e)
	}
	slices.SortFunc(order, func(a, b *entry) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		if c := strings.Compare(a.row.Provider, b.row.Provider); c != 0 {
			return c
		}
		return strings.Compare(a.row.Model, b.row.Model)
	})
	index := make(map[key]*entry, 3*len(rows))
	for _, e := range order {
		for _, name := range e.altNames() {
			index[key{e.row.Provider, name}] = e
		}
	}
	for _, e := range order {
		index[key{e.row.Provider, e.row.Model}] = e
	}
	return &Table{rows: rows, index: index, rank: rank}
}

func maps(m map[key]*entry) map[key]*entry {
	out := make(map[key]*entry, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sortedKeys(m map[key]*entry) []key {
	ks := make([]key, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b key) int {
		if c := strings.Compare(a.provider, b.provider); c != 0 {
			return c
		}
		return strings.Compare(a.model, b.model)
	})
	return ks
}

// jsonPrice is Price as read from JSON: pointers tell a missing input or
// output price (an error) from a zero one.
type jsonPrice struct {
	Input        *float64   `json:"input"`
	Output       *float64   `json:"output"`
	CacheRead    float64    `json:"cache_read"`
	CacheWrite5m float64    `json:"cache_write_5m"`
	CacheWrite1h float64    `json:"cache_write_1h"`
	Tiers        []jsonTier `json:"tiers"`
	Aliases      []string   `json:"aliases"`
	Source       string     `json:"source"`
	Checked      string     `json:"checked"`
}

type jsonTier struct {
	Above        *int64   `json:"above"`
	Input        *float64 `json:"input"`
	Output       *float64 `json:"output"`
	CacheRead    float64  `json:"cache_read"`
	CacheWrite5m float64  `json:"cache_write_5m"`
	CacheWrite1h float64  `json:"cache_write_1h"`
}

func (j jsonPrice) price() (Price, error) {
	if j.Input == nil || j.Output == nil {
		return Price{}, errors.New(`"input" and "output" are required (use 0 for a free or absent one)`)
	}
	p := Price{
		Input: *j.Input, Output: *j.Output,
		CacheRead: j.CacheRead, CacheWrite5m: j.CacheWrite5m, CacheWrite1h: j.CacheWrite1h,
		Aliases: j.Aliases, Source: j.Source, Checked: j.Checked,
	}
	for i, jt := range j.Tiers {
		if jt.Above == nil || jt.Input == nil || jt.Output == nil {
			return Price{}, fmt.Errorf(`tiers[%d]: "above", "input" and "output" are required`, i)
		}
		p.Tiers = append(p.Tiers, Tier{
			Above: *jt.Above, Input: *jt.Input, Output: *jt.Output,
			CacheRead: jt.CacheRead, CacheWrite5m: jt.CacheWrite5m, CacheWrite1h: jt.CacheWrite1h,
		})
	}
	return p, nil
}
