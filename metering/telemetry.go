package metering

import (
	"context"
	"hash/maphash"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/semconv/v1.41.0/genaiconv"
	"go.opentelemetry.io/otel/trace"

	"github.com/aigateway-go/aigateway"
)

// The semantic conventions' advised bucket boundaries: token counts, and
// seconds for the duration, time to first chunk and time per output chunk.
var (
	tokenBuckets    = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}
	durationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
)

// Attribute keys of the gateway's own, beside the semantic conventions'.
const (
	attrCacheStatus     = attribute.Key("aigateway.cache.status")
	attrTarget          = attribute.Key("aigateway.target")
	attrFallback        = attribute.Key("aigateway.fallback")
	attrAttempts        = attribute.Key("aigateway.attempts")
	attrAttemptDuration = attribute.Key("aigateway.attempt.duration")
	attrAttemptError    = attribute.Key("aigateway.attempt.error")
	attrCost            = attribute.Key("aigateway.cost_usd")
	attrSavedCost       = attribute.Key("aigateway.saved.cost_usd")
	attrSavedInput      = attribute.Key("aigateway.saved.input_tokens")
	attrSavedOutput     = attribute.Key("aigateway.saved.output_tokens")
	metadataPrefix      = "aigateway.metadata."
)

type metaKey struct {
	name string
	attr attribute.Key
}

func metadataAttr(key string) attribute.Key { return attribute.Key(metadataPrefix + key) }

type instruments struct {
	tokens        genaiconv.ClientTokenUsage
	duration      genaiconv.ClientOperationDuration
	firstChunk    genaiconv.ClientOperationTimeToFirstChunk
	perChunk      genaiconv.ClientOperationTimePerOutputChunk
	cost          metric.Float64Counter
	saved         metric.Float64Counter
	cacheRequests metric.Int64Counter
}

// newInstruments creates the meter's instruments. An instrument the SDK
// refuses comes back as a no-op (the constructors return one with the
// error), so a bad MeterProvider costs metrics, never calls.
func newInstruments(mt metric.Meter) instruments {
	var in instruments
	in.tokens, _ = genaiconv.NewClientTokenUsage(mt, metric.WithExplicitBucketBoundaries(tokenBuckets...))
	in.duration, _ = genaiconv.NewClientOperationDuration(mt, metric.WithExplicitBucketBoundaries(durationBuckets...))
	in.firstChunk, _ = genaiconv.NewClientOperationTimeToFirstChunk(mt, metric.WithExplicitBucketBoundaries(durationBuckets...))
	in.perChunk, _ = genaiconv.NewClientOperationTimePerOutputChunk(mt, metric.WithExplicitBucketBoundaries(durationBuckets...))
	in.cost = counterF(mt, "aigateway.cost", "Cost of the tokens spent by GenAI calls, at list prices.")
	in.saved = counterF(mt, "aigateway.cost.saved", "Cost of the tokens that calls answered from the cache did not spend, at list prices.")
	c, err := mt.Int64Counter("aigateway.cache.requests",
		metric.WithUnit("{request}"), metric.WithDescription("GenAI calls a cache layer looked at, by how it answered."))
	if err != nil {
		c, _ = noopMeter.Int64Counter("aigateway.cache.requests")
	}
	in.cacheRequests = c
	return in
}

func (in *instruments) enabled(ctx context.Context) bool {
	return in.duration.Enabled(ctx) || in.tokens.Enabled(ctx) || in.firstChunk.Enabled(ctx) ||
		in.perChunk.Enabled(ctx) || in.cost.Enabled(ctx) || in.saved.Enabled(ctx) || in.cacheRequests.Enabled(ctx)
}

func counterF(mt metric.Meter, name, desc string) metric.Float64Counter {
	c, err := mt.Float64Counter(name, metric.WithUnit("USD"), metric.WithDescription(desc))
	if err != nil {
		c, _ = noopMeter.Float64Counter(name)
	}
	return c
}

// spanName follows the GenAI conventions: "{operation} {model}".
func spanName(call *aigateway.Call) string {
	if call.Model() == "" {
		return call.Operation()
	}
	return call.Operation() + " " + call.Model()
}

