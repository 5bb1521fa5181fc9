package aigateway

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A Call is read-only to its users: the LayerCall that records what layers
// do comes from Layer alone. With an exported field, any holder of a
// *Call (a Tracker's) could write aigateway.LayerCall{Call: c} and set its
// cache status, its usage (Replayed), its target or its attempt log.
func TestALayerCallCannotBeMadeFromACall(t *testing.T) {
	typ := reflect.TypeFor[LayerCall]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		assert.False(t, f.IsExported(), "LayerCall.%s is exported: LayerCall{%s: c} makes a Call writable", f.Name, f.Name)
	}
}
