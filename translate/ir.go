package translate

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/aigateway-go/aigateway/provider"
)

// Request is a chat request in no provider's format: what the three
// formats share, read from the caller's body by its format's Codec and
// written in the target's by the target's. A field a format cannot carry
// is refused by its encoder (an *UnsupportedError naming it), never
// dropped, unless dropping it cannot change the answer.
type Request struct {
	// Model is the model the request names (in the body, or in a Gemini
	// path).
	Model string
	// Stream asks for a streamed answer; StreamUsage says the caller asked
	// for the stream's usage itself (OpenAI's stream_options.include_usage):
	// an OpenAI caller gets the usage chunk only then.
	Stream      bool
	StreamUsage bool
	// System is the system prompt: OpenAI's system and developer messages
	// (wherever they are in the conversation, in order), Anthropic's
	// system, Gemini's systemInstruction. Text parts only.
	System []Part
	// Messages is the conversation, user and assistant turns, in order. A
	// tool's result is a PartToolResult in a user turn (as Anthropic has
	// it; an OpenAI tool message becomes one, consecutive ones joining one
	// turn).
	Messages []Message
	Tools    []Tool
	// ToolChoice is zero when the request sets none.
	ToolChoice ToolChoice
	// ParallelToolCalls is OpenAI's parallel_tool_calls (Anthropic's
	// disable_parallel_tool_use, inverted); nil when unset.
	ParallelToolCalls *bool

	// MaxTokens caps the output (0: unset). Anthropic requires one: its
	// encoder uses DefaultMaxTokens when it is unset.
	MaxTokens   int64
	Temperature *float64
	TopP        *float64
	TopK        *int64
	Stop        []string
	// User identifies the end user: OpenAI's user (or safety_identifier),
	// Anthropic's metadata.user_id. Gemini has none: dropped (it changes
	// no answer).
	User string
	// Reasoning is the thinking the request asks for.
	Reasoning Reasoning
	// ResponseFormat is OpenAI's response_format (its "type": "text",
	// "json_object", "json_schema") with the raw schema object for
	// json_schema; Gemini's responseMimeType and responseSchema. Empty:
	// unset.
	ResponseFormat string
	ResponseSchema []byte
	// ResponseName and ResponseDescription are OpenAI's json_schema name
	// (which OpenAI requires: its encoder writes "response" when it is
	// empty) and description; the other formats have neither.
	ResponseName        string
	ResponseDescription string
	// ResponseStrict says the answer must match ResponseSchema, not merely
	// be steered by it: OpenAI's json_schema.strict; Anthropic's
	// output_config.format and Gemini's response schema are always
	// enforced, so their decoders set it and their encoders need not.
	ResponseStrict bool

	// Unsupported names the parameters the caller's body set that no other
	// format can honour (OpenAI's n > 1, logprobs, ...), as the caller
	// spelled them: an encoder of another format refuses the request
	// naming the first one. Parameters that cannot change the answer
	// (store, service_tier, metadata ...) are dropped by the decoder
	// instead.
	Unsupported []string
}

// addUnsupported notes param among the parameters no other format can
// honour, once.
func (r *Request) addUnsupported(param string) {
	for _, p := range r.Unsupported {
		if p == param {
			return
		}
	}
	r.Unsupported = append(r.Unsupported, param)
}

// Role is who a Message is from.
type Role uint8

const (
	RoleUser Role = iota + 1
	RoleAssistant
)

// Message is one turn of the conversation.
type Message struct {
	Role  Role
	Parts []Part
}

// PartKind is what a Part holds.
type PartKind uint8

const (
	// PartText: Text.
	PartText PartKind = iota + 1
	// PartImage: an image, inline (MediaType and Data, base64 as it came)
	// or by URL.
	PartImage
	// PartToolCall: an assistant's call of tool Name with ID and
	// Arguments (a JSON object, as text).
	PartToolCall
	// PartToolResult: the result of the call ToolCallID (of tool Name when
	// the format says: Gemini needs it, and the decoder of a format that
	// does not carry it finds it from the call earlier in the request), as
	// Text (or a JSON value in JSON), IsError when the tool failed.
	PartToolResult
	// PartThinking: an assistant's reasoning, Text, with the provider's
	// Signature (Anthropic's signature, Gemini's thoughtSignature) that
	// must come back unchanged in the next turn to the same provider;
	// Redacted holds Anthropic's redacted_thinking data.
	PartThinking
)

