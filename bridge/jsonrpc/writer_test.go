package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// recorder keeps every Write call separately.
type recorder struct {
	mu    sync.Mutex
	calls [][]byte
	err   error
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	r.calls = append(r.calls, bytes.Clone(p))
	return len(p), nil
}

func (r *recorder) String() string { return string(bytes.Join(r.calls, nil)) }

func TestWriter(t *testing.T) {
	tests := []struct {
		name  string
		msg   string
		want  string
		calls int
	}{
		{"untouched", `{"jsonrpc":"2.0","id":1,"result":{}}`, `{"jsonrpc":"2.0","id":1,"result":{}}` + "\n", 1},
		{"spaces and tabs kept", "{ \"a\" :\t1 }", "{ \"a\" :\t1 }\n", 1},
		{"escaped newlines kept", `{"text":"a\nb\r\n"}`, `{"text":"a\nb\r\n"}` + "\n", 1},
		{"pretty printed compacted", "{\n  \"id\": 1,\n  \"result\": {\r\n    \"text\": \"a b\\n\"\n  }\n}\n", `{"id":1,"result":{"text":"a b\n"}}` + "\n", 1},
		{"lone cr compacted", "{\"id\":1,\r\"result\":2}", `{"id":1,"result":2}` + "\n", 1},
		{"large message", `{"x":"` + strings.Repeat("y", smallWrite) + `"}`, `{"x":"` + strings.Repeat("y", smallWrite) + `"}` + "\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			if err := NewWriter(&rec).Write([]byte(tt.msg)); err != nil {
				t.Fatal(err)
			}
			if got := rec.String(); got != tt.want {
				t.Errorf("wrote %q, want %q", got, tt.want)
			}
			if len(rec.calls) != tt.calls {
				t.Errorf("%d Write calls, want %d", len(rec.calls), tt.calls)
			}
		})
	}
}

func TestWriterRejects(t *testing.T) {
	for _, msg := range []string{"", "{\"text\":\"raw\nnewline\"}", "{\"text\":\"raw\rcr\"}"} {
		var rec recorder
		if err := NewWriter(&rec).Write([]byte(msg)); err == nil {
			t.Errorf("Write(%q) succeeded", msg)
		}
		if len(rec.calls) != 0 {
			t.Errorf("Write(%q) wrote %q", msg, rec.String())
		}
	}
}

func TestWriterError(t *testing.T) {
	boom := errors.New("boom")
	w := NewWriter(&recorder{err: boom})
	for _, msg := range []string{`{}`, `{"x":"` + strings.Repeat("y", smallWrite) + `"}`} {
		if err := w.Write([]byte(msg)); !errors.Is(err, boom) {
			t.Errorf("err = %v, want boom", err)
		}
	}
}

func TestWriterCompactMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{
		map[string]any{"a": []any{1, "two\nlines", map[string]any{"b": nil}}, "c": "tab\there"},
		[]any{},
		map[string]any{},
		"just a string",
		json.RawMessage(bigResult(100_000)),
	} {
		pretty, err := json.MarshalIndent(v, "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		pretty = append(pretty, "\r\n"...)
		var want bytes.Buffer
		if err := json.Compact(&want, pretty); err != nil {
			t.Fatal(err)
		}
		var rec recorder
		if err := NewWriter(&rec).Write(pretty); err != nil {
			t.Fatal(err)
		}
		if got := rec.String(); got != want.String()+"\n" {
			t.Errorf("compacted %.80q, json.Compact gives %.80q", got, want.String())
		}
	}
}

// TestWriterConcurrent writes from many goroutines: every line must arrive whole.
func TestWriterConcurrent(t *testing.T) {
	var rec recorder
	w := NewWriter(&rec)
	big := strings.Repeat("b", smallWrite+10)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				msg := fmt.Sprintf(`{"g":%d,"i":%d}`, g, i)
				if i%50 == 0 {
					msg = fmt.Sprintf(`{"g":%d,"i":%d,"big":"%s"}`, g, i, big)
				}
				if err := w.Write([]byte(msg)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(rec.String(), "\n"), "\n")
	if len(lines) != 8*200 {
		t.Fatalf("%d lines, want %d", len(lines), 8*200)
	}
	seen := map[string]bool{}
	for _, line := range lines {
		var m struct{ G, I int }
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("torn line %.60q: %v", line, err)
		}
		seen[fmt.Sprint(m.G, m.I)] = true
	}
	if len(seen) != 8*200 {
		t.Fatalf("%d distinct messages, want %d", len(seen), 8*200)
	}
}
