// Package translate translates chat requests and their answers between the
// wire formats of OpenAI chat completions, Anthropic messages and Gemini
// generateContent, in all six directions, through one representation
// (Request, Response, Event) rather than pairwise: each format's Codec
// reads its format into it and writes it back. Streams are translated
// event by event as they arrive.
//
// The stack uses it when a fallback target speaks another format than the
// caller: the request goes out in the target's format and the answer comes
// back in the caller's, so the caller's SDK never knows.
package translate
