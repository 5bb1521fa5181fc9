package llmtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// upstream is one way to reach a fake: over a socket or in memory.
type upstream struct {
	name   string
	url    string
	client *http.Client
	fake   *Fake
}

// both returns a Server and a Transport built with the same options,
// closed when the test ends.
func both(t *testing.T, opts ...Option) []upstream {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	tr := NewTransport(opts...)
	t.Cleanup(tr.Close)
	return []upstream{
		{name: "server", url: s.URL, client: s.Client(), fake: s.Fake},
		{name: "transport", url: tr.URL, client: tr.Client(), fake: tr.Fake},
	}
}

// post sends body to path; hdr is name, value pairs.
func (u upstream) post(t *testing.T, path, body string, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u.url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := u.client.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// read reads the whole body and closes it.
func read(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return b
}

var anthropicHeaders = []string{"anthropic-version", "2023-06-01"}

type sseEvent struct {
	name string // "" when the event has no event: line
	data string
}

// parseSSE splits a stream into its events, requiring the exact framing
// the providers use: an optional "event: name" line, one "data: " line,
// and sep after each event; nothing else.
func parseSSE(t *testing.T, body []byte, sep string) []sseEvent {
	t.Helper()
	require.True(t, bytes.HasSuffix(body, []byte(sep)), "stream must end with %q: %q", sep, tail(body))
	nl := "\n"
	if sep == "\r\n\r\n" {
		nl = "\r\n"
	}
	var out []sseEvent
	for _, raw := range strings.Split(strings.TrimSuffix(string(body), sep), sep) {
		var ev sseEvent
		lines := strings.Split(raw, nl)
		if len(lines) == 2 {
			name, ok := strings.CutPrefix(lines[0], "event: ")
			require.True(t, ok, "bad event line in %q", raw)
			ev.name = name
			lines = lines[1:]
		}
		require.Len(t, lines, 1, "one data line per event: %q", raw)
		data, ok := strings.CutPrefix(lines[0], "data: ")
		require.True(t, ok, "bad data line in %q", raw)
		require.NotContains(t, data, "\r")
		ev.data = data
		out = append(out, ev)
	}
	return out
}

func tail(b []byte) []byte {
	if len(b) > 40 {
		return b[len(b)-40:]
	}
	return b
}

// decodeStrict decodes JSON data into v, which must describe every field.
func decodeStrict(t *testing.T, data string, v any) {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(data))
	d.DisallowUnknownFields()
	require.NoError(t, d.Decode(v), "%s", data)
}

// keys returns the top-level keys of a JSON object, and the raw values.
func keys(t *testing.T, data string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(data), &m), "%s", data)
	return m
}

// The types below mirror the SDKs' (openai-go v3, anthropic-sdk-go v2,
// go-genai) response types, field for field as far as the fake sends them.
// Tests decode with DisallowUnknownFields so that a field the fake sends
// and the mirror lacks is caught as well as a missing one.

type chatUsage struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	TotalTokens         int64 `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
		AudioTokens  int64 `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens          int64 `json:"reasoning_tokens"`
		AudioTokens              int64 `json:"audio_tokens"`
		AcceptedPredictionTokens int64 `json:"accepted_prediction_tokens"`
		RejectedPredictionTokens int64 `json:"rejected_prediction_tokens"`
	} `json:"completion_tokens_details"`
}

type chatCompletion struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int64 `json:"index"`
		Message struct {
			Role        string         `json:"role"`
			Content     string         `json:"content"`
			ToolCalls   []chatToolCall `json:"tool_calls"`
			Refusal     *string        `json:"refusal"`
			Annotations []any          `json:"annotations"`
		} `json:"message"`
		Logprobs     *struct{} `json:"logprobs"`
		FinishReason string    `json:"finish_reason"`
	} `json:"choices"`
	Usage             chatUsage `json:"usage"`
	ServiceTier       string    `json:"service_tier"`
	SystemFingerprint string    `json:"system_fingerprint"`
}