// requestAttrs are the span attributes known when the call starts.
func (m *Meter) requestAttrs(call *aigateway.Call) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs,
		semconv.GenAIProviderNameKey.String(call.Provider()),
		semconv.GenAIOperationNameKey.String(call.Operation()),
	)
	if call.Model() != "" {
		attrs = append(attrs, semconv.GenAIRequestModelKey.String(call.Model()))
	}
	if call.Stream() {
		attrs = append(attrs, semconv.GenAIRequestStreamKey.Bool(true))
	}
	if n := call.MaxTokens(); n > 0 {
		attrs = append(attrs, semconv.GenAIRequestMaxTokensKey.Int64(n))
	}
	if a := call.ServerAddress(); a != "" {
		attrs = append(attrs, semconv.ServerAddressKey.String(a))
	}
	for k, v := range call.MetadataAll() {
		attrs = append(attrs, metadataAttr(k).String(v))
	}
	return attrs
}

// spanStart is what the spans of one combination of request facts start
// with: their name and their attributes, as the start option.
type spanStart struct {
	name  string
	attrs trace.SpanStartOption
	tags  map[string]string // the metadata, to tell two combinations whose tags hash alike apart
}

// startKey identifies a combination of request facts. The metadata is
// there as the sum of a hash of each tag, whatever their order, and their
// number; a cached spanStart holds the tags themselves to check them.
type startKey struct {
	provider, operation, model, server string
	stream                             bool
	maxTokens                          int64
	tags                               uint64
	ntags                              int
}

// tagHash is a seeded hash of one metadata tag.
func (m *Meter) tagHash(k, v string) uint64 {
	return maphash.String(m.seeds[0], k) ^ maphash.String(m.seeds[1], v)
}

// spanStart returns the name and attribute option of call's span. Building
// them (the name, the attributes, each metadata tag's key, the option)
// costs five allocations and more with tags, on the caller's path, so
// those of each combination seen are kept, within the bounds of the
// attribute sets' cache (maxCachedSets combinations, maxCachedKeyBytes
// each). Looking one up allocates nothing.
func (m *Meter) spanStart(call *aigateway.Call) *spanStart {
	k, size := m.startKey(call)
	cached, ok := m.startCache.Load(k)
	if ok && cached.(*spanStart).sameTags(call) {
		return cached.(*spanStart)
	}
	s := &spanStart{name: spanName(call), attrs: trace.WithAttributes(m.requestAttrs(call)...)}
	if ok || m.startCount.Load() >= maxCachedSets || size > maxCachedKeyBytes {
		return s // two combinations alike but for their tags keep the first
	}
	if k.ntags > 0 {
		s.tags = make(map[string]string, k.ntags)
		for tk, tv := range call.MetadataAll() {
			s.tags[tk] = tv
		}
	}
	// A place is taken before the store, so that concurrent misses cannot
	// take the cache past maxCachedSets.
	if m.startCount.Add(1) > maxCachedSets {
		m.startCount.Add(-1)
	} else if _, loaded := m.startCache.LoadOrStore(k, s); loaded {
		m.startCount.Add(-1)
	}
	return s
}

// startKey returns call's startKey and the bytes of its strings.
func (m *Meter) startKey(call *aigateway.Call) (k startKey, size int) {
	k = startKey{provider: call.Provider(), operation: call.Operation(), model: call.Model(),
		server: call.ServerAddress(), stream: call.Stream(), maxTokens: call.MaxTokens()}
	size = len(k.provider) + len(k.operation) + len(k.model) + len(k.server)
	for tk, tv := range call.MetadataAll() {
		k.tags += m.tagHash(tk, tv)
		k.ntags++
		size += len(tk) + len(tv)
	}
	return k, size
}

