package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
)

// referenceLines is the framing rule written the obvious way: split on '\n', drop one trailing
// '\r', reject lines over limit (blank or not), skip blank lines.
func referenceLines(data []byte, limit int) []result {
	var out []result
	parts := bytes.Split(data, []byte{'\n'})
	for _, p := range parts {
		p = bytes.TrimSuffix(p, []byte{'\r'})
		switch {
		case len(p) > limit:
			out = append(out, result{err: ErrTooLarge})
		case isBlank(p):
		default:
			out = append(out, result{line: string(p)})
		}
	}
	return append(out, result{err: io.EOF})
}

// FuzzReader checks the framing against referenceLines whatever the buffer size and the way the
// source splits its reads.
func FuzzReader(f *testing.F) {
	f.Add([]byte("{}\n[1]\r\n\n  \nlast"), uint16(100), uint8(4), uint8(3))
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaa\nb\r\n"), uint16(5), uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, bufSize, chunk uint8) {
		lim := int(limit%512) + 1
		want := referenceLines(data, lim)
		src := &chunkReader{r: bytes.NewReader(data), sizes: []int{int(chunk%13) + 1, int(chunk%5) + 1, 64}}
		r := newReaderSize(src, lim, int(bufSize%32)+1)
		got := readAll(r)
		if !equalResults(got, want) {
			t.Fatalf("limit %d buf %d chunk %d:\ngot  %s\nwant %s", lim, bufSize%32+1, chunk, describe(got), describe(want))
		}
	})
}

// FuzzParse checks that Parse never panics, accepts exactly what encoding/json accepts, and finds
// the same id and method as encoding/json; and that compaction matches json.Compact.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":"t"}}}`))
	f.Add([]byte(`[{"id":"a","result":{}},{"method":"n"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := Parse(data)
		valid := json.Valid(data)
		if valid != (err == nil) {
			t.Fatalf("json.Valid = %v but Parse error = %v", valid, err)
		}
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not wrap ErrSyntax", err)
			}
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, data); err != nil {
			t.Fatal(err)
		}
		if got, err := appendCompact(nil, data); err != nil || !bytes.Equal(got, compact.Bytes()) {
			t.Fatalf("appendCompact = %q, %v; json.Compact = %q", got, err, compact.Bytes())
		}
		trimmed := bytes.TrimSpace(data)
		switch {
		case trimmed[0] == '{':
			checkAgainstEncodingJSON(t, trimmed, env)
		case trimmed[0] == '[':
			var elems []json.RawMessage
			if err := json.Unmarshal(trimmed, &elems); err != nil {
				t.Fatal(err)
			}
			if len(elems) == 0 {
				if env.Kind != KindInvalid {
					t.Fatalf("empty batch is %v", env.Kind)
				}
				return
			}
			if env.Kind != KindBatch || len(env.Batch) != len(elems) {
				t.Fatalf("batch: kind %v with %d elements, want %d", env.Kind, len(env.Batch), len(elems))
			}
			for i, e := range elems {
				if e[0] == '{' {
					checkAgainstEncodingJSON(t, e, env.Batch[i])
				} else if env.Batch[i].Kind != KindInvalid {
					t.Fatalf("element %d (%s) is %v", i, e, env.Batch[i].Kind)
				}
			}
		default:
			if env.Kind != KindInvalid {
				t.Fatalf("scalar is %v", env.Kind)
			}
		}
	})
}

func checkAgainstEncodingJSON(t *testing.T, obj []byte, env Envelope) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		t.Fatal(err)
	}
	id, hasID := m["id"]
	if !bytes.Equal(env.ID, id) || hasID != (env.ID != nil) {
		t.Fatalf("ID = %q, encoding/json says %q (present %v)", env.ID, id, hasID)
	}
	var method string
	rawMethod, hasMethod := m["method"]
	methodIsString := hasMethod && json.Unmarshal(rawMethod, &method) == nil && rawMethod[0] == '"'
	_, hasResult := m["result"]
	_, hasError := m["error"]
	idOK := !hasID || bytes.ContainsAny(id[:1], `"-0123456789n`)
	want := KindInvalid
	switch {
	case hasMethod && methodIsString && idOK && hasID:
		want = KindRequest
	case hasMethod && methodIsString && idOK:
		want = KindNotification
	case !hasMethod && (hasResult || hasError) && hasID && idOK:
		want = KindResponse
	}
	if env.Kind != want {
		t.Fatalf("Kind = %v, want %v", env.Kind, want)
	}
	if want == KindRequest || want == KindNotification {
		if env.Method != method {
			t.Fatalf("Method = %q, encoding/json says %q", env.Method, method)
		}
	}
	if env.Kind == KindResponse {
		wantErr := hasError && string(m["error"]) != "null"
		if env.IsError != wantErr {
			t.Fatalf("IsError = %v, want %v", env.IsError, wantErr)
		}
	}
	_ = env.IDKey() // must not panic
}
