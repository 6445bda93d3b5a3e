package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/bridge/traffic"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

// followPoll is how often `traffic --follow` reads the bridges' events files.
const followPoll = 250 * time.Millisecond

func (a *app) trafficCmd() *cobra.Command {
	var (
		f      traffic.Filter
		follow bool
		bodies string
	)
	cmd := &cobra.Command{
		Use:   "traffic [--server NAME] [--method M] [--errors] [--follow]",
		Short: "Show the messages and sign-in steps of the running bridges, redacted",
		Long: `Show the timeline of every running bridge (one per Claude Code session and server): the
JSON-RPC messages it relays (direction, method, id, size, time to answer, error) and the steps
of the sign-ins and token refreshes it runs (discovery, registration, authorization, token,
refresh) with their outcome.

Bridges record only while someone watches: this command marks the traffic as watched, so the
first run may find little; --follow keeps watching and prints events as they come. Nothing
recorded holds a secret. Bodies are off by default; --bodies on includes them, with every
credential removed (tokens, codes, client secrets, Authorization values), for every bridge of
yours (a setting in config.json, read by running bridges within a second).

--method matches a method exactly, or every method under a prefix ending in "/" (tools/).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if bodies != "" {
				if bodies != "on" && bodies != "off" {
					return usageError{"--bodies takes on or off"}
				}
				if err := a.updateConfig(cmd, func(c *config.File) error {
					c.TrafficBodies = bodies == "on"
					return nil
				}); err != nil {
					return err
				}
				fmt.Fprintf(a.stderr, "Message bodies in the traffic timeline are %s.\n", bodies)
				if !follow {
					return nil
				}
			}
			return a.runTraffic(cmd.Context(), f, follow)
		},
	}
	cmd.Flags().StringVar(&f.Server, "server", "", "only this server's bridges")
	cmd.Flags().StringVar(&f.Method, "method", "", "only this method (or methods under a prefix ending in /)")
	cmd.Flags().BoolVar(&f.Errors, "errors", false, "only error answers and failed steps")
	cmd.Flags().BoolVar(&follow, "follow", false, "keep watching and print events as they come, until interrupted")
	cmd.Flags().StringVar(&bodies, "bodies", "", "on: include message bodies (redacted) from now on; off: leave them out (the default)")
	return cmd
}

func (a *app) runTraffic(ctx context.Context, f traffic.Filter, follow bool) error {
	runtimeDir, err := status.RuntimeDirFrom(a.env.Getenv)
	if err != nil {
		return err
	}
	dir := traffic.Dir(runtimeDir)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	// Mark the traffic watched before reading, so that the bridges start writing.
	if err := traffic.Watch(ctx, dir); err != nil {
		return err
	}
	r := traffic.NewReader(dir)
	events, err := r.Next()
	if err != nil {
		return err
	}
	events = slices.DeleteFunc(events, func(e traffic.Event) bool { return !f.Keep(e) })
	if !follow {
		if len(events) == 0 {
			fmt.Fprintln(a.stderr, "No traffic recorded. Bridges record only while someone watches: run `mcp-broker traffic --follow`, then use Claude Code.")
			return nil
		}
		printSessions(a.stdout, events)
		return nil
	}
	fmt.Fprintln(a.stderr, "Watching the bridges' traffic; press Ctrl-C to stop.")
	for _, e := range events {
		printEvent(a.stdout, e, true)
	}
	t := time.NewTicker(followPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil // interrupted: the normal end of --follow
		case <-t.C:
		}
		events, err := r.Next()
		if err != nil {
			return err
		}
		for _, e := range events {
			if f.Keep(e) {
				printEvent(a.stdout, e, true)
			}
		}
	}
}

// printSessions prints events grouped by session (bridge process), each under a heading.
func printSessions(w io.Writer, events []traffic.Event) {
	for i, s := range traffic.Sessions(events) {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s (bridge pid %d)\n", s.Server, s.PID)
		for _, e := range s.Events {
			printEvent(w, e, false)
		}
	}
}

// printEvent prints one event on a line (and its body, when there is one, on the next),
// prefixed with its session when sessions interleave.
func printEvent(w io.Writer, e traffic.Event, session bool) {
	var b strings.Builder
	b.WriteString(e.Time.Local().Format("15:04:05.000"))
	if session {
		fmt.Fprintf(&b, "  %s[%d]", e.Server, e.PID)
	}
	b.WriteString("  " + e.Summary())
	fmt.Fprintln(w, b.String())
	switch {
	case len(e.Body) > 0:
		fmt.Fprintf(w, "    %s\n", e.Body)
	case e.Omitted != "":
		fmt.Fprintf(w, "    (body not shown: %s)\n", e.Omitted)
	}
}
