package llmtest

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCountersAndCapture(t *testing.T) {
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			f := u.fake
			_, ok := f.LastRequest()
			assert.False(t, ok)
			read(t, u.post(t, chatPath, chatBody, "Authorization", "Bearer sk-test"))
			read(t, u.post(t, chatPath, chatBody))
			read(t, u.post(t, msgPath, msgBody, anthropicHeaders...))
			read(t, u.post(t, geminiStream, geminiBody))
			read(t, u.post(t, "/v1/unknown", `{}`))

			assert.Equal(t, 5, f.Count())
			assert.Equal(t, 2, f.CountPath(chatPath))
			assert.Equal(t, 1, f.CountPath(msgPath))
			assert.Equal(t, 1, f.CountPath("/v1beta/models/gemini-2.0-flash:streamGenerateContent"), "paths exclude the query")
			assert.Equal(t, 0, f.CountPath("/v1/embeddings"))

			reqs := f.Requests()
			require.Len(t, reqs, 5)
			for i, r := range reqs {
				assert.Equal(t, i+1, r.Seq)
				assert.Equal(t, http.MethodPost, r.Method)
				assert.True(t, r.URL.IsAbs(), r.URL.String())
			}
			assert.Equal(t, "Bearer sk-test", reqs[0].Header.Get("Authorization"))
			assert.Equal(t, chatBody, string(reqs[0].Body))
			assert.Equal(t, "openai.chat", reqs[0].Format)
			assert.Equal(t, "anthropic.messages", reqs[2].Format)
			assert.Equal(t, "gemini", reqs[3].Format)
			assert.Equal(t, "sse", reqs[3].URL.Query().Get("alt"))
			assert.Equal(t, "", reqs[4].Format)
			last, ok := f.LastRequest()
			require.True(t, ok)
			assert.Equal(t, 5, last.Seq)
			assert.Equal(t, "/v1/unknown", last.URL.Path)
		})
	}
}

func TestCaptureLimit(t *testing.T) {
	tr := NewTransport(WithCaptureLimit(3))
	u := upstream{url: tr.URL, client: tr.Client(), fake: tr.Fake}
	for i := 0; i < 7; i++ {
		read(t, u.post(t, chatPath, `{"model":"m`+strconv.Itoa(i)+`"}`))
	}
	assert.Equal(t, 7, tr.Count())
	reqs := tr.Requests()
	require.Len(t, reqs, 3)
	for i, r := range reqs {
		assert.Equal(t, 5+i, r.Seq, "the latest, oldest first")
	}
	last, _ := tr.LastRequest()
	assert.Equal(t, 7, last.Seq)

	none := NewTransport(WithCaptureLimit(0))
	u = upstream{url: none.URL, client: none.Client(), fake: none.Fake}
	read(t, u.post(t, chatPath, chatBody))
	assert.Equal(t, 1, none.Count())
	assert.Empty(t, none.Requests())
}

func TestConcurrentUse(t *testing.T) {
	for _, u := range both(t) {
		t.Run(u.name, func(t *testing.T) {
			u.fake.Push(ServerError(), ServerError(), ServerError())
			var wg sync.WaitGroup
			var mu sync.Mutex
			statuses := map[int]int{}
			for i := 0; i < 20; i++ {
				wg.Go(func() {
					body := `{"model":"m","stream":true}`
					if i%2 == 0 {
						body = chatBody
					}
					resp, err := u.client.Post(u.url+chatPath, "application/json", strings.NewReader(body))
					if !assert.NoError(t, err) {
						return
					}
					read(t, resp)
					mu.Lock()
					statuses[resp.StatusCode]++
					mu.Unlock()
				})
			}
			wg.Wait()
			assert.Equal(t, map[int]int{200: 17, 500: 3}, statuses)
			assert.Equal(t, 20, u.fake.Count())
		})
	}
}

