package llmtest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	chatPath     = "/v1/chat/completions"
	respPath     = "/v1/responses"
	embedPath    = "/v1/embeddings"
	msgPath      = "/v1/messages"
	geminiPath   = "/v1beta/models/gemini-2.0-flash:generateContent"
	geminiStream = "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
	geminiArray  = "/v1beta/models/gemini-2.0-flash:streamGenerateContent"
	chatBody     = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}]}`
	msgBody      = `{"model":"claude-haiku-4-5","max_tokens":256,"messages":[{"role":"user","content":"Say hello."}]}`
	geminiBody   = `{"contents":[{"role":"user","parts":[{"text":"Say hello."}]}]}`
)

// inputTokens is the usage the fake computes for body.
func inputTokens(body string) int64 { return max(1, int64(len(body)+3)/4) }

func TestChatCompletion(t *testing.T) {
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			resp := u.post(t, chatPath, chatBody)
			body := read(t, resp)
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Regexp(t, `^req_[0-9a-f]{32}$`, resp.Header.Get("X-Request-Id"))
			assert.Equal(t, "1", resp.Header.Get("Openai-Processing-Ms"))
			for _, h := range []string{"Limit-Requests", "Limit-Tokens", "Remaining-Requests", "Remaining-Tokens", "Reset-Requests", "Reset-Tokens"} {
				assert.NotEmpty(t, resp.Header.Get("X-Ratelimit-"+h), h)
			}
			assert.Equal(t, strconv.Itoa(len(body)), resp.Header.Get("Content-Length"))
			assert.True(t, strings.HasPrefix(string(body), "{\n  \"id\": \"chatcmpl-"), "indented like OpenAI: %.40s", body)

			var c chatCompletion
			decodeStrict(t, string(body), &c)
			assert.Regexp(t, `^chatcmpl-[A-Za-z0-9]{29}$`, c.ID)
			assert.Equal(t, "chat.completion", c.Object)
			assert.Equal(t, defaultTime.Unix(), c.Created)
			assert.Equal(t, "gpt-4o-mini", c.Model)
			require.Len(t, c.Choices, 1)
			assert.Equal(t, "assistant", c.Choices[0].Message.Role)
			assert.Equal(t, DefaultReply, c.Choices[0].Message.Content)
			assert.Nil(t, c.Choices[0].Message.Refusal)
			assert.Equal(t, "stop", c.Choices[0].FinishReason)
			assert.Equal(t, inputTokens(chatBody), c.Usage.PromptTokens)
			assert.Equal(t, int64(3), c.Usage.CompletionTokens)
			assert.Equal(t, c.Usage.PromptTokens+c.Usage.CompletionTokens, c.Usage.TotalTokens)
			assert.NotEmpty(t, c.SystemFingerprint)
			m := keys(t, string(body))
			assert.Equal(t, "null", string(m["choices"][strings.Index(string(m["choices"]), `"logprobs": `)+len(`"logprobs": `):][:4]))
		})
	}
}

func TestChatStream(t *testing.T) {
	for _, includeUsage := range []bool{false, true} {
		for _, u := range both(t, WithReply("One two three four.")) {
			t.Run(u.name+"/include_usage="+strconv.FormatBool(includeUsage), func(t *testing.T) {
				req := `{"model":"gpt-4o","stream":true,"messages":[]}`
				if includeUsage {
					req = `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[]}`
				}
				resp := u.post(t, chatPath, req)
				require.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
				assert.Empty(t, resp.Header.Get("Content-Length"))
				events := parseSSE(t, read(t, resp), "\n\n")

				// role, 4 words, finish, [usage], [DONE]
				want := 7
				if includeUsage {
					want = 8
				}
				require.Len(t, events, want)
				require.Equal(t, sseEvent{data: "[DONE]"}, events[len(events)-1])
				chunks := events[:len(events)-1]
				var text strings.Builder
				var id string
				for i, ev := range chunks {
					assert.Empty(t, ev.name)
					var c chatChunk
					decodeStrict(t, ev.data, &c)
					if id == "" {
						id = c.ID
					}
					assert.Equal(t, id, c.ID, "one id per stream")
					assert.Equal(t, "chat.completion.chunk", c.Object)
					assert.Equal(t, "gpt-4o", c.Model)
					usage, hasUsage := keys(t, ev.data)["usage"]
					if !includeUsage {
						assert.False(t, hasUsage, "no usage key without include_usage: %s", ev.data)
					}
					last := includeUsage && i == len(chunks)-1
					switch {
					case last:
						assert.Empty(t, c.Choices, "the usage chunk has choices []")
						assert.Equal(t, `[]`, string(keys(t, ev.data)["choices"]))
						require.NotNil(t, c.Usage)
						assert.Equal(t, inputTokens(req), c.Usage.PromptTokens)
						assert.Equal(t, int64(4), c.Usage.CompletionTokens)
						assert.Equal(t, inputTokens(req)+4, c.Usage.TotalTokens)
					case includeUsage:
						assert.Equal(t, "null", string(usage), "other chunks carry usage:null")
						fallthrough
					default:
						require.Len(t, c.Choices, 1)
						ch := c.Choices[0]
						switch i {
						case 0:
							assert.Equal(t, "assistant", ch.Delta.Role)
							require.NotNil(t, ch.Delta.Content)
							assert.Equal(t, "", *ch.Delta.Content)
							assert.Nil(t, ch.FinishReason)
						case 5:
							assert.Nil(t, ch.Delta.Content)
							require.NotNil(t, ch.FinishReason)
							assert.Equal(t, "stop", *ch.FinishReason)
						default:
							require.NotNil(t, ch.Delta.Content)
							text.WriteString(*ch.Delta.Content)
							assert.Nil(t, ch.FinishReason)
						}
					}
				}
				assert.Equal(t, "One two three four.", text.String())
			})
		}
	}
}

func TestChatStreamWords(t *testing.T) {
	assert.Equal(t, []string{"One", " two", "  three", "\nfour. "}, splitWords("One two  three\nfour. "))
	assert.Nil(t, splitWords(""))
	assert.Equal(t, []string{" lead"}, splitWords(" lead"))
}

func TestResponses(t *testing.T) {
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			req := `{"model":"gpt-4.1","input":"Say hello."}`
			resp := u.post(t, respPath, req)
			body := read(t, resp)
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			var r response
			decodeStrict(t, string(body), &r)
			assert.Regexp(t, `^resp_`, r.ID)
			assert.Equal(t, "response", r.Object)
			assert.Equal(t, "completed", r.Status)
			assert.Equal(t, "gpt-4.1", r.Model)
			require.Len(t, r.Output, 1)
			assert.Equal(t, "message", r.Output[0].Type)
			assert.Equal(t, "assistant", r.Output[0].Role)
			require.Len(t, r.Output[0].Content, 1)
			assert.Equal(t, "output_text", r.Output[0].Content[0].Type)
			assert.Equal(t, DefaultReply, r.Output[0].Content[0].Text)
			require.NotNil(t, r.Usage)
			assert.Equal(t, inputTokens(req), r.Usage.InputTokens)
			assert.Equal(t, int64(3), r.Usage.OutputTokens)
			assert.Equal(t, inputTokens(req)+3, r.Usage.TotalTokens)
		})
	}
}

func TestResponsesStream(t *testing.T) {
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			req := `{"model":"gpt-4.1","input":"Say hello.","stream":true}`
			resp := u.post(t, respPath, req)
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
			events := parseSSE(t, read(t, resp), "\n\n")
			wantTypes := []string{
				"response.created", "response.in_progress", "response.output_item.added",
				"response.content_part.added", "response.output_text.delta", "response.output_text.delta",
				"response.output_text.delta", "response.output_text.done", "response.content_part.done",
				"response.output_item.done", "response.completed",
			}
			require.Len(t, events, len(wantTypes))
			var text strings.Builder
			for i, ev := range events {
				assert.Equal(t, wantTypes[i], ev.name)
				assert.True(t, strings.HasPrefix(ev.data, `{"type":"`+ev.name+`","sequence_number":`+strconv.Itoa(i)+`,`), ev.data)
				var e responseEvent
				decodeStrict(t, ev.data, &e)
				assert.Equal(t, ev.name, e.Type)
				assert.Equal(t, int64(i), e.SequenceNumber)
				switch ev.name {
				case "response.created", "response.in_progress":
					require.NotNil(t, e.Response)
					assert.Equal(t, "in_progress", e.Response.Status)
					assert.Nil(t, e.Response.Usage)
					assert.Empty(t, e.Response.Output)
				case "response.output_text.delta":
					require.NotNil(t, e.Delta)
					text.WriteString(*e.Delta)
					assert.NotEmpty(t, e.ItemID)
				case "response.output_text.done":
					require.NotNil(t, e.Text)
					assert.Equal(t, DefaultReply, *e.Text)
				case "response.output_item.done":
					require.NotNil(t, e.Item)
					assert.Equal(t, "completed", e.Item.Status)
					assert.Equal(t, DefaultReply, e.Item.Content[0].Text)
				case "response.completed":
					require.NotNil(t, e.Response)
					assert.Equal(t, "completed", e.Response.Status)
					require.NotNil(t, e.Response.Usage)
					assert.Equal(t, inputTokens(req), e.Response.Usage.InputTokens)
					assert.Equal(t, int64(3), e.Response.Usage.OutputTokens)
				}
			}
			assert.Equal(t, DefaultReply, text.String())
		})
	}
}

func TestEmbeddings(t *testing.T) {
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			cases := []struct {
				input string
				n     int
			}{
				{`"one"`, 1},
				{`["one","two","three"]`, 3},
				{`[1,2,3]`, 1},
				{`[[1,2],[3]]`, 2},
			}
			for _, c := range cases {
				req := `{"model":"text-embedding-3-small","input":` + c.input + `}`
				resp := u.post(t, embedPath, req)
				require.Equal(t, 200, resp.StatusCode)
				var l embeddingList
				decodeStrict(t, string(read(t, resp)), &l)
				assert.Equal(t, "list", l.Object)
				assert.Equal(t, "text-embedding-3-small", l.Model)
				require.Len(t, l.Data, c.n, c.input)
				for i, d := range l.Data {
					assert.Equal(t, "embedding", d.Object)
					assert.Equal(t, int64(i), d.Index)
					var v []float64
					require.NoError(t, json.Unmarshal(d.Embedding, &v))
					assert.Len(t, v, DefaultEmbeddingDimensions)
				}
				assert.Equal(t, inputTokens(req), l.Usage.PromptTokens)
				assert.Equal(t, l.Usage.PromptTokens, l.Usage.TotalTokens)
			}

			// base64 carries the same vectors as little-endian float32s.
			floats := u.post(t, embedPath, `{"model":"m","input":["a","b"],"dimensions":5}`)
			b64 := u.post(t, embedPath, `{"model":"m","input":["a","b"],"dimensions":5,"encoding_format":"base64"}`)
			var fl, bl embeddingList
			decodeStrict(t, string(read(t, floats)), &fl)
			decodeStrict(t, string(read(t, b64)), &bl)
			require.Len(t, bl.Data, 2)
			for i := range bl.Data {
				var want []float32
				require.NoError(t, json.Unmarshal(fl.Data[i].Embedding, &want))
				var s string
				require.NoError(t, json.Unmarshal(bl.Data[i].Embedding, &s))
				raw, err := base64.StdEncoding.DecodeString(s)
				require.NoError(t, err)
				require.Len(t, raw, 5*4)
				for j := range want {
					got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
					assert.Equal(t, want[j], got)
				}
			}
			assert.NotEqual(t, string(fl.Data[0].Embedding), string(fl.Data[1].Embedding), "inputs get different vectors")

			resp := u.post(t, embedPath, `{"model":"m","input":"a","stream":true}`)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), "embeddings ignore stream")
			decodeStrict(t, string(read(t, resp)), &fl)
		})
	}
}

func TestAnthropicMessage(t *testing.T) {
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			resp := u.post(t, msgPath, msgBody, anthropicHeaders...)
			body := read(t, resp)
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Regexp(t, `^req_`, resp.Header.Get("Request-Id"))
			assert.NotEmpty(t, resp.Header.Get("Anthropic-Ratelimit-Requests-Limit"))
			assert.Equal(t, "2025-01-01T00:00:01Z", resp.Header.Get("Anthropic-Ratelimit-Tokens-Reset"))
			var m anthropicMessage
			decodeStrict(t, string(body), &m)
			assert.Regexp(t, `^msg_`, m.ID)
			assert.Equal(t, "message", m.Type)
			assert.Equal(t, "assistant", m.Role)
			assert.Equal(t, "claude-haiku-4-5", m.Model)
			require.Len(t, m.Content, 1)
			assert.Equal(t, "text", m.Content[0].Type)
			assert.Equal(t, DefaultReply, m.Content[0].Text)
			require.NotNil(t, m.StopReason)
			assert.Equal(t, "end_turn", *m.StopReason)
			assert.Nil(t, m.StopSequence)
			assert.Equal(t, inputTokens(msgBody), m.Usage.InputTokens)
			assert.Equal(t, int64(3), m.Usage.OutputTokens)
		})
	}
}

func TestAnthropicStream(t *testing.T) {
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			req := `{"model":"claude-haiku-4-5","max_tokens":256,"stream":true,"messages":[]}`
			resp := u.post(t, msgPath, req, anthropicHeaders...)
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
			events := parseSSE(t, read(t, resp), "\n\n")
			want := []string{"message_start", "content_block_start", "ping", "content_block_delta",
				"content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"}
			require.Len(t, events, len(want))
			var text strings.Builder
			for i, ev := range events {
				require.Equal(t, want[i], ev.name)
				var e anthropicEvent
				decodeStrict(t, ev.data, &e)
				assert.Equal(t, ev.name, e.Type)
				switch ev.name {
				case "message_start":
					require.NotNil(t, e.Message)
					assert.Equal(t, "claude-haiku-4-5", e.Message.Model)
					assert.Empty(t, e.Message.Content)
					assert.Nil(t, e.Message.StopReason)
					assert.Equal(t, inputTokens(req), e.Message.Usage.InputTokens)
					assert.Equal(t, int64(1), e.Message.Usage.OutputTokens)
				case "ping":
					assert.Equal(t, `{"type": "ping"}`, ev.data)
				case "content_block_delta":
					require.NotNil(t, e.Delta)
					assert.Equal(t, "text_delta", e.Delta.Type)
					text.WriteString(e.Delta.Text)
				case "message_delta":
					require.NotNil(t, e.Delta)
					require.NotNil(t, e.Delta.StopReason)
					assert.Equal(t, "end_turn", *e.Delta.StopReason)
					require.NotNil(t, e.Usage)
					assert.Equal(t, int64(3), e.Usage.OutputTokens, "cumulative")
					assert.Equal(t, inputTokens(req), e.Usage.InputTokens)
				case "message_stop":
					assert.Equal(t, `{"type":"message_stop"}`, ev.data)
				}
			}
			assert.Equal(t, DefaultReply, text.String())
		})
	}
}

func TestGemini(t *testing.T) {
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			resp := u.post(t, geminiPath, geminiBody)
			body := read(t, resp)
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "application/json; charset=UTF-8", resp.Header.Get("Content-Type"))
			assert.True(t, strings.HasPrefix(string(body), "{\n  \"candidates\": ["), "%.40s", body)
			var g geminiResponse
			decodeStrict(t, string(body), &g)
			require.Len(t, g.Candidates, 1)
			assert.Equal(t, "model", g.Candidates[0].Content.Role)
			assert.Equal(t, DefaultReply, g.Candidates[0].Content.Parts[0].Text)
			assert.Equal(t, "STOP", g.Candidates[0].FinishReason)
			assert.Equal(t, "gemini-2.0-flash", g.ModelVersion)
			assert.NotEmpty(t, g.ResponseID)
			assert.Equal(t, inputTokens(geminiBody), g.UsageMetadata.PromptTokenCount)
			require.NotNil(t, g.UsageMetadata.CandidatesTokenCount)
			assert.Equal(t, int64(3), *g.UsageMetadata.CandidatesTokenCount)
			assert.Equal(t, inputTokens(geminiBody)+3, g.UsageMetadata.TotalTokenCount)
		})
	}
}

func TestGeminiStream(t *testing.T) {
	check := func(t *testing.T, chunks []geminiResponse) {
		require.Len(t, chunks, 3)
		var text strings.Builder
		for i, g := range chunks {
			require.Len(t, g.Candidates, 1)
			text.WriteString(g.Candidates[0].Content.Parts[0].Text)
			assert.Equal(t, inputTokens(geminiBody), g.UsageMetadata.PromptTokenCount)
			if i < len(chunks)-1 {
				assert.Empty(t, g.Candidates[0].FinishReason)
				assert.Nil(t, g.UsageMetadata.CandidatesTokenCount, "early chunks lack counts")
				continue
			}
			assert.Equal(t, "STOP", g.Candidates[0].FinishReason)
			require.NotNil(t, g.UsageMetadata.CandidatesTokenCount)
			assert.Equal(t, int64(3), *g.UsageMetadata.CandidatesTokenCount)
			assert.Equal(t, inputTokens(geminiBody)+3, g.UsageMetadata.TotalTokenCount)
		}
		assert.Equal(t, DefaultReply, text.String())
	}
	for _, u := range both(t) {
		t.Run(u.name+"/sse", func(t *testing.T) {
			resp := u.post(t, geminiStream, geminiBody)
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
			events := parseSSE(t, read(t, resp), "\r\n\r\n")
			var chunks []geminiResponse
			for _, ev := range events {
				assert.Empty(t, ev.name)
				assert.True(t, strings.HasPrefix(ev.data, `{"candidates": [{"content": {"parts": [{"text": `), ev.data)
				var g geminiResponse
				decodeStrict(t, ev.data, &g)
				chunks = append(chunks, g)
			}
			check(t, chunks)
		})
		t.Run(u.name+"/json-array", func(t *testing.T) {
			resp := u.post(t, geminiArray, geminiBody)
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "application/json; charset=UTF-8", resp.Header.Get("Content-Type"))
			var chunks []geminiResponse
			d := json.NewDecoder(strings.NewReader(string(read(t, resp))))
			d.DisallowUnknownFields()
			require.NoError(t, d.Decode(&chunks))
			check(t, chunks)
		})
	}
}

func TestUsageOption(t *testing.T) {
	u := Usage{InputTokens: 1000, OutputTokens: 300, CacheReadTokens: 600, CacheCreationTokens: 100, CacheCreation1hTokens: 40, ReasoningTokens: 200}
	for _, up := range both(t, WithUsage(u)) {
		t.Run(up.name, func(t *testing.T) {
			var c chatCompletion
			decodeStrict(t, string(read(t, up.post(t, chatPath, chatBody))), &c)
			assert.Equal(t, int64(1000), c.Usage.PromptTokens)
			assert.Equal(t, int64(600), c.Usage.PromptTokensDetails.CachedTokens)
			assert.Equal(t, int64(300), c.Usage.CompletionTokens)
			assert.Equal(t, int64(200), c.Usage.CompletionTokensDetails.ReasoningTokens)
			assert.Equal(t, int64(1300), c.Usage.TotalTokens)

			var r response
			decodeStrict(t, string(read(t, up.post(t, respPath, `{"model":"o4-mini","input":"x"}`))), &r)
			assert.Equal(t, int64(1000), r.Usage.InputTokens)
			assert.Equal(t, int64(600), r.Usage.InputTokensDetails.CachedTokens)
			assert.Equal(t, int64(300), r.Usage.OutputTokens)
			assert.Equal(t, int64(200), r.Usage.OutputTokensDetails.ReasoningTokens)

			var m anthropicMessage
			decodeStrict(t, string(read(t, up.post(t, msgPath, msgBody, anthropicHeaders...))), &m)
			assert.Equal(t, int64(300), m.Usage.InputTokens, "Anthropic input excludes the cache")
			assert.Equal(t, int64(600), m.Usage.CacheReadInputTokens)
			assert.Equal(t, int64(100), m.Usage.CacheCreationInputTokens)
			require.NotNil(t, m.Usage.CacheCreation)
			assert.Equal(t, int64(60), m.Usage.CacheCreation.Ephemeral5mInputTokens)
			assert.Equal(t, int64(40), m.Usage.CacheCreation.Ephemeral1hInputTokens)
			assert.Equal(t, int64(300), m.Usage.OutputTokens)

			events := parseSSE(t, read(t, up.post(t, msgPath, `{"model":"c","max_tokens":9,"stream":true}`, anthropicHeaders...)), "\n\n")
			var start, delta anthropicEvent
			decodeStrict(t, events[0].data, &start)
			decodeStrict(t, events[len(events)-2].data, &delta)
			assert.Equal(t, int64(600), start.Message.Usage.CacheReadInputTokens)
			assert.Equal(t, int64(300), delta.Usage.OutputTokens)
			assert.Equal(t, int64(300), delta.Usage.InputTokens)

			var g geminiResponse
			decodeStrict(t, string(read(t, up.post(t, geminiPath, geminiBody))), &g)
			assert.Equal(t, int64(1000), g.UsageMetadata.PromptTokenCount)
			assert.Equal(t, int64(600), g.UsageMetadata.CachedContentTokenCount)
			assert.Equal(t, int64(100), *g.UsageMetadata.CandidatesTokenCount, "candidates exclude thoughts")
			assert.Equal(t, int64(200), g.UsageMetadata.ThoughtsTokenCount)
			assert.Equal(t, int64(1300), g.UsageMetadata.TotalTokenCount)

			var l embeddingList
			decodeStrict(t, string(read(t, up.post(t, embedPath, `{"model":"e","input":"x"}`))), &l)
			assert.Equal(t, int64(1000), l.Usage.PromptTokens)
		})
	}
}

func TestMaxTokensCutsTheReply(t *testing.T) {
	for _, u := range both(t, WithReply("a b c d e")) {
		t.Run(u.name, func(t *testing.T) {
			var c chatCompletion
			decodeStrict(t, string(read(t, u.post(t, chatPath, `{"model":"m","max_completion_tokens":2}`))), &c)
			assert.Equal(t, "a b", c.Choices[0].Message.Content)
			assert.Equal(t, "length", c.Choices[0].FinishReason)
			assert.Equal(t, int64(2), c.Usage.CompletionTokens)

			events := parseSSE(t, read(t, u.post(t, chatPath, `{"model":"m","max_tokens":2,"stream":true}`)), "\n\n")
			require.Len(t, events, 5) // role, 2 words, finish, [DONE]
			assert.Contains(t, events[3].data, `"finish_reason":"length"`)

			var m anthropicMessage
			decodeStrict(t, string(read(t, u.post(t, msgPath, `{"model":"c","max_tokens":3}`, anthropicHeaders...))), &m)
			assert.Equal(t, "a b c", m.Content[0].Text)
			assert.Equal(t, "max_tokens", *m.StopReason)
			assert.Equal(t, int64(3), m.Usage.OutputTokens)

			var r response
			decodeStrict(t, string(read(t, u.post(t, respPath, `{"model":"m","max_output_tokens":1}`))), &r)
			assert.Equal(t, "incomplete", r.Status)
			require.NotNil(t, r.IncompleteDetails)
			assert.Equal(t, "max_output_tokens", r.IncompleteDetails.Reason)
			assert.Equal(t, int64(1), *r.MaxOutputTokens)
			evs := parseSSE(t, read(t, u.post(t, respPath, `{"model":"m","max_output_tokens":1,"stream":true}`)), "\n\n")
			assert.Equal(t, "response.incomplete", evs[len(evs)-1].name)

			var g geminiResponse
			decodeStrict(t, string(read(t, u.post(t, geminiPath, `{"generationConfig":{"maxOutputTokens":4}}`))), &g)
			assert.Equal(t, "a b c d", g.Candidates[0].Content.Parts[0].Text)
			assert.Equal(t, "MAX_TOKENS", g.Candidates[0].FinishReason)
		})
	}
}

func TestResponseModelAndReplyFunc(t *testing.T) {
	opts := []Option{
		WithResponseModel(func(m string) string { return m + "-2024-07-18" }),
		WithReplyFunc(func(r Request) string { return "Answer " + strconv.Itoa(r.Seq) + " to " + r.Format }),
	}
	for _, u := range both(t, opts...) {
		t.Run(u.name, func(t *testing.T) {
			var c chatCompletion
			decodeStrict(t, string(read(t, u.post(t, chatPath, chatBody))), &c)
			assert.Equal(t, "gpt-4o-mini-2024-07-18", c.Model)
			assert.Equal(t, "Answer 1 to openai.chat", c.Choices[0].Message.Content)
			var g geminiResponse
			decodeStrict(t, string(read(t, u.post(t, geminiPath, geminiBody))), &g)
			assert.Equal(t, "gemini-2.0-flash-2024-07-18", g.ModelVersion)
			assert.Equal(t, "Answer 2 to gemini", g.Candidates[0].Content.Parts[0].Text)
		})
	}
}

func TestEscaping(t *testing.T) {
	reply := "Quote \" backslash \\ newline \n tab \t ctrl \x01 <html> & é 😀 bad \xff"
	for _, u := range both(t, WithReply(reply)) {
		t.Run(u.name, func(t *testing.T) {
			whole := read(t, u.post(t, chatPath, chatBody))
			assert.Contains(t, string(whole), `<html> & é 😀`, "no HTML escaping")
			var c chatCompletion
			decodeStrict(t, string(whole), &c)
			assert.Equal(t, strings.ToValidUTF8(reply, "\uFFFD"), c.Choices[0].Message.Content)
			body := string(read(t, u.post(t, chatPath, `{"model":"m","stream":true}`)))
			events := parseSSE(t, []byte(body), "\n\n")
			var text strings.Builder
			for _, ev := range events[1 : len(events)-2] {
				var ch chatChunk
				decodeStrict(t, ev.data, &ch)
				text.WriteString(*ch.Choices[0].Delta.Content)
			}
			assert.Equal(t, strings.ToValidUTF8(reply, "\uFFFD"), text.String())
		})
	}
}
