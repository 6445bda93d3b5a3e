package paramheaders

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Value is one designated argument of a call, ready for its header but for the encoding.
type Value struct {
	// Header is the header's name, Mcp-Param-<Name>.
	Header string
	// Text is the argument as the specification converts it: a string as it is, an integer
	// in decimal, a boolean as true or false.
	Text string
}

// maxSafeInteger is the largest integer a JSON number keeps exactly through an IEEE 754
// double, the range the specification allows designated integers.
const maxSafeInteger = 1<<53 - 1

// Values reads the designated arguments of a tools/call request (the whole JSON-RPC message)
// at the paths of params. An argument that is absent or null gets no header (the
// specification says to omit it), and so does one that is an object or an array, which no
// header can carry (the server's own validation answers such a call).
//
// An argument is mirrored as the JSON value it is, whatever type the schema declares, so that
// the header always matches the body: a server compares the two, and judges the argument's
// type itself.
func Values(request []byte, params []Param) []Value {
	if len(params) == 0 {
		return nil
	}
	var m struct {
		Params struct {
			Arguments json.RawMessage `json:"arguments"`
		} `json:"params"`
	}
	if json.Unmarshal(request, &m) != nil {
		return nil
	}
	objects := map[string]map[string]json.RawMessage{} // the objects decoded so far, by path
	var out []Value
	for _, p := range params {
		if len(p.Path) == 0 {
			continue // not from Check: a designation is always on a parameter
		}
		raw := objectAt(p.Path[:len(p.Path)-1], objects, m.Params.Arguments)[p.Path[len(p.Path)-1]]
		if text, ok := valueText(raw); ok {
			out = append(out, Value{Header: p.Header(), Text: text})
		}
	}
	return out
}

// objectAt returns the object at path in the arguments args (nil when there is none there),
// decoding each object once.
func objectAt(path []string, objects map[string]map[string]json.RawMessage, args json.RawMessage) map[string]json.RawMessage {
	key := strings.Join(path, "\x00")
	if o, ok := objects[key]; ok {
		return o
	}
	raw := args
	if len(path) > 0 {
		raw = objectAt(path[:len(path)-1], objects, args)[path[len(path)-1]]
	}
	var o map[string]json.RawMessage
	_ = json.Unmarshal(raw, &o)
	objects[key] = o
	return o
}

// valueText converts one JSON value to its header text, and reports whether it has one.
func valueText(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case 't', 'f':
		return string(raw), true
	case 'n', '{', '[':
		return "", false
	}
	return numberText(string(raw)), true
}

// numberText writes a JSON number in decimal: an integer literal as it is (every digit kept),
// an integral number in another form (42.0, 4.2e1) as the integer it is when that is within
// the safe range, anything else as sent.
func numberText(lit string) string {
	plain := true
	for i := 0; i < len(lit); i++ {
		if c := lit[i]; !(c >= '0' && c <= '9' || (i == 0 && c == '-')) {
			plain = false
			break
		}
	}
	if plain {
		return lit
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err == nil && f == math.Trunc(f) && math.Abs(f) <= maxSafeInteger {
		return strconv.FormatInt(int64(f), 10)
	}
	return lit
}
