package llmtest

import (
	"slices"
	"strconv"
	"strings"
)

// conversation is what the fake reads in a chat request's turns: whether
// it offers tools, whether its last turn carries tool results, and the
// first rule of its provider it breaks, which the provider answers with a
// 400. The rules are the ones a translation between formats can break:
// tool results that answer no call, calls left unanswered, thinking
// blocks lost or altered.
type conversation struct {
	offersTools     bool
	endsWithResults bool
	broken          errorSpec // message "" when no rule is broken

	// Anthropic's latest assistant message, for the rule on thinking with
	// tools, checked once the whole request is read.
	lastAssistant      int    // its index; -1 when there is none
	lastAssistantFirst string // the type of its first block
}

func (c *conversation) fail(message, param string) {
	if c.broken.message == "" {
		c.broken = errorSpec{message: message, param: param}
	}
}

// nonEmptyArray reads any value and reports whether it is an array with
// at least one element.
func (s *jsonScan) nonEmptyArray() (nonEmpty, ok bool) {
	if s.peek() != '[' {
		return false, s.skip()
	}
	n := 0
	ok = s.array(func() bool { n++; return s.skip() })
	return n > 0, ok
}

// chatMessages reads an OpenAI chat "messages" array and checks OpenAI's
// rules on tool messages: each answers a call of the assistant message
// before them (and the tool messages between), and every call is answered
// before the next other message.
func (s *jsonScan) chatMessages(c *conversation) bool {
	if s.peek() != '[' {
		return s.skip()
	}
	t := chatTurns{callsAt: -1}
	ok := s.array(func() bool {
		if s.peek() != '{' {
			t.n++
			return s.skip()
		}
		var role []byte
		var toolCallID string
		var ids []string
		ok := s.object(func(key []byte) bool {
			switch string(key) {
			case "role":
				if r, _, ok := s.rawString(); ok {
					role = r
					return true
				}
			case "tool_call_id":
				if v, ok := s.stringValue(); ok {
					toolCallID = v
					return true
				}
			case "tool_calls":
				if s.peek() != '[' {
					return s.skip()
				}
				return s.array(func() bool {
					if s.peek() != '{' {
						return s.skip()
					}
					return s.object(func(key []byte) bool {
						if string(key) == "id" {
							if v, ok := s.stringValue(); ok {
								ids = append(ids, v)
								return true
							}
						}
						return s.skip()
					})
				})
			}
			return s.skip()
		})
		if ok {
			t.turn(c, role, toolCallID, ids)
		}
		return ok
	})
	if ok {
		t.end(c)
	}
	return ok
}

// chatTurns follows OpenAI tool calls through the messages.
type chatTurns struct {
	n        int      // messages seen
	calls    []string // ids of the calls being answered
	answered []bool
	callsAt  int  // index of the assistant message that made them; -1 when none are
	lastTool bool // the latest message has role "tool"
}

func (t *chatTurns) turn(c *conversation, role []byte, toolCallID string, ids []string) {
	i := t.n
	t.n++
	if string(role) == "tool" {
		t.lastTool = true
		if t.callsAt < 0 {
			c.fail("Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
				"messages.["+strconv.Itoa(i)+"].role")
			return
		}
		k := slices.Index(t.calls, toolCallID)
		if k < 0 {
			c.fail("Invalid parameter: 'tool_call_id' of '"+toolCallID+"' not found in 'tool_calls' of previous message.", "")
			return
		}
		t.answered[k] = true
		return
	}
	t.lastTool = false
	t.checkAnswered(c)
	t.callsAt = -1
	if string(role) == "assistant" && len(ids) > 0 {
		t.calls, t.answered, t.callsAt = ids, make([]bool, len(ids)), i
	}
}

// checkAnswered fails c when calls are being answered and some are not.
func (t *chatTurns) checkAnswered(c *conversation) {
	if t.callsAt < 0 {
		return
	}
	var missing []string
	for k, id := range t.calls {
		if !t.answered[k] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		c.fail("An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: "+strings.Join(missing, ", "),
			"messages.["+strconv.Itoa(t.callsAt)+"].role")
	}
}

// end checks the last tool messages. Calls that are the last message,
// with no tool message after them, are left alone.
func (t *chatTurns) end(c *conversation) {
	if t.lastTool {
		t.checkAnswered(c)
	}
	c.endsWithResults = t.lastTool
}

// anthropicBlock is what the rules need of one content block.
type anthropicBlock struct {
	typ       []byte // raw, shared with the body
	id        string // tool_use
	toolUseID string // tool_result
	thinking  string // thinking
	signature string
	signed    bool // has a signature
}

// anthropicMessages reads an Anthropic "messages" array and checks
// Anthropic's rules: every tool_result answers a tool_use of the message
// just before, every tool_use of an assistant message is answered in the
// next one, and thinking blocks come back with their signatures intact.
func (s *jsonScan) anthropicMessages(c *conversation) bool {
	if s.peek() != '[' {
		return s.skip()
	}
	t := messageTurns{usesAt: -1}
	ok := s.array(func() bool {
		if s.peek() != '{' {
			t.n++
			return s.skip()
		}
		var role []byte
		t.blocks = t.blocks[:0]
		text := false // content is a string
		ok := s.object(func(key []byte) bool {
			switch string(key) {
			case "role":
				if r, _, ok := s.rawString(); ok {
					role = r
					return true
				}
			case "content":
				switch s.peek() {
				case '"':
					text = true
				case '[':
					return s.array(func() bool { return s.anthropicBlock(&t.blocks) })
				}
			}
			return s.skip()
		})
		if ok {
			t.message(c, role, text)
		}
		return ok
	})
	if ok {
		c.endsWithResults = t.lastResults
	}
	return ok
}

