package wire

import (
	"hash/maphash"
	"sync/atomic"
)

// models is a small table of the model names requests asked for last,
// found by a hash of their bytes: the names a service sends are few, so
// a request's model costs no allocation once seen. A slot holds one name
// and a new name takes it; nothing grows.
var models struct {
	seed  maphash.Seed
	slots [256]atomic.Pointer[string]
}

func init() { models.seed = maphash.MakeSeed() }

// maxInternedModel bounds the names the table keeps: real model names are
// far shorter, and a longer one is not worth a slot.
const maxInternedModel = 96

// internModel returns b as a string, the table's copy when it holds one.
func internModel(b []byte) string {
	if len(b) > maxInternedModel {
		return string(b)
	}
	slot := &models.slots[maphash.Bytes(models.seed, b)%uint64(len(models.slots))]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}
