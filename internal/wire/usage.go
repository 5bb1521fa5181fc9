package wire

import (
	"math/bits"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/provider"
)

// inBounds reports whether every count of u is between 0 and
// MaxUsageTokens.
func inBounds(u provider.Usage) bool {
	for _, n := range [...]int64{u.InputTokens, u.OutputTokens, u.CacheReadTokens, u.CacheCreationTokens, u.CacheCreation1hTokens, u.ReasoningTokens} {
		if n < 0 || n > provider.MaxUsageTokens {
			return false
		}
	}
	return true
}

// consistent returns u (in bounds) with each part cut down to what it is
// part of. Pricing bills the parts of the input at their own rates, so an
// overstated part (more cached tokens than input tokens) would bill tokens
// that were never sent; the whole is what the provider counted.
func consistent(u provider.Usage) provider.Usage {
	u.CacheReadTokens = min(u.CacheReadTokens, u.InputTokens)
	u.CacheCreationTokens = min(u.CacheCreationTokens, u.InputTokens-u.CacheReadTokens)
	u.CacheCreation1hTokens = min(u.CacheCreation1hTokens, u.CacheCreationTokens)
	u.ReasoningTokens = min(u.ReasoningTokens, u.OutputTokens)
	return u
}

// count reads one token count of a usage object. found is false when v is
// not a number (null, a string, an object: not a count, as if absent);
// bad is true for a number that cannot be one: negative, fractional, in
// exponent form, or above MaxUsageTokens.
func count(v []byte) (n int64, found, bad bool) {
	if len(v) == 0 || v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, false, false
	}
	n, ok := jsonscan.Int(v)
	if !ok || n < 0 || n > provider.MaxUsageTokens {
		return 0, true, true
	}
	return n, true, false
}

// usageState is what reading one usage object found.
type usageState uint8

const (
	usageAbsent usageState = iota // null, not an object, or no token counts: not reported
	usageTaken                    // counts within bounds: the Usage returned
	usageBad                      // a count out of bounds (see MaxUsageTokens), or a malformed object: not taken
)

// usageShape names the token counts a usage reader takes from a usage
// object: members that are counts, and the counts inside members that are
// objects of them (OpenAI's prompt_tokens_details and the like). Each
// count has a slot, its index in the paths the shape was made from.
type usageShape struct {
	members []usageMember
	// byLen has bit k set at len(members[k].name): a key is compared
	// only with the names of its length, one or two where there are ten.
	byLen [maxUsageName + 1]uint16
	// byFirst has bit k set at the first byte of members[k].name:
	// readQuick compares a key where it is with the names it may be,
	// before it looks for the key's end.
	byFirst [256]uint16
}

// usageMember is one member a usage reader reads: a count (slot), or an
// object of counts (inner).
type usageMember struct {
	name  string
	slot  int
	inner *usageShape
}

// maxUsageSlots bounds the counts of one shape (usageSlots keeps them in
// arrays, not on the heap); maxUsageName bounds their names.
const (
	maxUsageSlots = 16
	maxUsageName  = 32
)

// newUsageShape returns the shape of the counts at paths: a member's name,
// or an object member's and its count's. Slot i is paths[i].
func newUsageShape(paths ...[]string) *usageShape {
	if len(paths) > maxUsageSlots {
		panic("wire: too many usage counts")
	}
	sh := new(usageShape)
	for slot, p := range paths {
		m := sh.member([]byte(p[0]))
		switch {
		case len(p) == 1 && m == nil:
			sh.add(usageMember{name: p[0], slot: slot})
		case len(p) == 2 && m == nil:
			inner := new(usageShape)
			inner.add(usageMember{name: p[1], slot: slot})
			sh.add(usageMember{name: p[0], slot: -1, inner: inner})
		case len(p) == 2 && m.inner != nil && m.inner.member([]byte(p[1])) == nil:
			m.inner.add(usageMember{name: p[1], slot: slot})
		default:
			panic("wire: usage count named twice, or both a count and an object")
		}
	}
	return sh
}

func (sh *usageShape) add(m usageMember) {
	if len(m.name) > maxUsageName {
		panic("wire: usage count name too long")
	}
	sh.byLen[len(m.name)] |= 1 << len(sh.members)
	if m.name != "" {
		sh.byFirst[m.name[0]] |= 1 << len(sh.members)
	}
	sh.members = append(sh.members, m)
}

