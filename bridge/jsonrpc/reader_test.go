package jsonrpc

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// result is one Next outcome: a line or an error.
type result struct {
	line string
	err  error
}

func readAll(r *Reader) []result {
	var out []result
	for range 1_000_000 {
		line, err := r.Next()
		if err != nil {
			out = append(out, result{err: err})
			if err != ErrTooLarge {
				return out
			}
			continue
		}
		out = append(out, result{line: string(line)})
	}
	panic("reader does not end")
}

// readers wraps an input in the ways a pipe may deliver it.
var readers = map[string]func(io.Reader) io.Reader{
	"whole":     func(r io.Reader) io.Reader { return r },
	"one byte":  iotest.OneByteReader,
	"half":      iotest.HalfReader,
	"data+EOF":  iotest.DataErrReader,
	"odd sizes": func(r io.Reader) io.Reader { return &chunkReader{r: r, sizes: []int{7, 1, 3, 65536, 2, 100003}} },
}

// chunkReader returns reads of cycling sizes.
type chunkReader struct {
	r     io.Reader
	sizes []int
	n     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	size := c.sizes[c.n%len(c.sizes)]
	c.n++
	return c.r.Read(p[:min(len(p), size)])
}

func TestReader(t *testing.T) {
	long := `{"x":"` + strings.Repeat("a", 200_000) + `"}`
	huge := `{"x":"` + strings.Repeat("b", 3<<20) + `"}`
	tests := []struct {
		name string
		in   string
		max  int
		want []result
	}{
		{"empty", "", 0, []result{{err: io.EOF}}},
		{"one line", "{}\n", 0, []result{{line: "{}"}, {err: io.EOF}}},
		{"final line without newline", "{}\n[1]", 0, []result{{line: "{}"}, {line: "[1]"}, {err: io.EOF}}},
		{"crlf", "{\"a\":1}\r\n{}\r\n", 0, []result{{line: `{"a":1}`}, {line: "{}"}, {err: io.EOF}}},
		{"final crlf without lf", "{}\r", 0, []result{{line: "{}"}, {err: io.EOF}}},
		{"blank lines skipped", "\n\r\n  \t \n{}\n\n \r\n", 0, []result{{line: "{}"}, {err: io.EOF}}},
		{"lone cr is not a line end", "{}\r{}\n", 0, []result{{line: "{}\r{}"}, {err: io.EOF}}},
		{"inner whitespace kept", " { \"a\" : 1 } \n", 0, []result{{line: ` { "a" : 1 } `}, {err: io.EOF}}},
		{"garbage passes", "not json\n{}\n", 0, []result{{line: "not json"}, {line: "{}"}, {err: io.EOF}}},
		{"at max", "12345\n", 5, []result{{line: "12345"}, {err: io.EOF}}},
		{"at max with crlf", "12345\r\n", 5, []result{{line: "12345"}, {err: io.EOF}}},
		{"over max", "123456\n{}\n", 5, []result{{err: ErrTooLarge}, {line: "{}"}, {err: io.EOF}}},
		{"over max at end", "{}\n123456", 5, []result{{line: "{}"}, {err: ErrTooLarge}, {err: io.EOF}}},
		{"long line", long + "\n{}\n", 0, []result{{line: long}, {line: "{}"}, {err: io.EOF}}},
		{"long line crlf", long + "\r\n{}", 0, []result{{line: long}, {line: "{}"}, {err: io.EOF}}},
		{"long final line", "{}\n" + long, 0, []result{{line: "{}"}, {line: long}, {err: io.EOF}}},
		{"huge line", huge + "\n" + long + "\n{}\n", 0, []result{{line: huge}, {line: long}, {line: "{}"}, {err: io.EOF}}},
		{"long line over max skipped", long + "\n{}\n", 100_000, []result{{err: ErrTooLarge}, {line: "{}"}, {err: io.EOF}}},
		{"huge line over max skipped", huge + "\n{}\n", 1 << 20, []result{{err: ErrTooLarge}, {line: "{}"}, {err: io.EOF}}},
		{"huge line over max at end", "{}\n" + huge, 1 << 20, []result{{line: "{}"}, {err: ErrTooLarge}, {err: io.EOF}}},
		{"long line just over max", long + "\n{}\n", len(long) - 1, []result{{err: ErrTooLarge}, {line: "{}"}, {err: io.EOF}}},
		{"long line at max", long + "\r\n{}\n", len(long), []result{{line: long}, {line: "{}"}, {err: io.EOF}}},
		{"long blank line", strings.Repeat(" ", 100_000) + "\n{}\n", 0, []result{{line: "{}"}, {err: io.EOF}}},
		{"blank line over max", strings.Repeat(" ", 100_000) + "\n{}\n", 10, []result{{err: ErrTooLarge}, {line: "{}"}, {err: io.EOF}}},
		{"many over max in a row", "aaaaaaaa\nbbbbbbbb\n{}\n", 3, []result{{err: ErrTooLarge}, {err: ErrTooLarge}, {line: "{}"}, {err: io.EOF}}},
	}
	for _, tt := range tests {
		for rname, wrap := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				got := readAll(NewReader(wrap(strings.NewReader(tt.in)), tt.max))
				if !equalResults(got, tt.want) {
					t.Errorf("got %s\nwant %s", describe(got), describe(tt.want))
				}
			})
		}
	}
}

