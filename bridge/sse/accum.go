package sse

import (
	"bytes"
	"io"
)

// keepChunks is how many chunks the accumulator keeps between events (1 MiB with the default
// buffer), so that a stream of events up to that size allocates only the events themselves.
const keepChunks = 4

// accumulator collects an event's data in fixed-size chunks: appending never copies what is
// already there, and take makes the one exact-size copy the caller keeps.
type accumulator struct {
	chunkSize int
	full      [][]byte // filled chunks
	cur       []byte   // the chunk being filled; nil until the first write
	free      [][]byte // recycled chunks
}

func (a *accumulator) write(p []byte) {
	for len(p) > 0 {
		if len(a.cur) == cap(a.cur) {
			if a.cur != nil {
				a.full = append(a.full, a.cur)
			}
			a.cur = a.chunk()
		}
		n := min(len(p), cap(a.cur)-len(a.cur))
		a.cur = append(a.cur, p[:n]...)
		p = p[n:]
	}
}

func (a *accumulator) chunk() []byte {
	if n := len(a.free); n > 0 {
		c := a.free[n-1]
		a.free[n-1] = nil
		a.free = a.free[:n-1]
		return c[:0]
	}
	return make([]byte, 0, a.chunkSize)
}

// take returns a copy of everything written. bytes.Join allocates once and does not zero memory
// it is about to overwrite.
func (a *accumulator) take() []byte {
	if len(a.full) == 0 {
		return bytes.Clone(a.cur)
	}
	return bytes.Join(append(a.full, a.cur), nil)
}

// writeTo writes everything written so far to w, without copying it.
func (a *accumulator) writeTo(w io.Writer) {
	for _, c := range a.full {
		_, _ = w.Write(c)
	}
	if len(a.cur) > 0 {
		_, _ = w.Write(a.cur)
	}
}

// reset drops the contents, keeping up to keepChunks chunks for the next event.
func (a *accumulator) reset() {
	a.full = append(a.full, a.cur)
	for i, c := range a.full {
		if c != nil && len(a.free) < keepChunks {
			a.free = append(a.free, c[:0])
		}
		a.full[i] = nil
	}
	a.full, a.cur = a.full[:0], nil
}
