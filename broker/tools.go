package broker

import (
	"context"
	"slices"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// OpTools is the operation of ChangeTools.
const OpTools Op = "change the tool settings"

// ToolChange is a change of a server's tool settings (config.Server.HiddenTools and ReadOnly).
type ToolChange struct {
	// Hide and Show name tools to hide from the client, and to show again.
	Hide, Show []string
	// ReadOnly, when set, turns read-only mode on or off: it hides every tool not annotated
	// readOnlyHint: true.
	ReadOnly *bool
}

// ChangeTools changes which of a server's tools the bridges hide from the client. The bridges
// running for it watch the configuration and apply the change within a second.
func (b *Broker) ChangeTools(ctx context.Context, name string, change ToolChange) error {
	return wrap(OpTools, name, config.Update(ctx, b.configPath, func(f *config.File) error {
		s, ok := f.Server(name)
		if !ok {
			return &UnknownServerError{Name: name}
		}
		for _, t := range change.Hide {
			if !slices.Contains(s.HiddenTools, t) {
				s.HiddenTools = append(s.HiddenTools, t)
			}
		}
		s.HiddenTools = slices.DeleteFunc(s.HiddenTools, func(t string) bool { return slices.Contains(change.Show, t) })
		slices.Sort(s.HiddenTools)
		if len(s.HiddenTools) == 0 {
			s.HiddenTools = nil
		}
		if change.ReadOnly != nil {
			s.ReadOnly = *change.ReadOnly
		}
		return nil
	}))
}