func TestRequestValidation(t *testing.T) {
	cases := []struct {
		name, method, path, body string
		header                   []string
		status                   int
		message                  string
	}{
		{"unknown path", "POST", "/v1/completions/legacy", `{}`, nil, 404, "Invalid URL (POST /v1/completions/legacy)"},
		{"wrong method", "GET", chatPath, ``, nil, 405, "Invalid method for URL (GET /v1/chat/completions)"},
		{"invalid JSON", "POST", chatPath, `{"model":`, nil, 400, "We could not parse the JSON body"},
		{"not an object", "POST", respPath, `["model"]`, nil, 400, "We could not parse the JSON body"},
		{"trailing garbage", "POST", chatPath, `{"model":"m"} x`, nil, 400, "We could not parse the JSON body"},
		{"missing model", "POST", chatPath, `{"messages":[]}`, nil, 400, "you must provide a model parameter"},
		{"anthropic version", "POST", msgPath, msgBody, nil, 400, "anthropic-version: header is required"},
		{"anthropic max_tokens", "POST", msgPath, `{"model":"c","messages":[]}`, anthropicHeaders, 400, "max_tokens: Field required"},
		{"anthropic model", "POST", msgPath, `{"max_tokens":5}`, anthropicHeaders, 400, "model: Field required"},
		{"anthropic JSON", "POST", msgPath, `{`, anthropicHeaders, 400, "There was an error parsing the body"},
		{"gemini JSON", "POST", geminiPath, `nope`, nil, 400, "Invalid JSON payload received"},
		{"embeddings input", "POST", embedPath, `{"model":"e","input":[]}`, nil, 400, "'input' is a required property"},
	}
	for _, u := range both(t) {
		for _, c := range cases {
			t.Run(u.name+"/"+c.name, func(t *testing.T) {
				req, err := http.NewRequest(c.method, u.url+c.path, strings.NewReader(c.body))
				require.NoError(t, err)
				for i := 0; i+1 < len(c.header); i += 2 {
					req.Header.Set(c.header[i], c.header[i+1])
				}
				resp, err := u.client.Do(req)
				require.NoError(t, err)
				body := read(t, resp)
				require.Equal(t, c.status, resp.StatusCode, "%s", body)
				fc := formatCase{name: "openai"}
				switch {
				case strings.HasSuffix(c.path, "/messages"):
					fc.name = "anthropic.messages"
				case strings.Contains(c.path, ":generateContent"):
					fc.name = "gemini"
				}
				_, _, msg := errorFields(t, fc, body)
				assert.Contains(t, msg, c.message)
			})
		}
	}
}

