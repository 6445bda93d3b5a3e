// Package sse parses Server-Sent Events streams as the WHATWG HTML standard's "event stream
// interpretation" describes, for the bridge's Streamable HTTP and legacy HTTP+SSE transports.
//
// The parser is a streaming state machine over a fixed read buffer: a line is never collected
// before it is interpreted, so an event carrying a 32 MiB JSON-RPC message costs one copy into
// recycled chunks and one into the event, never a quadratic amount of copying, and comments or
// unknown fields of any length cost no memory. Data bytes are passed through as they are (the
// standard decodes the stream as UTF-8 with replacement; a relay must not alter its payload).
//
// The package imports only the standard library and is safe to build without cgo everywhere.
package sse

import (
	"bytes"
	"errors"
	"io"
	"math"
	"time"
)

// DefaultMaxEvent is the largest event accepted when NewReader is given no limit.
const DefaultMaxEvent = 64 << 20

// ErrTooLarge is returned by Reader.Next, once, for an event whose data and type together exceed
// the limit. The event is skipped (its id and retry still take effect, and its data went to the
// Overflow writer, if any); the next call continues with the following event. An id longer than
// the limit is ignored like one containing NUL.
var ErrTooLarge = errors.New("event too large")

// Event is one dispatched event: what a blank line ends.
//
// Next returns every event that had at least one data, event, id or retry field, including those
// with empty Data, which the standard does not dispatch as messages (MCP servers send such
// "priming" events to deliver an id or a retry delay). Callers skip events with empty Data as
// messages but should still honour their ID and Retry.
type Event struct {
	// Type is the event field, "" when absent (the standard's "message"). It only matters when
	// Data is not empty: the standard discards it otherwise.
	Type string
	// Data is the data lines joined with "\n". It is the caller's: a fresh allocation (nil when
	// empty), never reused by the Reader.
	Data []byte
	// ID is the stream's last event ID once this event is dispatched: the standard keeps it
	// from event to event until an id field changes it, so it is set even when this event has no
	// id field. It is what a reconnection sends as Last-Event-ID ("" means send none).
	ID string
	// HasID reports whether this event itself set the id (an id containing NUL is ignored and
	// does not count).
	HasID bool
	// Retry is the reconnection delay this event set, valid when HasRetry. (The standard applies
	// retry immediately; Reader.Retry reports the current value at any time.)
	Retry    time.Duration
	HasRetry bool
}

// field is what the current line sets.
type field int

const (
	fieldUnknown field = iota
	fieldData
	fieldEvent
	fieldID
	fieldRetry
)

// lineState is where the parser is within a line.
type lineState int

const (
	atLineStart  lineState = iota // nothing of the line consumed yet
	inName                        // reading the field name
	atValueStart                  // after the colon: one space may follow
	inValue                       // reading the value
	inIgnored                     // comment or unknown field: skip to the end of the line
)

// readBuf is the size of the fixed read buffer.
const readBuf = 64 << 10

// Reader parses an event stream. It is not safe for concurrent use.
type Reader struct {
	src        io.Reader
	max        int
	buf        []byte
	start, end int
	err        error // sticky error from src
	bomChecked bool
	skipLF     bool // the last line ended in '\r': a '\n' right after it belongs to it

	state   lineState
	name    [5]byte // long enough for "retry", the longest field we know
	nameLen int     // > len(name) means "not a field we know"
	field   field

	// The event being assembled.
	data      accumulator
	dataLen   int  // bytes of data including the "\n" separators
	hasData   bool // a data line was seen: the next one is preceded by "\n"
	typ       []byte
	idVal     []byte
	idBad     bool // the id contains NUL or is longer than max: ignored
	retryVal  int64
	retryOK   bool // only digits so far
	retryN    int  // digits seen: "retry:" alone sets nothing
	touched   bool // a known field was seen since the last dispatch
	tooLarge  bool
	overflow  io.Writer // where the data of a too large event goes; nil discards it
	size      int       // data + type bytes, checked against max
	evHasID   bool
	evRetry   time.Duration
	evRetried bool

	// Stream state that outlives events.
	idBuffer    string // the standard's "last event ID buffer"
	lastEventID string // the standard's "last event ID string", set at dispatch
	retry       time.Duration
	hasRetry    bool
}

// NewReader returns a Reader on r (an HTTP response body) that rejects events larger than
// maxEvent bytes; maxEvent <= 0 means DefaultMaxEvent.
func NewReader(r io.Reader, maxEvent int) *Reader {
	return newReaderSize(r, maxEvent, readBuf)
}