// member returns the member of sh named key, or nil.
func (sh *usageShape) member(key []byte) *usageMember {
	if k := sh.index(key); k >= 0 {
		return &sh.members[k]
	}
	return nil
}

// index returns the index of the member of sh named key, or -1.
func (sh *usageShape) index(key []byte) int {
	if len(key) > maxUsageName {
		return -1
	}
	for c := sh.byLen[len(key)]; c != 0; c &= c - 1 {
		k := bits.TrailingZeros16(c)
		if string(key) == sh.members[k].name {
			return k
		}
	}
	return -1
}

// usageSlots holds what one usage object says of each count of a shape:
// a count (n, the bit set in count), a number that cannot be one (see
// count; the bit set in bad), or nothing (neither bit: absent, null, not
// a number).
type usageSlots struct {
	n     [maxUsageSlots]int64
	count uint16
	bad   uint16
}

// set records the raw value v for slot i as count reads it.
func (s *usageSlots) set(i int, v []byte) {
	s.clear(i)
	n, found, wrong := count(v)
	switch {
	case wrong:
		s.bad |= 1 << i
	case found:
		s.n[i], s.count = n, s.count|1<<i
	}
}

// clear makes slot i absent (n zero too, so that slots that say the same
// compare equal).
func (s *usageSlots) clear(i int) {
	s.n[i] = 0
	s.count &^= 1 << i
	s.bad &^= 1 << i
}

// read reads a usage object, v (an object, by its first byte), into s: each
// member's last occurrence, by its decoded key, as JSON decoders keep
// duplicate keys, and within the last occurrence of an object member the
// last of each of its counts. It reports false when v is malformed (s is
// then of no use).
//
// The usual usage object (plain keys, counts written as plain digits,
// little else nested) is read in one pass (readQuick); anything else by
// the members iterator and a look-up per object count (readFull), which
// readQuick's answers are held to.
func (sh *usageShape) read(v []byte, s *usageSlots) bool {
	if sh.readQuick(v, s) {
		return true
	}
	*s = usageSlots{}
	return sh.readFull(v, s)
}

// readFull is read for any object: it iterates over v's members, keeping
// the last value of each member named, then reads the counts of those
// that are objects with jsonscan.Get.
func (sh *usageShape) readFull(v []byte, s *usageSlots) bool {
	var vals [maxUsageSlots][]byte
	it := jsonscan.Members(v)
	for it.Next() {
		if k := sh.index(it.Key()); k >= 0 {
			vals[k] = it.Value()
		}
	}
	if it.Err() != nil {
		return false
	}
	for i, m := range sh.members {
		if m.inner == nil {
			s.set(m.slot, vals[i])
			continue
		}
		if vals[i] == nil {
			continue // absent: no counts (and no syntax error from Get to allocate)
		}
		for _, c := range m.inner.members {
			if d, found := jsonscan.Get(vals[i], c.name); found {
				s.set(c.slot, d)
			}
		}
	}
	return true
}

// readQuick is read in one pass over v, for the usual usage object. It
// reports false, leaving the object to readFull, when v holds what it
// does not read itself: a key with an escape, a count that is not plain
// digits ("-1", "12.0", "1e3", more than ten digits), a container above
// maxQuickNested bytes inside a member, or anything malformed.
func (sh *usageShape) readQuick(v []byte, s *usageSlots) bool {
	if !jsonscan.IsObject(v) {
		return false
	}
	i, ok := sh.quickObject(v, 0, s)
	return ok && jsonscan.SkipSpace(v, i) == len(v)
}

// maxQuickNested bounds the containers readQuick skips inside a member
// (jsonscan.ValueEnd): nesting as deep as the iterator refuses
// (thousands of levels) takes more bytes than that, so readQuick never
// accepts what readFull would find malformed for its depth.
const maxQuickNested = 2048