// sameTags reports whether call has the metadata s was built for; the
// number of tags is the key's.
func (s *spanStart) sameTags(call *aigateway.Call) bool {
	for k, v := range call.MetadataAll() {
		if w, ok := s.tags[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// tag returns the value of the call's metadata tag k, and whether it has
// one (a tag may be empty).
func tag(call *aigateway.Call, k string) (string, bool) {
	for tk, tv := range call.MetadataAll() {
		if tk == k {
			return tv, true
		}
	}
	return "", false
}

// metricAttrs are the attributes every metric of the call carries.
func (m *Meter) metricAttrs(rec *Record, call *aigateway.Call) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 8+len(m.metaKey))
	attrs = append(attrs,
		semconv.GenAIProviderNameKey.String(rec.Provider),
		semconv.GenAIOperationNameKey.String(rec.Operation),
	)
	if rec.Model != "" {
		attrs = append(attrs, semconv.GenAIRequestModelKey.String(rec.Model))
	}
	if rec.Response != "" {
		attrs = append(attrs, semconv.GenAIResponseModelKey.String(rec.Response))
	}
	if rec.Server != "" {
		attrs = append(attrs, semconv.ServerAddressKey.String(rec.Server))
	}
	if rec.ErrorType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(rec.ErrorType))
	}
	if rec.CacheStatus != "" {
		attrs = append(attrs, attrCacheStatus.String(rec.CacheStatus))
	}
	for _, k := range m.metaKey {
		if v, ok := tag(call, k.name); ok {
			attrs = append(attrs, k.attr.String(v))
		}
	}
	return attrs
}

// metricSets are the attribute sets of one combination of metric
// attributes (every metric's, and the token histogram's for input and
// output) and the measurement options that carry them: an option and the
// slice that passes it would cost an allocation each per measurement.
type metricSets struct {
	all, input, output attribute.Set
	allRecord          []metric.RecordOption
	inputRecord        []metric.RecordOption
	outputRecord       []metric.RecordOption
	allAdd             []metric.AddOption
}

func newMetricSets(all, input, output attribute.Set) *metricSets {
	opt := metric.WithAttributeSet(all)
	return &metricSets{
		all: all, input: input, output: output,
		allRecord:    []metric.RecordOption{opt},
		inputRecord:  []metric.RecordOption{metric.WithAttributeSet(input)},
		outputRecord: []metric.RecordOption{metric.WithAttributeSet(output)},
		allAdd:       []metric.AddOption{opt},
	}
}

// setKey identifies a combination of metric attribute values. It is
// comparable, so a lookup with no listed metadata allocates nothing.
type setKey struct {
	provider, operation, model, response, server, errorType, cacheStatus string
	metadata                                                             string // the listed metadata values, length-prefixed
}

// maxCachedSets bounds the cache of attribute sets, and maxCachedKeyBytes
// the strings of one cached combination. Past the first, and for a longer
// combination (a model name of a megabyte: the request chooses it), sets
// are built per call: correct, only slower (a metric attribute with
// unbounded values is a cardinality problem for the backend first, and
// the OpenTelemetry SDK caps the series of an instrument, at 2000 by
// default). So the cache holds at most about 4 MiB of request strings.
const (
	maxCachedSets     = 4096
	maxCachedKeyBytes = 1 << 10
)

// size is the bytes of k's strings.
func (k *setKey) size() int {
	return len(k.provider) + len(k.operation) + len(k.model) + len(k.response) +
		len(k.server) + len(k.errorType) + len(k.cacheStatus) + len(k.metadata)
}

