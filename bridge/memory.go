package bridge

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/retry"
)

// Memory after big messages.
//
// Relaying a message costs about twice its size for a moment (read in chunks, joined once, then
// written), and it is garbage as soon as it is written. Left to the garbage collector's pacing,
// that garbage is collected only once the heap has doubled again, so five 32 MiB results in a
// row pushed the bridge's resident memory to 4.5 to 6.5 times the message (measured with `make
// bench`; 2.5 times with this), and it stayed there: the runtime returns freed memory to the
// system only slowly.
// After a big message the bridge therefore collects at once, so that the next big message
// reuses the same memory, and once big messages stop for a while it returns that memory to the
// system, so that an idle bridge is small again.
const (
	// bigMessage is the size from which a relayed message triggers a collection. Below it the
	// collector's own pacing keeps the heap within a few MB of the bridge's few live MB.
	bigMessage = 1 << 20
	// collectDelay lets the goroutine that relayed the message drop it before the collection,
	// so that it is not found still live on that goroutine's stack.
	collectDelay = 5 * time.Millisecond
	// trimAfter is how long without big messages before freed memory goes back to the system.
	trimAfter = 2 * time.Second
)

// reclaimer runs the collections after big messages: one goroutine, started by the first big
// message and owned by the bridge (it ends with it).
type reclaimer struct {
	once sync.Once
	big  chan struct{} // a big message went by; capacity 1, so bursts coalesce
}

// relayedBig tells the reclaimer that a message of n bytes was relayed; it does nothing for a
// small one, so the relay's hot path pays one comparison.
func (b *bridge) relayedBig(n int) {
	if n < bigMessage || b.ctx.Err() != nil {
		return
	}
	b.mem.once.Do(func() {
		b.mem.big = make(chan struct{}, 1)
		b.goWait(b.reclaim)
	})
	select {
	case b.mem.big <- struct{}{}:
	default:
	}
}

// reclaim collects after each burst of big messages and trims once they stop.
func (b *bridge) reclaim() {
	idle := time.NewTimer(time.Hour)
	idle.Stop()
	defer idle.Stop()
	trimmed := true
	for {
		select {
		case <-b.mem.big:
			if !retry.Sleep(b.ctx, collectDelay) {
				return
			}
			runtime.GC()
			trimmed = false
			idle.Reset(trimAfter)
		case <-idle.C:
			if !trimmed {
				debug.FreeOSMemory()
				trimmed = true
			}
		case <-b.ctx.Done():
			return
		}
	}
}
