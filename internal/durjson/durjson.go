// Package durjson reads and writes structs in JSON as encoding/json does,
// except for their time.Duration fields, which are Go duration strings
// ("90s", "1m0s") instead of integer nanoseconds: a configuration file says
// "per": "1m", a request log says "duration": "1.2s", and Go callers keep
// plain time.Duration fields (Per: time.Minute).
//
// The layers' configurations and records implement MarshalJSON and
// UnmarshalJSON with Marshal and Unmarshal. Every other field is left to
// encoding/json itself, so that it is read and written exactly as before:
// same keys in the same order, same omitempty, unknown keys ignored, names
// matched without regard to case, same type errors. To that end durjson
// hands encoding/json a mirror of the struct, built once per type with
// reflect.StructOf, whose duration fields are Go duration strings. A
// shadowing wrapper (an alias type embedded next to string fields) would
// have moved the duration keys to the end of every object and renamed the
// struct in every type error.
//
// A struct's slices of structs that hold durations ([]Rule in a Config) are
// mirrored too, so that an error names the element: "rules[0].per". Any
// other field that holds a duration somewhere inside must marshal itself;
// durjson panics on the first use of a type where one does not, so a new
// field is caught by the type's first test.
package durjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// FieldError is a duration field whose JSON value is not a Go duration
// string: a number, null, an object, or a string time.ParseDuration
// rejects.
type FieldError struct {
	// Prefix names the package whose type was read ("ratelimit").
	Prefix string
	// Path is the field as the JSON names it: "per", "rules[0].per".
	Path string
	// Value is the JSON value found, cut to a few dozen bytes.
	Value string
	// Err is time.ParseDuration's error, for a string; nil otherwise.
	Err error
}

// Error says which field holds what, and what it should hold.
func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %s: want a Go duration string such as \"1m\", got %s", e.Prefix, e.Path, e.Value)
}

// Unwrap returns time.ParseDuration's error, if any.
func (e *FieldError) Unwrap() error { return e.Err }

// maxValue bounds the JSON value a FieldError quotes: a config file's typo
// is short, and an error message is no place for a whole object.
const maxValue = 40

// Marshal returns the JSON encoding of v, a struct or a pointer to one, as
// json.Marshal would write it with its time.Duration fields written by
// Duration.String ("1m30s").
func Marshal(v any) ([]byte, error) { return json.Marshal(Mirror(v)) }

// Mirror returns what Marshal encodes for v, a struct or a pointer to one:
// a value encoding/json writes as Marshal writes v. A writer with its own
// json.Encoder encodes it rather than v: encoding/json scans the output of
// v's MarshalJSON a second time, to check and compact it, which for a
// request log's line costs more than the encoding itself.
func Mirror(v any) any {
	s := reflect.Indirect(reflect.ValueOf(v))
	p := planOf(s.Type())
	m := reflect.New(p.out)
	p.mirror(s, m.Elem())
	return m.Interface()
}

// Unmarshal reads data into v, a pointer to a struct, as json.Unmarshal
// would, except that its time.Duration fields take what time.ParseDuration
// reads. A duration field given anything else is a *FieldError naming
// prefix and the field; encoding/json's own errors come back as
// json.Unmarshal would return them for v.
func Unmarshal(prefix string, data []byte, v any) error {
	s := reflect.ValueOf(v).Elem()
	err := planOf(s.Type()).unmarshal(data, s)
	if fe, ok := errors.AsType[*FieldError](err); ok {
		fe.Prefix = prefix
	}
	return err
}

type kind uint8

const (
	copied   kind = iota // any field without a duration: encoding/json's
	duration             // a time.Duration
	list                 // a slice of structs that hold durations
)

// plan is how one struct type is mirrored.
type plan struct {
	typ  reflect.Type // the struct's type
	name string       // its name, for encoding/json's type errors
	in   reflect.Type // the mirror Unmarshal decodes into
	out  reflect.Type // the mirror Marshal encodes
	// fields are the struct's fields encoding/json sees; field i of the
	// mirrors is fields[i].
	fields []field
}

