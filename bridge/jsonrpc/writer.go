package jsonrpc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// smallWrite is the size up to which Writer copies a message and its newline into one buffer so
// that the message leaves in a single Write. Larger messages go out as the message followed by
// the newline (two writes under the lock), which saves copying megabytes to spare one syscall.
const smallWrite = 64 << 10

// Writer writes one message per line: the stdio transport towards the client. It is safe for
// concurrent use; each message and its newline are written together, never interleaved with
// another message.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte // reused for small messages; never grows past smallWrite+1
}

// NewWriter returns a Writer on w (typically os.Stdout). w should not be buffered: each message
// is meant to reach the peer as soon as Write returns.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w}
}

// Write sends msg followed by "\n". The bytes go out untouched unless they contain a raw '\n' or
// '\r' (pretty-printed JSON from a server): stdio forbids embedded newlines, so such a message is
// compacted first (whitespace outside strings removed, like json.Compact). A raw newline inside a
// string cannot be fixed that way (it is invalid JSON anyway) and is an error; nothing is written.
// msg is not retained.
func (w *Writer) Write(msg []byte) error {
	if len(msg) == 0 {
		return errors.New("writing message: empty message")
	}
	if bytes.IndexByte(msg, '\n') >= 0 || bytes.IndexByte(msg, '\r') >= 0 {
		compacted, err := appendCompact(make([]byte, 0, len(msg)), msg)
		if err != nil {
			return fmt.Errorf("writing message: cannot remove newlines: %w", err)
		}
		msg = compacted
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if len(msg) <= smallWrite {
		w.buf = append(append(w.buf[:0], msg...), '\n')
		if _, err := w.w.Write(w.buf); err != nil {
			return fmt.Errorf("writing message: %w", err)
		}
		return nil
	}
	if _, err := w.w.Write(msg); err != nil {
		return fmt.Errorf("writing message: %w", err)
	}
	if _, err := w.w.Write(newline); err != nil {
		return fmt.Errorf("writing message: %w", err)
	}
	return nil
}

var newline = []byte{'\n'}

// appendCompact appends src to dst without the whitespace outside strings. For valid JSON the
// result equals json.Compact's; strings are found with the same fast scanner Parse uses, so a
// pretty-printed 32 MiB result costs little more than a copy. It does not validate structure
// (the caller relays what it parsed), but a string holding a raw control character, which would
// smuggle a newline through, is an error.
func appendCompact(dst, src []byte) ([]byte, error) {
	s := scanner{b: src}
	start := 0 // start of the pending run of bytes to copy
	for s.i < len(src) {
		switch src[s.i] {
		case ' ', '\t', '\n', '\r':
			dst = append(dst, src[start:s.i]...)
			s.skipWS()
			start = s.i
		case '"':
			if _, err := s.skipString(); err != nil {
				return dst, err
			}
		default:
			s.i++
		}
	}
	return append(dst, src[start:]...), nil
}
