package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/httpclient"
	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// statusJSON is the `status --json` document: stable names for scripts, never a secret.
type statusJSON struct {
	Config  string                `json:"config"`
	Servers []broker.ServerStatus `json:"servers"`
	// Bridges are the live bridge processes, from their status files.
	Bridges []status.Bridge `json:"bridges"`
	// Network is the proxy and CA file in force (see `mcp-broker config`).
	Network networkJSON `json:"network"`
}

// networkJSON is the network settings in force, or why they cannot be used.
type networkJSON struct {
	httpclient.Summary
	Error string `json:"error,omitempty"`
}

func (a *app) statusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every server, whether you are signed in, token expiry and scopes",
		Long: `Show every configured server: its auth mode, whether you are signed in and as whom
(ACCOUNT: when the server says, from its ID token, UserInfo endpoint or token
introspection), when the token expires, its scopes and the registered OAuth client, then when
you will have to sign in again (no refresh token, a refresh token that expires, a session limit
the server showed by refusing a refresh) and the last background renewal that failed, then the
proxy and CA file in force (see ` + "`mcp-broker config`" + `), and what mcp-broker works around
for servers that bend the rules (an expiry it had to assume, a token endpoint that reads only
JSON, ...). Servers that share a URL (two accounts on one server) are pointed out on standard
error. It never shows a secret and never
needs to unlock the keychain.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := config.PathFrom(a.env.Getenv)
			if err != nil {
				return err
			}
			now := time.Now()
			st, err := broker.ReadStatus(path, now)
			if err != nil {
				return err
			}
			for i := range st {
				// People put API keys in server URLs: status shows where, not the key.
				st[i].URL = redact.URL(st[i].URL)
			}
			bridges := a.liveBridges()
			var network networkJSON
			if n, err := broker.NetworkFrom(path, a.env.Getenv); err != nil {
				network.Error = err.Error()
			} else {
				network.Summary = n.Summary()
			}
			if asJSON {
				return writeJSON(a.stdout, statusJSON{Config: path, Servers: st, Bridges: bridges, Network: network})
			}
			if len(st) == 0 {
				fmt.Fprintln(a.stdout, "No servers yet: add one with `mcp-broker servers add NAME URL`.")
			} else {
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tAUTH\tSTATE\tACCOUNT\tEXPIRES\tSCOPES\tCLIENT")
				for _, s := range st {
					state := s.State.String()
					if s.IdP != "" {
						state += " (" + s.IdP + ")"
					}
					if s.DPoP {
						state += " (DPoP-bound)"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, authLabel(s.Auth, s.ClientAuth, s.SigningAlg), state, dash(s.Account.String()),
						expiry(s.Expiry, now), dash(strings.Join(s.Scopes, " ")), client(s))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				warnSameURL(a.stderr, st)
				printSignIns(a.stdout, st, now)
				if err := printDeviations(a.stdout, st); err != nil {
					return err
				}
			}
			printNetwork(a.stdout, network)
			if len(bridges) > 0 {
				return printBridges(a.stdout, bridges, now)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// printSignIns prints, under the status table, when each sign-in will have to be done again
// (broker.ServerStatus.SignInBy, with why) and the last background renewal that failed:
// nothing when no server has either.
func printSignIns(w io.Writer, servers []broker.ServerStatus, now time.Time) {
	var lines []string
	for _, s := range servers {
		if s.SignInBy != nil {
			lines = append(lines, fmt.Sprintf("%s: sign in again by %s (%s)", s.Name, when(*s.SignInBy, now), s.SignInByReason.Why(s.SessionLimit())))
		}
		if f := s.RenewalFailure; f != nil {
			line := fmt.Sprintf("%s: renewal failed at %s: %s", s.Name, when(f.At, now), f.Reason)
			switch f.Kind {
			case broker.RenewalRefused:
				line += "; sign in again"
			case broker.RenewalFailed:
				line += "; tried again at the next request"
			}
			lines = append(lines, line)
		}
	}
	_ = printSection(w, "Sign-ins", lines)
}

// when is a moment for a sentence: its clock time today, with the date on another day.
func when(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04")
	}
	return t.Format("Mon 2 Jan 15:04")
}

// warnSameURL says, once for each URL that several servers share, that they do: several
// accounts on one server work, and the ACCOUNT column tells whose each sign-in is.
func warnSameURL(w io.Writer, st []broker.ServerStatus) {
	for _, s := range st {
		if len(s.SameURLAs) == 0 || slices.ContainsFunc(s.SameURLAs, func(o string) bool { return o < s.Name }) {
			continue // none, or told with the first of them
		}
		names := append([]string{s.Name}, s.SameURLAs...)
		slices.Sort(names)
		fmt.Fprintf(w, "warning: %s have the same URL (%s): each keeps its own sign-in; ACCOUNT shows whose each is.\n",
			andList(names), s.URL)
	}
}

// andList joins names for a sentence: "a", "a and b", "a, b and c".
func andList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// liveBridges lists the running bridges (an unreadable runtime folder means none: status
// must still answer).
func (a *app) liveBridges() []status.Bridge {
	dir, err := status.RuntimeDirFrom(a.env.Getenv)
	if err != nil {
		return []status.Bridge{}
	}
	bridges, err := status.List(status.BridgesDir(dir))
	if err != nil || bridges == nil {
		return []status.Bridge{}
	}
	return bridges
}

// printNetwork prints the "Network" section, when a proxy or CA file is set (or the system's
// settings are read) or the settings cannot be used.
func printNetwork(w io.Writer, n networkJSON) {
	lines := n.Lines()
	if n.Error != "" {
		lines = []string{"not usable: " + n.Error}
	}
	_ = printSection(w, "Network", lines)
}

// printSection prints one section under the status table: a blank line, its title, and its
// lines indented; nothing at all when it has no lines.
func printSection(w io.Writer, title string, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	if _, err := fmt.Fprintf(w, "\n%s:\n", title); err != nil {
		return err
	}
	for _, l := range lines {
		if _, err := fmt.Fprintf(w, "  %s\n", l); err != nil {
			return err
		}
	}
	return nil
}

// printBridges prints the "Live bridges" section.
func printBridges(w io.Writer, bridges []status.Bridge, now time.Time) error {
	fmt.Fprintln(w, "\nLive bridges:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tPID\tCLIENT\tTRANSPORT\tSTATE\tUP\tMESSAGES IN/OUT\tLAST ERROR")
	for _, b := range bridges {
		transport := b.Transport
		if b.ProtocolVersion != "" {
			transport += " " + b.ProtocolVersion
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", b.Server, b.PID, dash(b.Client), dash(transport), b.State,
			now.Sub(b.Started).Round(time.Second), b.Messages.FromClient, b.Messages.ToClient, dash(b.LastError))
	}
	return tw.Flush()
}

// expiry is the EXPIRES column: the clock time and what is left, rounded down so that it
// never overstates ("in 59s", "in 42m"). A token is "expired" only once its expiry has
// passed: one with seconds left still works, and rounding those to 0m made them look dead.
func expiry(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	at := t.Local().Format("15:04")
	d := t.Sub(now)
	switch {
	case d <= 0:
		return at + " (expired)"
	case d < time.Second:
		return at + " (in <1s)"
	case d < time.Minute:
		return fmt.Sprintf("%s (in %s)", at, d.Truncate(time.Second))
	}
	return fmt.Sprintf("%s (in %s)", at, strings.TrimSuffix(d.Truncate(time.Minute).String(), "0s"))
}

func client(s broker.ServerStatus) string {
	if s.Client == nil {
		return "-"
	}
	how := s.Client.Kind
	if m := s.Client.AuthMethod; m != "" {
		how += ", " + m // how it authenticates: none, client_secret_basic, private_key_jwt, ...
	}
	return fmt.Sprintf("%s (%s) at %s", s.Client.ID, how, s.Issuer)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
