package aigateway

import (
	"fmt"
	"strings"
)

// KeySpec says who shares something a layer keeps per key (a rate limit, a
// cache partition), as Configs spell it: terms joined by commas, each one of
// "metadata:NAME" (a metadata tag), "api_key" (the fingerprint of the
// caller's credential, Call.CredentialHash: never the key itself), "model"
// (as requested) or "provider" (gen_ai.provider.name). "metadata:team,model"
// keys by team and model together; "" is a spec with no terms (everyone
// shares one key). The zero KeySpec is the empty spec.
type KeySpec struct {
	terms []keyTerm
}

type keyTerm struct {
	kind string // "metadata", "api_key", "model", "provider"
	name string // the metadata tag
}

// ParseKeySpec reads a spec. Its error quotes the term it could not read.
func ParseKeySpec(spec string) (KeySpec, error) {
	if strings.TrimSpace(spec) == "" {
		return KeySpec{}, nil
	}
	var k KeySpec
	for _, t := range strings.Split(spec, ",") {
		t = strings.TrimSpace(t)
		switch t {
		case "api_key", "model", "provider":
			k.terms = append(k.terms, keyTerm{kind: t})
			continue
		}
		name, ok := strings.CutPrefix(t, "metadata:")
		if name = strings.TrimSpace(name); !ok || name == "" {
			return KeySpec{}, fmt.Errorf("key term %q: want metadata:NAME, api_key, model or provider", t)
		}
		k.terms = append(k.terms, keyTerm{kind: "metadata", name: name})
	}
	return k, nil
}

// Len is the number of terms: how many values AppendValues appends.
func (k KeySpec) Len() int { return len(k.terms) }

// MetadataOnly reports whether every term is a metadata tag.
func (k KeySpec) MetadataOnly() bool {
	for _, t := range k.terms {
		if t.kind != "metadata" {
			return false
		}
	}
	return true
}

// AppendValues appends call's value for each term, in the spec's order (""
// for a tag the call lacks). The caller joins them into its key, with each
// value's length or another unambiguous framing, so that no value can pass
// for another split.
func (k KeySpec) AppendValues(dst []string, call *Call) []string {
	for _, t := range k.terms {
		switch t.kind {
		case "metadata":
			dst = append(dst, call.Metadata(t.name))
		case "api_key":
			dst = append(dst, call.CredentialHash())
		case "model":
			dst = append(dst, call.Model())
		case "provider":
			dst = append(dst, call.Provider())
		}
	}
	return dst
}
