package wire

import (
	"bytes"

	"github.com/aigateway-go/aigateway/internal/jsonscan"
)

// The response id and the finish reasons, for OpenTelemetry's
// gen_ai.response.id and gen_ai.response.finish_reasons.
//
// Both are allocated at most once per response, and not at all when they
// equal the previous response's (the finish reasons almost always do): the
// well-known reasons are constants, and the slice FinishReasons hands out is
// reused while its contents stay the same.

// maxChoices bounds the choice index a finish reason is kept for, so that a
// made-up "index" cannot make the scanner allocate.
const maxChoices = 128

// ResponseID returns the id the response reports ("" if none seen): the
// "id" of an OpenAI chat completion (the first chunk's, in a stream) or of a
// Responses response, an Anthropic message's "id", Gemini's "responseId".
// Embeddings have none.
func (s *ResponseScanner) ResponseID() string {
	s.readJSON()
	return s.id
}

// FinishReasons returns why the model stopped, one reason per choice (or
// candidate) that reported one, in index order; nil if none was seen. The
// values are the provider's own, not normalised:
//
//   - OpenAI chat: each choice's finish_reason ("stop", "length",
//     "tool_calls", "content_filter" ...); in a stream, the last non-null
//     one of each choice index.
//   - Anthropic: stop_reason ("end_turn", "max_tokens", "tool_use" ...); in
//     a stream, message_delta's delta.stop_reason.
//   - Gemini: each candidate's finishReason ("STOP", "MAX_TOKENS",
//     "SAFETY" ...); in a stream, the last one each candidate reported.
//   - OpenAI Responses, which has no finish reason: the final status
//     ("completed", "failed", "cancelled"), except that an "incomplete"
//     response reports why, its incomplete_details.reason
//     ("max_output_tokens", "content_filter"), or "incomplete" when absent.
//     A response still queued or in progress has none.
//   - Embeddings: none.
//
// The slice is shared (a later response may return the same one): callers
// must not modify it.
func (s *ResponseScanner) FinishReasons() []string {
	s.readJSON()
	n := 0
	for _, r := range s.reasons {
		if r != "" {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	if len(s.handed) == n {
		same, i := true, 0
		for _, r := range s.reasons {
			if r != "" {
				if s.handed[i] != r {
					same = false
					break
				}
				i++
			}
		}
		if same {
			return s.handed
		}
	}
	out := make([]string, 0, n)
	for _, r := range s.reasons {
		if r != "" {
			out = append(out, r)
		}
	}
	s.handed = out
	return out
}

func (s *ResponseScanner) setID(v []byte) {
	b, ok := jsonscan.PlainString(v)
	if !ok || len(b) == 0 {
		return
	}
	// Compared one by one: a switch on string(b) would copy b when it is
	// longer than 32 bytes, as ids are.
	if string(b) == s.id {
		return
	}
	if string(b) == s.lastID {
		s.id = s.lastID
		return
	}
	s.id = string(b)
}

// setReasonValue records the finish reason of choice i from a raw JSON
// value: null, "" and non-strings record nothing.
func (s *ResponseScanner) setReasonValue(i int, v []byte) {
	if b, ok := jsonscan.PlainString(v); ok {
		s.setReason(i, b)
	}
}

// setReason records b as the finish reason of choice i ("" records nothing).
func (s *ResponseScanner) setReason(i int, b []byte) {
	if len(b) == 0 || i < 0 || i >= maxChoices {
		return
	}
	for len(s.reasons) <= i {
		s.reasons = append(s.reasons, "")
	}
	if string(b) == s.reasons[i] {
		return
	}
	s.reasons[i] = s.reasonString(b)
}

// reasonString returns b as a string without allocating when it is a
// well-known reason or one the previous response reported.
func (s *ResponseScanner) reasonString(b []byte) string {
	switch string(b) {
	// OpenAI chat
	case "stop":
		return "stop"
	case "length":
		return "length"
	case "tool_calls":
		return "tool_calls"
	case "content_filter":
		return "content_filter"
	case "function_call":
		return "function_call"
	// Anthropic
	case "end_turn":
		return "end_turn"
	case "max_tokens":
		return "max_tokens"
	case "stop_sequence":
		return "stop_sequence"
	case "tool_use":
		return "tool_use"
	case "pause_turn":
		return "pause_turn"
	case "refusal":
		return "refusal"
	// Gemini
	case "STOP":
		return "STOP"
	case "MAX_TOKENS":
		return "MAX_TOKENS"
	case "SAFETY":
		return "SAFETY"
	case "RECITATION":
		return "RECITATION"
	case "OTHER":
		return "OTHER"
	case "MALFORMED_FUNCTION_CALL":
		return "MALFORMED_FUNCTION_CALL"
	// OpenAI Responses
	case "completed":
		return "completed"
	case "incomplete":
		return "incomplete"
	case "failed":
		return "failed"
	case "cancelled":
		return "cancelled"
	case "max_output_tokens":
		return "max_output_tokens"
	}
	for _, r := range s.handed {
		if string(b) == r {
			return r
		}
	}
	return string(b)
}

// choiceReasons records the finish reason of each element of a choices (or
// candidates) array v, under the element's "index" member, or its position
// when it has none. key is the reason's member name.
func (s *ResponseScanner) choiceReasons(v []byte, key string) {
	it := jsonscan.Elements(v)
	for pos := 0; it.Next(); pos++ {
		c := it.Value()
		if !jsonscan.IsObject(c) {
			continue
		}
		var idx, reason []byte
		m := jsonscan.Members(c)
		for m.Next() {
			switch string(m.Key()) {
			case "index":
				idx = m.Value()
			case key:
				reason = m.Value()
			}
		}
		index := pos
		if n, ok := jsonscan.Int(idx); ok && n >= 0 && n < maxChoices {
			index = int(n)
		}
		if reason != nil {
			s.setReasonValue(index, reason)
		}
	}
}

// elementReasons records the finish reason of each element of the choices
// (or candidates) of a JSON body, as choiceReasons does, from what the
// Capturer took of them as they passed (their index and reason: see
// Capturer.WatchElements).
func (s *ResponseScanner) elementReasons() {
	n, _ := s.json.Elements()
	for pos := range n {
		if !s.json.ElementIsObject(pos) {
			continue
		}
		idx, _ := s.json.ElementValue(pos, 0)
		index := pos
		if n, ok := jsonscan.Int(idx); ok && n >= 0 && n < maxChoices {
			index = int(n)
		}
		if reason, ok := s.json.ElementValue(pos, 1); ok {
			s.setReasonValue(index, reason)
		}
	}
}

// responsesReason records the finish reason of a Responses response from
// its status and incomplete_details (raw JSON values; nil when absent).
// terminal is the status the event that carried them implies (nil for a
// JSON body).
func (s *ResponseScanner) responsesReason(status, details, terminal []byte) {
	st, ok := jsonscan.String(status)
	if !ok || len(st) == 0 {
		st = terminal
	}
	switch string(st) {
	case "incomplete":
		if why, ok := jsonscan.Get(details, "reason"); ok {
			if b, ok := jsonscan.String(why); ok && len(b) > 0 {
				s.setReason(0, b)
				return
			}
		}
		s.setReason(0, st)
	case "completed", "failed", "cancelled":
		s.setReason(0, st)
	}
}

// errorOrFinish reports whether a chat chunk holds an "error" key or a
// "finish_reason" key whose value is not null: a chunk worth parsing. The
// common chunk, with "finish_reason":null, is told apart without parsing.
//
// Both keys are found in one pass over the chunk's 'r' bytes, which are rare
// enough in JSON that the search skips ahead at memory speed (a search
// starting from the keys' opening quote would stop at every string).
func errorOrFinish(data []byte) bool {
	const errKey, finishKey = `"error"`, `"finish_reason"`
	const errR, finishR = 2, 8 // offsets of the first 'r' in each key
	for i := 0; ; i++ {
		k := bytes.IndexByte(data[i:], 'r')
		if k < 0 {
			return false
		}
		i += k
		if i >= errR && i-errR+len(errKey) <= len(data) && string(data[i-errR:i-errR+len(errKey)]) == errKey {
			return true
		}
		if i >= finishR && i-finishR+len(finishKey) <= len(data) && string(data[i-finishR:i-finishR+len(finishKey)]) == finishKey {
			j := jsonscan.SkipSpace(data, i-finishR+len(finishKey))
			if j < len(data) && data[j] == ':' {
				if j = jsonscan.SkipSpace(data, j+1); j < len(data) && data[j] != 'n' {
					return true
				}
			}
		}
	}
}