// newReaderSize lets tests use a tiny buffer (never smaller than a byte order mark, which must
// be seen whole to be stripped).
func newReaderSize(r io.Reader, maxEvent, size int) *Reader {
	if maxEvent <= 0 {
		maxEvent = DefaultMaxEvent
	}
	return &Reader{src: r, max: maxEvent, buf: make([]byte, max(size, len(bom))), data: accumulator{chunkSize: 4 * max(size, 1)}}
}

// Overflow sets where the data of an event larger than the limit goes: the Reader writes it to
// w piece by piece as it reads it (what it had collected before the limit was crossed first),
// lines joined with "\n" as in Event.Data, and keeps none of it. A caller can so learn something
// of a message it cannot keep (the id of a JSON-RPC answer, its size) in constant memory; the
// event's data ends where Next returns ErrTooLarge. Errors from w are ignored. nil (the
// default) discards the data.
func (r *Reader) Overflow(w io.Writer) { r.overflow = w }

// LastEventID returns the stream's last event ID as of the last dispatched event: what to send
// as Last-Event-ID when reconnecting ("" means none).
func (r *Reader) LastEventID() string { return r.lastEventID }

// Retry returns the reconnection delay the stream last set, if any. It takes effect as soon as
// its line is read, even if the stream then ends before the event is dispatched.
func (r *Reader) Retry() (time.Duration, bool) { return r.retry, r.hasRetry }

// Next returns the next event. At the end of the stream it returns io.EOF (or the source's
// error); an event not ended by a blank line is discarded, as the standard requires.
func (r *Reader) Next() (Event, error) {
	for {
		for r.start < r.end {
			if !r.bomChecked {
				if !r.checkBOM() {
					break // need more bytes to decide
				}
				continue
			}
			if ev, ok, err := r.step(); ok || err != nil {
				return ev, err
			}
		}
		if r.err != nil {
			if !r.bomChecked && r.start < r.end {
				r.bomChecked = true // a stream shorter than a BOM: interpret what there is
				continue
			}
			return Event{}, r.err
		}
		r.fill()
	}
}

var bom = []byte("\xef\xbb\xbf")

// checkBOM strips one leading byte order mark. It reports false when the buffered bytes are a
// proper prefix of one and more are needed to decide.
func (r *Reader) checkBOM() bool {
	p := r.buf[r.start:r.end]
	n := min(len(p), len(bom))
	if !bytes.Equal(p[:n], bom[:n]) {
		r.bomChecked = true
		return true
	}
	if n < len(bom) {
		return false
	}
	r.start += len(bom)
	r.bomChecked = true
	return true
}

// fill reads more input. Everything buffered has been consumed except, at the very start, a
// partial byte order mark, which is kept.
func (r *Reader) fill() {
	if r.start == r.end {
		r.start, r.end = 0, 0
	} else if r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	for range 100 {
		n, err := r.src.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			r.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	r.err = io.ErrNoProgress
}

// step consumes some of the buffered bytes. It reports ok with an event when a blank line
// dispatched one, or ErrTooLarge.
func (r *Reader) step() (Event, bool, error) {
	p := r.buf[r.start:r.end]
	if r.skipLF {
		r.skipLF = false
		if p[0] == '\n' {
			r.start++
			return Event{}, false, nil
		}
	}
	switch r.state {
	case atLineStart:
		switch p[0] {
		case '\r', '\n':
			r.endOfLine(p[0])
			return r.dispatch()
		case ':':
			r.state = inIgnored
			r.start++
		default:
			r.state = inName
			r.nameLen = 0
		}
	case inName:
		i := 0
		for i < len(p) && p[i] != ':' && p[i] != '\r' && p[i] != '\n' {
			i++
		}
		if r.nameLen+i <= len(r.name) {
			copy(r.name[r.nameLen:], p[:i])
		}
		r.nameLen += i
		r.start += i
		if i == len(p) {
			return Event{}, false, nil
		}
		r.beginField()
		if p[i] == ':' {
			r.start++
			r.state = atValueStart
			return Event{}, false, nil
		}
		r.endField() // "name" alone: the value is empty
		r.endOfLine(p[i])
	case atValueStart:
		if p[0] == ' ' {
			r.start++
		}
		r.state = inValue
		if r.field == fieldUnknown {
			r.state = inIgnored
		}
	case inValue:
		i := eol(p)
		r.value(p[:i])
		r.start += i
		if i < len(p) {
			r.endField()
			r.endOfLine(p[i])
		}
	case inIgnored:
		i := eol(p)
		r.start += i
		if i < len(p) {
			r.endOfLine(p[i])
		}
	}
	return Event{}, false, nil
}

// eol returns the index of the first '\r' or '\n' in p, or len(p).
func eol(p []byte) int {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		i = len(p)
	}
	if j := bytes.IndexByte(p[:i], '\r'); j >= 0 {
		return j
	}
	return i
}

