package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// readAll collects every outcome of Next until an error other than ErrTooLarge.
func readAll(t testing.TB, r *Reader) []string {
	var out []string
	for range 1_000_000 {
		ev, err := r.Next()
		if err != nil {
			out = append(out, "error: "+err.Error())
			if err != ErrTooLarge {
				return out
			}
			continue
		}
		out = append(out, describe(ev))
	}
	t.Fatal("reader does not end")
	return nil
}

// describe renders an event compactly for comparisons.
func describe(ev Event) string {
	s := fmt.Sprintf("data=%q", ev.Data)
	if ev.Type != "" {
		s += fmt.Sprintf(" type=%q", ev.Type)
	}
	if ev.ID != "" || ev.HasID {
		s += fmt.Sprintf(" id=%q", ev.ID)
		if !ev.HasID {
			s += "(kept)"
		}
	}
	if ev.HasRetry {
		s += fmt.Sprintf(" retry=%v", ev.Retry)
	}
	return s
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

var readers = map[string]func(io.Reader) io.Reader{
	"whole":     func(r io.Reader) io.Reader { return r },
	"one byte":  iotest.OneByteReader,
	"half":      iotest.HalfReader,
	"data+EOF":  iotest.DataErrReader,
	"odd sizes": func(r io.Reader) io.Reader { return &chunkReader{r: r, sizes: []int{3, 1, 7, 2, 70000}} },
}

const eof = "error: EOF"

func TestReader(t *testing.T) {
	big := strings.Repeat("x", 300_000)
	tests := []struct {
		name string
		in   string
		max  int
		want []string
	}{
		// The examples of the WHATWG HTML standard, section "Event stream interpretation".
		{"whatwg stock ticker", "data: YHOO\ndata: +2\ndata: 10\n\n", 0, []string{`data="YHOO\n+2\n10"`, eof}},
		{"whatwg ids", ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n", 0, []string{
			`data="first event" id="1"`, `data="second event" id=""`, `data=" third event"`, eof}},
		{"whatwg empty data", "data\n\ndata\ndata\n\ndata:", 0, []string{`data=""`, `data="\n"`, eof}},
		{"whatwg space", "data:test\n\ndata: test\n\n", 0, []string{`data="test"`, `data="test"`, eof}},

		{"crlf", "event: message\r\ndata: {}\r\nid: 7\r\n\r\n", 0, []string{`data="{}" type="message" id="7"`, eof}},
		{"cr only", "data: a\rdata: b\r\rdata: c\r\r", 0, []string{`data="a\nb"`, `data="c"`, eof}},
		{"mixed endings", "data: a\r\ndata: b\rdata: c\n\r\n", 0, []string{`data="a\nb\nc"`, eof}},
		{"cr then crlf is two lines", "data: a\r\r\ndata: b\n\n", 0, []string{`data="a"`, `data="b"`, eof}},
		{"lf cr is two line ends", "data: a\n\rdata: b\n\n", 0, []string{`data="a"`, `data="b"`, eof}},
		{"bom stripped", "\xef\xbb\xbfdata: a\n\n", 0, []string{`data="a"`, eof}},
		{"only one bom stripped", "\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n", 0, []string{`data="b"`, eof}},
		{"partial bom is a field name", "\xef\xbbdata: a\n\ndata: b\n\n", 0, []string{`data="b"`, eof}},
		{"bom alone", "\xef\xbb\xbf", 0, []string{eof}},
		{"short stream", "\xef", 0, []string{eof}},
		{"comments ignored", ":ping\n: keep-alive\ndata: a\n:between\n\n:\n\n", 0, []string{`data="a"`, eof}},
		{"unknown fields ignored", "foo: bar\ndata: a\nDATA: b\nData: c\nidx: 9\n\n", 0, []string{`data="a"`, eof}},
		{"unknown field alone dispatches nothing", "foo: bar\n\n", 0, []string{eof}},
		{"field without colon", "data\ndata\n\n", 0, []string{`data="\n"`, eof}},
		{"only first colon splits", "data: a: b:c\n\n", 0, []string{`data="a: b:c"`, eof}},
		{"only one space removed", "data:   a \n\n", 0, []string{`data="  a "`, eof}},
		{"tab is not a space", "data:\ta\n\n", 0, []string{`data="\ta"`, eof}},
		{"event type", "event: endpoint\ndata: /messages?session=1\n\n", 0, []string{`data="/messages?session=1" type="endpoint"`, eof}},
		{"event type reset after dispatch", "event: a\ndata: 1\n\ndata: 2\n\n", 0, []string{`data="1" type="a"`, `data="2"`, eof}},
		{"last event type wins", "event: a\nevent: b\ndata: 1\n\n", 0, []string{`data="1" type="b"`, eof}},
		{"event without data still reported", "event: a\n\ndata: 1\n\n", 0, []string{`data="" type="a"`, `data="1"`, eof}},
		{"priming event", "id: 0-abc\ndata:\n\nretry: 1500\n\n", 0, []string{`data="" id="0-abc"`, `data="" id="0-abc"(kept) retry=1.5s`, eof}},
		{"id persists", "id: 5\ndata: a\n\ndata: b\n\nid:\ndata: c\n\n", 0, []string{`data="a" id="5"`, `data="b" id="5"(kept)`, `data="c" id=""`, eof}},
		{"id with nul ignored", "id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", 0, []string{`data="a" id="1"`, `data="b" id="1"(kept)`, eof}},
		{"id with nul ignored but later id counts", "id: 2\x00\nid: 3\ndata: b\n\n", 0, []string{`data="b" id="3"`, eof}},
		{"retry", "retry: 3000\ndata: a\n\n", 0, []string{`data="a" retry=3s`, eof}},
		{"retry zero", "retry:0\n\n", 0, []string{`data="" retry=0s`, eof}},
		{"retry not digits", "retry: 10a\nretry: -1\nretry: 1.5\nretry:\nretry:  5\nretry: 5 \ndata: a\n\n", 0, []string{`data="a"`, eof}},
		{"retry huge saturates", "retry: 99999999999999999999999999\n\n", 0, []string{`data="" retry=2562047h47m16.854775807s`, eof}},
		{"no blank line at end", "data: a\n\ndata: b\n", 0, []string{`data="a"`, eof}},
		{"no newline at end", "data: a\n\ndata: b", 0, []string{`data="a"`, eof}},
		{"blank lines only", "\n\n\r\n\r\r", 0, []string{eof}},
		{"empty", "", 0, []string{eof}},
		{"long data line", "data: " + big + "\n\ndata: after\n\n", 0, []string{fmt.Sprintf("data=%q", big), `data="after"`, eof}},
		{"long comment costs nothing", ":" + big + "\ndata: a\n\n", 10, []string{`data="a"`, eof}},
		{"long unknown field", big + ": v\ndata: a\n\n", 10, []string{`data="a"`, eof}},
		{"at max", "data: 12345\n\n", 5, []string{`data="12345"`, eof}},
		{"over max", "data: 123456\nid: 9\n\ndata: ok\n\n", 5, []string{"error: event too large", `data="ok" id="9"(kept)`, eof}},
		{"separators count", "data: 12\ndata: 34\n\n", 4, []string{"error: event too large", eof}},
		{"long over max", "data: " + big + "\n\ndata: ok\n\n", 1000, []string{"error: event too large", `data="ok"`, eof}},
		{"long id ignored", "id: " + big + "\ndata: ok\n\n", 1000, []string{`data="ok"`, eof}},
		{"over max at end of stream", "data: 123456", 5, []string{eof}},
	}
	for _, tt := range tests {
		for rname, wrap := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				got := readAll(t, NewReader(wrap(strings.NewReader(tt.in)), tt.max))
				if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
					t.Errorf("got:\n%s\nwant:\n%s", shorten(got), shorten(tt.want))
				}
			})
		}
	}
}

