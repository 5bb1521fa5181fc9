package wire_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/aigateway-go/aigateway/internal/wire"
	"github.com/aigateway-go/aigateway/provider"
)

func ExampleDetect() {
	u, _ := url.Parse("http://127.0.0.1:8080/v1/chat/completions")
	p, f := wire.Detect(http.MethodPost, u)
	fmt.Println(p.Name(), f, f.Operation())
	// Output: openai openai.chat chat
}

func ExampleParseRequest() {
	body := []byte(`{"model":"claude-haiku-4-5","max_tokens":1024,"stream":true,"messages":[{"role":"user","content":"Hi"}]}`)
	r, err := wire.ParseRequest(provider.FormatAnthropicMessages, nil, body)
	fmt.Printf("%+v %v\n", r, err)
	// Output: {Model:claude-haiku-4-5 Stream:true MaxTokens:1024 IncludeUsage:false} <nil>
}

func ExampleWithStreamUsage() {
	out, _ := wire.WithStreamUsage([]byte(`{"model":"gpt-4o","stream":true,"stream_options":{"include_obfuscation":false}}`))
	fmt.Println(string(out))
	// Output: {"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false}}
}

func ExampleResponseScanner() {
	var s wire.ResponseScanner
	s.Reset(provider.FormatAnthropicMessages, true, http.StatusOK)
	s.Write([]byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-haiku-4-5-20251001\",\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":90,\"output_tokens\":1}}}\n\n"))
	s.Write([]byte("event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":42}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"))
	s.Finish()
	u, ok := s.Usage()
	fmt.Printf("%+v %v %s %v\n", u, ok, s.Model(), s.Terminated())
	// Output: {InputTokens:100 OutputTokens:42 CacheReadTokens:90 CacheCreationTokens:0 CacheCreation1hTokens:0 ReasoningTokens:0} true claude-haiku-4-5-20251001 true
}

func ExampleNewErrorResponse() {
	req, _ := http.NewRequest(http.MethodPost, "https://api.anthropic.com/v1/messages", nil)
	resp := provider.NewErrorResponse(req, provider.FormatAnthropicMessages, provider.ErrorSpec{
		Status:  http.StatusTooManyRequests,
		Message: "per-user token budget exhausted",
	})
	defer resp.Body.Close()
	fmt.Println(resp.Proto, resp.Status, resp.ContentLength)
	fmt.Println(resp.Header.Get("Content-Type"), "x-should-retry:", resp.Header.Get("X-Should-Retry"))
	io.Copy(os.Stdout, resp.Body)
	// Output:
	// HTTP/1.1 429 Too Many Requests 96
	// application/json x-should-retry: false
	// {"type":"error","error":{"type":"rate_limit_error","message":"per-user token budget exhausted"}}
}