type chatChunk struct {
	ID                string `json:"id"`
	Object            string `json:"object"`
	Created           int64  `json:"created"`
	Model             string `json:"model"`
	ServiceTier       string `json:"service_tier"`
	SystemFingerprint string `json:"system_fingerprint"`
	Choices           []struct {
		Index int64 `json:"index"`
		Delta struct {
			Role      string         `json:"role"`
			Content   *string        `json:"content"`
			ToolCalls []chatToolCall `json:"tool_calls"`
			Refusal   *string        `json:"refusal"`
		} `json:"delta"`
		Logprobs     *struct{} `json:"logprobs"`
		FinishReason *string   `json:"finish_reason"`
	} `json:"choices"`
	Usage *chatUsage `json:"usage"`
}

// chatToolCall is a tool call in a message or, with Index, in a delta.
type chatToolCall struct {
	Index    *int64 `json:"index"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string  `json:"name"`
		Arguments *string `json:"arguments"`
	} `json:"function"`
}

type openAIErrorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

type outputText struct {
	Type        string `json:"type"`
	Annotations []any  `json:"annotations"`
	Logprobs    []any  `json:"logprobs"`
	Text        string `json:"text"`
}

type outputItem struct {
	ID      string       `json:"id"`
	Type    string       `json:"type"`
	Status  string       `json:"status"`
	Content []outputText `json:"content"`
	Role    string       `json:"role"`
}

type response struct {
	ID                string  `json:"id"`
	Object            string  `json:"object"`
	CreatedAt         int64   `json:"created_at"`
	Status            string  `json:"status"`
	Background        bool    `json:"background"`
	Error             *string `json:"error"`
	IncompleteDetails *struct {
		Reason string `json:"reason"`
	} `json:"incomplete_details"`
	Instructions       *string      `json:"instructions"`
	MaxOutputTokens    *int64       `json:"max_output_tokens"`
	MaxToolCalls       *int64       `json:"max_tool_calls"`
	Model              string       `json:"model"`
	Output             []outputItem `json:"output"`
	ParallelToolCalls  bool         `json:"parallel_tool_calls"`
	PreviousResponseID *string      `json:"previous_response_id"`
	PromptCacheKey     *string      `json:"prompt_cache_key"`
	Reasoning          struct {
		Effort  *string `json:"effort"`
		Summary *string `json:"summary"`
	} `json:"reasoning"`
	SafetyIdentifier *string `json:"safety_identifier"`
	ServiceTier      string  `json:"service_tier"`
	Store            bool    `json:"store"`
	Temperature      float64 `json:"temperature"`
	Text             struct {
		Format struct {
			Type string `json:"type"`
		} `json:"format"`
		Verbosity string `json:"verbosity"`
	} `json:"text"`
	ToolChoice  string  `json:"tool_choice"`
	Tools       []any   `json:"tools"`
	TopLogprobs int64   `json:"top_logprobs"`
	TopP        float64 `json:"top_p"`
	Truncation  string  `json:"truncation"`
	Usage       *struct {
		InputTokens        int64 `json:"input_tokens"`
		InputTokensDetails struct {
			CachedTokens int64 `json:"cached_tokens"`
		} `json:"input_tokens_details"`
		OutputTokens        int64 `json:"output_tokens"`
		OutputTokensDetails struct {
			ReasoningTokens int64 `json:"reasoning_tokens"`
		} `json:"output_tokens_details"`
		TotalTokens int64 `json:"total_tokens"`
	} `json:"usage"`
	User     *string        `json:"user"`
	Metadata map[string]any `json:"metadata"`
}

// responseEvent covers every Responses stream event the fake sends.
type responseEvent struct {
	Type           string      `json:"type"`
	SequenceNumber int64       `json:"sequence_number"`
	Response       *response   `json:"response"`
	OutputIndex    *int64      `json:"output_index"`
	ContentIndex   *int64      `json:"content_index"`
	ItemID         string      `json:"item_id"`
	Item           *outputItem `json:"item"`
	Part           *outputText `json:"part"`
	Delta          *string     `json:"delta"`
	Text           *string     `json:"text"`
	Logprobs       []any       `json:"logprobs"`
	// event: error
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Param   *string `json:"param"`
}

type embeddingList struct {
	Object string `json:"object"`
	Data   []struct {
		Object    string          `json:"object"`
		Index     int64           `json:"index"`
		Embedding json.RawMessage `json:"embedding"`
	} `json:"data"`
	Model string `json:"model"`
	Usage struct {
		PromptTokens int64 `json:"prompt_tokens"`
		TotalTokens  int64 `json:"total_tokens"`
	} `json:"usage"`
}

type anthropicUsage struct {
	InputTokens              int64 `json:"input_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	CacheCreation            *struct {
		Ephemeral5mInputTokens int64 `json:"ephemeral_5m_input_tokens"`
		Ephemeral1hInputTokens int64 `json:"ephemeral_1h_input_tokens"`
	} `json:"cache_creation"`
	OutputTokens int64  `json:"output_tokens"`
	ServiceTier  string `json:"service_tier"`
}