func shorten(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		if len(l) > 100 {
			l = l[:50] + "…" + l[len(l)-50:]
		}
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

func TestReaderStreamState(t *testing.T) {
	r := NewReader(strings.NewReader("id: 1\ndata: a\n\nid: 2\nretry: 250\ndata: b"), 0)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if got := r.LastEventID(); got != "1" {
		t.Errorf("LastEventID = %q, want 1", got)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("err = %v, want EOF", err)
	}
	// The unfinished event's id is not the last event ID (it was never dispatched), but its
	// retry took effect when its line was read.
	if got := r.LastEventID(); got != "1" {
		t.Errorf("LastEventID after EOF = %q, want 1", got)
	}
	if d, ok := r.Retry(); !ok || d != 250*time.Millisecond {
		t.Errorf("Retry = %v, %v; want 250ms", d, ok)
	}
}

func TestReaderSourceError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader("data: a\n\ndata: partial\n"), iotest.ErrReader(boom)), 0)
	if ev, err := r.Next(); err != nil || string(ev.Data) != "a" {
		t.Fatalf("first = %q, %v", ev.Data, err)
	}
	for range 2 {
		if _, err := r.Next(); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
	}
}

func TestReaderNoProgress(t *testing.T) {
	if _, err := NewReader(zeroReader{}, 0).Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("err = %v, want io.ErrNoProgress", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestReaderDataIsOwned(t *testing.T) {
	big := strings.Repeat("y", 2<<20)
	r := NewReader(strings.NewReader("data: one\n\ndata: "+big+"\n\ndata: two\n\n"), 0)
	var got [][]byte
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.Data)
	}
	if len(got) != 3 || string(got[0]) != "one" || string(got[1]) != big || string(got[2]) != "two" {
		t.Fatal("event data changed by later events")
	}
}

