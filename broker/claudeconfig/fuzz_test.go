package claudeconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzApply edits arbitrary documents for each scope's path. It must never panic; a document
// that is not valid JSON (and not blank) must be refused with a *FileError; and every edit must
// give valid JSON that decodes to the input with exactly the entry added (or replaced) at its
// place, as JSON.parse would read it (for duplicate keys, the last one).
func FuzzApply(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0), false)
		f.Add(b, uint8(1), true)
	}
	f.Add([]byte(`{"projects":{"/p":{"mcpServers":{"studio":{}}}}}`), uint8(1), true)
	f.Add([]byte(`{"mcpServers":{"studio":{"command":"/b"}},"mcpServers":[]}`), uint8(0), true)
	f.Add([]byte("\xef\xbb\xbf{}"), uint8(1), false)
	f.Add([]byte(" "), uint8(0), false)
	f.Add([]byte(`{"a":"\u00"}`), uint8(0), false)

	plans := []plan{
		{keys: []string{"mcpServers"}, name: "studio", entry: Entry("studio", "/b/mcp broker")},
		{keys: []string{"projects", "/p", "mcpServers"}, name: "studio", entry: Entry("studio", "/b/mcp-broker"),
			skeletons: map[int]ordered{2: newProject()}},
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8, replace bool) {
		p := plans[int(which)%len(plans)]
		orig := bytes.Clone(data)
		e, err := p.apply(data, replace)
		if !bytes.Equal(data, orig) {
			t.Fatal("apply modified its input")
		}
		body := bytes.TrimPrefix(data, utf8BOM)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.Line < 1 || fe.Column < 1 {
				t.Fatalf("error %v is not a positioned *FileError", err)
			}
			if e.out != nil {
				t.Fatal("an error came with output")
			}
			return
		}
		if !json.Valid(body) && !isBlank(body) {
			t.Fatalf("invalid JSON was accepted: %q", data)
		}
		if e.out == nil {
			if e.status == StatusNew || e.status == StatusDifferent && replace {
				t.Fatalf("status %s without output", e.status)
			}
			return
		}
		if !bytes.HasPrefix(e.out, data[:len(data)-len(body)]) {
			t.Fatal("the byte order mark was lost")
		}
		got := decode(t, bytes.TrimPrefix(e.out, utf8BOM))
		want := map[string]any{}
		if !isBlank(body) {
			want = decode(t, body).(map[string]any)
		}
		expectAdded(t, want, p)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("apply(%q) =\n%s\nwhich is not the input plus the entry", data, e.out)
		}
	})
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("output is not valid JSON: %v\n%q", err, b)
	}
	if dec.More() {
		t.Fatalf("output has more than one value: %q", b)
	}
	return v
}

// expectAdded does to a decoded document what the plan does to its text.
func expectAdded(t *testing.T, doc map[string]any, p plan) {
	t.Helper()
	obj := doc
	for depth, key := range p.keys {
		child, ok := obj[key].(map[string]any)
		if !ok {
			b, err := marshal(p.object(depth + 1))
			if err != nil {
				t.Fatal(err)
			}
			obj[key] = decode(t, b)
			return
		}
		obj = child
	}
	b, err := marshal(p.entry)
	if err != nil {
		t.Fatal(err)
	}
	obj[p.name] = decode(t, b)
}
