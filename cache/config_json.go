package cache

import "github.com/aigateway-go/aigateway/internal/durjson"

// MarshalJSON writes c as encoding/json would, except that its durations
// are Go duration strings ("1h0m0s"), the form UnmarshalJSON reads.
func (c Config) MarshalJSON() ([]byte, error) { return durjson.Marshal(&c) }

// UnmarshalJSON reads c as encoding/json would, except that its durations
// are Go duration strings, as time.ParseDuration reads them ("90s", "1h"):
// a number for one is an error naming the field, since it could mean
// seconds as well as nanoseconds.
func (c *Config) UnmarshalJSON(data []byte) error { return durjson.Unmarshal("cache", data, c) }
