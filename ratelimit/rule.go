package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aigateway-go/aigateway"
)

// keyPrefix starts every key the limiter gives its Store; the version
// changes when the key format does.
const keyPrefix = "aigateway:ratelimit:v1:"

// maxKeyPart bounds the key values kept in clear in a store key; longer
// ones are hashed, so a caller's long tag cannot make keys of any size.
const maxKeyPart = 128

type unit uint8

const (
	unitRequests unit = iota
	unitTokens
	unitCost
)

// rule is a Rule compiled for the hot path.
type rule struct {
	Rule
	index  int
	unit   unit
	spec   aigateway.KeySpec
	prefix string                 // keyPrefix, the name and the unit, length-prefixed
	bucket Limit                  // the Limit of a bucket rule (all but calendar budgets)
	period atomic.Pointer[period] // a calendar budget's latest period

	// keys interns the store keys of recent callers, so a key costs no
	// allocation once seen. Bounded: it starts over when full.
	keysMu sync.RWMutex
	keys   map[string]string
}

// internedKeys bounds each rule's interned keys.
const internedKeys = 4096

// period is one calendar period, as the limiter last computed it.
type period struct {
	loc        *time.Location
	start, end time.Time
	suffix     string // "@2006-01-02", for the store key
}

// periodAt is the calendar period now is in, computed once per period.
func (r *rule) periodAt(now time.Time, loc *time.Location) *period {
	if p := r.period.Load(); p != nil && p.loc == loc && !now.Before(p.start) && now.Before(p.end) {
		return p
	}
	start, end := periodBounds(r.Period, now, loc)
	p := &period{loc: loc, start: start, end: end, suffix: "@" + start.Format("2006-01-02")}
	r.period.Store(p)
	return p
}

func compile(r Rule, index int) *rule {
	c := &rule{Rule: r, index: index}
	switch {
	case r.Tokens > 0:
		c.unit = unitTokens
	case r.CostUSD > 0:
		c.unit = unitCost
	}
	if r.KeyFunc == nil {
		c.spec, _ = aigateway.ParseKeySpec(r.Key) // Validate parsed it
	}
	c.prefix = keyPrefix + strconv.Itoa(len(r.Name)) + ":" + r.Name + ":" + [...]string{"req", "tok", "usd"}[c.unit] + ":"
	rate, burst := r.rateBurst()
	c.bucket = Limit{Rate: rate, Per: r.Per, Burst: burst}
	return c
}

// cost is what admission reserves for the call.
func (r *rule) cost(e estimate) int64 {
	switch r.unit {
	case unitTokens:
		return e.tokens
	case unitCost:
		return e.cost
	}
	return 1
}

// limit is the rule's Limit at now: a calendar budget's window ends with
// the period now is in.
func (r *rule) limit(now time.Time, loc *time.Location) Limit {
	if r.Period == "" {
		return r.bucket
	}
	return Limit{Rate: r.bucket.Rate, Burst: r.bucket.Burst, Until: r.periodAt(now, loc).end}
}

// key is the store key of call's counter at now.
func (r *rule) key(call *aigateway.Call, now time.Time, loc *time.Location) string {
	if r.KeyFunc != nil {
		return r.storeKey([]string{r.KeyFunc(call)}, now, loc)
	}
	if r.spec.Len() == 0 && r.Period == "" {
		return r.prefix
	}
	var buf [4]string
	vals := r.spec.AppendValues(buf[:0], call)
	return r.storeKey(vals, now, loc)
}

// storeKey joins the rule's prefix, each value length-prefixed (so no
// value can pass for another split), and a calendar budget's period.
func (r *rule) storeKey(vals []string, now time.Time, loc *time.Location) string {
	var arr [256]byte
	b := append(arr[:0], r.prefix...)
	for _, v := range vals {
		if len(v) > maxKeyPart {
			sum := sha256.Sum256([]byte(v))
			b = append(b, '#')
			b = hex.AppendEncode(b, sum[:16])
			b = append(b, ';')
			continue
		}
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(append(b, ':'), v...)
	}
	if r.Period != "" {
		b = append(b, r.periodAt(now, loc).suffix...)
	}
	return r.intern(b)
}

// intern returns b as a string, the same string each time.
func (r *rule) intern(b []byte) string {
	r.keysMu.RLock()
	k, ok := r.keys[string(b)] // no allocation: the compiler reads b in place
	r.keysMu.RUnlock()
	if ok {
		return k
	}
	k = string(b)
	r.keysMu.Lock()
	if len(r.keys) >= internedKeys || r.keys == nil {
		r.keys = make(map[string]string, 64)
	}
	r.keys[k] = k
	r.keysMu.Unlock()
	return k
}

// periodBounds is the calendar period (day, week from Monday, month) in
// loc that t falls in. A period runs from the first instant its first date
// shows on the clock to the first instant the next period's does, so that
// a clock change at midnight neither leaves instants outside every period
// nor makes periods overlap.
func periodBounds(period string, t time.Time, loc *time.Location) (start, end time.Time) {
	lt := t.In(loc)
	y, m, d := lt.Date()
	days, months := 1, 0
	switch period {
	case PeriodWeek:
		d -= (int(lt.Weekday()) + 6) % 7
		days = 7
	case PeriodMonth:
		d, days, months = 1, 0, 1
	}
	start = dayStart(y, m, d, loc)
	end = dayStart(y, m+time.Month(months), d+days, loc)
	if !t.Before(end) {
		// A clock set back over midnight shows the previous date again
		// after the next period has begun.
		start, end = end, dayStart(y, m+time.Month(2*months), d+2*days, loc)
	}
	return start, end
}

// dayStart is the first instant of the date y-m-d (normalised as by
// time.Date) in loc: its midnight, or, when a clock change skips midnight,
// the instant the clock jumps to a later hour of that date.
func dayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if t.Hour() == 0 {
		return t
	}
	// Midnight was skipped. time.Date may give the instant the clock
	// jumped (a later hour of the date), or one an hour before it, on the
	// previous date: then the jump is where that zone ends.
	if _, _, day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Date(); t.Day() != day {
		if _, next := t.ZoneBounds(); !next.IsZero() {
			return next
		}
	}
	return t
}

// describe says what the rule allows: "60 requests per minute", "$5.00 per
// month".
func (r *rule) describe() string {
	switch r.unit {
	case unitCost:
		if r.Period != "" {
			return fmt.Sprintf("$%.2f per %s", r.CostUSD, r.Period)
		}
		return fmt.Sprintf("$%.2f per %s", r.CostUSD, per(r.Per))
	case unitTokens:
		return fmt.Sprintf("%d tokens per %s", r.Tokens, per(r.Per))
	}
	return fmt.Sprintf("%d requests per %s", r.Requests, per(r.Per))
}

// per names a window the way people say it: "minute", "hour", "day", else
// the duration ("90s", "1m30s").
func per(d time.Duration) string {
	switch d {
	case time.Second:
		return "second"
	case time.Minute:
		return "minute"
	case time.Hour:
		return "hour"
	case 24 * time.Hour:
		return "day"
	}
	return d.String()
}

// amount writes n of the rule's units.
func (r *rule) amount(n int64) string {
	switch r.unit {
	case unitCost:
		return fmt.Sprintf("$%.6f", float64(n)/nanoUSD)
	case unitTokens:
		return strconv.FormatInt(n, 10) + " tokens"
	}
	return strconv.FormatInt(n, 10) + " requests"
}
