package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/report"
)

func (a *app) reportCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "report [NAME]",
		Short: "Print a bug report, without secrets, to paste into an issue",
		Long: `Put together, as Markdown ready to paste into an issue tracker, what a bug report about
mcp-broker needs: the versions (mcp-broker, Go, OS and architecture, desktop session), the
status of every server (or of NAME), a diagnosis of each (as ` + "`mcp-broker doctor NAME`" + `, each
bounded to ` + report.DefaultDoctorTimeout.String() + `), the live bridges and their last errors,
the last events of their live-traffic timelines (kept while ` + "`mcp-broker traffic`" + ` watches;
never a body), and the last lines of the log file that ` + report.EnvLogFile + ` names, if it is set.

Tokens, keys, client secrets and URL queries are taken out, and so is anything else that
looks like a credential (a bearer token, a JWT, a long run of base64); read the report before
you post it all the same. The tray's "Copy bug report" puts the same text on the clipboard.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := config.PathFrom(a.env.Getenv)
			if err != nil {
				return err
			}
			opts := report.Options{ConfigPath: path, Version: buildVersion(), Getenv: a.env.Getenv,
				ClientKey: report.KeyAlgorithm(a.broker)}
			if len(args) == 1 {
				opts.Server = args[0]
			}
			if dir, err := status.RuntimeDirFrom(a.env.Getenv); err == nil {
				opts.RuntimeDir = dir
			}
			text, err := report.Build(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if output == "" {
				_, err := fmt.Fprint(a.stdout, text)
				return err
			}
			if err := writePrivate(output, text); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "Wrote the report to %s.\n", output)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the report to `FILE` (readable by you only) instead of standard output")
	return cmd
}

// writePrivate writes text to the file at path, readable by its owner only: a report holds
// no secret, but it describes the user's setup.
func writePrivate(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if err := f.Chmod(0o600); err != nil { // a file that was there keeps its mode otherwise
		f.Close()
		return fmt.Errorf("writing the report: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("writing the report: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}