type field struct {
	src  int          // index in the struct
	kind kind         // how it is mirrored
	name string       // the field's JSON key
	typ  reflect.Type // the field's own type, for errors
	elem *plan        // a list's element
	// omit is a duration's omitempty or omitzero: its mirror, a string,
	// is empty for a zero duration, which encoding/json then leaves out.
	omit bool
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	rawType      = reflect.TypeFor[json.RawMessage]()
	stringType   = reflect.TypeFor[string]()
	marshaler    = reflect.TypeFor[json.Marshaler]()
	unmarshaler  = reflect.TypeFor[json.Unmarshaler]()
)

var plans sync.Map // reflect.Type → *plan

func planOf(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p, _ := plans.LoadOrStore(t, build(t, nil))
	return p.(*plan)
}

// build makes t's plan; outer are the types whose plans are being built
// around it, to refuse a type that holds itself.
func build(t reflect.Type, outer []reflect.Type) *plan {
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("durjson: %v is not a struct", t))
	}
	for _, o := range outer {
		if o == t {
			panic(fmt.Sprintf("durjson: %v holds itself", t))
		}
	}
	outer = append(outer, t)
	p := &plan{typ: t, name: t.Name()}
	var in, out []reflect.StructField
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		switch {
		case tag == "-":
			continue // encoding/json ignores it: so does the mirror
		case sf.Anonymous: // encoding/json promotes its fields, even unexported
			panic(fmt.Sprintf("durjson: %v embeds %v: embedded fields are not supported", t, sf.Type))
		case !sf.IsExported():
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		f := field{src: i, name: name, typ: sf.Type}
		inT, outT := sf.Type, sf.Type
		switch {
		case sf.Type == durationType:
			f.kind, inT, outT = duration, rawType, stringType
			f.omit = slices.ContainsFunc(strings.Split(opts, ","), func(o string) bool { return o == "omitempty" || o == "omitzero" })
		case sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Struct && holdsDuration(sf.Type.Elem(), nil):
			f.kind, f.elem = list, build(sf.Type.Elem(), outer)
			inT, outT = rawType, reflect.SliceOf(f.elem.out)
		case holdsDuration(sf.Type, nil) && !codesItself(sf.Type):
			panic(fmt.Sprintf("durjson: %v.%s holds a time.Duration durjson cannot reach: give its type MarshalJSON and UnmarshalJSON", t, sf.Name))
		}
		p.fields = append(p.fields, f)
		in = append(in, reflect.StructField{Name: sf.Name, Type: inT, Tag: sf.Tag})
		out = append(out, reflect.StructField{Name: sf.Name, Type: outT, Tag: sf.Tag})
	}
	p.in, p.out = reflect.StructOf(in), reflect.StructOf(out)
	return p
}

// holdsDuration reports whether a value of type t holds a time.Duration
// that encoding/json would write as a number.
func holdsDuration(t reflect.Type, seen []reflect.Type) bool {
	if t == durationType {
		return true
	}
	for _, s := range seen {
		if s == t {
			return false
		}
	}
	seen = append(seen, t)
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return holdsDuration(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if sf := t.Field(i); (sf.IsExported() || sf.Anonymous) && sf.Tag.Get("json") != "-" && holdsDuration(sf.Type, seen) {
				return true
			}
		}
	}
	return false
}

// codesItself reports whether t both writes and reads its own JSON.
func codesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return (t.Implements(marshaler) || p.Implements(marshaler)) && p.Implements(unmarshaler)
}