// endOfLine consumes the line terminator c at the cursor.
func (r *Reader) endOfLine(c byte) {
	r.start++
	r.skipLF = c == '\r'
	r.state = atLineStart
}

// beginField resolves the field name and prepares for its value.
func (r *Reader) beginField() {
	r.field = fieldUnknown
	if r.nameLen <= len(r.name) {
		switch string(r.name[:r.nameLen]) {
		case "data":
			r.field = fieldData
		case "event":
			r.field = fieldEvent
		case "id":
			r.field = fieldID
		case "retry":
			r.field = fieldRetry
		}
	}
	switch r.field {
	case fieldUnknown:
		return
	case fieldData:
		if r.hasData {
			r.value([]byte{'\n'})
		}
		r.hasData = true
	case fieldEvent:
		r.size -= len(r.typ)
		r.typ = r.typ[:0]
	case fieldID:
		r.idVal, r.idBad = r.idVal[:0], false
	case fieldRetry:
		r.retryVal, r.retryOK, r.retryN = 0, true, 0
	}
	r.touched = true
}

// value takes a piece of the current field's value.
func (r *Reader) value(v []byte) {
	switch r.field {
	case fieldRetry:
		for _, c := range v {
			if c < '0' || c > '9' {
				r.retryOK = false
				return
			}
			if r.retryVal > (math.MaxInt64-9)/10 {
				r.retryVal = math.MaxInt64 // saturate: a delay that large is "never" anyway
				continue
			}
			r.retryVal = r.retryVal*10 + int64(c-'0')
		}
		r.retryN += len(v)
		return
	case fieldID:
		if r.idBad {
			return
		}
		if len(r.idVal)+len(v) > r.max || bytes.IndexByte(v, 0) >= 0 {
			r.idBad, r.idVal = true, r.idVal[:0]
			return
		}
		r.idVal = append(r.idVal, v...)
		return
	case fieldUnknown:
		return
	}
	if r.tooLarge {
		if r.overflow != nil && r.field == fieldData {
			_, _ = r.overflow.Write(v)
		}
		return
	}
	if r.size += len(v); r.size > r.max {
		r.tooLarge = true
		if r.overflow != nil {
			r.data.writeTo(r.overflow)
			if r.field == fieldData {
				_, _ = r.overflow.Write(v)
			}
		}
		r.data.reset()
		return
	}
	switch r.field {
	case fieldData:
		r.data.write(v)
		r.dataLen += len(v)
	case fieldEvent:
		r.typ = append(r.typ, v...)
	}
}

// endField applies a complete field line.
func (r *Reader) endField() {
	switch r.field {
	case fieldID:
		if r.idBad {
			return
		}
		if string(r.idVal) != r.idBuffer { // compare without allocating; convert only on change
			r.idBuffer = string(r.idVal)
		}
		r.evHasID = true
	case fieldRetry:
		// "retry:" with no digits is not a number: ignored.
		if !r.retryOK || r.retryN == 0 {
			return
		}
		d := time.Duration(math.MaxInt64)
		if r.retryVal <= math.MaxInt64/int64(time.Millisecond) {
			d = time.Duration(r.retryVal) * time.Millisecond
		}
		r.retry, r.hasRetry = d, true
		r.evRetry, r.evRetried = d, true
	}
}

// dispatch ends an event at a blank line.
func (r *Reader) dispatch() (Event, bool, error) {
	if !r.touched {
		return Event{}, false, nil // blank lines after comments or unknown fields: nothing to say
	}
	r.lastEventID = r.idBuffer
	ev := Event{
		Type:     eventType(r.typ),
		ID:       r.lastEventID,
		HasID:    r.evHasID,
		Retry:    r.evRetry,
		HasRetry: r.evRetried,
	}
	tooLarge := r.tooLarge
	if !tooLarge && r.dataLen > 0 {
		ev.Data = r.data.take()
	}
	r.data.reset()
	r.dataLen, r.hasData, r.size = 0, false, 0
	r.typ = r.typ[:0]
	r.touched, r.tooLarge, r.evHasID, r.evRetried, r.evRetry = false, false, false, false, 0
	if tooLarge {
		return Event{}, false, ErrTooLarge
	}
	return ev, true, nil
}

// eventType converts the event type, without allocating for the types MCP uses.
func eventType(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "message":
		return "message"
	case "endpoint":
		return "endpoint"
	}
	return string(b)
}
