//go:build tray

package main

import (
	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/ui"
)

// runTray is `mcp-broker-tray` with no arguments: the tray app.
func (a *app) runTray(cmd *cobra.Command, flags *trayFlags) error {
	return ui.Run(cmd.Context(), ui.Options{
		Binary:     a.bridgeBinary(),
		Version:    buildVersion(),
		Log:        a.logger(),
		Stderr:     a.stderr,
		Background: flags.background,
		Show:       flags.show,
	})
}

// bridgeBinary is what Claude Code's entries should run: the command-line build next to this
// one, which starts faster and needs no display, or else this very binary, which has the same
// bridge.
func (a *app) bridgeBinary() string {
	if path, ok := a.sibling(cliName); ok {
		return path
	}
	exe, err := a.env.Executable()
	if err != nil {
		return "" // ui.Run finds it again and reports the error
	}
	return exe
}
