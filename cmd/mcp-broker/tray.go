package main

import (
	"os"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"
)

// MCP Broker ships as two builds of this command, so that the bridge stays fast and needs no
// display (see `make build`):
//
//   - mcp-broker, the command-line build (CGO_ENABLED=0, no Fyne): every subcommand, the
//     bridge that Claude Code starts, and `mcp-broker` alone, which starts the tray build;
//   - mcp-broker-tray, built with `-tags tray` (cgo, Fyne): the same commands plus the tray,
//     which `mcp-broker-tray` alone runs.
//
// Linking Fyne would cost every bridge start: the binary needs the GL and X11 libraries to load
// at all (libGL, libX11, libxcb…, absent on many servers), starts 1.5 to 2 times slower, uses
// 2.5 times the memory (31 MB instead of 12 MB), and writes a locale error to stderr under
// LANG=C.UTF-8. The command-line build is static and cross-compiles without cgo.

// demoShort is the one-line help of `demo`, in both builds.
const demoShort = "Run the built-in demo MCP server and authorization server, and add it as server \"demo\""

// Names of the two builds, as installed side by side.
const (
	cliName  = "mcp-broker"
	trayName = "mcp-broker-tray"
)

// sibling returns the path of the build called name in the folder of this executable, if
// there is one.
func (a *app) sibling(name string) (string, bool) {
	exe, err := a.env.Executable()
	if err != nil {
		return "", false
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	path := filepath.Join(filepath.Dir(exe), name)
	if path == exe {
		return "", false // never hand over to ourselves
	}
	if st, err := os.Stat(path); err != nil || st.IsDir() || (runtime.GOOS != "windows" && st.Mode()&0o111 == 0) {
		return "", false
	}
	return path, true
}

// showTimeline is the value of --show that opens the Timeline window (ui.ShowTimeline).
const showTimeline = "timeline"

// trayFlags are the flags of `mcp-broker` alone, the tray app: the tray build hands them to
// ui.Options, the command-line build on to the tray build.
type trayFlags struct {
	// background: started at login (the start-at-login entry's --background): the tray icon
	// alone, no window. Hidden from the help: people start the app to see it.
	background bool
	// show names a window to open (showTimeline), in the running app if there is one.
	show string
}

// backgroundFlag is --background's name: the flag the start-at-login entry passes
// (autostart.BackgroundFlag, which a test holds it to). Spelt out here, so that the
// command-line build, which every bridge start loads, links no part of the tray.
const backgroundFlag = "background"

func (f *trayFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.background, backgroundFlag, false, "start with the tray icon alone, as at login")
	_ = cmd.Flags().MarkHidden(backgroundFlag)
	cmd.Flags().StringVar(&f.show, "show", "", "open a window of the app, in the running one if it runs: "+showTimeline+" (the live traffic)")
}

// check refuses a window --show does not know.
func (f *trayFlags) check() error {
	if f.show != "" && f.show != showTimeline {
		return usageError{"--show takes " + showTimeline + ", not " + f.show}
	}
	return nil
}

// args are the flags again, for the tray build.
func (f *trayFlags) args() []string {
	var args []string
	if f.background {
		args = append(args, "--"+backgroundFlag)
	}
	if f.show != "" {
		args = append(args, "--show", f.show)
	}
	return args
}
