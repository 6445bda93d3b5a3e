package bridge

import (
	"fmt"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// URLChangedError says the server's URL was changed in the configuration (`servers add`, the
// tray) while this bridge was relaying to the old one. The credential the broker holds now
// belongs to the new URL, so the bridge must not send it to the old one; and it cannot move to
// the new URL by itself, since the client's session, tools and answers in flight belong to the
// old server.
type URLChangedError struct {
	Server string
	// Was is the URL the bridge relays to, Now the one configured.
	Was, Now string
}

func (e *URLChangedError) Error() string {
	return fmt.Sprintf("the URL of %s was changed from %s to %s while this bridge was running, so it has stopped relaying (nothing meant for the new URL goes to the old one): restart %s in Claude Code (/mcp, select it, Reconnect) to use the new URL",
		e.Server, redact.URL(e.Was), redact.URL(e.Now), e.Server)
}

// stopRelaying ends the relay for good once the server's URL changed (see URLChangedError):
// the connection to the old URL is dropped, every request in flight and every later one is
// answered with err, and the status file shows it. The process stays up rather than exit: a
// client such as Claude Code shows a tool call's error text to the user and the model, while
// a server that exits is only marked "failed", without the reason or what to do.
func (b *bridge) stopRelaying(err error) {
	b.mu.Lock()
	// Leaving open closes the session's broken channel: the session manager closes the
	// connection and returns.
	if !b.session.stop(err) {
		b.mu.Unlock()
		return
	}
	if b.signIn.state == signInWaiting {
		b.signIn.set(signInNone, nil)
	}
	if b.signIn.abandon != nil {
		b.signIn.abandon()
	}
	b.broadcast()
	ids := make(map[string][]byte, len(b.requests.inflight))
	for key, p := range b.requests.inflight {
		ids[key] = p.id
	}
	b.mu.Unlock()
	b.log.Error("the server's URL changed; this bridge stops relaying", "err", err)
	b.answerInitialize(nil)
	b.fail(jsonrpc.Envelope{}, ids, err)
	b.wake()
	b.publish()
}

// urlRecheck is how often a running bridge reads its server's configuration to notice a new
// URL. The credential cache can hold a token for most of its life, so without this a bridge
// would keep relaying to the old URL until the cache ran out; one small file read every few
// seconds costs nothing measurable.
const urlRecheck = 2 * time.Second

// watchURL checks the server's configured URL every urlRecheck until the bridge ends or stops
// relaying (checkURL then calls stopRelaying).
func (b *bridge) watchURL() {
	t := time.NewTicker(urlRecheck)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
			if b.creds.checkConfig() != nil {
				return
			}
		}
	}
}
