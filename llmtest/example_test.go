package llmtest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aigateway-go/aigateway/llmtest"
)

// A fake OpenAI upstream on a loopback port: point an SDK's base URL at
// srv.URL + "/v1" (or srv.URL for Anthropic and Gemini).
func Example() {
	srv := llmtest.NewServer(llmtest.WithReply("Hi there, friend."))
	defer srv.Close()

	resp, err := srv.Client().Post(srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}`))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var out struct {
		Model   string
		Choices []struct{ Message struct{ Content string } }
		Usage   struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		panic(err)
	}
	fmt.Println(resp.Status, out.Model)
	fmt.Println(out.Choices[0].Message.Content)
	fmt.Println("usage:", out.Usage.PromptTokens, "in,", out.Usage.CompletionTokens, "out")
	fmt.Println("requests:", srv.Count())
	// Output:
	// 200 OK gpt-4o-mini
	// Hi there, friend.
	// usage: 18 in, 3 out
	// requests: 1
}

// Queued faults answer the next requests, one each, shaped like the
// provider's own errors.
func ExampleFake_Push() {
	tr := llmtest.NewTransport()
	tr.Push(llmtest.RateLimited(2*time.Second), llmtest.Overloaded())

	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, tr.URL+"/v1/messages",
			strings.NewReader(`{"model":"claude-haiku-4-5","max_tokens":64,"messages":[]}`))
		req.Header.Set("anthropic-version", "2023-06-01")
		resp, err := tr.RoundTrip(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct{ Error struct{ Type string } }
		_ = json.Unmarshal(body, &e)
		fmt.Println(resp.StatusCode, e.Error.Type, "retry-after:"+resp.Header.Get("Retry-After"))
	}
	// Output:
	// 429 rate_limit_error retry-after:2
	// 529 overloaded_error retry-after:
	// 200  retry-after:
}

// A stream in memory: the fake sends the reply word by word, then the
// usage chunk the request asked for, then [DONE].
func ExampleNewTransport() {
	tr := llmtest.NewTransport(llmtest.WithReply("One two three."))
	resp, err := tr.Client().Post(tr.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[]}`))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Header.Get("Content-Type"))
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var chunk struct {
			Choices []struct {
				Delta        struct{ Content string }
				FinishReason *string `json:"finish_reason"`
			}
			Usage *struct {
				TotalTokens int `json:"total_tokens"`
			}
		}
		if data == "[DONE]" || json.Unmarshal([]byte(data), &chunk) != nil {
			fmt.Println(data)
			continue
		}
		switch {
		case chunk.Usage != nil:
			fmt.Printf("usage: %d tokens\n", chunk.Usage.TotalTokens)
		case chunk.Choices[0].FinishReason != nil:
			fmt.Println("finish:", *chunk.Choices[0].FinishReason)
		default:
			fmt.Printf("%q\n", chunk.Choices[0].Delta.Content)
		}
	}
	// Output:
	// text/event-stream; charset=utf-8
	// ""
	// "One"
	// " two"
	// " three."
	// finish: stop
	// usage: 25 tokens
	// [DONE]
}

// A Gate holds a stream between events, so a test can check what reached
// the client before the upstream sends more.
func ExampleGate() {
	tr := llmtest.NewTransport()
	gate := llmtest.NewGate()
	tr.Push(llmtest.Hold(gate))

	resp, err := tr.Client().Post(tr.URL+"/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
		"application/json", strings.NewReader(`{"contents":[]}`))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()

	events := make(chan string)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
			if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 { // Gemini's separator
				return i + 4, data[:i], nil
			}
			return 0, nil, nil
		})
		for sc.Scan() {
			var chunk struct {
				Candidates []struct {
					Content      struct{ Parts []struct{ Text string } }
					FinishReason string
				}
			}
			_ = json.Unmarshal(bytes.TrimPrefix(sc.Bytes(), []byte("data: ")), &chunk)
			c := chunk.Candidates[0]
			events <- strings.TrimSpace(fmt.Sprintf("%q %s", c.Content.Parts[0].Text, c.FinishReason))
		}
	}()
	gate.Release()
	fmt.Println(<-events)
	gate.Open()
	for ev := range events {
		fmt.Println(ev)
	}
	// Output:
	// "Hello"
	// " from"
	// " llmtest." STOP
}

// A request that offers tools gets the calls; the next one, carrying their
// results, gets the reply.
func ExampleWithToolCalls() {
	tr := llmtest.NewTransport(llmtest.WithToolCalls(llmtest.ToolCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}))
	ask := func(messages string) {
		body := `{"model":"gpt-4o","tools":[{"type":"function","function":{"name":"get_weather"}}],"messages":[` + messages + `]}`
		resp, err := tr.Client().Post(tr.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var out struct {
			Choices []struct {
				Message struct {
					Content   *string
					ToolCalls []struct {
						ID       string
						Function struct{ Name, Arguments string }
					} `json:"tool_calls"`
				}
				FinishReason string `json:"finish_reason"`
			}
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			panic(err)
		}
		c := out.Choices[0]
		for _, tc := range c.Message.ToolCalls {
			fmt.Println(tc.ID, tc.Function.Name, tc.Function.Arguments)
		}
		if c.Message.Content != nil {
			fmt.Println(*c.Message.Content)
		}
		fmt.Println(c.FinishReason)
	}
	ask(`{"role":"user","content":"Weather in Paris?"}`)
	ask(`{"role":"user","content":"Weather in Paris?"},` +
		`{"role":"assistant","tool_calls":[{"id":"call_llmtest00000000000000100","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},` +
		`{"role":"tool","tool_call_id":"call_llmtest00000000000000100","content":"sunny"}`)
	// Output:
	// call_llmtest00000000000000100 get_weather {"city":"Paris"}
	// tool_calls
	// Hello from llmtest.
	// stop
}
