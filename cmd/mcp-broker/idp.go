package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// idpCmd groups the commands of enterprise-managed authorization: the company's identity
// provider, signed in to once for every server configured with --auth enterprise --idp NAME.
func (a *app) idpCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "idp",
		Short: "Your company's identity provider: sign in once for every enterprise server",
		Long: `Enterprise-managed authorization: you sign in once to your company's identity
provider (an OpenID Connect provider such as Okta or Microsoft Entra ID), and every server
added with --auth enterprise --idp NAME gets its tokens through that sign-in, with no
consent page of its own.

  mcp-broker idp add corp --issuer https://login.example.com --client-id mcp-broker
  mcp-broker servers add wiki https://wiki.example.com/mcp --auth enterprise --idp corp \
      --client-id wiki-app --client-secret-stdin < secret.txt
  mcp-broker idp login corp`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE("add, login, list, logout or remove"),
	}
	cmd.AddCommand(a.idpAddCmd(), a.idpLoginCmd(), a.idpListCmd(), a.idpLogoutCmd(), a.idpRemoveCmd())
	return cmd
}

func (a *app) idpAddCmd() *cobra.Command {
	var issuer, clientID string
	var secretStdin bool
	cmd := &cobra.Command{
		Use:   "add NAME --issuer URL --client-id ID [--client-secret-stdin]",
		Short: "Add an identity provider, or change one",
		Long: `Add your company's identity provider, or change the settings of one with the same name.
The client id is this program's at the identity provider, registered there as a native
(desktop) app with the redirect URI http://127.0.0.1/callback (any port); give its secret on
standard input if it has one. Changing the issuer or the client id forgets the sign-in.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if issuer == "" || clientID == "" {
				return usageError{"idp add needs --issuer URL and --client-id ID"}
			}
			var secret string
			if secretStdin {
				var err error
				if secret, err = a.readSecret("Client secret"); err != nil {
					return err
				}
			}
			b, err := a.broker(cmd.Context())
			if err != nil {
				return err
			}
			if err := b.AddIdP(cmd.Context(), config.IdP{Name: args[0], Issuer: issuer, ClientID: clientID}, secret); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Added the identity provider %s (%s): sign in with `mcp-broker idp login %s`.\n", args[0], redact.URL(issuer), args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&issuer, "issuer", "", "the identity provider's issuer URL (its OpenID Connect metadata is found from it)")
	cmd.Flags().StringVar(&clientID, "client-id", "", "this program's client id at the identity provider")
	cmd.Flags().BoolVar(&secretStdin, "client-secret-stdin", false, "read that client's secret from standard input")
	return cmd
}

func (a *app) idpLoginCmd() *cobra.Command {
	var noBrowser, idTokenStdin bool
	cmd := &cobra.Command{
		Use:   "login NAME",
		Short: "Sign in to the identity provider, for every server configured with it (opens your browser)",
		Long: `Sign in to the identity provider in your browser (OpenID Connect, with offline_access
where the provider offers it so the sign-in renews itself), then get a token for every
server configured with it. On a machine that already holds an ID token for this client,
--id-token-stdin takes it from standard input instead of opening a browser; it cannot be
renewed, so once it expires you sign in again.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts broker.IdPLoginOptions
			opts.NoBrowser = noBrowser
			if idTokenStdin {
				var err error
				if opts.IDToken, err = a.readSecret("ID token"); err != nil {
					return err
				}
			}
			b, err := a.broker(cmd.Context())
			if err != nil {
				return err
			}
			res, err := b.IdPLogin(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			who := res.Subject
			if res.Email != "" {
				who = res.Email
			}
			msg := fmt.Sprintf("✔ Signed in to %s as %s", res.IdP, who)
			switch {
			case res.Renewable:
				msg += " (renews itself)"
			case !res.Expiry.IsZero():
				msg += " (until " + res.Expiry.Local().Format(time.RFC3339) + ")"
			}
			fmt.Fprintln(a.stdout, msg+".")
			for _, r := range res.Servers {
				fmt.Fprintf(a.stdout, "✔ %s: signed in.\n", r.Server)
			}
			for _, f := range res.Failed {
				fmt.Fprintf(a.stderr, "✘ %v\n", f.Err)
			}
			if len(res.Failed) > 0 {
				a.exitCode = exitError
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	cmd.Flags().BoolVar(&idTokenStdin, "id-token-stdin", false, "read an ID token you hold from standard input instead of signing in in a browser")
	return cmd
}

func (a *app) idpListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the identity providers, whether you are signed in, and their servers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := config.PathFrom(a.env.Getenv)
			if err != nil {
				return err
			}
			idps, err := broker.ReadIdPStatus(path, time.Now())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, idps)
			}
			if len(idps) == 0 {
				fmt.Fprintln(a.stdout, "No identity providers yet: add one with `mcp-broker idp add NAME --issuer URL --client-id ID`.")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tISSUER\tCLIENT\tSIGNED IN\tSERVERS")
			for _, p := range idps {
				signedIn := "no"
				if p.SignedIn {
					signedIn = "yes"
					if who := firstOf(p.Email, p.Subject); who != "" {
						signedIn += ", as " + who
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, redact.URL(p.Issuer), p.ClientID, signedIn, dash(strings.Join(p.Servers, " ")))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// firstOf is the first of its arguments that is not empty.
func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func (a *app) idpLogoutCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "logout NAME",
		Short: "Sign out of the identity provider, and so of every server configured with it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.broker(cmd.Context())
			if err != nil {
				return err
			}
			if err := b.IdPLogout(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Signed out of %s: its sign-in and the tokens of its servers are deleted.\n", args[0])
			return nil
		},
	}
}

func (a *app) idpRemoveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove an identity provider (no server may use it) and its secrets",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.broker(cmd.Context())
			if err != nil {
				return err
			}
			if err := b.RemoveIdP(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Removed the identity provider %s and its secrets.\n", args[0])
			return nil
		},
	}
}
