package jsonscan

// ReplaceMember returns a copy of the JSON object body with the value of its
// top-level member key replaced by value, or the member removed when value
// is nil, the rest of body byte for byte. Keys are matched by their decoded
// value, and every occurrence of a duplicate key is replaced (or removed), so
// that whichever one a decoder reads holds value. ok is false (and body is
// returned) when body has no such member or is not a well-formed object.
func ReplaceMember(body []byte, key string, value []byte) (out []byte, ok bool) {
	var (
		it      = Members(body)
		copied  = 0  // body[:copied] is in out (or unchanged)
		prevEnd = -1 // where the previous member's value ends
		lead    = -1 // removing: where the run of removed first members starts
	)
	edit := func(from, to int, s []byte) {
		if out == nil {
			out = make([]byte, 0, len(body)+len(s))
		}
		out = append(out, body[copied:from]...)
		out = append(out, s...)
		copied = to
	}
	for it.Next() {
		off := it.ValueOffset()
		end := off + len(it.Value())
		match := string(it.Key()) == key
		switch {
		case match && value != nil:
			edit(off, end, value)
		case match && prevEnd < 0:
			// The first member: removed with the comma after it, once
			// the member that follows shows where that is.
			lead = SkipSpace(body, 0) + 1
		case match && lead >= 0:
			// Another removed member right after the first ones.
		case match:
			edit(prevEnd, end, nil) // `,"key":value`
		case lead >= 0:
			// The first kept member: the removed ones before it go with
			// the comma after them, the space after that comma stays.
			edit(lead, SkipSpace(body, prevEnd)+1, nil)
			lead = -1
		}
		prevEnd = end
	}
	if it.Err() != nil {
		return body, false
	}
	if lead >= 0 { // every member removed
		edit(lead, it.CloseOffset(), nil)
	}
	if out == nil {
		return body, false
	}
	return append(out, body[copied:]...), true
}
