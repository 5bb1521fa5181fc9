package aigateway

import "github.com/aigateway-go/aigateway/internal/durjson"

// MarshalJSON writes a as encoding/json would, except that its Duration is
// a Go duration string ("1.2s") rather than integer nanoseconds: the form a
// person reads in a log, and the form the Configs' durations take. Err is
// not written.
func (a Attempt) MarshalJSON() ([]byte, error) { return durjson.Marshal(&a) }

// UnmarshalJSON reads what MarshalJSON writes: its Duration is a Go
// duration string, as time.ParseDuration reads it; a number is an error
// naming the field.
func (a *Attempt) UnmarshalJSON(data []byte) error { return durjson.Unmarshal("aigateway", data, a) }