// sets returns the attribute sets of rec's metrics. Building a set sorts and
// copies its attributes, so the sets of each combination seen are kept.
func (m *Meter) sets(rec *Record, call *aigateway.Call) *metricSets {
	k := setKey{rec.Provider, rec.Operation, rec.Model, rec.Response, rec.Server, rec.ErrorType, rec.CacheStatus, ""}
	if len(m.metaKey) > 0 {
		var b []byte
		for _, mk := range m.metaKey {
			v, ok := tag(call, mk.name)
			if !ok {
				b = append(b, '-')
				continue
			}
			b = strconv.AppendInt(append(b, '+'), int64(len(v)), 10)
			b = append(append(b, ':'), v...)
		}
		k.metadata = string(b)
	}
	if s, ok := m.setCache.Load(k); ok {
		return s.(*metricSets)
	}
	base := m.metricAttrs(rec, call)
	// NewSet sorts the slice it is given in place: each token set gets its
	// own copy of base (appending into base's spare capacity would let the
	// input set's sort push an attribute out of the output set's).
	base = base[:len(base):len(base)]
	s := newMetricSets(
		attribute.NewSet(base...),
		attribute.NewSet(append(base, semconv.GenAITokenTypeKey.String(string(genaiconv.TokenTypeInput)))...),
		attribute.NewSet(append(base, semconv.GenAITokenTypeKey.String(string(genaiconv.TokenTypeOutput)))...),
	)
	if m.setCount.Load() < maxCachedSets && k.size() <= maxCachedKeyBytes {
		// A place is taken before the store, so that concurrent misses
		// cannot take the cache past maxCachedSets.
		if m.setCount.Add(1) > maxCachedSets {
			m.setCount.Add(-1)
		} else if _, loaded := m.setCache.LoadOrStore(k, s); loaded {
			m.setCount.Add(-1)
		}
	}
	return s
}

func (m *Meter) recordMetrics(rec *Record, call *aigateway.Call) {
	ctx := context.Background()
	if !m.inst.enabled(ctx) {
		return // no-op instruments: skip building attribute sets
	}
	sets := m.sets(rec, call)
	// The instruments themselves, not the conventions' RecordSet, which
	// makes an option of the set at each measurement.
	m.inst.duration.Inst().Record(ctx, rec.Duration.Seconds(), sets.allRecord...)
	if rec.CacheStatus != "" {
		m.inst.cacheRequests.Add(ctx, 1, sets.allAdd...)
	}
	if rec.Stream && rec.TTFC > 0 {
		m.inst.firstChunk.Inst().Record(ctx, rec.TTFC.Seconds(), sets.allRecord...)
		// The stack does not count chunks, so the time per output chunk is
		// the time after the first chunk spread over the output tokens
		// after the first: one value per call, a per-token average.
		if out := rec.Usage.OutputTokens; rec.UsageKnown && out > 1 && rec.Duration > rec.TTFC {
			m.inst.perChunk.Inst().Record(ctx, (rec.Duration-rec.TTFC).Seconds()/float64(out-1), sets.allRecord...)
		}
	}
	if rec.Saved {
		if rec.CostKnown {
			m.inst.saved.Add(ctx, rec.Cost, sets.allAdd...)
		}
		return // a saved call's tokens were not spent
	}
	if rec.UsageKnown {
		m.inst.tokens.Inst().Record(ctx, rec.Usage.InputTokens, sets.inputRecord...)
		if rec.Operation != "embeddings" { // embeddings have no output tokens to report
			m.inst.tokens.Inst().Record(ctx, rec.Usage.OutputTokens, sets.outputRecord...)
		}
	}
	if rec.CostKnown {
		m.inst.cost.Add(ctx, rec.Cost, sets.allAdd...)
	}
}

