package bridge

import "github.com/mcp-broker/mcp-broker/bridge/paramheaders"

// serverTools is the bridge's side of upstream.ToolTable: the tool table (state.go), read and
// taught by the transport of a stateless connection, under b.mu.
type serverTools struct{ b *bridge }

// Params returns the tool's designated parameters, or why it was left out of the client's list.
func (s serverTools) Params(tool string) ([]paramheaders.Param, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.b.tools.lookup(tool)
}

// Listed learns the designations of a tools/list answer and returns it without the tools the
// specification makes a client reject, each named in a warning with the reason (once, until
// the reason changes). An answer that rejects nothing is returned as the same bytes; one that
// cannot hold a designation, while none is known, is not even decoded.
func (s serverTools) Listed(answer []byte) []byte {
	b := s.b
	b.mu.Lock()
	known := len(b.tools.byName) > 0
	b.mu.Unlock()
	if !known && !paramheaders.Mentions(answer) {
		return answer
	}
	list, err := paramheaders.ReadList(answer)
	if err != nil {
		b.log.Warn("cannot read the x-mcp-header designations of a tools list; relaying it as it is", "err", err)
		return answer
	}
	b.mu.Lock()
	warn := b.tools.learn(list.Tools)
	b.mu.Unlock()
	for _, t := range warn {
		b.log.Warn("leaving a tool out of tools/list: its x-mcp-header is invalid", "tool", t.Name, "reason", t.Invalid)
	}
	if n := list.Rejected(); n > len(warn) {
		b.log.Debug("left tools with an invalid x-mcp-header out of tools/list", "tools", n)
	}
	return list.Answer
}
