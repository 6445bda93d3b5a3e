package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/bridge/toolpolicy"
	"github.com/mcp-broker/mcp-broker/bridge/traffic"
	"github.com/mcp-broker/mcp-broker/broker/claudeconfig"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/httpclient"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// envLogFile, when set, also writes the bridge's log to that file (appended, 0600). The server
// comes from claudeconfig.EnvServer when --server is not given: what a .mcp.json entry sets.
const envLogFile = "MCP_BROKER_LOG_FILE"

func (a *app) bridgeCmd() *cobra.Command {
	var (
		server     string
		rawURL     string
		maxMessage int
		noBrowser  bool
	)
	cmd := &cobra.Command{
		Use:   "bridge [--server NAME | --url URL]",
		Short: "Relay an MCP client on stdio to a remote server (what Claude Code launches)",
		Long: `Speak MCP on standard input and output, one JSON-RPC message per line, and relay every
message to the remote server over HTTP with your credential from the keychain. This is the
command an MCP client such as Claude Code launches; the entry holds no secret:

  {"mcpServers":{"studio":{"type":"stdio","command":"/abs/path/mcp-broker",
    "args":["bridge"],"env":{"MCP_BROKER_SERVER":"studio"}}}}

The server comes from --server or MCP_BROKER_SERVER. --url runs against a server that is not
configured: it is added under a name derived from the URL, signed in to on the spot, and its
tokens are kept in the keychain like any other's.

Without a credential the bridge opens the browser to sign in (or, when the mcp-broker tray
runs, leaves that to the tray), and answers the client meanwhile. Over SSH or without a
display (no DISPLAY or WAYLAND_DISPLAY on Linux), when the server's authorization server
offers the device authorization grant, it prints an address and a code on standard error
instead (Claude Code keeps that in the server's MCP log), to enter on any device. Logs go
to standard error (level from MCP_BROKER_LOG: debug, info, warn, error) and, with
MCP_BROKER_LOG_FILE, to a file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if server == "" && rawURL == "" {
				server = a.env.Getenv(claudeconfig.EnvServer)
			}
			switch {
			case server != "" && rawURL != "":
				return usageError{"give --server or --url, not both"}
			case server == "" && rawURL == "":
				return usageError{"which server? pass --server NAME or --url URL, or set " + claudeconfig.EnvServer}
			case maxMessage < 1024:
				return usageError{"--max-message must be at least 1024 bytes"}
			}
			return a.runBridge(cmd.Context(), server, rawURL, maxMessage, noBrowser)
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "the configured server to relay to (default $"+claudeconfig.EnvServer+")")
	cmd.Flags().StringVar(&rawURL, "url", "", "relay to this MCP URL, signing in to it on the spot")
	cmd.Flags().IntVar(&maxMessage, "max-message", jsonrpc.DefaultMaxMessage, "largest message relayed either way, in bytes")
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "never open a browser: wait for the tray or `mcp-broker login` to sign in")
	return cmd
}

func (a *app) runBridge(ctx context.Context, name, rawURL string, maxMessage int, noBrowser bool) error {
	log, closeLog, err := a.bridgeLogger()
	if err != nil {
		return err
	}
	defer closeLog()
	a.log = log
	b, err := a.broker(ctx)
	if err != nil {
		return err
	}
	var srv config.Server
	if rawURL != "" {
		srv, err = b.EnsureURLServer(ctx, rawURL)
	} else {
		srv, err = b.Server(name)
	}
	if err != nil {
		return err
	}
	configPath := b.ConfigPath()
	opts := bridge.Options{
		// The relay reaches the server as the broker does: its proxy, its certificate authorities.
		HTTP:   httpclient.New(httpclient.WithNetwork(b.Network())),
		Server: srv, Broker: b, In: a.stdin, Out: a.stdout, MaxMessage: maxMessage,
		UserAgent: "mcp-broker/" + buildVersion(), Log: log, NoBrowser: noBrowser, Advise: advice,
		Headless:   opener.Unavailable(a.env.Getenv, runtime.GOOS),
		ConfigPath: configPath,
	}
	if dir, err := status.RuntimeDirFrom(a.env.Getenv); err == nil {
		opts.RuntimeDir, opts.StatusDir = dir, status.BridgesDir(dir)
		opts.TrafficDir = traffic.Dir(dir)
		opts.TrafficBodies = func() bool {
			f, err := config.Load(configPath)
			return err == nil && f.TrafficBodies
		}
	}
	if dir, err := a.env.UserCacheDir(); err == nil {
		opts.CacheDir = filepath.Join(dir, "mcp-broker", "initialize")
		opts.ToolsDir = toolpolicy.Dir(dir)
	}
	log.Debug("bridge starting", "server", srv.Name, "url", redact.URL(srv.URL), "transport", srv.Transport)
	err = bridge.Run(ctx, opts)
	if errors.Is(err, context.Canceled) {
		return nil // SIGINT or SIGTERM: a normal way for a client to stop us
	}
	return err
}

// bridgeLogger writes to stderr and, with MCP_BROKER_LOG_FILE, to that file too, at the level
// of MCP_BROKER_LOG (default warn).
func (a *app) bridgeLogger() (*slog.Logger, func(), error) {
	hopts := &slog.HandlerOptions{Level: a.logLevel()}
	handler := slog.Handler(slog.NewTextHandler(a.stderr, hopts))
	closeLog := func() {}
	if path := a.env.Getenv(envLogFile); path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("opening the log file (%s): %w", envLogFile, err)
		}
		handler = slog.NewMultiHandler(handler, slog.NewTextHandler(f, hopts))
		closeLog = func() { _ = f.Close() }
	}
	return slog.New(handler).With("pid", os.Getpid()), closeLog, nil
}