func (m *Meter) endSpan(span trace.Span, call *aigateway.Call, rec *Record) {
	if span == nil || !span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 12)
	if rec.Response != "" {
		attrs = append(attrs, semconv.GenAIResponseModelKey.String(rec.Response))
	}
	if rec.ResponseID != "" {
		attrs = append(attrs, semconv.GenAIResponseIDKey.String(rec.ResponseID))
	}
	if len(rec.FinishReasons) > 0 {
		attrs = append(attrs, finishReasonsAttr(rec.FinishReasons))
	}
	if rec.UsageKnown && !rec.Saved {
		u := rec.Usage
		attrs = append(attrs,
			semconv.GenAIUsageInputTokensKey.Int64(u.InputTokens),
			semconv.GenAIUsageOutputTokensKey.Int64(u.OutputTokens),
			semconv.GenAIUsageCacheReadInputTokensKey.Int64(u.CacheReadTokens),
			semconv.GenAIUsageCacheCreationInputTokensKey.Int64(u.CacheCreationTokens),
			semconv.GenAIUsageReasoningOutputTokensKey.Int64(u.ReasoningTokens),
		)
		if rec.CostKnown {
			attrs = append(attrs, attrCost.Float64(rec.Cost))
		}
	}
	if rec.UsageKnown && rec.Saved {
		attrs = append(attrs,
			attrSavedInput.Int64(rec.Usage.InputTokens),
			attrSavedOutput.Int64(rec.Usage.OutputTokens))
		if rec.CostKnown {
			attrs = append(attrs, attrSavedCost.Float64(rec.Cost))
		}
	}
	if rec.CacheStatus != "" {
		attrs = append(attrs, attrCacheStatus.String(rec.CacheStatus))
	}
	if rec.Target != "" {
		attrs = append(attrs, attrTarget.String(rec.Target), attrFallback.Bool(rec.Fallback))
	}
	attrs = append(attrs, attrAttempts.Int(rec.Attempts))
	if rec.Stream && rec.TTFC > 0 {
		attrs = append(attrs, semconv.GenAIResponseTimeToFirstChunkKey.Float64(rec.TTFC.Seconds()))
	}
	if rec.ErrorType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(rec.ErrorType))
		span.SetStatus(codes.Error, rec.Error)
	}
	span.SetAttributes(attrs...)
	// One event per routed attempt, in order; none for a lone successful
	// one unless asked.
	if m.cfg.AllAttemptEvents || !firstTry(rec) {
		for _, a := range rec.AttemptLog {
			ev := make([]attribute.KeyValue, 0, 6)
			ev = append(ev, attrTarget.String(a.Target), attrAttemptDuration.Float64(a.Duration.Seconds()))
			if a.Status != 0 {
				ev = append(ev, semconv.HTTPResponseStatusCodeKey.Int(a.Status))
			}
			if a.Model != "" {
				ev = append(ev, semconv.GenAIRequestModelKey.String(a.Model))
			}
			if a.Error != "" {
				ev = append(ev, attrAttemptError.String(a.Error))
			}
			span.AddEvent("aigateway.attempt", trace.WithAttributes(ev...))
		}
	}
	span.End(trace.WithTimestamp(call.Start().Add(rec.Duration)))
}

// loneReasons are the gen_ai.response.finish_reasons attributes of a call
// with one well-known finish reason, the usual case, built once: a slice
// attribute copies its slice.
var loneReasons = func() map[string]attribute.KeyValue {
	m := map[string]attribute.KeyValue{}
	for _, r := range []string{
		"stop", "length", "tool_calls", "content_filter", "function_call", // OpenAI chat
		"end_turn", "max_tokens", "tool_use", "stop_sequence", "pause_turn", "refusal", // Anthropic
		"STOP", "MAX_TOKENS", "SAFETY", "RECITATION", // Gemini
		"completed", "failed", "cancelled", "incomplete", "max_output_tokens", // OpenAI Responses
	} {
		m[r] = semconv.GenAIResponseFinishReasonsKey.StringSlice([]string{r})
	}
	return m
}()

func finishReasonsAttr(reasons []string) attribute.KeyValue {
	if len(reasons) == 1 {
		if kv, ok := loneReasons[reasons[0]]; ok {
			return kv
		}
	}
	return semconv.GenAIResponseFinishReasonsKey.StringSlice(reasons)
}

// firstTry reports whether rec is a call that succeeded on the first and
// only attempt a routing layer made: its span's attributes say what that
// attempt's event would.
func firstTry(rec *Record) bool {
	if len(rec.AttemptLog) != 1 || rec.ErrorType != "" {
		return false
	}
	a := rec.AttemptLog[0]
	return a.Error == "" && a.Status < 400
}

// goErrorType names an error by its Go type, as the conventions ask for
// errors without a better class; an anonymous errors.New is "_OTHER".
func goErrorType(err error) string {
	if err == nil {
		return string(genaiconv.ErrorTypeOther)
	}
	s := semconv.ErrorType(err).Value.AsString()
	if s == "*errors.errorString" || s == "" {
		return string(genaiconv.ErrorTypeOther)
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

var noopMeter = noop.NewMeterProvider().Meter(ScopeName)