// quickObject reads the object at v[i] (a '{') whose members sh names and
// returns the index past it.
func (sh *usageShape) quickObject(v []byte, i int, s *usageSlots) (int, bool) {
	i = jsonscan.SkipIndent(v, i+1)
	if i < len(v) && v[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(v) || v[i] != '"' {
			return 0, false
		}
		m, j := sh.quickKey(v, i)
		if j < 0 {
			return 0, false // an escaped key, or no end
		}
		i = jsonscan.SkipIndent(v, j)
		if i >= len(v) || v[i] != ':' {
			return 0, false
		}
		if i = jsonscan.SkipIndent(v, i+1); i >= len(v) {
			return 0, false
		}
		switch {
		case m == nil && v[i] >= '0' && v[i] <= '9':
			// A count no one asked for ("audio_tokens"): its digits are
			// passed over here, where ValueEnd would cost a call and a
			// dispatch; anything but plain digits is left to it.
			i = quickDigits(v, i)
		case m == nil:
			i = quickSkip(v, i)
		case m.inner != nil:
			for _, c := range m.inner.members {
				s.clear(c.slot)
			}
			if v[i] != '{' {
				i = quickSkip(v, i) // not an object: no counts
				break
			}
			var ok bool
			if i, ok = m.inner.quickObject(v, i, s); !ok {
				return 0, false
			}
		default:
			s.clear(m.slot)
			switch c := v[i]; {
			case c >= '0' && c <= '9':
				i = s.quickCount(m.slot, v, i)
			case c == '-':
				return 0, false
			default:
				i = quickSkip(v, i) // null, a string ...: no count
			}
		}
		if i < 0 {
			return 0, false
		}
		if i = jsonscan.SkipIndent(v, i); i >= len(v) {
			return 0, false
		}
		switch v[i] {
		case ',':
			i = jsonscan.SkipIndent(v, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// quickKey returns the member of sh named by the key at v[i] (a quote),
// nil for none, and the index past the key; -1 for a key with an escape
// or without an end, as jsonscan.PlainStringEnd finds them. A name
// followed by a quote is the key itself, as spelled (names hold no quote
// or backslash): the names the key's first byte may start are compared
// in place, and only a key none of them is (one no one asked for) is
// searched for its end.
func (sh *usageShape) quickKey(v []byte, i int) (*usageMember, int) {
	if i+1 < len(v) {
		for c := sh.byFirst[v[i+1]]; c != 0; c &= c - 1 {
			m := &sh.members[bits.TrailingZeros16(c)]
			if e := i + 1 + len(m.name); e < len(v) && v[e] == '"' && string(v[i+1:e]) == m.name {
				return m, e + 1
			}
		}
	}
	return nil, jsonscan.PlainStringEnd(v, i)
}

// readOpenAIUsage reads the counts of an OpenAI usage object at p[i] as
// it passes through the Capturer (a jsonscan.ValueReader), as readQuick
// reads the captured object: readJSON then takes them without walking
// the object again. It leaves to the Capturer, and readJSON to
// openAIUsage, what readQuick would leave to readFull, and an object
// that goes on past p.
func readOpenAIUsage(p []byte, i int) (end int, st jsonscan.ReadState) {
	if p[i] != '{' {
		return -1, st
	}
	var s usageSlots
	end, ok := openAIShape.quickObject(p, i, &s)
	if !ok {
		return -1, st
	}
	s.store(&st)
	return end, st
}

// The slots and their two bit sets fit a jsonscan.ReadState.
var _ [len(jsonscan.ReadState{}) - maxUsageSlots - 1]struct{}

// store keeps s in st (see readOpenAIUsage); load takes it back.
func (s *usageSlots) store(st *jsonscan.ReadState) {
	for i, n := range s.n {
		st[i] = uint64(n)
	}
	st[maxUsageSlots] = uint64(s.count) | uint64(s.bad)<<16
}

func (s *usageSlots) load(st *jsonscan.ReadState) {
	for i := range s.n {
		s.n[i] = int64(st[i])
	}
	s.count, s.bad = uint16(st[maxUsageSlots]), uint16(st[maxUsageSlots]>>16)
}

// quickCount reads the count at v[i] (a digit) into slot i as count reads
// it, and returns the index past it; -1 for a number that is not plain
// digits of at most ten (a count has nine at most), or malformed.
func (s *usageSlots) quickCount(slot int, v []byte, i int) int {
	var n int64
	j := i
	for ; j < len(v) && j-i < 10; j++ {
		c := v[j]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	if j < len(v) {
		if c := v[j]; c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' {
			return -1
		}
	}
	if v[i] == '0' && j > i+1 {
		return -1 // a leading zero: malformed
	}
	if n > provider.MaxUsageTokens {
		s.bad |= 1 << slot
	} else {
		s.n[slot], s.count = n, s.count|1<<slot
	}
	return j
}

// quickDigits returns the index past the plain digits at v[i] (a digit),
// as quickSkip does for such a number; quickSkip's own answer for
// anything else (a leading zero, a fraction, an exponent, a digit run
// that does not end a value).
func quickDigits(v []byte, i int) int {
	j := i + 1
	for j < len(v) && v[j] >= '0' && v[j] <= '9' {
		j++
	}
	if j < len(v) {
		switch v[j] {
		case ',', '}', ' ', '\n', '\t', '\r':
			if v[i] != '0' || j == i+1 {
				return j
			}
		}
	}
	return quickSkip(v, i)
}

// quickSkip returns the index past the value at v[i], or -1 when it is
// malformed or a container above maxQuickNested bytes.
func quickSkip(v []byte, i int) int {
	end := jsonscan.ValueEnd(v, i)
	if end-i > maxQuickNested && (v[i] == '{' || v[i] == '[') {
		return -1
	}
	return end
}

// The counts of an OpenAI usage object, by slot (see openAIUsage).
const (
	oaPrompt = iota
	oaInput
	oaCompletion
	oaOutput
	oaTotal
	oaPromptCached
	oaInputCached
	oaCacheWrite
	oaCompletionReasoning
	oaOutputReasoning
	oaCacheHit
)

var openAIShape = newUsageShape(
	[]string{"prompt_tokens"},
	[]string{"input_tokens"},
	[]string{"completion_tokens"},
	[]string{"output_tokens"},
	[]string{"total_tokens"},
	[]string{"prompt_tokens_details", "cached_tokens"},
	[]string{"input_tokens_details", "cached_tokens"},
	// Cache writes, which openai-go reads as cache_write_tokens.
	[]string{"prompt_tokens_details", "cache_write_tokens"},
	[]string{"completion_tokens_details", "reasoning_tokens"},
	[]string{"output_tokens_details", "reasoning_tokens"},
	[]string{"prompt_cache_hit_tokens"},
)

// OpenAIUsage reads an OpenAI usage object as the stack does (see
// openAIUsage), and reports whether it held usage that can be taken: the
// translation reads an OpenAI answer's usage with it.
func OpenAIUsage(v []byte) (provider.Usage, bool) {
	u, state := openAIUsage(v)
	return u, state == usageTaken
}

// openAIUsage reads an OpenAI usage object: Chat Completions
// (prompt_tokens, completion_tokens and their _details, cache writes
// included), Responses
// (input_tokens, output_tokens and their _details), embeddings
// (prompt_tokens), and DeepSeek's prompt_cache_hit_tokens, which wins over
// cached_tokens. Each member is read as an SDK reads it: its last
// occurrence, a null counting as absent; the Chat Completions names win
// over the Responses ones when an object has both.
func openAIUsage(v []byte) (provider.Usage, usageState) {
	if !jsonscan.IsObject(v) {
		return provider.Usage{}, usageAbsent
	}
	var s usageSlots
	if !openAIShape.read(v, &s) {
		return provider.Usage{}, usageBad
	}
	return openAIUsageOf(&s)
}

// openAIUsageOf is openAIUsage from the counts read of the object.
func openAIUsageOf(s *usageSlots) (provider.Usage, usageState) {
	r := countReader{s: s}
	var u provider.Usage
	var total, cached, cacheHit int64
	in := r.read(&u.InputTokens, oaPrompt) || r.read(&u.InputTokens, oaInput)
	out := r.read(&u.OutputTokens, oaCompletion) || r.read(&u.OutputTokens, oaOutput)
	tot := r.read(&total, oaTotal)
	if !r.read(&cached, oaPromptCached) {
		r.read(&cached, oaInputCached)
	}
	r.read(&u.CacheCreationTokens, oaCacheWrite)
	if !r.read(&u.ReasoningTokens, oaCompletionReasoning) {
		r.read(&u.ReasoningTokens, oaOutputReasoning)
	}
	hit := r.read(&cacheHit, oaCacheHit)
	switch {
	case r.bad:
		return provider.Usage{}, usageBad
	case !in && !out && !tot:
		return provider.Usage{}, usageAbsent
	}
	u.CacheReadTokens = cached
	if hit {
		u.CacheReadTokens = cacheHit
	}
	return consistent(u), usageTaken
}

// countReader reads the token counts of a usage object's slots, noting
// any that cannot be one. A count not read (the second of two names, when
// the first held a count) is not judged.
type countReader struct {
	s   *usageSlots
	bad bool
}

// read sets *dst from slot i and reports whether it held a count (absent,
// null and non-numbers are not; a bad number is noted).
func (r *countReader) read(dst *int64, i int) bool {
	switch {
	case r.s.bad&(1<<i) != 0:
		r.bad = true
	case r.s.count&(1<<i) != 0:
		*dst = r.s.n[i]
		return true
	}
	return false
}

// anthropicUsage keeps Anthropic's raw counts across a stream: message_start
// sets them, each message_delta replaces the ones it carries (output_tokens
// is cumulative). Each usage object is judged on the counts it leaves: one
// that would leave them out of bounds (see MaxUsageTokens) is not merged,
// and no later object of the message is either, since counts that follow
// one the stream got wrong cannot be trusted to complete it.
type anthropicUsage struct {
	input, output, cacheCreation, cacheRead, cache1h, thinking int64
	rejected                                                   bool
}

// The counts of an Anthropic usage object, by slot (see anthropicUsage).
const (
	anInput = iota
	anOutput
	anCacheCreation
	anCacheRead
	anCache1h
	anThinking
)

var anthropicShape = newUsageShape(
	[]string{"input_tokens"},
	[]string{"output_tokens"},
	[]string{"cache_creation_input_tokens"},
	[]string{"cache_read_input_tokens"},
	[]string{"cache_creation", "ephemeral_1h_input_tokens"},
	[]string{"output_tokens_details", "thinking_tokens"}, // inside output_tokens
)

// merge replaces the counts present in the usage object v (each count's
// last occurrence; a null one is not present) and reports what it found.
func (a *anthropicUsage) merge(v []byte) usageState {
	if a.rejected {
		return usageBad
	}
	if !jsonscan.IsObject(v) {
		return usageAbsent
	}
	var s usageSlots
	if !anthropicShape.read(v, &s) {
		a.rejected = true
		return usageBad
	}
	next := *a
	r := countReader{s: &s}
	seen := r.read(&next.input, anInput)
	seen = r.read(&next.output, anOutput) || seen
	seen = r.read(&next.cacheCreation, anCacheCreation) || seen
	seen = r.read(&next.cacheRead, anCacheRead) || seen
	seen = r.read(&next.cache1h, anCache1h) || seen
	seen = r.read(&next.thinking, anThinking) || seen
	if r.bad || !inBounds(next.raw()) {
		a.rejected = true
		return usageBad
	}
	if !seen {
		return usageAbsent
	}
	*a = next
	return usageTaken
}

// raw is the usage the counts say, before consistency.
func (a anthropicUsage) raw() provider.Usage {
	return provider.Usage{
		InputTokens:           a.input + a.cacheCreation + a.cacheRead,
		OutputTokens:          a.output,
		CacheReadTokens:       a.cacheRead,
		CacheCreationTokens:   a.cacheCreation,
		CacheCreation1hTokens: a.cache1h,
		ReasoningTokens:       a.thinking,
	}
}

// usage is the merged usage, consistent (see Usage).
func (a anthropicUsage) usage() provider.Usage { return consistent(a.raw()) }

// The counts of a Gemini usageMetadata object, by slot (see geminiUsage).
const (
	gePrompt = iota
	geCandidates
	geThoughts
	geCached
	geTotal
)

var geminiShape = newUsageShape(
	[]string{"promptTokenCount"},
	[]string{"candidatesTokenCount"},
	[]string{"thoughtsTokenCount"},
	[]string{"cachedContentTokenCount"},
	[]string{"totalTokenCount"},
)

// geminiUsage reads a usageMetadata object (each count's last occurrence;
// early stream chunks may lack counts: absent).
func geminiUsage(v []byte) (provider.Usage, usageState) {
	if !jsonscan.IsObject(v) {
		return provider.Usage{}, usageAbsent
	}
	var s usageSlots
	if !geminiShape.read(v, &s) {
		return provider.Usage{}, usageBad
	}
	r := countReader{s: &s}
	var u provider.Usage
	var candidates, thoughts, total int64
	ok := r.read(&u.InputTokens, gePrompt)
	ok = r.read(&candidates, geCandidates) || ok
	ok = r.read(&thoughts, geThoughts) || ok
	r.read(&u.CacheReadTokens, geCached)
	ok = r.read(&total, geTotal) || ok
	switch {
	case r.bad:
		return provider.Usage{}, usageBad
	case !ok:
		return provider.Usage{}, usageAbsent
	}
	u.OutputTokens = candidates + thoughts
	u.ReasoningTokens = thoughts
	if !inBounds(u) {
		return provider.Usage{}, usageBad
	}
	return consistent(u), usageTaken
}
