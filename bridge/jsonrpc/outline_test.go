package jsonrpc

import (
	"fmt"
	"strings"
	"testing"
)

// outlineOf writes msg to an Outline in pieces of size n.
func outlineOf(msg []byte, n int) (Envelope, bool) {
	var o Outline
	for len(msg) > 0 {
		k := min(n, len(msg))
		o.Write(msg[:k])
		msg = msg[k:]
	}
	return o.Envelope()
}

// sameOutline reports whether an Outline's envelope says what Parse's does of kinds and ids.
func sameOutline(got, want Envelope) bool {
	if got.Kind != want.Kind || len(got.Batch) != len(want.Batch) {
		return false
	}
	if (want.Kind == KindRequest || want.Kind == KindResponse) && got.IDKey() != want.IDKey() {
		return false
	}
	for i := range got.Batch {
		if !sameOutline(got.Batch[i], want.Batch[i]) {
			return false
		}
	}
	return true
}

func describeOutline(e Envelope) string {
	s := fmt.Sprintf("%s %s", e.Kind, e.ID)
	for _, b := range e.Batch {
		s += " [" + describeOutline(b) + "]"
	}
	return s
}

func TestOutline(t *testing.T) {
	big := strings.Repeat(`{"type":"text","text":"a \"quoted\" id\":2 } ]"},`, 2000)
	for _, msg := range []string{
		`{"jsonrpc":"2.0","id":1,"result":{"content":[` + big + `{}]}}`,
		`{"result":{"content":[` + big + `{}]},"jsonrpc":"2.0","id":"last"}`,
		`{"jsonrpc":"2.0","id":"a\"b\\","error":{"code":-1,"message":"` + strings.Repeat("x", 10000) + `"}}`,
		`{"jsonrpc":"2.0","id":12345678901234567890,"result":null}`,
		`{"jsonrpc":"2.0","id":null,"result":1}`,
		`{"jsonrpc":"2.0","id":-1.5e3 , "result" : [1,2,{"id":9}] }`,
		`{"jsonrpc":"2.0","\u0069d":7,"result":{}}`,
		`{"jsonrpc":"2.0","id":{"x":1},"result":{}}`,
		`{"jsonrpc":"2.0","id":true,"result":{}}`,
		`{"jsonrpc":"2.0","id":3,"method":"sampling/createMessage","params":{"x":"` + strings.Repeat("y", 5000) + `"}}`,
		`{"jsonrpc":"2.0","method":"notifications/message","params":{"id":4}}`,
		`{"jsonrpc":"2.0","id":3,"method":7,"result":{}}`,
		`{"jsonrpc":"2.0","id":3,"method":7,"method":"ok"}`,
		`{"id":1,"id":2,"result":{}}`,
		`{"jsonrpc":"2.0","result":{}}`,
		`[{"id":1,"result":{"a":[` + big + `{}]}},{"result":2,"id":"two"},{"method":"n"},3,"s",[1]]`,
		`[]`,
		`{}`,
		` {"id":"` + strings.Repeat("l", 300) + `","result":1}`,
	} {
		want, err := Parse([]byte(msg))
		if err != nil {
			t.Fatalf("not JSON: %.80s: %v", msg, err)
		}
		for _, n := range []int{1, 3, 7, 64, 1 << 20} {
			got, ok := outlineOf([]byte(msg), n)
			if strings.Contains(msg, strings.Repeat("l", 300)) {
				// Ids longer than Outline keeps are taken as invalid.
				if !ok || got.Kind != KindInvalid {
					t.Errorf("a very long id: %s, %v", describeOutline(got), ok)
				}
				continue
			}
			if !ok || !sameOutline(got, want) {
				t.Errorf("pieces of %d of %.100s:\ngot  %s (%v)\nwant %s", n, msg, describeOutline(got), ok, describeOutline(want))
			}
		}
	}
	for _, partial := range []string{`{"id":1,"result":{"x":`, `[{"id":1}`, `"str"`, `12`, ``} {
		if _, ok := outlineOf([]byte(partial), 2); ok {
			t.Errorf("Envelope of %q reports a complete message", partial)
		}
	}
}

// FuzzOutline checks Outline against Parse on every valid JSON input, whatever the pieces.
func FuzzOutline(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"id":2}]}}`), uint8(3))
	f.Add([]byte(`[{"result":{},"id":"a\\\""},{"method":"x","id":null}]`), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, piece uint8) {
		want, err := Parse(data)
		if err != nil {
			return
		}
		got, ok := outlineOf(data, int(piece%17)+1)
		top := strings.TrimLeft(string(data), " \t\r\n")
		if top == "" || (top[0] != '{' && top[0] != '[') {
			return
		}
		if !ok {
			t.Fatalf("no outline of %q", data)
		}
		if len(data) > maxOutlineID && !sameOutline(got, want) {
			return // perhaps an id longer than Outline keeps
		}
		if !sameOutline(got, want) {
			t.Fatalf("%q:\ngot  %s\nwant %s", data, describeOutline(got), describeOutline(want))
		}
	})
}