// Part is one piece of a message.
type Part struct {
	Kind PartKind
	Text string

	// PartImage
	MediaType string // "image/png" ...
	Data      string // base64, as it came
	URL       string // an image by URL (OpenAI, Anthropic); Gemini takes only inline data or its file URIs

	// PartToolCall and PartToolResult
	ID        string // the call's id; synthesised for Gemini (see ToolCallID)
	Name      string
	Arguments string // PartToolCall: a JSON object
	JSON      bool   // PartToolResult: Text is a JSON value (Gemini's functionResponse.response)
	IsError   bool

	// PartThinking
	Signature string
	Redacted  string
}

// Tool is a function the model may call.
type Tool struct {
	Name        string
	Description string
	// Parameters is the JSON Schema of its arguments, as it came (an
	// object).
	Parameters []byte
	// Strict asks that the model's arguments be guaranteed to match
	// Parameters (constrained decoding), not merely steered by them:
	// OpenAI's and Anthropic's strict, Gemini's VALIDATED function calling
	// mode (for every tool of the request).
	Strict bool
}

// ToolChoiceMode is how the model may use the tools.
type ToolChoiceMode uint8

const (
	ToolChoiceUnset ToolChoiceMode = iota
	ToolChoiceAuto
	ToolChoiceNone
	ToolChoiceRequired // any tool (OpenAI "required", Anthropic "any", Gemini ANY)
	ToolChoiceTool     // the tool Name
)

// ToolChoice is the request's tool_choice.
type ToolChoice struct {
	Mode ToolChoiceMode
	Name string
	// Allowed limits the model, in mode auto or required, to a subset of
	// the request's tools, by name (OpenAI's allowed_tools, Gemini's
	// allowedFunctionNames): the tools it may call, the others staying in
	// the request. Empty: every tool; other modes do not read it. A target
	// that cannot name a subset is sent only these tools (Anthropic, and
	// the providers of OpenAI's format other than OpenAI, which do not
	// document allowed_tools), so that the model never calls another.
	Allowed []string
}

// subset is the subset of tools the choice limits the model to, nil for
// every tool.
func (c *ToolChoice) subset() []string {
	if c.Mode != ToolChoiceAuto && c.Mode != ToolChoiceRequired {
		return nil
	}
	return c.Allowed
}

// appendAllowed adds name to a subset unless it holds it already: a name
// listed twice is one tool the model may call, whatever the format's list
// says.
func appendAllowed(allowed []string, name string) []string {
	if slices.Contains(allowed, name) {
		return allowed
	}
	return append(allowed, name)
}

// allows reports whether the choice lets the model call the tool name.
func (c *ToolChoice) allows(name string) bool {
	sub := c.subset()
	return len(sub) == 0 || slices.Contains(sub, name)
}

// unknownAllowed says which tool of the choice's subset r does not
// define, as the reason of an UnsupportedError naming tool_choice, or ""
// when r defines them all. Encoders refuse such a subset rather than
// send it: no format documents what its model does with a name it was
// not given, and the tool could not be called anyway.
func (r *Request) unknownAllowed() string {
	for _, a := range r.ToolChoice.subset() {
		if !slices.ContainsFunc(r.Tools, func(t Tool) bool { return t.Name == a }) {
			return "the allowed tool " + strconv.Quote(a) + " is not among the request's tools"
		}
	}
	return ""
}

// Reasoning is the thinking a request asks for: an effort (OpenAI's
// reasoning_effort: "minimal", "low", "medium", "high") or a budget of
// tokens (Anthropic's thinking.budget_tokens, Gemini's
// thinkingConfig.thinkingBudget); Disabled asks for none. Each encoder
// maps one to the other (see EffortBudget).
type Reasoning struct {
	Effort       string
	BudgetTokens int64
	Disabled     bool
	// IncludeThoughts asks Gemini to send its thought summaries back.
	IncludeThoughts bool
}

// IsZero reports whether r asks nothing.
func (r Reasoning) IsZero() bool { return r == Reasoning{} }

