package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/doctor"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/httpclient"
)

func (a *app) doctorCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "doctor URL|NAME",
		Short: "Diagnose a server's OAuth discovery and transports, item by item",
		Long: `Run discovery against an MCP server the way a spec-compliant client does, and report
item by item what it found and what is missing or wrong: the 401 challenge, the protected
resource metadata and where it was found, the authorization server metadata and the issuer
check, PKCE support, registration options (with the private_key_jwt signing algorithms the
authorization server accepts), refresh support, and the transports the server answers. Exits
with status 3 when a problem blocks sign-in. Given a URL it needs no configuration and sends
no credentials.

Given the NAME of a configured server, it also judges how that server is set up against what
its authorization server offers: the grant a client-credentials server needs; for a client
that signs with a private key (private_key_jwt), whether the key is stored and its algorithm is
accepted (only then does it read the secret store, for the key's algorithm); and the assertion
grants that --auth workload and --auth enterprise need (the JWT bearer grant, and the token
exchange at the identity provider); and whether other servers are configured with its URL
(several accounts on one server). It also says what the server's --dpop setting makes of the
DPoP support of its two sides (RFC 9449). It sends no credentials.

It reports the ways a server bends the rules that mcp-broker works around or cannot: an
authorization endpoint that is only a stub, a token endpoint that reads only JSON, an issuer
with a trailing slash; for a configured server, also what its last sign-in saw (expires_in as a
string or missing, token_type missing or in lower case, a registration answered 200 or with
redirect URIs of the server's own).

It reaches the server as every other command does: through the proxy and with the certificate
authorities that the configuration and the environment name (see ` + "`mcp-broker config`" + `),
which the report's first lines show.

For a browser sign-in it names the identity provider's profile (Entra ID, Google, Auth0, Okta,
Cognito, Keycloak), detected from the issuer or set with --provider, every departure from the
standard requests it makes, the server's own settings (--auth-param, --no-resource, --scopes,
--send-token), and the authorization request they add up to; and whether a sign-in will bring
a refresh token (a warning when it will not: you would sign in again at every expiry).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			network, err := broker.NetworkFrom("", a.env.Getenv)
			if err != nil {
				return err
			}
			fetcher := &discovery.Fetcher{HTTP: httpclient.New(httpclient.WithTimeout(discovery.DefaultTimeout), httpclient.WithNetwork(network))}
			var report *doctor.Report
			serverURL, name, idp := args[0], "", ""
			if strings.Contains(args[0], "://") {
				report = doctor.Run(cmd.Context(), fetcher, args[0])
			} else {
				setup, err := a.doctorSetup(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				serverURL, name, idp = setup.Server.URL, setup.Server.Name, setup.Server.IdP
				report = doctor.RunFor(cmd.Context(), fetcher, *setup)
			}
			report.Network = doctor.NetworkLines(network, serverURL)
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
				a.findingSteps(report, name, idp)
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

// doctorSetup is the configured server of that name as doctor judges it (doctor.Configured)
// and, for a private_key_jwt client, its key's algorithm from the secret store.
func (a *app) doctorSetup(ctx context.Context, name string) (*doctor.Setup, error) {
	path, f, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	setup, err := doctor.Configured(path, f, name, time.Now())
	if err != nil {
		return nil, err
	}
	if setup.Server.ClientAuth == config.ClientAuthPrivateKeyJWT {
		b, err := a.broker(ctx)
		if err != nil {
			return nil, err
		}
		setup.WithClientKey(b.ClientKey(ctx, name))
	}
	return &setup, nil
}

// findingSteps prints the next step of each finding that names one (its hint), once each,
// for the configured server name and its identity provider idp ("" for a URL: the step then
// says NAME).
func (a *app) findingSteps(report *doctor.Report, name, idp string) {
	seen := map[hint.Hint]bool{}
	for _, f := range report.Findings {
		if f.Hint == hint.None || seen[f.Hint] {
			continue
		}
		seen[f.Hint] = true
		who := name
		if f.Hint == hint.SignInIdP {
			who = idp // its step signs in to the identity provider
		}
		if step := nextStep(f.Hint, who, "", runtime.GOOS); step != "" {
			fmt.Fprintln(a.stdout, step)
		}
	}
}
