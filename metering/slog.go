package metering

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strconv"
)

var _ Sink = (*SlogSink)(nil)

// SlogMessage is the message of every line a SlogSink logs.
const SlogMessage = "aigateway call"

// SlogSink is a Sink logging one line per Record through a log/slog
// Logger, with message SlogMessage and these attributes:
//
//	provider, operation, model, status, attempts, duration
//	response_model, cache_status, target, ttfc   when set
//	saved, fallback                              when true
//	input_tokens, output_tokens, cache_read_tokens,
//	reasoning_tokens                             when the usage is known
//	cache_creation_tokens                        when known and not zero
//	cost_usd                                     when the cost is known
//	error, error_type                            when set
//	metadata                                     a group, keys sorted
//	request_body, response_body                  when the record has them
//
// duration and ttfc (and each attempt's duration) are slog.Duration
// values, whose form is the Handler's: slog.TextHandler writes 1.2s, as a
// JSONLSink does, and slog.JSONHandler integer nanoseconds.
//
// A value that is unknown is left out rather than logged as zero, so a
// query summing cost_usd or tokens is not misled. For a saved record
// (saved=true: a cache hit or coalesced call) tokens and cost were saved,
// not spent. Bodies are only in a Record when the meter's Config.LogBodies
// is on.
//
// A SlogSink is safe for concurrent use if its Logger's Handler is, as
// slog's own handlers are. Its Close does nothing.
type SlogSink struct {
	logger *slog.Logger
	level  slog.Level
}

// NewSlogSink returns a sink logging at level through logger; a nil logger
// means slog.Default() at the time of each Write.
func NewSlogSink(logger *slog.Logger, level slog.Level) *SlogSink {
	return &SlogSink{logger: logger, level: level}
}

// Write logs r, unless the logger is not enabled for the sink's level. It
// returns nil: slog handlers do not report errors.
func (s *SlogSink) Write(ctx context.Context, r *Record) error {
	logger := s.logger
	if logger == nil {
		logger = slog.Default()
	}
	if r == nil || !logger.Enabled(ctx, s.level) {
		return nil
	}
	logger.LogAttrs(ctx, s.level, SlogMessage, slogAttrs(r)...)
	return nil
}

// Close does nothing: the Logger's handler owns its output.
func (s *SlogSink) Close() error { return nil }

func slogAttrs(r *Record) []slog.Attr {
	a := make([]slog.Attr, 0, 24)
	str := func(key, v string) {
		if v != "" {
			a = append(a, slog.String(key, v))
		}
	}
	flag := func(key string, v bool) {
		if v {
			a = append(a, slog.Bool(key, true))
		}
	}

	a = append(a,
		slog.String("provider", r.Provider),
		slog.String("operation", r.Operation),
		slog.String("model", r.Model),
	)
	str("response_model", r.Response)
	a = append(a, slog.Int("status", r.Status))
	str("cache_status", r.CacheStatus)
	flag("saved", r.Saved)
	str("target", r.Target)
	flag("fallback", r.Fallback)
	a = append(a,
		slog.Int("attempts", r.Attempts),
		slog.Duration("duration", r.Duration),
	)
	if len(r.AttemptLog) > 0 {
		tried := make([]slog.Attr, len(r.AttemptLog))
		for i, at := range r.AttemptLog {
			g := []slog.Attr{slog.String("target", at.Target), slog.Int("status", at.Status), slog.Duration("duration", at.Duration)}
			if at.Error != "" {
				g = append(g, slog.String("error", at.Error))
			}
			tried[i] = slog.GroupAttrs(strconv.Itoa(i), g...)
		}
		a = append(a, slog.GroupAttrs("attempt_log", tried...))
	}
	if r.TTFC > 0 {
		a = append(a, slog.Duration("ttfc", r.TTFC))
	}
	if r.UsageKnown {
		u := r.Usage
		a = append(a,
			slog.Int64("input_tokens", u.InputTokens),
			slog.Int64("output_tokens", u.OutputTokens),
			slog.Int64("cache_read_tokens", u.CacheReadTokens),
		)
		if u.CacheCreationTokens != 0 {
			a = append(a, slog.Int64("cache_creation_tokens", u.CacheCreationTokens))
		}
		a = append(a, slog.Int64("reasoning_tokens", u.ReasoningTokens))
	}
	if r.CostKnown {
		a = append(a, slog.Float64("cost_usd", r.Cost))
	}
	str("error", r.Error)
	str("error_type", r.ErrorType)
	if len(r.Metadata) > 0 {
		keys := slices.Sorted(maps.Keys(r.Metadata))
		md := make([]slog.Attr, len(keys))
		for i, k := range keys {
			md[i] = slog.String(k, r.Metadata[k])
		}
		a = append(a, slog.GroupAttrs("metadata", md...))
	}
	str("request_body", r.RequestBody)
	str("response_body", r.ResponseBody)
	return a
}