func TestParseFields(t *testing.T) {
	f, ok := parseFields(apiChat, []byte(` {"messages":[{"role":"user","content":"a \"quoted\" }"}],
		"model" : "gpt-\u00e9", "stream":true, "n":1.5e3, "x":null, "y":[true,false,{}],
		"stream_options":{"other":1,"include_usage":true}, "max_completion_tokens":64} `))
	require.True(t, ok)
	assert.Equal(t, "gpt-é", f.model)
	assert.True(t, f.stream)
	assert.True(t, f.includeUsage)
	assert.Equal(t, int64(64), f.maxTokens)

	f, ok = parseFields(apiMessages, []byte(`{"model":"c","max_completion_tokens":9}`))
	require.True(t, ok)
	assert.False(t, f.hasMaxTokens, "Anthropic reads max_tokens only")

	f, ok = parseFields(apiGemini, []byte(`{"generationConfig":{"temperature":0.2,"maxOutputTokens":7}}`))
	require.True(t, ok)
	assert.Equal(t, int64(7), f.maxTokens)

	f, ok = parseFields(apiMessages, []byte(`{"thinking":{"budget_tokens":2048,"type":"enabled"},"tools":[{"name":"f"}],"messages":"odd"}`))
	require.True(t, ok)
	assert.True(t, f.thinkingOn)
	assert.True(t, f.thinkingEnabled)
	assert.Equal(t, int64(2048), f.thinkingBudget)
	assert.True(t, f.conv.offersTools)
	assert.False(t, f.conv.endsWithResults, "messages of the wrong type are skipped")

	f, ok = parseFields(apiGemini, []byte(`{"generation_config":{"thinking_config":{"include_thoughts":true,"thinking_budget":0}},"tools":[]}`))
	require.True(t, ok)
	assert.True(t, f.includeThoughts, "snake_case as the REST API accepts it")
	assert.True(t, f.thinkingOff)
	assert.False(t, f.conv.offersTools, "an empty tools offers none")

	f, ok = parseFields(apiResponses, []byte(`{"tools":[{"type":"function"}],"reasoning_effort":"none","messages":[{"role":"tool"}]}`))
	require.True(t, ok)
	assert.False(t, f.conv.offersTools, "Responses tools are not read")
	assert.False(t, f.thinkingOff, "Responses reads reasoning.effort")
	assert.Empty(t, f.conv.broken.message, "nor its messages")

	for _, bad := range []string{``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":tru}`, `{"a":-}`, `{"a":1.}`, `{"a":"x}`, `[]`, `{} {}`, `{"a":[1,]}`} {
		_, ok := parseFields(apiChat, []byte(bad))
		assert.False(t, ok, bad)
	}
	for a, bad := range map[api]string{
		apiChat:     `{"messages":[{"role":"tool","tool_calls":[{"id":1,}]}]}`,
		apiMessages: `{"messages":[{"content":[{"type":"text",}]}]}`,
		apiGemini:   `{"contents":[{"parts":[{"functionResponse":{"name":}}]}]}`,
	} {
		_, ok := parseFields(a, []byte(bad))
		assert.False(t, ok, bad)
	}
	_, ok = parseFields(apiChat, []byte(`{"stream":"yes","max_tokens":-1,"model":5,"stream_options":null}`))
	assert.True(t, ok, "wrong types are skipped, not errors")
}

func TestAPIKey(t *testing.T) {
	cases := []struct {
		name, path, body string
		good, bad        []string
		badStatus        int
	}{
		{"openai bearer", chatPath, chatBody, []string{"Authorization", "Bearer k1"}, []string{"Authorization", "Bearer k2"}, 401},
		{"azure api-key", "/openai/deployments/d/chat/completions?api-version=2024-10-21", chatBody, []string{"api-key", "k1"}, nil, 401},
		{"anthropic", msgPath, msgBody, []string{"x-api-key", "k1", "anthropic-version", "2023-06-01"}, []string{"x-api-key", "k2", "anthropic-version", "2023-06-01"}, 401},
		{"gemini header", geminiPath, geminiBody, []string{"x-goog-api-key", "k1"}, []string{"x-goog-api-key", "k2"}, 400},
		{"gemini query", geminiPath + "?key=k1", geminiBody, nil, nil, 0},
	}
	for _, u := range both(t, WithAPIKey("k1")) {
		for _, c := range cases {
			t.Run(u.name+"/"+c.name, func(t *testing.T) {
				resp := u.post(t, c.path, c.body, c.good...)
				read(t, resp)
				assert.Equal(t, 200, resp.StatusCode)
				if c.badStatus == 0 {
					return
				}
				resp = u.post(t, c.path, c.body, c.bad...)
				body := read(t, resp)
				assert.Equal(t, c.badStatus, resp.StatusCode)
				assert.NotContains(t, string(body), "k2", "keys are never echoed")
			})
		}
	}
}

func TestWithClock(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, u := range both(t, WithClock(func() time.Time { return now })) {
		t.Run(u.name, func(t *testing.T) {
			resp := u.post(t, chatPath, chatBody)
			var c chatCompletion
			decodeStrict(t, string(read(t, resp)), &c)
			assert.Equal(t, now.Unix(), c.Created)
			assert.Equal(t, "Wed, 04 Mar 2026 05:06:07 GMT", resp.Header.Get("Date"))
			resp = u.post(t, msgPath, msgBody, anthropicHeaders...)
			read(t, resp)
			assert.Equal(t, "2026-03-04T05:06:08Z", resp.Header.Get("Anthropic-Ratelimit-Requests-Reset"))
		})
	}
}