func equalResults(a, b []result) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].line != b[i].line || !errors.Is(a[i].err, b[i].err) {
			return false
		}
	}
	return true
}

func describe(rs []result) string {
	var b strings.Builder
	for _, r := range rs {
		if r.err != nil {
			b.WriteString("[" + r.err.Error() + "] ")
			continue
		}
		s := r.line
		if len(s) > 40 {
			s = s[:20] + "…" + s[len(s)-20:]
		}
		b.WriteString("(" + s + ") ")
	}
	return b.String()
}

func TestReaderSourceError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader("{}\n{\"partial\""), iotest.ErrReader(boom)), 0)
	if line, err := r.Next(); err != nil || string(line) != "{}" {
		t.Fatalf("first = %q, %v", line, err)
	}
	// A partial line before a failure is still handed over, like a final line at EOF; the
	// caller's parser then rejects it if it is incomplete JSON.
	if line, err := r.Next(); err != nil || string(line) != `{"partial"` {
		t.Fatalf("second = %q, %v", line, err)
	}
	for range 2 { // sticky
		if _, err := r.Next(); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
	}
}

func TestReaderNoProgress(t *testing.T) {
	r := NewReader(zeroReader{}, 0)
	if _, err := r.Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("err = %v, want io.ErrNoProgress", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestReaderLinesAreOwned(t *testing.T) {
	long := strings.Repeat("z", 100_000)
	r := NewReader(strings.NewReader("first\nsecond\n"+long+"\nthird\n"), 0)
	var lines [][]byte
	for {
		line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	want := []string{"first", "second", long, "third"}
	for i, w := range want {
		if string(lines[i]) != w {
			t.Errorf("line %d changed after later reads", i)
		}
	}
	// Appending to a returned line never writes into another one.
	lines[0] = append(lines[0], "XXXXXXXX"...)
	if string(lines[1]) != "second" {
		t.Error("lines share memory")
	}
}

// TestRoundTrip relays messages through Reader and Writer: every message without a raw newline
// comes out byte for byte.
func TestRoundTrip(t *testing.T) {
	msgs := []string{
		`{"jsonrpc":"2.0","id":12345678901234567890,"method":"tools/call","params":{"name":"echo","arguments":{"x":1.0e400}}}`,
		`{"jsonrpc":"2.0","id":"a\"b\u00e9\ud83c\udf89","result":{"content":[]}}`,
		` { "jsonrpc" : "2.0" , "method" : "notifications/progress" , "params" : { "progress" : 0.50 } } `,
		`[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":2,"method":"b"}]`,
		`{"id":-0.0e-0,"result":"\/\b\f\n\r\t"}`,
		string(bigResponse(3<<20, "7")),
	}
	in := strings.Join(msgs, "\n") + "\n"
	var out bytes.Buffer
	r, w := NewReader(strings.NewReader(in), 0), NewWriter(&out)
	for {
		line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if out.String() != in {
		t.Fatal("relayed bytes differ from the input")
	}
}
