package durjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type rule struct {
	Name string        `json:"name"`
	Per  time.Duration `json:"per,omitempty"`
}

type config struct {
	MaxKeys int               `json:"max_keys,omitempty"`
	Wait    time.Duration     `json:"wait"`
	TTL     time.Duration     `json:"ttl,omitempty"`
	Rules   []rule            `json:"rules,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
	Window  time.Duration     `json:"window,omitzero"`
	Now     func() time.Time  `json:"-"`
	Skipped time.Duration     `json:"-"`
	hidden  time.Duration
}

func TestMarshalWritesDurationsAsStringsInTheFieldsPlaces(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   config
		want string
	}{
		{"zero: omitempty and omitzero leave out, the rest is 0s", config{}, `{"wait":"0s"}`},
		{"every field, in the struct's order",
			config{MaxKeys: 3, Wait: 90 * time.Second, TTL: 1500 * time.Nanosecond, Rules: []rule{{Name: "a", Per: time.Minute}, {Name: "b"}},
				Tags: map[string]string{"k": "v"}, Window: -time.Hour, Skipped: time.Hour, hidden: time.Hour},
			`{"max_keys":3,"wait":"1m30s","ttl":"1.5µs","rules":[{"name":"a","per":"1m0s"},{"name":"b"}],"tags":{"k":"v"},"window":"-1h0m0s"}`},
		{"an empty list, omitempty", config{Rules: []rule{}}, `{"wait":"0s"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Marshal(&tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(out))
			byValue, err := Marshal(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(byValue), "a struct marshals as its pointer does")
		})
	}
}

func TestListWithoutOmitemptyWritesNullAndEmptyAsEncodingJSON(t *testing.T) {
	type strict struct {
		Rules []rule `json:"rules"`
	}
	for _, rules := range [][]rule{nil, {}} {
		got, err := Marshal(strict{Rules: rules})
		require.NoError(t, err)
		want, err := json.Marshal(strict{Rules: rules})
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got))
	}
}

func TestUnmarshalReadsWhatParseDurationReads(t *testing.T) {
	var c config
	require.NoError(t, Unmarshal("test", []byte(`{"wait":"90s","ttl":"1h30m","window":"-2m","rules":[{"name":"a","per":"1.5µs"}]}`), &c))
	assert.Equal(t, config{Wait: 90 * time.Second, TTL: 90 * time.Minute, Window: -2 * time.Minute, Rules: []rule{{Name: "a", Per: 1500 * time.Nanosecond}}}, c)
}

func TestRoundTrip(t *testing.T) {
	in := config{MaxKeys: 7, Wait: time.Nanosecond, TTL: 25 * time.Hour, Window: 1500 * time.Millisecond,
		Rules: []rule{{Name: "a", Per: time.Minute}, {Name: "b"}}, Tags: map[string]string{"a": "b"}}
	data, err := Marshal(in)
	require.NoError(t, err)
	var out config
	require.NoError(t, Unmarshal("test", data, &out))
	assert.Equal(t, in, out)
	again, err := Marshal(out)
	require.NoError(t, err)
	assert.Equal(t, string(data), string(again))
}

func TestUnmarshalRefusesWhatIsNotADurationStringNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		parseErr       bool
	}{
		{"a number of seconds", `{"wait":60}`, `test: wait: want a Go duration string such as "1m", got 60`, false},
		{"a float", `{"ttl":2.5}`, `test: ttl: want a Go duration string such as "1m", got 2.5`, false},
		{"null", `{"wait":null}`, `test: wait: want a Go duration string such as "1m", got null`, false},
		{"a bool", `{"wait":true}`, `test: wait: want a Go duration string such as "1m", got true`, false},
		{"an object, cut short", `{"wait":{"seconds":60,"nanos":0,"comment":"far too long to quote"}}`,
			`test: wait: want a Go duration string such as "1m", got {"seconds":60,"nanos":0,"comment":"far t…`, false},
		{"a string ParseDuration rejects", `{"wait":"soon"}`, `test: wait: want a Go duration string such as "1m", got "soon"`, true},
		{"an empty string", `{"wait":""}`, `test: wait: want a Go duration string such as "1m", got ""`, true},
		{"a number without a unit, as a string", `{"wait":"60"}`, `test: wait: want a Go duration string such as "1m", got "60"`, true},
		{"in a list, by index", `{"rules":[{"name":"a","per":"1m"},{"name":"b","per":60}]}`,
			`test: rules[1].per: want a Go duration string such as "1m", got 60`, false},
		{"the key in another case", `{"WAIT":60}`, `test: wait: want a Go duration string such as "1m", got 60`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c config
			err := Unmarshal("test", []byte(tc.in), &c)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			fe, ok := errors.AsType[*FieldError](err)
			require.True(t, ok, "%T", err)
			assert.Equal(t, tc.parseErr, fe.Err != nil)
		})
	}
}

