package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker"
)

func (a *app) loginCmd() *cobra.Command {
	var noBrowser, acceptNewIssuer, device bool
	cmd := &cobra.Command{
		Use:   "login NAME",
		Short: "Sign in to a server (opens your browser)",
		Long: `Sign in to a server. For OAuth servers this opens your browser at the authorization
server's sign-in page and waits (up to 5 minutes) for you to come back; with --no-browser,
or when no browser can be opened, it prints the URL to open instead. Client-credentials
servers get a token without a browser.

Signing in over SSH or in a container, where the browser runs on another machine: with
--no-browser, open the URL wherever you like; when the browser then ends on a page that
cannot be reached (http://127.0.0.1:PORT/callback?...), paste that page's address here and
press Enter. With --device, when the server's authorization server offers the device
authorization grant (RFC 8628; see doctor), login prints an address and a code to enter
there on any device, and waits until you have.

While a bridge waits for this sign-in, it asks for the scope the server's refusal named
(the bridge's status file carries it), as the bridge's own sign-in would.

A client you registered yourself (--client-id) is kept to the authorization server it was
first used with: when the server's metadata names another one, login refuses and says so.
If the server's operators really moved it, --accept-new-issuer signs in at the new one,
which from then on is the client's.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.broker(cmd.Context())
			if err != nil {
				return err
			}
			opts := broker.LoginOptions{
				NoBrowser: noBrowser, AcceptNewIssuer: acceptNewIssuer, Device: device,
				ChallengeScope: status.SignInScope(a.liveBridges(), args[0]),
			}
			if !device {
				opts.Paste = pastedLines(cmd.Context(), a.stdin)
			}
			res, err := b.Login(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			msg := "Signed in to " + res.Server
			if who := res.Account.String(); who != "" {
				msg += " as " + who
			}
			var details []string
			if len(res.Scopes) > 0 {
				details = append(details, "scopes: "+strings.Join(res.Scopes, " "))
			}
			if res.Expiry != "" {
				details = append(details, "token expires "+res.Expiry)
			}
			if res.DPoP {
				details = append(details, "DPoP-bound to a key kept in the secret store")
			}
			if len(details) > 0 {
				msg += " (" + strings.Join(details, "; ") + ")"
			}
			fmt.Fprintln(a.stdout, "✔ "+msg+".")
			if len(res.SameAccountAs) > 0 {
				// The browser was still signed in at the provider, which signed this one in as well.
				fmt.Fprintf(a.stderr, "warning: %s is signed in as the same account as %s, at the same URL. To use another account here, sign out at the provider in your browser (or open the sign-in URL in a private window) and run `mcp-broker login %s` again.\n",
					res.Server, andList(res.SameAccountAs), res.Server)
			}
			if res.NoRefreshToken {
				// Said now, while a setting can still help, rather than at the expiry.
				fmt.Fprintf(a.stdout, "! %s gave no refresh token: you will sign in again when the token expires (%s). `mcp-broker doctor %s` says why, and what may bring one.\n",
					res.Server, res.Expiry, res.Server)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser (and take the address the browser ends on, pasted)")
	cmd.Flags().BoolVar(&device, "device", false, "sign in with a code entered on any device (the device authorization grant), for a machine without a browser")
	cmd.Flags().BoolVar(&acceptNewIssuer, "accept-new-issuer", false, "use your pre-registered client with the authorization server the server names now, though it was set up with another")
	return cmd
}

// maxPastedLine bounds a line read by pastedLines: an authorization response's address is
// well under a kilobyte.
const maxPastedLine = 16 << 10

// pastedLines sends the lines of in to the channel it returns, which it closes at the end of
// in, on a read error or a line too long, or once ctx has ended. A read of a terminal cannot be
// interrupted: the goroutine may outlive ctx, blocked on it, until the process exits, which
// for this command is right after the sign-in.
func pastedLines(ctx context.Context, in io.Reader) <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 0, 4096), maxPastedLine)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	return lines
}

func (a *app) logoutCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "logout NAME",
		Short: "Sign out: revoke a server's tokens at its authorization server and delete them",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.broker(cmd.Context())
			if err != nil {
				return err
			}
			res, err := b.Logout(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if res.Warning != "" {
				fmt.Fprintf(a.stderr, "warning: %s\n", res.Warning)
			}
			if res.Revoked {
				fmt.Fprintf(a.stdout, "Signed out of %s: its tokens are deleted here and revoked at the authorization server.\n", args[0])
				return nil
			}
			fmt.Fprintf(a.stdout, "Signed out of %s: its tokens are deleted.\n", args[0])
			return nil
		},
	}
}
