package jsonrpc

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

var (
	smallRequest  = []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello world"},"_meta":{"progressToken":"p-42"}}}`)
	smallResponse = []byte(`{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"Echo: hello world"}],"isError":false}}`)
)

// loopReader replays the same bytes forever, so that a benchmark measures the Reader, not setup.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	if l.off == len(l.data) {
		l.off = 0
	}
	n := copy(p, l.data[l.off:])
	l.off += n
	return n, nil
}

func BenchmarkReader(b *testing.B) {
	for _, bc := range []struct {
		name string
		msg  []byte
	}{
		{"small", smallRequest},
		{"1MiB", bigResponse(1<<20, "1")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			line := append(bytes.Clone(bc.msg), '\n')
			r := NewReader(&loopReader{data: bytes.Repeat(line, max(1, (256<<10)/len(line)))}, 0)
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				msg, err := r.Next()
				if err != nil || len(msg) != len(bc.msg) {
					b.Fatalf("got %d bytes, %v", len(msg), err)
				}
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct {
		name string
		msg  []byte
	}{
		{"small-request", smallRequest},
		{"small-response", smallResponse},
		{"1MiB-result", bigResponse(1<<20, "1")},
		{"32MiB-result", bigResponse(32<<20, "1")},
		{"1MiB-structured", structuredResponse(1 << 20)},
		{"1MiB-base64", []byte(`{"jsonrpc":"2.0","id":1,"result":{"contents":[{"uri":"file:///x","blob":"` + string(bytes.Repeat([]byte("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0"), 1<<15)) + `"}]}}`)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.msg)))
			b.ReportAllocs()
			for b.Loop() {
				env, err := Parse(bc.msg)
				if err != nil || env.Kind == KindInvalid {
					b.Fatal(env.Kind, err)
				}
			}
		})
	}
}

// BenchmarkParseBaseline is what Parse replaces: encoding/json decoding only the envelope fields
// (it still walks and validates every byte of the result). For comparison in reports.
func BenchmarkParseBaseline(b *testing.B) {
	for _, bc := range []struct {
		name string
		msg  []byte
	}{
		{"small-request", smallRequest},
		{"1MiB-result", bigResponse(1<<20, "1")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.msg)))
			b.ReportAllocs()
			for b.Loop() {
				var env struct {
					ID     json.RawMessage `json:"id"`
					Method string          `json:"method"`
				}
				if err := json.Unmarshal(bc.msg, &env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWriter(b *testing.B) {
	pretty, _ := json.MarshalIndent(json.RawMessage(structuredResponse(64<<10)), "", "  ")
	for _, bc := range []struct {
		name string
		msg  []byte
	}{
		{"small", smallResponse},
		{"1MiB", bigResponse(1<<20, "1")},
		{"pretty-64KiB", pretty},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := NewWriter(io.Discard)
			b.SetBytes(int64(len(bc.msg) + 1))
			b.ReportAllocs()
			for b.Loop() {
				if err := w.Write(bc.msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// structuredResponse is a result made of many small objects (a long tools/list), the worst case
// for a scanner that is fast on long strings.
func structuredResponse(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"jsonrpc":"2.0","id":1,"result":{"tools":[`)
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":"tool_`)
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(`","description":"Does a thing with 3 arguments.","inputSchema":{"type":"object","properties":{"a":{"type":"integer","minimum":-1.5e3},"b":{"type":"boolean","default":true},"c":{"type":["string","null"]}},"required":["a"]}}`)
	}
	b.WriteString(`]}}`)
	return b.Bytes()
}