func (s *jsonScan) anthropicBlock(blocks *[]anthropicBlock) bool {
	if s.peek() != '{' {
		return s.skip()
	}
	var b anthropicBlock
	ok := s.object(func(key []byte) bool {
		var dst *string
		switch string(key) {
		case "type":
			if r, _, ok := s.rawString(); ok {
				b.typ = r
				return true
			}
			return s.skip()
		case "id":
			dst = &b.id
		case "tool_use_id":
			dst = &b.toolUseID
		case "thinking":
			dst = &b.thinking
		case "signature":
			dst, b.signed = &b.signature, true
		default:
			return s.skip()
		}
		if v, ok := s.stringValue(); ok {
			*dst = v
			return true
		}
		return s.skip()
	})
	*blocks = append(*blocks, b)
	return ok
}

// messageTurns follows Anthropic tool uses through the messages.
type messageTurns struct {
	n           int
	blocks      []anthropicBlock // the current message's, reused
	uses        []string         // tool_use ids of the assistant message at usesAt
	usesAt      int              // -1 when the previous message made no tool use
	lastResults bool             // the latest message carries tool results
}

func (t *messageTurns) message(c *conversation, role []byte, text bool) {
	i := t.n
	t.n++
	for j, b := range t.blocks {
		if string(b.typ) == "thinking" && b.signed && b.signature != thinkingSignature(b.thinking) {
			c.fail(blockAt(i, j)+": Invalid `signature` in `thinking` block", "")
		}
	}

	answered := make([]bool, len(t.uses))
	t.lastResults = false
	for j, b := range t.blocks {
		if string(b.typ) != "tool_result" {
			continue
		}
		t.lastResults = true
		k := -1
		if t.usesAt == i-1 {
			k = slices.Index(t.uses, b.toolUseID)
		}
		if k < 0 {
			c.fail(blockAt(i, j)+": unexpected `tool_use_id` found in `tool_result` blocks: "+b.toolUseID+
				". Each `tool_result` block must have a corresponding `tool_use` block in the previous message.", "")
			continue
		}
		answered[k] = true
	}
	if t.usesAt == i-1 {
		var missing []string
		for k, id := range t.uses {
			if !answered[k] {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			c.fail("messages."+strconv.Itoa(t.usesAt)+": `tool_use` ids were found without `tool_result` blocks immediately after: "+
				strings.Join(missing, ", ")+". Each `tool_use` block must have a corresponding `tool_result` block in the next message.", "")
		}
	}

	t.uses, t.usesAt = t.uses[:0], -1
	if string(role) != "assistant" {
		return
	}
	c.lastAssistant, c.lastAssistantFirst = i, "text"
	if !text && len(t.blocks) > 0 {
		c.lastAssistantFirst = string(t.blocks[0].typ)
	}
	for _, b := range t.blocks {
		if string(b.typ) == "tool_use" {
			t.uses = append(t.uses, b.id)
		}
	}
	if len(t.uses) > 0 {
		t.usesAt = i
	}
}

// blockAt names block j of message i as Anthropic's errors do.
func blockAt(i, j int) string {
	return "messages." + strconv.Itoa(i) + ".content." + strconv.Itoa(j)
}

// anthropicThinkingRule is Anthropic's rule for thinking with tools: when
// thinking is on and the request ends with tool results, the assistant
// message that called the tools must start with its thinking block.
func (c *conversation) anthropicThinkingRule(thinkingOn bool) {
	if !thinkingOn || !c.endsWithResults || c.lastAssistant < 0 {
		return
	}
	if f := c.lastAssistantFirst; f != "thinking" && f != "redacted_thinking" {
		c.fail("messages."+strconv.Itoa(c.lastAssistant)+".content.0.type: Expected `thinking` or `redacted_thinking`, but found `"+f+
			"`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking", "")
	}
}

// geminiContents reads a Gemini "contents" array and checks Gemini's
// rules: a functionResponse names its function, and a turn of
// functionResponse parts follows a turn of as many functionCall parts.
func (s *jsonScan) geminiContents(c *conversation) bool {
	if s.peek() != '[' {
		return s.skip()
	}
	i, prevCalls, responses := 0, 0, 0
	ok := s.array(func() bool {
		calls := 0
		responses = 0
		if s.peek() != '{' {
			i++
			prevCalls = 0
			return s.skip()
		}
		ok := s.object(func(key []byte) bool {
			if string(key) != "parts" || s.peek() != '[' {
				return s.skip()
			}
			j := -1
			return s.array(func() bool {
				j++
				if s.peek() != '{' {
					return s.skip()
				}
				return s.object(func(key []byte) bool {
					switch string(key) {
					case "functionCall", "function_call":
						calls++
					case "functionResponse", "function_response":
						responses++
						named := false
						if s.peek() != '{' {
							return s.skip()
						}
						ok := s.object(func(key []byte) bool {
							if string(key) == "name" {
								if v, ok := s.stringValue(); ok {
									named = v != ""
									return true
								}
							}
							return s.skip()
						})
						if ok && !named {
							c.fail("* GenerateContentRequest.contents["+strconv.Itoa(i)+"].parts["+strconv.Itoa(j)+"].function_response.name: Name cannot be empty.\n", "")
						}
						return ok
					}
					return s.skip()
				})
			})
		})
		if responses > 0 {
			switch {
			case prevCalls == 0:
				c.fail("Please ensure that function response turn comes immediately after a function call turn.", "")
			case responses != prevCalls:
				c.fail("Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.", "")
			}
		}
		prevCalls = calls
		i++
		return ok
	})
	if ok {
		c.endsWithResults = responses > 0
	}
	return ok
}