func TestUnmarshalReportsTheFirstErrorAndReadsTheRest(t *testing.T) {
	var c config
	err := Unmarshal("test", []byte(`{"wait":5,"ttl":"1h","max_keys":"x","rules":[{"per":6}]}`), &c)
	assert.EqualError(t, err, `json: cannot unmarshal string into Go struct field config.max_keys of type int`)
	assert.Equal(t, config{TTL: time.Hour, Rules: []rule{{}}}, c)
}

// Where no duration is given, Unmarshal is json.Unmarshal: same result,
// same error message.
func TestUnmarshalIsEncodingJSONForEveryOtherField(t *testing.T) {
	filled := func() config {
		return config{MaxKeys: 1, Wait: time.Second, Tags: map[string]string{"old": "1"}, Rules: []rule{{Name: "x", Per: time.Hour}, {Name: "y"}, {Name: "z"}}}
	}
	for _, tc := range []struct{ name, in string }{
		{"unknown keys", `{"max_keys":2,"nope":1,"rules":[{"name":"a","extra":[1]}]}`},
		{"keys in another case", `{"MAX_KEYS":2,"Rules":[{"NAME":"a"}]}`},
		{"absent fields keep their values", `{}`},
		{"maps merge", `{"tags":{"new":"2"}}`},
		{"lists decode into the elements there", `{"rules":[{},{"name":"b"}]}`},
		{"a longer list grows", `{"rules":[{},{},{},{"name":"w"}]}`},
		{"a null list", `{"rules":null}`},
		{"an empty list", `{"rules":[]}`},
		{"null", `null`},
		{"a type error", `{"max_keys":"x"}`},
		{"a type error in an element", `{"rules":[{},{"name":5}]}`},
		{"a list that is not one", `{"rules":5}`},
		{"an element that is not an object", `{"rules":[5]}`},
		{"not an object", `5`},
		{"a syntax error", `{"max_keys":`},
		{"a type error, then more", `{"max_keys":"x","tags":{"a":"b"}}`},
	} {
		for start, value := range map[string]func() config{"zero": func() config { return config{} }, "filled": filled} {
			t.Run(tc.name+", into a "+start+" config", func(t *testing.T) {
				want, got := value(), value()
				wantErr := json.Unmarshal([]byte(tc.in), &want)
				gotErr := Unmarshal("test", []byte(tc.in), &got)
				if wantErr == nil {
					assert.NoError(t, gotErr)
				} else {
					assert.EqualError(t, gotErr, wantErr.Error())
					assert.IsType(t, wantErr, gotErr)
				}
				assert.Equal(t, want, got)
				assert.Equal(t, want.Rules == nil, got.Rules == nil, "a nil list and an empty one differ")
			})
		}
	}
}

type coded struct{ D time.Duration }

func (c coded) MarshalJSON() ([]byte, error)     { return json.Marshal(c.D.String()) }
func (c *coded) UnmarshalJSON(data []byte) error { return nil }

func TestAFieldThatCodesItselfIsLeftToIt(t *testing.T) {
	out, err := Marshal(struct {
		C coded `json:"c"`
	}{coded{time.Second}})
	require.NoError(t, err)
	assert.Equal(t, `{"c":"1s"}`, string(out))
}

type tree struct {
	D    time.Duration
	Kids []tree
}

func TestTypesDurjsonCannotMirrorPanic(t *testing.T) {
	type embeds struct {
		rule
		N int
	}
	type nested struct {
		R rule `json:"r"`
	}
	type pointers struct {
		R []*rule `json:"r"`
	}
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"an embedded struct", &embeds{}, "embedded fields are not supported"},
		{"a struct field holding a duration", &nested{}, "durjson: durjson.nested.R holds a time.Duration durjson cannot reach"},
		{"a list of pointers", &pointers{}, "durjson: durjson.pointers.R holds a time.Duration"},
		{"a type holding itself", &tree{}, "durjson: durjson.tree holds itself"},
		{"not a struct", new(int), "is not a struct"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				require.NotNil(t, r)
				assert.Contains(t, r, tc.want)
			}()
			_, _ = Marshal(tc.v)
		})
	}
}

func TestMirrorEncodesAsMarshalWrites(t *testing.T) {
	c := config{MaxKeys: 3, Wait: time.Second, Rules: []rule{{Name: "<a&b>", Per: time.Minute}}, Tags: map[string]string{"k": "<v>"}}
	want, err := Marshal(c)
	require.NoError(t, err)
	var buf strings.Builder
	require.NoError(t, json.NewEncoder(&buf).Encode(Mirror(&c)))
	assert.Equal(t, string(want)+"\n", buf.String())
}
