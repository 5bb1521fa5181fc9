package wire

import "strings"

// Captured-style payloads, with the field layouts the providers really send.

func sseBody(events ...string) string { return strings.Join(events, "\n\n") + "\n\n" }

var (
	openAIChatStream = sseBody(
		`data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}`,
		`data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}`,
		`data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":" \"usage\": {\\\"prompt_tokens\\\": 1}"},"logprobs":null,"finish_reason":null}],"usage":null}`,
		`data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}`,
		`data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[],"usage":{"prompt_tokens":2070,"completion_tokens":12,"total_tokens":2082,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}`,
		`data: [DONE]`,
	)

	openAIChatStreamNoUsage = sseBody(
		`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`,
		`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}]}`,
	)

	openAIReasoningJSON = `{
  "id": "chatcmpl-AyPNinnUqUDYo9SAdA52NobMflmj2",
  "object": "chat.completion",
  "created": 1738960610,
  "model": "o3-mini-2025-01-31",
  "choices": [
    {
      "index": 0,
      "message": {"role": "assistant", "content": "Done.", "refusal": null, "annotations": []},
      "finish_reason": "stop"
    }
  ],
  "usage": {
    "prompt_tokens": 13,
    "completion_tokens": 591,
    "total_tokens": 604,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 512, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default",
  "system_fingerprint": "fp_ef58bd3122"
}`

	// Older Groq streams report usage under x_groq on the last chunk.
	groqStream = sseBody(
		`data: {"id":"chatcmpl-9a1f","object":"chat.completion.chunk","created":1717000000,"model":"llama3-8b-8192","system_fingerprint":"fp_af05557ca2","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"x_groq":{"id":"req_01hz"}}`,
		`data: {"id":"chatcmpl-9a1f","object":"chat.completion.chunk","created":1717000000,"model":"llama3-8b-8192","system_fingerprint":"fp_af05557ca2","choices":[{"index":0,"delta":{"content":"Fast"},"logprobs":null,"finish_reason":null}]}`,
		`data: {"id":"chatcmpl-9a1f","object":"chat.completion.chunk","created":1717000000,"model":"llama3-8b-8192","system_fingerprint":"fp_af05557ca2","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"x_groq":{"id":"req_01hz","usage":{"queue_time":0.019,"prompt_tokens":24,"prompt_time":0.006,"completion_tokens":377,"completion_time":0.302,"total_tokens":401,"total_time":0.308}}}`,
		`data: [DONE]`,
	)

	deepSeekStream = sseBody(
		`data: {"id":"4d3e","object":"chat.completion.chunk","created":1738000000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0425fp8","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"logprobs":null,"finish_reason":null}]}`,
		`data: {"id":"4d3e","object":"chat.completion.chunk","created":1738000000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0425fp8","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Okay"},"logprobs":null,"finish_reason":null}]}`,
		`data: {"id":"4d3e","object":"chat.completion.chunk","created":1738000000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0425fp8","choices":[{"index":0,"delta":{"content":"","reasoning_content":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":76,"completion_tokens":400,"total_tokens":476,"prompt_tokens_details":{"cached_tokens":64},"completion_tokens_details":{"reasoning_tokens":350},"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":12}}`,
		`data: [DONE]`,
	)

	deepSeekJSON = `{"id":"930c","object":"chat.completion","created":1738000000,"model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":16,"completion_tokens":10,"total_tokens":26,"prompt_cache_hit_tokens":0,"prompt_cache_miss_tokens":16},"system_fingerprint":"fp_3a5770e1b4"}`

	// xAI reports cumulative usage on its chunks; the last one before
	// [DONE] has none.
	xaiStream = sseBody(
		`data: {"id":"e409f4cc","object":"chat.completion.chunk","created":1732551988,"model":"grok-3","choices":[{"index":0,"delta":{"content":"Coca","role":"assistant"}}],"usage":{"prompt_tokens":38,"completion_tokens":1,"total_tokens":39,"prompt_tokens_details":{"text_tokens":38,"audio_tokens":0,"image_tokens":0,"cached_tokens":6}},"system_fingerprint":"fp_6ca29cf396"}`,
		`data: {"id":"e409f4cc","object":"chat.completion.chunk","created":1732551988,"model":"grok-3","choices":[{"index":0,"delta":{"content":"-Cola","role":"assistant"}}],"usage":{"prompt_tokens":38,"completion_tokens":2,"total_tokens":40,"prompt_tokens_details":{"text_tokens":38,"audio_tokens":0,"image_tokens":0,"cached_tokens":6}},"system_fingerprint":"fp_6ca29cf396"}`,
		`data: {"id":"e409f4cc","object":"chat.completion.chunk","created":1732551988,"model":"grok-3","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":"stop"}],"usage":{"prompt_tokens":38,"completion_tokens":3,"total_tokens":41,"prompt_tokens_details":{"text_tokens":38,"audio_tokens":0,"image_tokens":0,"cached_tokens":6},"completion_tokens_details":{"reasoning_tokens":0}},"system_fingerprint":"fp_6ca29cf396"}`,
		`data: {"id":"e409f4cc","object":"chat.completion.chunk","created":1732551988,"model":"grok-3","choices":[],"system_fingerprint":"fp_6ca29cf396"}`,
		`data: [DONE]`,
	)

	openRouterStream = sseBody(
		`: OPENROUTER PROCESSING`,
		`: OPENROUTER PROCESSING`,
		`data: {"id":"gen-1747","provider":"OpenAI","model":"openai/gpt-4o","object":"chat.completion.chunk","created":1747000000,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}`,
		`data: {"id":"gen-1747","provider":"OpenAI","model":"openai/gpt-4o","object":"chat.completion.chunk","created":1747000000,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop","native_finish_reason":"stop","logprobs":null}]}`,
		`data: {"id":"gen-1747","provider":"OpenAI","model":"openai/gpt-4o","object":"chat.completion.chunk","created":1747000000,"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"cost":0.000075,"is_byok":false,"prompt_tokens_details":{"cached_tokens":0},"cost_details":{"upstream_inference_cost":null},"completion_tokens_details":{"reasoning_tokens":0}}}`,
		`data: [DONE]`,
	)

	openAIMidStreamError = sseBody(
		`data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Par"},"finish_reason":null}]}`,
		`data: {"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`,
	)

	responsesStream = sseBody(
		"event: response.created\n"+`data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":null,"user":null,"metadata":{}}}`,
		"event: response.in_progress\n"+`data: {"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_67c9","object":"response","created_at":1741290958,"status":"in_progress","error":null,"model":"gpt-4.1-2025-04-14","output":[],"usage":null}}`,
		"event: response.output_item.added\n"+`data: {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"msg_67c9","type":"message","status":"in_progress","role":"assistant","content":[]}}`,
		"event: response.output_text.delta\n"+`data: {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_67c9","output_index":0,"content_index":0,"delta":"Hi"}`,
		"event: response.output_text.done\n"+`data: {"type":"response.output_text.done","sequence_number":5,"item_id":"msg_67c9","output_index":0,"content_index":0,"text":"Hi"}`,
		"event: response.completed\n"+`data: {"type":"response.completed","sequence_number":8,"response":{"id":"resp_67c9","object":"response","created_at":1741290958,"status":"completed","error":null,"incomplete_details":null,"model":"gpt-4.1-2025-04-14","output":[{"id":"msg_67c9","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi","annotations":[]}]}],"usage":{"input_tokens":37,"input_tokens_details":{"cached_tokens":10},"output_tokens":11,"output_tokens_details":{"reasoning_tokens":4},"total_tokens":48},"user":null,"metadata":{}}}`,
	)

	// Some servers send Responses events without "event:" lines.
	responsesStreamNoNames = sseBody(
		`data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","model":"gpt-4o-mini","output":[],"usage":null}}`,
		`data: {"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"ok"}`,
		`data: {"type":"response.incomplete","sequence_number":2,"response":{"id":"resp_1","object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"model":"gpt-4o-mini","output":[],"usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":0},"output_tokens":16,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":21}}}`,
	)

	responsesFailedStream = sseBody(
		"event: response.created\n"+`data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_2","object":"response","status":"in_progress","model":"o3-2025-04-16","output":[],"usage":null}}`,
		"event: response.failed\n"+`data: {"type":"response.failed","sequence_number":1,"response":{"id":"resp_2","object":"response","status":"failed","error":{"code":"server_error","message":"The model failed to generate a response."},"model":"o3-2025-04-16","output":[],"usage":{"input_tokens":20,"output_tokens":0,"total_tokens":20}}}`,
	)

	responsesErrorEvent = sseBody(
		"event: response.created\n"+`data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_3","object":"response","status":"in_progress","model":"gpt-4o","output":[],"usage":null}}`,
		"event: error\n"+`data: {"type":"error","code":"rate_limit_exceeded","message":"Rate limit reached","param":null,"sequence_number":1}`,
	)

	responsesJSON = `{"id":"resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b","object":"response","created_at":1741476542,"status":"completed","error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[{"type":"message","id":"msg_67ccd2bf","status":"completed","role":"assistant","content":[{"type":"output_text","text":"In a peaceful grove...","annotations":[]}]}],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":0},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":123},"user":null,"metadata":{}}`

	embeddingsJSON = `{
  "object": "list",
  "data": [
    {"object": "embedding", "index": 0, "embedding": [0.0023064255, -0.009327292, -0.0028842222, 0.017545905]}
  ],
  "model": "text-embedding-3-small",
  "usage": {"prompt_tokens": 8, "total_tokens": 8}
}`

	anthropicStream = sseBody(
		"event: message_start\n"+`data: {"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":1500,"cache_read_input_tokens":3000,"cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":500},"output_tokens":2,"service_tier":"standard"}}}`,
		"event: content_block_start\n"+`data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		"event: ping\n"+`data: {"type": "ping"}`,
		"event: content_block_delta\n"+`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello \"usage\": {\"output_tokens\": 999}"}}`,
		"event: content_block_stop\n"+`data: {"type":"content_block_stop","index":0}`,
		"event: message_delta\n"+`data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}`,
		"event: message_delta\n"+`data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":472,"cache_creation_input_tokens":1500,"cache_read_input_tokens":3000,"output_tokens":89,"output_tokens_details":{"thinking_tokens":40}}}`,
		"event: message_stop\n"+`data: {"type":"message_stop"}`,
	)

	// Cut after the first content: only message_start's usage is known.
	anthropicCutStream = sseBody(
		"event: message_start\n"+`data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}`,
		"event: content_block_start\n"+`data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		"event: content_block_delta\n"+`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}`,
	)

	anthropicErrorStream = sseBody(
		"event: message_start\n"+`data: {"type":"message_start","message":{"id":"msg_2","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}`,
		"event: error\n"+`data: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}`,
	)

	// Without "event:" lines (a proxy that drops them): the data's type counts.
	anthropicStreamNoNames = sseBody(
		`data: {"type":"message_start","message":{"id":"msg_3","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022","content":[],"usage":{"input_tokens":9,"output_tokens":1}}}`,
		`data: {"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":20}}`,
		`data: {"type":"message_stop"}`,
	)

	anthropicJSON = `{"id":"msg_013Zva2CMHLNnXjNJJKqJ2EF","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[{"type":"text","text":"Hi! My name is Claude."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":2095,"cache_creation_input_tokens":0,"cache_read_input_tokens":2048,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":503,"service_tier":"standard"}}`

	// Gemini's SSE uses CRLF framing; early chunks lack candidate counts.
	geminiStream = "" +
		`data: {"candidates": [{"content": {"parts": [{"text": "The"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}]},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}` + "\r\n\r\n" +
		`data: {"candidates": [{"content": {"parts": [{"text": " sky is blue"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}` + "\r\n\r\n" +
		`data: {"candidates": [{"content": {"parts": [{"text": "."}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 30,"totalTokenCount": 139,"cachedContentTokenCount": 4,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 9}],"thoughtsTokenCount": 100},"modelVersion": "gemini-2.5-flash","responseId": "Ph3xaPvGKq"}` + "\r\n\r\n"

	geminiStreamEarlyOnly = `data: {"candidates": [{"content": {"parts": [{"text": "The"}],"role": "model"},"index": 0}],"usageMetadata": {},"modelVersion": "gemini-2.0-flash"}` + "\r\n\r\n"

	geminiMidStreamError = "" +
		`data: {"candidates": [{"content": {"parts": [{"text": "The"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 5,"totalTokenCount": 5},"modelVersion": "gemini-2.0-flash"}` + "\r\n\r\n" +
		`data: {"error": {"code": 503,"message": "The model is overloaded. Please try again later.","status": "UNAVAILABLE"}}` + "\r\n\r\n"

	geminiJSON = `{
  "candidates": [
    {
      "content": {"parts": [{"text": "Hello there"}], "role": "model"},
      "finishReason": "STOP",
      "avgLogprobs": -0.0529
    }
  ],
  "usageMetadata": {
    "promptTokenCount": 120,
    "candidatesTokenCount": 3,
    "totalTokenCount": 123,
    "cachedContentTokenCount": 100,
    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 120}],
    "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 3}]
  },
  "modelVersion": "gemini-2.0-flash",
  "responseId": "Cg2xaKD"
}`

	// :streamGenerateContent without alt=sse answers with a JSON array.
	geminiJSONArray = `[{"candidates": [{"content": {"parts": [{"text": "Hi"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 4,"totalTokenCount": 4},"modelVersion": "gemini-2.0-flash"}
,
{"candidates": [{"content": {"parts": [{"text": "!"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 4,"candidatesTokenCount": 2,"totalTokenCount": 6},"modelVersion": "gemini-2.0-flash"}
]`

	openAIRateLimitBody   = `{"error":{"message":"Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29800, Requested 900. Please try again in 1.4s.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`
	openAIQuotaBody       = `{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`
	openAIAuthBody        = "{\n    \"error\": {\n        \"message\": \"Incorrect API key provided: sk-abc. You can find your API key at https://platform.openai.com/account/api-keys.\",\n        \"type\": \"invalid_request_error\",\n        \"param\": null,\n        \"code\": \"invalid_api_key\"\n    }\n}\n"
	anthropicOverloaded   = `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}`
	anthropicSpendLimit   = `{"type":"error","error":{"type":"rate_limit_error","message":"Your organization has reached its spend limit.","details":{"error_code":"enforced_spend_limit_reached"}}}`
	geminiRateLimitBody   = `{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"38s"}]}}`
	geminiBadKeyBody      = `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]}}`
	mistralValidationBody = `{"object":"error","message":{"detail":[{"type":"extra_forbidden","loc":["body","stream_options","include_usage"],"msg":"Extra inputs are not permitted","input":true}]},"type":"invalid_request_error","param":null,"code":null}`
	htmlGatewayBody       = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"

	// n=2: each choice finishes in its own chunk, index 1 before index 0.
	openAIChatStreamTwoChoices = sseBody(
		`data: {"id":"chatcmpl-C2nVqk8sJr3","object":"chat.completion.chunk","created":1755000000,"model":"gpt-4.1-mini-2025-04-14","service_tier":"default","system_fingerprint":"fp_4fce0778af","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"a1"}`,
		`data: {"id":"chatcmpl-C2nVqk8sJr3","object":"chat.completion.chunk","created":1755000000,"model":"gpt-4.1-mini-2025-04-14","service_tier":"default","system_fingerprint":"fp_4fce0778af","choices":[{"index":1,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"b2"}`,
		`data: {"id":"chatcmpl-C2nVqk8sJr3","object":"chat.completion.chunk","created":1755000000,"model":"gpt-4.1-mini-2025-04-14","service_tier":"default","system_fingerprint":"fp_4fce0778af","choices":[{"index":1,"delta":{"content":"Yes \"finish_reason\":\"tool_calls\""},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"c3"}`,
		`data: {"id":"chatcmpl-C2nVqk8sJr3","object":"chat.completion.chunk","created":1755000000,"model":"gpt-4.1-mini-2025-04-14","service_tier":"default","system_fingerprint":"fp_4fce0778af","choices":[{"index":1,"delta":{},"logprobs":null,"finish_reason":"length"}],"usage":null,"obfuscation":"d4"}`,
		`data: {"id":"chatcmpl-C2nVqk8sJr3","object":"chat.completion.chunk","created":1755000000,"model":"gpt-4.1-mini-2025-04-14","service_tier":"default","system_fingerprint":"fp_4fce0778af","choices":[{"index":0,"delta":{"content":"No"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"e5"}`,
		`data: {"id":"chatcmpl-C2nVqk8sJr3","object":"chat.completion.chunk","created":1755000000,"model":"gpt-4.1-mini-2025-04-14","service_tier":"default","system_fingerprint":"fp_4fce0778af","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null,"obfuscation":"f6"}`,
		`data: {"id":"chatcmpl-C2nVqk8sJr3","object":"chat.completion.chunk","created":1755000000,"model":"gpt-4.1-mini-2025-04-14","service_tier":"default","system_fingerprint":"fp_4fce0778af","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":7,"total_tokens":16,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}`,
		`data: [DONE]`,
	)

	// A Python server (vLLM's OpenAI-compatible API) separates with ": ",
	// and ends on a tool call.
	vllmToolCallStream = sseBody(
		`data: {"id": "chatcmpl-9f1c2e", "object": "chat.completion.chunk", "created": 1750000000, "model": "Qwen/Qwen2.5-7B-Instruct", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}]}`,
		`data: {"id": "chatcmpl-9f1c2e", "object": "chat.completion.chunk", "created": 1750000000, "model": "Qwen/Qwen2.5-7B-Instruct", "choices": [{"index": 0, "delta": {"tool_calls": [{"id": "chatcmpl-tool-1", "type": "function", "index": 0, "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]}, "logprobs": null, "finish_reason": null}]}`,
		`data: {"id": "chatcmpl-9f1c2e", "object": "chat.completion.chunk", "created": 1750000000, "model": "Qwen/Qwen2.5-7B-Instruct", "choices": [{"index": 0, "delta": {"content": ""}, "logprobs": null, "finish_reason": "tool_calls", "stop_reason": null}]}`,
		`data: {"id": "chatcmpl-9f1c2e", "object": "chat.completion.chunk", "created": 1750000000, "model": "Qwen/Qwen2.5-7B-Instruct", "choices": [], "usage": {"prompt_tokens": 180, "total_tokens": 201, "completion_tokens": 21}}`,
		`data: [DONE]`,
	)

	openAIChatJSONTwoChoices = `{"id":"chatcmpl-C2nWz1","object":"chat.completion","created":1755000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}],"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"tool_calls"},{"index":1,"message":{"role":"assistant","content":"It is sunny.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99},"service_tier":"default","system_fingerprint":"fp_07871e2ad8"}`

	responsesIncompleteJSON = `{"id":"resp_68a1b2c3","object":"response","created_at":1755000000,"status":"incomplete","background":false,"error":null,"incomplete_details":{"reason":"content_filter"},"model":"gpt-4o-2024-08-06","output":[],"usage":{"input_tokens":12,"input_tokens_details":{"cached_tokens":0},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":15}}`

	// Background mode answers at once, still queued: no finish reason yet.
	responsesQueuedJSON = `{"id":"resp_68a1queued","object":"response","created_at":1755000000,"status":"queued","background":true,"error":null,"incomplete_details":null,"model":"o3-2025-04-16","output":[],"usage":null}`

	anthropicToolUseStream = sseBody(
		"event: message_start\n"+`data: {"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2},"content":[],"stop_reason":null}}`,
		"event: content_block_start\n"+`data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}`,
		"event: content_block_delta\n"+`data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"stop_reason\": \"x\"}"}}`,
		"event: content_block_stop\n"+`data: {"type":"content_block_stop","index":0}`,
		"event: message_delta\n"+`data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}`,
		"event: message_stop\n"+`data: {"type":"message_stop"}`,
	)

	// candidateCount 2: the last chunk finishes both candidates.
	geminiTwoCandidatesStream = "" +
		`data: {"candidates": [{"content": {"parts": [{"text": "Red"}],"role": "model"},"index": 0},{"content": {"parts": [{"text": "Blue"}],"role": "model"},"index": 1}],"usageMetadata": {"promptTokenCount": 6,"totalTokenCount": 6},"modelVersion": "gemini-2.0-flash","responseId": "kX2eaLmQBb"}` + "\r\n\r\n" +
		`data: {"candidates": [{"content": {"parts": [{"text": ""}],"role": "model"},"finishReason": "MAX_TOKENS","index": 1},{"content": {"parts": [{"text": "."}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 6,"candidatesTokenCount": 8,"totalTokenCount": 14},"modelVersion": "gemini-2.0-flash","responseId": "kX2eaLmQBb"}` + "\r\n\r\n"
)
