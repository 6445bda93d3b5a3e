package traffic

import "sync"

// Ring keeps the most recent events, up to its capacity, each numbered in order so that a
// reader can ask for what came after the last one it saw. It is safe for concurrent use.
type Ring struct {
	mu       sync.Mutex
	buf      []Event // grows to capacity as events come: a bridge nobody watches holds few
	capacity uint64
	next     uint64 // the number the next event gets; event n is at buf[n%capacity]
}

// NewRing returns a ring that keeps capacity events (at least 1).
func NewRing(capacity int) *Ring {
	return &Ring{capacity: uint64(max(capacity, 1))}
}

// Add appends e, dropping the oldest event when the ring is full.
func (r *Ring) Add(e Event) {
	r.mu.Lock()
	if uint64(len(r.buf)) < r.capacity {
		r.buf = append(r.buf, e)
	} else {
		r.buf[r.next%r.capacity] = e
	}
	r.next++
	r.mu.Unlock()
}

// Since returns the events numbered from seq on that the ring still holds, oldest first, and
// the number to ask for next time. Events dropped before they were read are skipped.
func (r *Ring) Since(seq uint64) ([]Event, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.capacity
	if r.next > n && seq < r.next-n {
		seq = r.next - n
	}
	var out []Event
	for i := seq; i < r.next; i++ {
		out = append(out, r.buf[i%n])
	}
	return out, r.next
}

// Events returns every event the ring holds, oldest first.
func (r *Ring) Events() []Event {
	out, _ := r.Since(0)
	return out
}
