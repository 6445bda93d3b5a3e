package main

import (
	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/doctor"
)

func (a *app) doctorCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "doctor URL",
		Short: "Diagnose a server's OAuth discovery and transports, item by item",
		Long: `Run discovery against an MCP server the way a spec-compliant client does, and report
item by item what it found and what is missing or wrong: the 401 challenge, the protected
resource metadata and where it was found, the authorization server metadata and the issuer
check, PKCE support, registration options, refresh support, and the transports the server
answers. Exits with status 3 when a problem blocks sign-in. Needs no configuration and
sends no credentials.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			report := doctor.Run(cmd.Context(), &discovery.Fetcher{}, args[0])
			if asJSON {
				data, err := report.JSON()
				if err != nil {
					return err
				}
				if _, err := a.stdout.Write(append(data, '\n')); err != nil {
					return err
				}
			} else {
				report.WriteText(a.stdout)
			}
			if report.Blocking() {
				a.exitCode = exitProblem
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