// Finish is why the model stopped.
type Finish uint8

const (
	FinishUnknown       Finish = iota
	FinishStop                 // end of turn, or a stop sequence
	FinishLength               // the token cap
	FinishToolCalls            // it called tools
	FinishContentFilter        // refused, or blocked by a safety filter
	FinishError                // the provider failed mid-answer
)

// Response is a whole (non-streamed) answer in no provider's format.
type Response struct {
	ID    string
	Model string
	// Parts are the assistant's: text, thinking and tool calls, in order.
	Parts  []Part
	Finish Finish
	// StopSequence is the stop sequence that ended the answer, when the
	// format says (Anthropic).
	StopSequence string
	Usage        provider.Usage
	UsageKnown   bool
	// Created is the answer's Unix time (OpenAI's created), 0 when the
	// format has none (the encoder then uses the current time).
	Created int64
}

// EventKind is what a stream Event says.
type EventKind uint8

const (
	// EventStart: the answer began: ID and Model, and the Usage known so
	// far (Anthropic's message_start has the input).
	EventStart EventKind = iota + 1
	// EventText: Text, more of the answer's text.
	EventText
	// EventThinking: Text, more of the reasoning; Signature when the
	// provider sends it (at the block's end for Anthropic); or Redacted,
	// a whole redacted_thinking block of Anthropic's (only Anthropic
	// takes it back: the other encoders drop it).
	EventThinking
	// EventToolStart: the tool call number Tool (0, 1 ... within the
	// answer) begins: its ID and Name.
	EventToolStart
	// EventToolArgs: Text, more of the arguments of call number Tool.
	EventToolArgs
	// EventFinish: the model stopped, for Finish.
	EventFinish
	// EventUsage: Usage, the answer's usage so far, cumulative (each
	// decoder sums what its format reports as deltas).
	EventUsage
	// EventError: the provider reported Err mid-stream.
	EventError
	// EventDone: the stream's end (its terminator, or the end of a Gemini
	// stream). Encoders flush what they held and write their terminator.
	EventDone
)

// Event is one thing a stream said, in no provider's format. Decoders
// reuse one Event for every emit, and its Text may point into the event's
// data or a buffer the decoder reuses (no allocation per event): it is
// valid only during the emit, and an encoder copies what it keeps.
type Event struct {
	Kind         EventKind
	ID           string
	Model        string
	Text         string
	Tool         int
	Name         string
	Signature    string
	Redacted     string
	Finish       Finish
	StopSequence string
	Usage        provider.Usage
	Err          *provider.Error
}

// UnsupportedError refuses a request a target format cannot honour: the
// parameter (as the caller spelled it) and why. The stack answers it with
// a provider-shaped 400 in the caller's format.
type UnsupportedError struct {
	Param  string
	Target provider.Format
	Reason string
}

func (e *UnsupportedError) Error() string {
	msg := fmt.Sprintf("aigateway: %s cannot be translated to %s", e.Param, e.Target)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// DefaultMaxTokens is the max_tokens an Anthropic request gets when the
// caller's set none (Anthropic requires one; OpenAI and Gemini default to
// the model's own limit). It is the output limit of the smallest current
// Claude model (Claude Haiku 3: 4096 tokens), so that it is valid for
// every model; a caller who wants longer answers sets max_tokens (or
// max_completion_tokens).
const DefaultMaxTokens = 4096

// EffortBudget is the thinking budget an effort stands for when a format
// takes a budget (Anthropic, Gemini), and BudgetEffort the effort a budget
// stands for when it takes an effort (OpenAI): minimal 1024 (Anthropic's
// least), low 2048, medium 8192, high 24576.
func EffortBudget(effort string) (int64, bool) {
	switch effort {
	case "minimal":
		return 1024, true
	case "low":
		return 2048, true
	case "medium":
		return 8192, true
	case "high":
		return 24576, true
	}
	return 0, false
}

// BudgetEffort is the effort nearest a thinking budget (see EffortBudget).
func BudgetEffort(budget int64) string {
	switch {
	case budget <= 1024:
		return "minimal"
	case budget <= 4096:
		return "low"
	case budget <= 16384:
		return "medium"
	}
	return "high"
}
