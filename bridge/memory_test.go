package bridge

import (
	"context"
	"runtime/metrics"
	"testing"
	"time"
)

// forcedGCs counts the collections the program asked for (runtime.GC, debug.FreeOSMemory).
func forcedGCs() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestReclaimAfterBigMessage: a big message leads to a collection soon after, a small one to
// nothing at all, and the reclaimer ends with the bridge.
func TestReclaimAfterBigMessage(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	b := &bridge{ctx: ctx, cancel: cancel}

	b.relayedBig(bigMessage - 1)
	if b.mem.big != nil {
		t.Fatal("a small message started the reclaimer")
	}

	before := forcedGCs()
	b.relayedBig(bigMessage)
	b.relayedBig(2 * bigMessage) // a burst: coalesced, never blocks
	deadline := time.Now().Add(60 * time.Second)
	for forcedGCs() == before {
		if time.Now().After(deadline) {
			t.Fatal("no collection after a big message")
		}
		time.Sleep(5 * time.Millisecond)
	}

	cancel()
	if !waitGroup(&b.wg, 10*time.Second) {
		t.Error("the reclaimer did not end with the bridge")
	}
	b.relayedBig(bigMessage) // after the end: ignored, no goroutine left behind
	if !waitGroup(&b.wg, time.Second) {
		t.Error("a big message after the end started work")
	}
}
