package jsonrpc

import (
	"bytes"
	"errors"
	"io"
)

// DefaultMaxMessage is the largest message the stdio side accepts unless configured otherwise.
const DefaultMaxMessage = 64 << 20

// ErrTooLarge is returned by Reader.Next, once, for a line longer than the limit. The rest of the
// line has been skipped by then; the next call continues with the following line.
var ErrTooLarge = errors.New("message too large")

// readBuf is the size of the Reader's fixed buffer: lines that fit are copied out of it once.
// Longer lines go into chunks of 4× that size: fixed-size chunks waste at most one chunk and
// can be recycled.
const readBuf = 64 << 10

// Reader reads newline-delimited JSON-RPC messages: the stdio transport, one message per line.
// It is not safe for concurrent use.
//
// Memory: a line that fits the 64 KiB buffer costs one allocation of its exact size. A longer
// line is read straight from the source into 256 KiB chunks (the first few recycled from line to
// line) and then copied once into an exact-size slice, so a 32 MiB message costs two passes over
// its bytes and about twice its size transiently, never a quadratic amount of copying.
type Reader struct {
	src   io.Reader
	max   int
	buf   []byte
	start int      // first unconsumed byte in buf
	scan  int      // bytes before scan (from start) hold no '\n'
	end   int      // end of valid data in buf
	err   error    // sticky error from src, reported once buffered lines are consumed
	free  [][]byte // chunks kept for the next long line
	full  [][]byte // reused list of the chunks of the line being read
}

// NewReader returns a Reader on r that rejects lines longer than limit bytes (without the line
// terminator); limit <= 0 means DefaultMaxMessage.
func NewReader(r io.Reader, limit int) *Reader {
	return newReaderSize(r, limit, readBuf)
}

// newReaderSize lets tests use a tiny buffer so that short inputs exercise the long-line path.
func newReaderSize(r io.Reader, limit, size int) *Reader {
	if limit <= 0 {
		limit = DefaultMaxMessage
	}
	return &Reader{src: r, max: limit, buf: make([]byte, max(size, 1))}
}

// Next returns the next line that is not blank, without its "\n" or "\r\n". Blank lines (empty or
// only JSON whitespace) carry no message and are skipped rather than answered with a parse error.
//
// The returned slice is the caller's: a fresh allocation of exactly the line's length, never
// reused by the Reader. At the end of input Next returns io.EOF; a final line without "\n" is
// returned before that. A line longer than the limit, blank or not, gives ErrTooLarge once (see
// ErrTooLarge). Any other error from the source is returned as is (and again on every later
// call), after the lines read before it, including an unterminated last one.
func (r *Reader) Next() ([]byte, error) {
	for {
		if i := bytes.IndexByte(r.buf[r.scan:r.end], '\n'); i >= 0 {
			line := r.buf[r.start : r.scan+i]
			r.start = r.scan + i + 1
			r.scan = r.start
			if line, ok := r.accept(line); ok {
				return bytes.Clone(line), nil
			} else if line != nil {
				return nil, ErrTooLarge
			}
			continue
		}
		r.scan = r.end
		if r.err != nil {
			if r.start == r.end {
				return nil, r.err
			}
			line := r.buf[r.start:r.end]
			r.start, r.scan = r.end, r.end
			if line, ok := r.accept(line); ok {
				return bytes.Clone(line), nil
			} else if line != nil {
				return nil, ErrTooLarge
			}
			continue
		}
		if r.start > 0 {
			n := copy(r.buf, r.buf[r.start:r.end])
			r.scan -= r.start
			r.start, r.end = 0, n
		}
		if r.end == len(r.buf) {
			line, err := r.long()
			if err != nil || line != nil {
				return line, err
			}
			continue // a long blank line
		}
		r.fill()
	}
}

// accept trims a line's "\r" and classifies it: ok for a message to return, (nil, false) for a
// blank line to skip, (non-nil, false) for a line over the limit.
func (r *Reader) accept(line []byte) ([]byte, bool) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > r.max {
		return line, false // even when blank: the size is known before the content is
	}
	if isBlank(line) {
		return nil, false
	}
	return line, true
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// fill reads once into the free end of buf, recording the error for later. A source that keeps
// returning nothing is an error rather than a busy loop.
func (r *Reader) fill() {
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

// long continues a line that filled the whole buffer. It reads the rest straight into chunks,
// each Read limited to len(buf) so that whatever follows the newline fits back into buf, then
// joins them into one exact-size slice. It returns (nil, nil) for a blank line.
func (r *Reader) long() ([]byte, error) {
	full := r.full[:0]
	cur := append(r.chunk(), r.buf[:r.end]...)
	total := r.end
	r.start, r.scan, r.end = 0, 0, 0
	zeroReads := 0
	for {
		if total > r.max+1 { // +1: the line may still end in "\r\n"
			r.recycle(append(full, cur))
			return nil, r.discard()
		}
		if len(cur) == cap(cur) {
			full = append(full, cur)
			cur = r.chunk()
		}
		free := cur[len(cur):min(cap(cur), len(cur)+len(r.buf))]
		n, err := r.src.Read(free)
		if i := bytes.IndexByte(free[:n], '\n'); i >= 0 {
			r.end = copy(r.buf, free[i+1:n])
			cur = cur[:len(cur)+i]
			total += i
			r.err = err
			break
		}
		cur = cur[:len(cur)+n]
		total += n
		if err != nil {
			r.err = err
			break
		}
		if n == 0 {
			if zeroReads++; zeroReads >= 100 {
				r.err = io.ErrNoProgress
				break
			}
		}
	}
	// Join allocates exactly once and, unlike make+copy, does not zero memory it overwrites.
	full = append(full, cur)
	line, ok := r.accept(bytes.Join(full, nil))
	r.recycle(full)
	switch {
	case ok:
		return line, nil
	case line != nil:
		return nil, ErrTooLarge
	}
	return nil, nil
}

// keepChunks is how many chunks the Reader keeps for the next long line (1 MiB with the default
// buffer): a stream of 1 MiB messages then allocates only the messages themselves, and an idle
// bridge holds little.
const keepChunks = 4

// chunk returns an empty chunk of 4×len(buf), recycled when possible.
func (r *Reader) chunk() []byte {
	if n := len(r.free); n > 0 {
		c := r.free[n-1]
		r.free[n-1] = nil
		r.free = r.free[:n-1]
		return c[:0]
	}
	return make([]byte, 0, 4*len(r.buf))
}

// recycle keeps up to keepChunks of the chunks for later, and keeps the list itself (cleared,
// so that it holds no reference to the other chunks) for the next long line.
func (r *Reader) recycle(chunks [][]byte) {
	for i, c := range chunks {
		if len(r.free) < keepChunks {
			r.free = append(r.free, c[:0])
		}
		chunks[i] = nil
	}
	r.full = chunks[:0]
}

// discard skips the rest of an oversized line and leaves the reader at the next one.
func (r *Reader) discard() error {
	for r.err == nil {
		r.fill()
		if i := bytes.IndexByte(r.buf[:r.end], '\n'); i >= 0 {
			r.start, r.scan = i+1, i+1
			return ErrTooLarge
		}
		r.end = 0
	}
	r.start, r.scan, r.end = 0, 0, 0
	return ErrTooLarge
}
