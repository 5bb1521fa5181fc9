package jsonscan

import "bytes"

// ReplaceMember returns a copy of the JSON object body with the value of its
// top-level member key replaced by value, or the member removed when value
// is nil, the rest of body byte for byte. ok is false (and body is returned)
// when body has no such member.
func ReplaceMember(body []byte, key string, value []byte) (out []byte, ok bool) {
	it := Members(body)
	prevEnd := -1 // where the previous member's value ends
	for it.Next() {
		off := it.ValueOffset()
		end := off + len(it.Value())
		if string(it.Key()) != key {
			prevEnd = end
			continue
		}
		if value != nil {
			return splice(body, off, end, value), true
		}
		if prevEnd >= 0 { // remove `,"key":value`
			return splice(body, prevEnd, end, nil), true
		}
		// The first member: remove `"key":value` and the comma after it.
		open := bytes.IndexByte(body, '{')
		next := SkipSpace(body, end)
		if next < len(body) && body[next] == ',' {
			next++
		}
		return splice(body, open+1, next, nil), true
	}
	return body, false
}

func splice(body []byte, from, to int, s []byte) []byte {
	out := make([]byte, 0, len(body)-(to-from)+len(s))
	out = append(out, body[:from]...)
	out = append(out, s...)
	return append(out, body[to:]...)
}