type anthropicMessage struct {
	ID           string               `json:"id"`
	Type         string               `json:"type"`
	Role         string               `json:"role"`
	Model        string               `json:"model"`
	Content      []anthropicBlockJSON `json:"content"`
	StopReason   *string              `json:"stop_reason"`
	StopSequence *string              `json:"stop_sequence"`
	Usage        anthropicUsage       `json:"usage"`
}

// anthropicBlockJSON covers every content block the fake sends: text,
// thinking, tool_use.
type anthropicBlockJSON struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Thinking  *string         `json:"thinking"`
	Signature *string         `json:"signature"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	Caller    *struct {
		Type string `json:"type"`
	} `json:"caller"`
}

// anthropicEvent covers every Messages stream event the fake sends.
type anthropicEvent struct {
	Type         string              `json:"type"`
	Message      *anthropicMessage   `json:"message"`
	Index        *int64              `json:"index"`
	ContentBlock *anthropicBlockJSON `json:"content_block"`
	Delta        *struct {
		Type         string  `json:"type"`
		Text         string  `json:"text"`
		Thinking     *string `json:"thinking"`
		Signature    *string `json:"signature"`
		PartialJSON  *string `json:"partial_json"`
		StopReason   *string `json:"stop_reason"`
		StopSequence *string `json:"stop_sequence"`
	} `json:"delta"`
	Usage *anthropicUsage `json:"usage"`
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

type anthropicErrorBody struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
		Details *struct {
			ErrorCode string `json:"error_code"`
		} `json:"details"`
	} `json:"error"`
	RequestID string `json:"request_id"`
}

type geminiResponse struct {
	Candidates []struct {
		Content struct {
			Parts []struct {
				Text         string `json:"text"`
				Thought      bool   `json:"thought"`
				FunctionCall *struct {
					Name string          `json:"name"`
					Args json.RawMessage `json:"args"`
				} `json:"functionCall"`
				ThoughtSignature string `json:"thoughtSignature"`
			} `json:"parts"`
			Role string `json:"role"`
		} `json:"content"`
		FinishReason string `json:"finishReason"`
		Index        int64  `json:"index"`
	} `json:"candidates"`
	UsageMetadata struct {
		PromptTokenCount        int64  `json:"promptTokenCount"`
		CandidatesTokenCount    *int64 `json:"candidatesTokenCount"`
		TotalTokenCount         int64  `json:"totalTokenCount"`
		CachedContentTokenCount int64  `json:"cachedContentTokenCount"`
		ThoughtsTokenCount      int64  `json:"thoughtsTokenCount"`
		PromptTokensDetails     []struct {
			Modality   string `json:"modality"`
			TokenCount int64  `json:"tokenCount"`
		} `json:"promptTokensDetails"`
	} `json:"usageMetadata"`
	ModelVersion string `json:"modelVersion"`
	ResponseID   string `json:"responseId"`
}

type geminiErrorBody struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type       string `json:"@type"`
			RetryDelay string `json:"retryDelay"`
		} `json:"details"`
	} `json:"error"`
}
