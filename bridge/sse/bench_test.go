package sse

import (
	"bytes"
	"testing"
)

// loopReader replays the same bytes forever, so that a benchmark measures the parser, not setup.
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

func BenchmarkSSE(b *testing.B) {
	small := []byte("event: message\nid: 01J5-stream-0000042\ndata: {\"jsonrpc\":\"2.0\",\"id\":42,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"Echo: hello world\"}],\"isError\":false}}\n\n")
	big := append(append([]byte("event: message\ndata: "), bytes.Repeat([]byte(`{"k":"0123456789abcdef"},`), (8<<20)/25)...), "\n\n"...)
	for _, bc := range []struct {
		name  string
		event []byte
	}{
		{"small", small},
		{"8MiB", big},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := NewReader(&loopReader{data: bytes.Repeat(bc.event, max(1, (256<<10)/len(bc.event)))}, 0)
			b.SetBytes(int64(len(bc.event)))
			b.ReportAllocs()
			for b.Loop() {
				ev, err := r.Next()
				if err != nil || len(ev.Data) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}
