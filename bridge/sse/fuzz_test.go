package sse

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// referenceEvents interprets a whole stream the way the standard describes it, line by line,
// with this package's documented choices (every event with a known field is reported, the limit
// applies to data plus type, an id over the limit is ignored).
func referenceEvents(data []byte, limit int) []string {
	data = bytes.TrimPrefix(data, bom)
	var lines [][]byte
	for {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			break // an unterminated last line is never interpreted
		}
		lines = append(lines, data[:i])
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	var (
		out                    []string
		dataLines              [][]byte
		typ                    []byte
		idBuffer               string
		touched, hasID, tooBig bool
		retry                  time.Duration
		hasRetry               bool
	)
	for _, line := range lines {
		if len(line) == 0 {
			if touched {
				if tooBig {
					out = append(out, "error: "+ErrTooLarge.Error())
				} else {
					ev := Event{Type: string(typ), ID: idBuffer, HasID: hasID, Retry: retry, HasRetry: hasRetry}
					if d := bytes.Join(dataLines, []byte{'\n'}); len(d) > 0 {
						ev.Data = d
					}
					out = append(out, describe(ev))
				}
			}
			dataLines, typ, touched, hasID, tooBig, retry, hasRetry = nil, nil, false, false, false, 0, false
			continue
		}
		if line[0] == ':' {
			continue
		}
		name, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			name, value = line[:i], line[i+1:]
			value = bytes.TrimPrefix(value, []byte{' '})
		}
		switch string(name) {
		case "data":
			dataLines = append(dataLines, value)
		case "event":
			typ = value
		case "id":
			if bytes.IndexByte(value, 0) < 0 && len(value) <= limit {
				idBuffer, hasID = string(value), true
			}
		case "retry":
			if len(value) > 0 && len(bytes.Trim(value, "0123456789")) == 0 {
				retry, hasRetry = parseRetry(value), true
			}
		default:
			continue
		}
		touched = true
		if len(bytes.Join(dataLines, []byte{'\n'}))+len(typ) > limit {
			tooBig = true
		}
	}
	return append(out, eof)
}

func parseRetry(digits []byte) time.Duration {
	var ms int64
	for _, c := range digits {
		if ms > (math.MaxInt64-9)/10 {
			ms = math.MaxInt64
			continue
		}
		ms = ms*10 + int64(c-'0')
	}
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

// FuzzSSE checks that the parser never panics and gives the reference's events whatever the
// buffer size and the way the source splits its reads.
func FuzzSSE(f *testing.F) {
	f.Add([]byte("data: a\r\ndata: b\r\rid: 1\nretry: 5\n\n: c\n\xef\xbb\xbfdata\n\n"), uint16(100), uint8(3), uint8(1))
	f.Add([]byte("\xef\xbb\xbfevent: endpoint\ndata: /m?s=1\n\nid: x\x00\ndata:\n\n"), uint16(4), uint8(1), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, bufSize, chunk uint8) {
		lim := int(limit%300) + 1
		want := referenceEvents(data, lim)
		src := &chunkReader{r: bytes.NewReader(data), sizes: []int{int(chunk%11) + 1, int(chunk%3) + 1, 50}}
		r := newReaderSize(src, lim, int(bufSize%16)+1)
		r.data.chunkSize = int(chunk%7) + 1 // many chunks even for short data
		got := readAll(t, r)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("limit %d:\ngot:\n%s\nwant:\n%s", lim, shorten(got), shorten(want))
		}
		whole := readAll(t, NewReader(bytes.NewReader(data), lim))
		if fmt.Sprint(whole) != fmt.Sprint(got) {
			t.Fatalf("whole reads differ from chunked reads:\n%s\n%s", shorten(whole), shorten(got))
		}
	})
}