// mirror copies s into m, a value of p.out.
func (p *plan) mirror(s, m reflect.Value) {
	for i, f := range p.fields {
		sv, mv := s.Field(f.src), m.Field(i)
		switch f.kind {
		case copied:
			mv.Set(sv)
		case duration:
			switch d := time.Duration(sv.Int()); {
			case d != 0:
				mv.SetString(d.String())
			case !f.omit:
				mv.SetString("0s")
			}
		case list:
			switch {
			case sv.IsNil():
				continue // null, or left out, as before
			case sv.Len() == 0:
				mv.Set(reflect.MakeSlice(mv.Type(), 0, 0)) // [], not null
			default:
				mv.Grow(sv.Len()) // MakeSlice would allocate a slice header too
				mv.SetLen(sv.Len())
			}
			for j := range sv.Len() {
				f.elem.mirror(sv.Index(j), mv.Index(j))
			}
		}
	}
}

// unmarshal reads data into s, a value of p's type.
func (p *plan) unmarshal(data []byte, s reflect.Value) error {
	m := reflect.New(p.in).Elem()
	for i, f := range p.fields {
		if f.kind == copied {
			m.Field(i).Set(s.Field(f.src)) // what the JSON leaves out stays
		}
	}
	first := json.Unmarshal(data, m.Addr().Interface())
	if te, ok := first.(*json.UnmarshalTypeError); ok {
		switch {
		case te.Field == "": // the JSON is not an object
			te.Type = p.typ
		case te.Struct == "": // a field of the mirror, whose type has no name
			te.Struct = p.name
		}
	}
	// encoding/json goes on past a type error, and reports the first one:
	// so does unmarshal.
	for i, f := range p.fields {
		var err error
		switch mv, sv := m.Field(i), s.Field(f.src); f.kind {
		case copied:
			sv.Set(mv)
		case duration:
			if raw := mv.Bytes(); raw != nil {
				err = readDuration(raw, f.name, sv)
			}
		case list:
			if raw := mv.Bytes(); raw != nil {
				err = f.readList(raw, p.name, sv)
			}
		}
		if first == nil {
			first = err
		}
	}
	return first
}

func readDuration(raw []byte, name string, dst reflect.Value) error {
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return &FieldError{Path: name, Value: quote(raw)}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return &FieldError{Path: name, Value: quote(raw), Err: err}
	}
	dst.SetInt(int64(d))
	return nil
}

// quote is raw cut to maxValue bytes, on a UTF-8 boundary.
func quote(raw []byte) string {
	if len(raw) <= maxValue {
		return string(raw)
	}
	n := maxValue
	for n > 0 && raw[n]&0xC0 == 0x80 {
		n--
	}
	return string(raw[:n]) + "…"
}

// readList reads raw, a JSON array, into dst, a slice, the way
// encoding/json does (it decodes into the elements already there, grows
// the slice as needed, and cuts it to the array's length), each element by
// the element's plan. owner is the name of the struct holding dst.
func (f field) readList(raw []byte, owner string, dst reflect.Value) error {
	if string(raw) == "null" {
		dst.SetZero()
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		if te, ok := err.(*json.UnmarshalTypeError); ok {
			te.Type, te.Struct, te.Field = f.typ, owner, f.name
		}
		return err
	}
	var first error
	for i, item := range items {
		if i >= dst.Cap() {
			dst.Grow(1)
		}
		if i >= dst.Len() {
			dst.SetLen(i + 1)
		}
		err := f.elem.unmarshal(item, dst.Index(i))
		switch e := err.(type) {
		case *FieldError:
			e.Path = fmt.Sprintf("%s[%d].%s", f.name, i, e.Path)
		case *json.UnmarshalTypeError:
			if e.Field == "" { // the element is not an object
				e.Struct, e.Field = owner, f.name
			} else {
				e.Field = f.name + "." + e.Field
			}
		}
		if first == nil {
			first = err
		}
	}
	if len(items) < dst.Len() {
		dst.SetLen(len(items))
	}
	if len(items) == 0 {
		dst.Set(reflect.MakeSlice(dst.Type(), 0, 0))
	}
	return first
}