// TestReaderLargeEvent reads a 32 MiB JSON-RPC message in one data line and checks it arrives
// intact, along with the events around it.
func TestReaderLargeEvent(t *testing.T) {
	payload := bytes.Repeat([]byte(`{"k":"0123456789abcdef"},`), (32<<20)/25)
	var in bytes.Buffer
	in.WriteString("id: before\ndata: 1\n\n")
	in.WriteString("event: message\nid: big\ndata: ")
	in.Write(payload)
	in.WriteString("\r\n\r\ndata: 2\n\n")
	r := NewReader(&chunkReader{r: &in, sizes: []int{65536, 100, 300000}}, 0)
	var evs []Event
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if len(evs) != 3 || !bytes.Equal(evs[1].Data, payload) || evs[1].ID != "big" || string(evs[2].Data) != "2" {
		t.Fatalf("got %d events; big one intact: %v", len(evs), len(evs) > 1 && bytes.Equal(evs[1].Data, payload))
	}
}

// TestReaderOverflow: the data of an event over the limit goes to the Overflow writer whole
// (what came before the limit and after), and nothing of events within the limit does.
func TestReaderOverflow(t *testing.T) {
	big := strings.Repeat("0123456789", 5000)
	in := "data: small\n\nevent: message\ndata: first\ndata: " + big + "\nid: 7\n\ndata: ok\n\ndata: " + big + "x\n\n"
	for _, size := range []int{3, 64, readBuf} {
		for _, chunk := range []int{1, 7, 1 << 20} {
			var over bytes.Buffer
			r := newReaderSize(&chunkReader{r: strings.NewReader(in), sizes: []int{chunk}}, 1000, size)
			r.Overflow(&over)
			var got []string
			for {
				ev, err := r.Next()
				if errors.Is(err, ErrTooLarge) {
					got = append(got, fmt.Sprintf("too large: %d bytes", over.Len()))
					if s := over.String(); s != "first\n"+big && s != big+"x" {
						t.Errorf("size %d chunk %d: overflow %.40q…", size, chunk, s)
					}
					over.Reset()
					continue
				}
				if err != nil {
					break
				}
				got = append(got, describe(ev))
			}
			want := []string{`data="small"`, fmt.Sprintf("too large: %d bytes", len(big)+6), `data="ok" id="7"(kept)`, fmt.Sprintf("too large: %d bytes", len(big)+1)}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("size %d chunk %d:\ngot  %q\nwant %q", size, chunk, got, want)
			}
			if r.LastEventID() != "7" {
				t.Errorf("the too large event's id was not kept: %q", r.LastEventID())
			}
		}
	}
}
