package wire

import (
	"bytes"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
	"github.com/aigateway-go/aigateway/provider"
)

// EventKind classifies one SSE event of a client-facing stream.
type EventKind uint8

// The kinds of SSE events ClassifyEvent tells apart.
const (
	EventOther      EventKind = iota // comments, pings, retry:
	EventChunk                       // a content-bearing data event
	EventUsageOnly                   // OpenAI chat chunk with "choices":[] and a non-null usage
	EventTerminator                  // [DONE], message_stop, response.completed|incomplete|failed
	EventError                       // a mid-stream error event
)

// String returns "other", "chunk", "usage_only", "terminator" or "error".
func (k EventKind) String() string {
	switch k {
	case EventChunk:
		return "chunk"
	case EventUsageOnly:
		return "usage_only"
	case EventTerminator:
		return "terminator"
	case EventError:
		return "error"
	}
	return "other"
}

// ClassifyEvent tells what one SSE event (its event: name and joined data) is,
// for format f, without allocating.
//
// OpenAI chat (and FormatUnknown): "[DONE]" is the terminator, a chunk with a
// top-level "error" (or an "event: error") an error, a chunk whose "choices"
// is [] and whose "usage" is not null the usage-only chunk, any other data a
// chunk. Responses: response.completed, .incomplete and .failed end the
// stream, "error" is an error, every other event is a chunk. Anthropic:
// message_stop ends the stream, error is an error, ping is other, every other
// event is a chunk. Gemini: a payload with a top-level "error" is an error,
// any other data a chunk. An event without data is other. Keys are read as
// the SDK reads them: decoded, the last of duplicates winning.
func ClassifyEvent(f provider.Format, name, data []byte) EventKind {
	if data == nil && len(name) == 0 {
		return EventOther
	}
	switch f {
	case provider.FormatAnthropicMessages:
		switch string(eventType(name, data)) {
		case "message_stop":
			return EventTerminator
		case "error":
			return EventError
		case "ping":
			return EventOther
		}
		return EventChunk
	case provider.FormatOpenAIResponses:
		switch string(eventType(name, data)) {
		case "response.completed", "response.incomplete", "response.failed":
			return EventTerminator
		case "error":
			return EventError
		}
		return EventChunk
	case provider.FormatGemini:
		if (bytes.Contains(data, keyError) || mayHaveEscapedKey(data)) && hasTopLevelError(data) {
			return EventError
		}
		return EventChunk
	}
	if bytes.Equal(data, done) {
		return EventTerminator
	}
	if string(name) == "error" {
		return EventError
	}
	u := indexUsage(data)
	if (u < 0 || onlyNullUsage(data, u)) && !bytes.Contains(data, keyError) && !mayHaveEscapedKey(data) {
		return EventChunk
	}
	var choices, usage, errv []byte // the last of duplicates, as the SDK reads them
	it := jsonscan.Members(data)
	for it.Next() {
		switch v := it.Value(); string(it.Key()) {
		case "error":
			errv = v
		case "choices":
			choices = v
		case "usage":
			usage = v
		}
	}
	if isError(errv) {
		return EventError
	}
	emptyChoices := len(choices) >= 2 && choices[0] == '[' && jsonscan.SkipSpace(choices, 1) == len(choices)-1
	if emptyChoices && jsonscan.IsObject(usage) {
		return EventUsageOnly
	}
	return EventChunk
}

func hasTopLevelError(data []byte) bool {
	v, _ := jsonscan.Get(data, "error")
	return isError(v)
}

// HasContent reports whether one SSE event of a stream in format f carries
// content the caller sees: text, a tool call or its arguments, reasoning,
// a refusal, audio. It tells the first chunk of an answer from the events
// that only open it (OpenAI's role chunk with an empty content,
// Anthropic's message_start and content_block_start, the Responses
// stream's response.created and output_item.added), for the time to the
// first chunk. It parses the event: call it until the first content came,
// not for every event.
func HasContent(f provider.Format, name, data []byte) bool {
	switch f {
	case provider.FormatAnthropicMessages:
		return string(eventType(name, data)) == "content_block_delta"
	case provider.FormatOpenAIResponses:
		t := eventType(name, data)
		return len(t) > len(".delta") && string(t[len(t)-len(".delta"):]) == ".delta"
	case provider.FormatGemini:
		candidates, _ := jsonscan.Get(data, "candidates")
		it := jsonscan.Elements(candidates)
		for it.Next() {
			parts, _ := jsonscan.Get(it.Value(), "content", "parts")
			ps := jsonscan.Elements(parts)
			for ps.Next() {
				if partHasContent(ps.Value()) {
					return true
				}
			}
		}
		return false
	}
	choices, _ := jsonscan.Get(data, "choices")
	it := jsonscan.Elements(choices)
	for it.Next() {
		delta, ok := jsonscan.Get(it.Value(), "delta")
		if !ok || !jsonscan.IsObject(delta) {
			continue
		}
		members := jsonscan.Members(delta)
		for members.Next() {
			v := members.Value()
			switch string(members.Key()) {
			case "content", "refusal", "reasoning_content", "reasoning":
				if s, ok := jsonscan.String(v); ok && len(s) > 0 {
					return true
				}
			case "tool_calls", "function_call", "audio":
				if !jsonscan.IsNull(v) && string(v) != "[]" && string(v) != "{}" {
					return true
				}
			}
		}
	}
	return false
}

// partHasContent reports whether a Gemini part carries content: text that
// is not empty, or anything else (a functionCall, inlineData ...).
func partHasContent(part []byte) bool {
	it := jsonscan.Members(part)
	for it.Next() {
		if string(it.Key()) == "text" {
			if s, ok := jsonscan.String(it.Value()); ok && len(s) > 0 {
				return true
			}
			continue
		}
		if string(it.Key()) != "thought" && string(it.Key()) != "thoughtSignature" {
			return true
		}
	}
	return false
}

// StartKind is what one event at the start of a stream says about the
// answer, to a caller that may still give the stream up for another
// upstream (the fallback router) until the answer has begun.
type StartKind uint8

// The kinds of events StreamStart tells apart.
const (
	StartPending StartKind = iota // nothing said yet: comments, pings, the events that only open a stream
	StartAnswer                   // the answer has begun: a chunk, the usage, the terminator
	StartError                    // an error event came before the answer
)

// StreamStart tells what one SSE event (its event: name and joined data)
// at the start of a stream in format f says, without allocating: an error
// event (see ClassifyEvent) is StartError; a chunk, the usage-only chunk or
// the terminator is StartAnswer, except the events that only open a
// stream, by their event: name: Anthropic's message_start and the
// Responses stream's response.created and response.in_progress, which,
// like comments and pings, are StartPending. An error after those still
// comes before any content.
func StreamStart(f provider.Format, name, data []byte) StartKind {
	switch ClassifyEvent(f, name, data) {
	case EventChunk:
		if opening(f, name) {
			return StartPending
		}
		return StartAnswer
	case EventUsageOnly, EventTerminator:
		return StartAnswer
	case EventError:
		return StartError
	}
	return StartPending
}

// opening reports whether an event named name only opens a stream of
// format f.
func opening(f provider.Format, name []byte) bool {
	switch f {
	case provider.FormatAnthropicMessages:
		return string(name) == "message_start"
	case provider.FormatOpenAIResponses:
		return string(name) == "response.created" || string(name) == "response.in_progress"
	}
	return false
}
