package paramheaders

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Tool is what a tools/list answer says of one tool's designations.
type Tool struct {
	Name string
	// Params are the designated parameters; nil when there are none or the tool is invalid.
	Params []Param
	// Invalid says why the tool's designations are invalid; nil when they are valid.
	Invalid error
}

// List is what ReadList found in an answer to tools/list.
type List struct {
	// Tools are the tools of the answer, in its order, rejected ones included.
	Tools []Tool
	// Answer is the answer for the client: the very bytes read when no tool was rejected,
	// else the same with the rejected tools taken out of result.tools (every other byte kept).
	Answer []byte
	// NextCursor is result.nextCursor as it was sent; nil when there is no further page.
	NextCursor json.RawMessage
}

// Rejected reports how many tools the answer lost.
func (l List) Rejected() int {
	n := 0
	for _, t := range l.Tools {
		if t.Invalid != nil {
			n++
		}
	}
	return n
}

// ReadList reads an answer to tools/list (a JSON-RPC response). An error answer, or a result
// without a tools array, has no tools: it comes back unchanged. An error means the answer is
// not one ReadList can take apart safely (not JSON, or a member it needs given twice); the
// caller then relays it as it is.
func ReadList(answer []byte) (List, error) {
	list := List{Answer: answer}
	top, err := members(answer, 0, "result")
	result, ok := top["result"]
	if err != nil || !ok || answer[result.start] != '{' {
		return list, err
	}
	in, err := members(answer, result.start, "nextCursor", "tools")
	if err != nil {
		return list, err
	}
	if c, ok := in["nextCursor"]; ok && string(answer[c.start:c.end]) != "null" {
		list.NextCursor = json.RawMessage(answer[c.start:c.end:c.end])
	}
	tools, ok := in["tools"]
	if !ok || answer[tools.start] != '[' {
		return list, nil
	}
	elems, err := elements(answer, tools)
	if err != nil {
		return list, err
	}
	kept := make([]span, 0, len(elems))
	for _, e := range elems {
		raw := answer[e.start:e.end]
		var t struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"inputSchema"`
		}
		if raw[0] != '{' || json.Unmarshal(raw, &t) != nil {
			kept = append(kept, e) // not a tool the client can call either: not ours to judge
			continue
		}
		params, invalid := Check(t.InputSchema)
		list.Tools = append(list.Tools, Tool{Name: t.Name, Params: params, Invalid: invalid})
		if invalid == nil {
			kept = append(kept, e)
		}
	}
	if len(kept) == len(elems) {
		return list, nil
	}
	list.Answer = rebuild(answer, tools, kept)
	return list, nil
}

// Cut returns an answer to tools/list without the tools for which keep reports false, every
// other byte kept: keep is handed each element of result.tools as it was sent. An answer that
// loses nothing comes back as the very bytes given, and so does an error answer or a result
// without a tools array. An error means the answer cannot be taken apart safely (as for
// ReadList); the caller then relays it as it is. The bridge cuts with it the tools its
// settings hide, by the same surgery as ReadList's.
func Cut(answer []byte, keep func(tool []byte) bool) ([]byte, error) {
	top, err := members(answer, 0, "result")
	result, ok := top["result"]
	if err != nil || !ok || answer[result.start] != '{' {
		return answer, err
	}
	in, err := members(answer, result.start, "tools")
	if err != nil {
		return answer, err
	}
	tools, ok := in["tools"]
	if !ok || answer[tools.start] != '[' {
		return answer, nil
	}
	elems, err := elements(answer, tools)
	if err != nil {
		return answer, err
	}
	kept := make([]span, 0, len(elems))
	for _, e := range elems {
		if keep(answer[e.start:e.end:e.end]) {
			kept = append(kept, e)
		}
	}
	if len(kept) == len(elems) {
		return answer, nil
	}
	return rebuild(answer, tools, kept), nil
}

// rebuild returns answer with the array at tools holding only the elements kept.
func rebuild(answer []byte, tools span, kept []span) []byte {
	out := make([]byte, 0, len(answer))
	out = append(out, answer[:tools.start+1]...)
	for i, e := range kept {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, answer[e.start:e.end]...)
	}
	return append(out, answer[tools.end-1:]...)
}

// span is a value's place in the text: [start, end).
type span struct{ start, end int }

// errDuplicate is for a member given twice: encoding/json would keep the last, other
// decoders the first; which tools the client sees must not depend on that.
var errDuplicate = errors.New("a member is given twice")

// members finds the values of the members named by keys in the object that starts at offset
// start of text; a key that is absent gets no entry.
func members(text []byte, start int, keys ...string) (map[string]span, error) {
	dec := json.NewDecoder(bytes.NewReader(text[start:]))
	if tok, err := dec.Token(); err != nil {
		return nil, err
	} else if tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	found := map[string]span{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v skipped
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		if !slices.Contains(keys, key) {
			continue
		}
		if _, dup := found[key]; dup {
			return nil, fmt.Errorf("%q: %w", key, errDuplicate)
		}
		end := start + int(dec.InputOffset())
		found[key] = span{end - v.n, end}
	}
	return found, nil
}

// skipped takes a value from a Decoder without copying it: it keeps only its length.
type skipped struct{ n int }

func (s *skipped) UnmarshalJSON(b []byte) error {
	s.n = len(b)
	return nil
}

// elements returns the spans of the elements of the array at arr.
func elements(text []byte, arr span) ([]span, error) {
	dec := json.NewDecoder(bytes.NewReader(text[arr.start:arr.end]))
	if _, err := dec.Token(); err != nil { // [
		return nil, err
	}
	var out []span
	for dec.More() {
		var v skipped
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		end := arr.start + int(dec.InputOffset())
		out = append(out, span{end - v.n, end})
	}
	return out, nil
}
