package aigateway

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// orderCompleter appends its name to order when the call completes.
type orderCompleter struct {
	name  string
	order *[]string
}

func (o *orderCompleter) CallComplete(Result) { *o.order = append(*o.order, o.name) }

// OnCompleteWith registers a layer's per-call state itself: no closure or
// method value to allocate. It runs in the order OnComplete callbacks do,
// mixed with them, once; registered after completion, at once.
func TestOnCompleteWithRunsLikeOnCompleteWithoutAllocating(t *testing.T) {
	var order []string
	c := &Call{done: make(chan struct{})}
	lc := LayerCall{c}
	lc.OnCompleteWith(&orderCompleter{"outer", &order})
	lc.OnComplete(func(Result) { order = append(order, "middle") })
	lc.OnCompleteWith(&orderCompleter{"inner", &order})
	assert.True(t, c.complete(nil))
	assert.False(t, c.complete(nil))
	assert.Equal(t, []string{"inner", "middle", "outer"}, order)
	lc.OnCompleteWith(&orderCompleter{"late", &order})
	assert.Equal(t, []string{"inner", "middle", "outer", "late"}, order, "after completion: at once")

	state := &orderCompleter{"s", new([]string)}
	fresh := &Call{}
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		fresh.onDone = nil
		LayerCall{fresh}.OnCompleteWith(state)
	}), "a pointer registers without an allocation")
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() {
		fresh.onDone = nil
		LayerCall{fresh}.OnComplete(state.CallComplete)
	}), "where a method value costs one")
}

// Done's channel is made when asked for (most calls are never waited on
// so): asked before completion, it closes once the callbacks ran; asked
// after, it is closed already.
func TestDoneIsMadeOnlyWhenAskedFor(t *testing.T) {
	early := &Call{}
	done := early.Done()
	var closedInCallback bool
	LayerCall{early}.OnComplete(func(Result) {
		select {
		case <-done:
			closedInCallback = true
		default:
		}
	})
	assert.Equal(t, (<-chan struct{})(early.done), early.Done(), "one channel")
	require.True(t, early.complete(nil))
	assert.False(t, closedInCallback, "closed only after the callbacks ran")
	<-done

	late := &Call{}
	require.True(t, late.complete(nil))
	assert.Nil(t, late.done, "nobody asked: no channel")
	<-late.Done()
}
