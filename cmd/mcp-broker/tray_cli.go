//go:build !tray

package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/ui/display"
)

// runTray is `mcp-broker` with no arguments in the command-line build: it starts the tray
// build installed next to it. Without a display it says so and points to the commands; without
// the tray build (a server install) it shows the help.
func (a *app) runTray(cmd *cobra.Command, flags *trayFlags) error {
	path, ok := a.sibling(trayName)
	if !ok {
		fmt.Fprintf(a.stderr, "(The tray app, %s, is not installed next to this program: this is the command-line build.)\n\n", trayName)
		return cmd.Help()
	}
	if err := display.Check(a.env.Getenv); err != nil {
		return err
	}
	return startTray(path, flags.args()...)
}
