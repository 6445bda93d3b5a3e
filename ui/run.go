// Package ui is MCP Broker's desktop app: the tray icon and menu, the windows, desktop
// notifications, and the wiring from them to the broker. `mcp-broker` with no arguments runs it.
//
// What the tray shows comes from package model (a polled Snapshot of the configuration and the
// bridges' status files), the menu from package tray (a pure function of the snapshot), and the
// windows from package windows. This package holds the one fyne.App, owns every goroutine that
// talks to the broker, and hands results to the UI thread with fyne.Do.
//
// It is the only package that imports fyne.io/fyne/v2/app, and so the only one that needs cgo
// and a display: the rest of the UI builds and tests without either.
package ui

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/toolpolicy"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/ui/display"
)

// AppID is the app's reverse-DNS id: Fyne's preferences folder, the D-Bus notification's app
// name, FyneApp.toml's ID and the desktop entry's name. Changing it loses the preferences.
const AppID = "io.github.mcp_broker.mcp_broker"

// appName is the app's name for people: window titles, the tray's title, FyneApp.toml's Name.
const appName = "MCP Broker"

// ErrNoDisplay is wrapped by Run's error when there is no display to show the tray on.
var ErrNoDisplay = display.ErrNoDisplay

// Options configures Run. The zero value works: it uses the current user's configuration and
// runtime folders (honouring MCP_BROKER_CONFIG_DIR and MCP_BROKER_RUNTIME_DIR).
type Options struct {
	// ConfigPath is the config file; "" means config.Path().
	ConfigPath string
	// RuntimeDir is where bridges publish their status and the tray announces itself; ""
	// means status.RuntimeDir().
	RuntimeDir string
	// Binary is the absolute path of the mcp-broker executable that Claude Code's entries run
	// (`mcp-broker bridge`); "" means this executable.
	Binary string
	// Version is shown to authorization servers on registration and in the app's metadata.
	Version string
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
	// Stderr receives what a browser opener prints; nil discards it.
	Stderr io.Writer
	// KeychainTimeout bounds each keychain call. The tray is interactive: the OS may show an
	// unlock prompt, and a person needs time to type a password. 0 means broker.Open's
	// interactive default, two minutes.
	KeychainTimeout time.Duration
	// PollInterval is how often the state is read; 0 means model.DefaultInterval.
	PollInterval time.Duration
	// ToolsDir is where the bridges keep the tools they last saw of each server
	// (toolpolicy.Seen); "" means toolpolicy.Dir(os.UserCacheDir()).
	ToolsDir string
	// Background is a start at login (the autostart entry's autostart.BackgroundFlag): with a
	// tray host to show the icon, the icon alone, and no window. Any other start (the app
	// launcher, `mcp-broker` typed) opens the main window too.
	Background bool
	// Show names a window to open besides: ShowTimeline, or "" for none. When the app runs
	// already, the running one opens it.
	Show string
}

// The windows Options.Show can name.
const (
	// ShowTimeline is the Timeline window of the bridges' traffic.
	ShowTimeline = "timeline"
)

// Run runs the tray app until the user quits it or ctx ends. It must be called from the main
// goroutine (Fyne's GL driver runs its event loop there).
//
// Without a display it returns an error wrapping ErrNoDisplay that points to the command line.
// Without a D-Bus session bus (where the Linux tray lives) it shows the main window instead of
// a tray icon, with the tray's menu as the window's menu, and quits when the window is closed:
// enabling Fyne's tray without a bus would crash on quit (fyne-io/fyne#6403). With a bus but
// no tray host to show the icon (stock GNOME), it also shows the main window at start, and
// closing it quits. With a tray host, it shows the main window at start too, unless it was
// started at login (Options.Background). When a tray of this user already runs, the new start
// (the app launcher, or Options.Show) asks it to show its main window (or the window named)
// and returns.
func Run(ctx context.Context, opts Options) error {
	if err := display.Check(os.Getenv); err != nil {
		return err
	}
	if opts.ConfigPath == "" {
		p, err := config.Path()
		if err != nil {
			return err
		}
		opts.ConfigPath = p
	}
	if opts.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding the mcp-broker executable: %w", err)
		}
		opts.Binary = exe
	}
	if opts.ToolsDir == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			opts.ToolsDir = toolpolicy.Dir(dir)
		}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	host, busErr := checkSessionBus(ctx)
	if busErr != nil {
		opts.Log.Warn("no D-Bus session bus: running without a tray icon; the main window stands in for it", "err", busErr)
	} else if !host {
		opts.Log.Info("no tray host (StatusNotifierWatcher) on the session bus: showing the main window")
	}
	return run(ctx, opts, busErr == nil, host)
}
