//go:build tray || demo

package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/internal/demo"
)

func (a *app) demoCmd() *cobra.Command {
	var mcpPort, authPort int
	cmd := &cobra.Command{
		Use:   "demo",
		Short: demoShort,
		Long: `Run a demo MCP server and its OAuth authorization server on 127.0.0.1, and add it to your
configuration as server "demo", so that you can try signing in and Claude Code end to end
without an account anywhere. It runs until you press Ctrl-C.

The demo listens on ports 28787 (MCP) and 28788 (authorization) so that the "demo" entry
keeps working when you start it again; when a port is taken it picks a free one and updates
the entry. It keeps everything in memory: after a restart, sign in again.`,
		Example: `  mcp-broker demo
  mcp-broker demo --port 0 --auth-port 0    # any free ports`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var opts demo.Options
			// Only ports given on the command line are binding: the defaults
			// give way to a free port when taken.
			if cmd.Flags().Changed("port") {
				opts.MCPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(mcpPort))
			}
			if cmd.Flags().Changed("auth-port") {
				opts.AuthAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(authPort))
			}
			b, err := a.broker(ctx)
			if err != nil {
				return err
			}
			d, err := demo.Start(ctx, opts)
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				return fmt.Errorf("%w: choose other ports with --port and --auth-port (0 means any free port)", err)
			}
			defer d.Close()
			if _, err := d.AddTo(ctx, b); err != nil {
				var taken *demo.NameTakenError
				if errors.As(err, &taken) {
					return err
				}
				return fmt.Errorf("the demo started but could not be added to your configuration: %w", err)
			}
			for _, n := range d.Notes() {
				fmt.Fprintln(a.stderr, "Note: "+n+".")
			}
			fmt.Fprintf(a.stdout, `The MCP Broker demo is running.

  MCP server (Streamable HTTP): %s
  MCP server (legacy SSE):      %s
  Authorization server:         %s

It is in your configuration as server %q. Next, in another terminal:

  mcp-broker login %[4]s          sign in: your browser opens the demo's consent page; click Allow
  mcp-broker claude add %[4]s     let Claude Code use it (then ask Claude to call the whoami tool)

or run mcp-broker without arguments and use the tray menu.
The demo keeps everything in memory: after a restart, sign in again.
Press Ctrl-C to stop it.
`, d.MCPURL(), d.SSEURL(), d.AuthURL(), demo.ServerName)
			// The context ends on Ctrl-C or SIGTERM (see main), which stops
			// the demo; a stop is the normal end of this command.
			if err := d.Wait(); err != nil {
				return fmt.Errorf("stopping the demo: %w", err)
			}
			fmt.Fprintln(a.stderr, "Demo stopped.")
			return nil
		},
	}
	port := func(addr string) int {
		_, p, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(p)
		return n
	}
	cmd.Flags().IntVar(&mcpPort, "port", port(demo.DefaultMCPAddr), "port of the MCP server on 127.0.0.1 (0: any free port)")
	cmd.Flags().IntVar(&authPort, "auth-port", port(demo.DefaultAuthAddr), "port of the authorization server on 127.0.0.1 (0: any free port)")
	return cmd
}
