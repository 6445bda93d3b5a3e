//go:build !tray && !demo

package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// demoCmd is `mcp-broker demo` in the command-line build, which leaves the demo servers out:
// they link mcp-go's server package, whose JSON Schema library costs every process that
// carries it about 10 ms and 1.7 MB at start-up, every bridge included. The command hands
// over to the tray build beside it, which has the demo (so does a build with -tags demo).
func (a *app) demoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: demoShort,
		// Everything, --help included, is the demo's to parse.
		DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			path, ok := a.sibling(trayName)
			if !ok {
				return fmt.Errorf("the demo comes with the tray build, %s, which is not installed next to this program: build it with `make tray`, or build this program with `go build -tags demo ./cmd/mcp-broker`", trayName)
			}
			return handOver(path, append([]string{"demo"}, args...)...)
		},
	}
}
