package bridge

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/bridge/toolpolicy"
)

// toolSettings is the server's tool settings (hidden tools, read-only mode) as the bridge
// applies them, and what it last saw of the server's tools. It lives under bridge.mu.
type toolSettings struct {
	policy toolpolicy.Policy
	// readOnly holds the tools of the last tools/list answer, each with whether it is
	// annotated readOnlyHint: true (read-only mode lets a call through only then).
	readOnly map[string]bool
	// listed: the client has had an answer to tools/list, so it is told when the settings
	// change what it would get.
	listed bool
	// seen is the Seen file's content as this bridge last meant it; dirty says it is still to
	// be written, saving that a writer runs (writeSeen).
	seen          toolpolicy.Seen
	dirty, saving bool
}

// listedTools is handed the server's answer to the client's tools/list: it returns the answer
// without the tools the settings hide (the very bytes when they hide none) and keeps what it
// saw for the Seen file, written off the relay's path. An answer it cannot take apart is
// relayed as it is.
func (b *bridge) listedTools(answer []byte) []byte {
	b.mu.Lock()
	policy := b.toolSet.policy
	b.mu.Unlock()
	out, tools, err := toolpolicy.Apply(answer, policy)
	if err != nil {
		b.log.Warn("cannot read a tools list to apply the tool settings; relaying it as it is", "err", err)
		return answer
	}
	if tools == nil && len(out) == len(answer) {
		return answer // an error answer, or a list without tools: nothing seen
	}
	readOnly := make(map[string]bool, len(tools))
	for _, t := range tools {
		readOnly[t.Name] = t.ReadOnly
	}
	seen := toolpolicy.Seen{Server: b.name, Saved: time.Now().UTC(), Tools: tools}
	b.mu.Lock()
	b.toolSet.readOnly, b.toolSet.listed = readOnly, true
	start := false
	if b.opts.ToolsDir != "" && !b.toolSet.seen.SameTools(seen) {
		b.toolSet.seen, b.toolSet.dirty = seen, true
		start, b.toolSet.saving = !b.toolSet.saving, true
	}
	b.mu.Unlock()
	if start {
		b.goWait(b.writeSeen)
	}
	if len(out) != len(answer) {
		b.log.Debug("left the tools the tool settings hide out of tools/list")
	}
	return out
}

// writeSeen writes the Seen file until what it holds is the latest list seen.
func (b *bridge) writeSeen() {
	for {
		b.mu.Lock()
		if !b.toolSet.dirty {
			b.toolSet.saving = false
			b.mu.Unlock()
			return
		}
		seen := b.toolSet.seen
		b.toolSet.dirty = false
		b.mu.Unlock()
		if err := toolpolicy.Save(b.opts.ToolsDir, seen); err != nil {
			b.log.Debug("keeping the tools seen", "err", err)
		}
	}
}

// refuseHidden answers a tools/call of a tool the settings hide with an error, and reports
// whether it did. With nothing hidden it costs a lock: no lookup, no decoding.
func (b *bridge) refuseHidden(env jsonrpc.Envelope) bool {
	b.mu.Lock()
	policy := b.toolSet.policy
	if policy.Empty() {
		b.mu.Unlock()
		return false
	}
	readOnly, known := b.toolSet.readOnly[env.ToolName]
	b.mu.Unlock()
	if !policy.Hides(env.ToolName, readOnly) {
		return false
	}
	var why string
	switch {
	case policy.Hides(env.ToolName, true): // hidden by name, read-only or not
		why = "is hidden by mcp-broker's tool settings for this server"
	case known:
		why = "is not annotated read-only (readOnlyHint), and mcp-broker's tool settings put this server in read-only mode"
	default:
		why = "is not in the server's last tools list, and mcp-broker's tool settings put this server in read-only mode, which lets only tools annotated read-only through"
	}
	b.log.Info("refused a call of a hidden tool", "tool", env.ToolName)
	b.writeClient(jsonrpc.ErrorResponse(env.ID, jsonrpc.CodeInvalidParams,
		fmt.Sprintf("mcp-broker: the tool %q of the MCP server %q %s", env.ToolName, b.name, why), b.errorData()))
	return true
}

// watchTools applies changes of the tool settings in the configuration file as they are
// saved: it watches the file's folder (an atomic save replaces the file) and, when the
// settings of this server changed, tells a client that has listed the tools to list them
// again (notifications/tools/list_changed). It returns when the bridge ends.
func (b *bridge) watchTools() {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		b.log.Warn("not watching the tool settings: changes apply when the bridge restarts", "err", err)
		return
	}
	defer w.Close()
	dir, file := filepath.Split(b.opts.ConfigPath)
	if err := w.Add(filepath.Clean(dir)); err != nil {
		b.log.Warn("not watching the tool settings: changes apply when the bridge restarts", "err", err)
		return
	}
	b.reloadTools() // a change saved before the watch began
	for {
		select {
		case <-b.ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if filepath.Base(ev.Name) == file && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) != 0 {
				b.reloadTools()
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			b.log.Debug("watching the tool settings", "err", err)
		}
	}
}

// reloadTools reads the server's tool settings and applies them when they changed.
func (b *bridge) reloadTools() {
	srv, err := b.opts.Broker.Server(b.name)
	if err != nil {
		return // a half-written or removed file: the next event says more
	}
	policy := toolpolicy.FromServer(srv)
	b.mu.Lock()
	if policy.Equal(b.toolSet.policy) {
		b.mu.Unlock()
		return
	}
	b.toolSet.policy = policy
	tell := b.toolSet.listed
	b.mu.Unlock()
	b.log.Info("the tool settings changed", "hidden", len(policy.Hidden), "read_only", policy.ReadOnly)
	if tell {
		b.writeClient([]byte(`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`))
	}
}
