package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/provider"
	"github.com/mcp-broker/mcp-broker/broker/redact"
)

func (a *app) serversCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "servers",
		Short: "Add, list and remove MCP servers",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRunE("add, list or remove"),
	}
	cmd.AddCommand(a.serversAddCmd(), a.serversListCmd(), a.serversRemoveCmd(), a.serversShowKeyCmd())
	return cmd
}

func (a *app) serversAddCmd() *cobra.Command {
	var (
		auth, clientID, header, scopes, transport, metadataURL, signingAlg string
		assertionFile, assertionCommand, idp, dpopMode                     string
		secretStdin, tokenStdin, keyStdin, noResourceOnRefresh             bool
		providerName, sendToken                                            string
		authParams                                                         []string
		noResource                                                         bool
	)
	cmd := &cobra.Command{
		Use:   "add NAME URL",
		Short: "Add a server, or change one (secrets are read from standard input)",
		Long: `Add a server, or replace the settings of one with the same name.

Auth modes:
  oauth               browser sign-in, OAuth 2.1 with PKCE (default)
  client-credentials  OAuth client credentials: --client-id and --client-secret-stdin,
                      or --client-id and --private-key-stdin (private_key_jwt: the client
                      signs a JWT with its private key, whose public key the authorization
                      server knows: see servers show-key), or nothing if the server
                      registers clients itself
  workload            workload identity federation (a machine, no person): --client-id
                      and the JWT its platform issues, read anew for every token, from
                      --assertion-file PATH or from what --assertion-command CMD prints
  enterprise          through your company's identity provider, signed in to once with
                      ` + "`mcp-broker idp login IDP`" + `: --idp IDP, --client-id and
                      --client-secret-stdin (the client at the server's authorization server)
  bearer              a static token or API key: --token-stdin, and --header NAME when
                      it goes in a header other than "Authorization: Bearer"
  none                no authorization

DPoP (RFC 9449) binds OAuth tokens to a key this broker makes and keeps in the secret store,
so that a copied token is useless without it. --dpop auto (the default) uses it when the
server requires it, or when its authorization server and the resource both say they support
it; on and off decide for the server. ` + "`mcp-broker doctor NAME`" + ` says which applies.

Secrets are never taken from the command line: pipe them in, or type them when asked.

A browser sign-in follows the rules of the identity provider behind the server (Microsoft
Entra ID, Google, Auth0, Okta, Amazon Cognito, Keycloak), detected from its authorization
server: --provider NAME names one its issuer does not reveal (a domain of its own), and
--provider none turns detection off; ` + "`mcp-broker doctor NAME`" + ` shows what it changes. What no
profile knows, any OAuth server can be told: --auth-param KEY=VALUE adds a parameter to the
authorization request (repeatable), --no-resource leaves the resource indicator out of every
request, --scopes fixes the scopes, and --send-token id sends the ID token instead of the
access token.`,
		Example: `  mcp-broker servers add studio https://mcp.example.com/mcp
  mcp-broker servers add ci https://mcp.example.com/mcp --auth client-credentials --client-id ci-bot --client-secret-stdin < secret.txt
  mcp-broker servers add ci https://mcp.example.com/mcp --auth client-credentials --client-id ci-bot --private-key-stdin < key.pem
  mcp-broker servers add search https://search.example.com/mcp --auth bearer --header X-API-Key --token-stdin
  mcp-broker servers add build https://mcp.example.com/mcp --auth workload --client-id ci --assertion-file /var/run/secrets/tokens/mcp
  mcp-broker servers add wiki https://wiki.example.com/mcp --auth enterprise --idp corp --client-id wiki-app --client-secret-stdin < secret.txt
  mcp-broker servers add drive https://mcp.example.com/mcp --client-id 1234.apps.googleusercontent.com --client-secret-stdin < secret.txt
  mcp-broker servers add api https://api.example.com/mcp --provider auth0 --auth-param organization=org_123`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			srv := config.Server{
				Name: args[0], URL: args[1], Auth: config.AuthMode(auth), ClientID: clientID,
				Scopes: strings.Fields(scopes), Transport: config.Transport(transport), Header: header,
				ClientMetadataURL: metadataURL, NoResourceOnRefresh: noResourceOnRefresh, SigningAlg: signingAlg,
				AssertionCommand: assertionCommand, IdP: idp,
				Provider: providerName, NoResource: noResource, SendToken: sendToken,
			}
			for _, kv := range authParams {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return usageError{fmt.Sprintf("--auth-param %q: want KEY=VALUE", kv)}
				}
				if srv.AuthParams == nil {
					srv.AuthParams = map[string]string{}
				}
				srv.AuthParams[k] = v
			}
			if err := a.workloadFlags(&srv, assertionFile); err != nil {
				return err
			}
			switch config.DPoPMode(dpopMode) {
			case config.DPoPAuto: // the default, left out of config.json
			case config.DPoPOn, config.DPoPOff:
				if srv.Auth != config.AuthOAuth && srv.Auth != config.AuthClientCredentials {
					return usageError{"--dpop goes with --auth oauth or client-credentials"}
				}
				srv.DPoP = config.DPoPMode(dpopMode)
			default:
				return usageError{fmt.Sprintf("--dpop %q: want auto, on or off", dpopMode)}
			}
			if secretStdin && tokenStdin {
				return usageError{"use --client-secret-stdin or --token-stdin, not both"}
			}
			if keyStdin && (secretStdin || tokenStdin) {
				return usageError{"--private-key-stdin replaces the client secret: use one of them"}
			}
			if keyStdin && srv.Auth != config.AuthClientCredentials {
				return usageError{"--private-key-stdin goes with --auth client-credentials"}
			}
			if keyStdin && clientID == "" {
				return usageError{"--private-key-stdin needs --client-id, the client its public key is registered for"}
			}
			if signingAlg != "" && !keyStdin {
				return usageError{"--signing-alg goes with --private-key-stdin"}
			}
			if tokenStdin && srv.Auth != config.AuthBearer {
				return usageError{"--token-stdin goes with --auth bearer"}
			}
			if srv.Auth == config.AuthBearer && secretStdin {
				return usageError{"a bearer server takes its token with --token-stdin"}
			}
			if header != "" && srv.Auth != config.AuthBearer {
				return usageError{"--header goes with --auth bearer"}
			}
			var secret string
			var err error
			switch {
			case secretStdin:
				secret, err = a.readSecret("Client secret")
			case tokenStdin:
				secret, err = a.readSecret("Token")
			case keyStdin:
				srv.ClientAuth = config.ClientAuthPrivateKeyJWT
				secret, err = a.readPrivateKey()
			default:
				// Like a secret not given again, the key stays in use when the server is
				// changed without one.
				srv.ClientAuth, srv.SigningAlg = a.keptClientAuth(srv)
			}
			if err != nil {
				return err
			}
			b, err := a.broker(cmd.Context())
			if err != nil {
				return err
			}
			if err := b.AddServer(cmd.Context(), srv, secret); err != nil {
				return err
			}
			next := "sign in with `mcp-broker login " + srv.Name + "`"
			switch srv.Auth {
			case config.AuthBearer, config.AuthNone:
				next = "it is ready to use"
			case config.AuthWorkload:
				next = "it gets its tokens by itself; `mcp-broker login " + srv.Name + "` tries it now"
			case config.AuthEnterprise:
				next = "sign in once with `mcp-broker idp login " + srv.IdP + "`, for it and every server of that identity provider"
			}
			fmt.Fprintf(a.stdout, "Added %s (%s): %s.\n", srv.Name, redact.URL(srv.URL), next)
			if all, err := b.Servers(); err == nil {
				if same := broker.SameURLServers(all, srv); len(same) > 0 {
					fmt.Fprintf(a.stderr, "warning: %s has the same URL as %s. Each keeps its own client registration and tokens: sign each in with the account meant for it (`mcp-broker status` shows whose each sign-in is).\n",
						srv.Name, andList(same))
				}
			}
			if keyStdin {
				fmt.Fprintf(a.stdout, "Its client signs with its private key; register the public key with the authorization server: `mcp-broker servers show-key %s`.\n", srv.Name)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&auth, "auth", "oauth", "how to authenticate: oauth, client-credentials, workload, enterprise, bearer or none")
	f.StringVar(&clientID, "client-id", "", "a pre-registered OAuth client id")
	f.BoolVar(&secretStdin, "client-secret-stdin", false, "read the OAuth client secret from standard input")
	f.BoolVar(&tokenStdin, "token-stdin", false, "read the static token or API key from standard input (--auth bearer)")
	f.BoolVar(&keyStdin, "private-key-stdin", false, "read the client's private key (PEM: EC P-256 or RSA) from standard input, for private_key_jwt (--auth client-credentials)")
	f.StringVar(&signingAlg, "signing-alg", "", "the algorithm the private key must sign with: ES256 or RS256 (default: the key's)")
	f.StringVar(&header, "header", "", "header for the static token, e.g. X-API-Key (default: Authorization: Bearer)")
	f.StringVar(&scopes, "scopes", "", `scopes to request instead of the discovered ones, e.g. "read write"`)
	f.StringVar(&transport, "transport", "auto", "MCP transport: auto, streamable-http or sse")
	f.StringVar(&metadataURL, "client-metadata-url", "", "https URL of this client's Client ID Metadata Document")
	f.BoolVar(&noResourceOnRefresh, "no-resource-on-refresh", false, "leave the resource indicator out of refresh requests (for authorization servers that reject it)")
	f.BoolVar(&noResource, "no-resource", false, "leave the resource indicator out of every sign-in request: authorization, token and refresh (--auth oauth)")
	f.StringVar(&providerName, "provider", "", "the identity provider whose rules sign-in follows: "+strings.Join(provider.Names(), ", ")+" (default: detected from the issuer; none turns detection off)")
	f.StringArrayVar(&authParams, "auth-param", nil, "KEY=VALUE added to the authorization request, e.g. prompt=login (repeatable; --auth oauth)")
	f.StringVar(&sendToken, "send-token", "", "the token the server is sent: access (default) or id, the OpenID Connect ID token (--auth oauth)")
	f.StringVar(&assertionFile, "assertion-file", "", "the file the workload's JWT is read from, for every token (--auth workload)")
	f.StringVar(&assertionCommand, "assertion-command", "", "a command (run by the shell) that prints the workload's JWT (--auth workload)")
	f.StringVar(&idp, "idp", "", "the identity provider to sign in through (--auth enterprise; see `mcp-broker idp add`)")
	f.StringVar(&dpopMode, "dpop", "auto", "bind tokens to a key of this broker with DPoP (RFC 9449): auto (when the server asks for it or both its sides support it), on or off")
	return cmd
}

// workloadFlags checks the flags of the JWT bearer modes against --auth, and puts the
// assertion file in srv as an absolute path: the bridge runs wherever its host starts it.
func (a *app) workloadFlags(srv *config.Server, assertionFile string) error {
	switch {
	case (assertionFile != "" || srv.AssertionCommand != "") && srv.Auth != config.AuthWorkload:
		return usageError{"--assertion-file and --assertion-command go with --auth workload"}
	case assertionFile != "" && srv.AssertionCommand != "":
		return usageError{"use --assertion-file or --assertion-command, not both"}
	case srv.Auth == config.AuthWorkload && assertionFile == "" && srv.AssertionCommand == "":
		return usageError{"--auth workload needs --assertion-file PATH or --assertion-command CMD"}
	case srv.IdP != "" && srv.Auth != config.AuthEnterprise:
		return usageError{"--idp goes with --auth enterprise"}
	case srv.Auth == config.AuthEnterprise && srv.IdP == "":
		return usageError{"--auth enterprise needs --idp IDP (see `mcp-broker idp add`)"}
	}
	if assertionFile != "" && !filepath.IsAbs(assertionFile) {
		wd, err := a.env.Getwd()
		if err != nil {
			return fmt.Errorf("finding the assertion file: %w", err)
		}
		assertionFile = filepath.Join(wd, assertionFile)
	}
	srv.AssertionFile = assertionFile
	return nil
}

func (a *app) serversListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the configured servers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, f, err := a.loadConfig()
			if err != nil {
				return err
			}
			if asJSON {
				// A query string can hold an API key: the listing, like every other output,
				// shows it redacted (config.json keeps the URL as given).
				servers := make([]config.Server, 0, len(f.Servers))
				for _, s := range f.Servers {
					s.URL = redact.URL(s.URL)
					servers = append(servers, s)
				}
				return writeJSON(a.stdout, servers)
			}
			if len(f.Servers) == 0 {
				fmt.Fprintln(a.stdout, "No servers yet: add one with `mcp-broker servers add NAME URL`.")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tURL\tAUTH\tTRANSPORT")
			for _, s := range f.Servers {
				t := s.Transport
				if t == "" {
					t = config.TransportAuto
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, redact.URL(s.URL), authLabel(s.Auth, s.ClientAuth, s.SigningAlg), t)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) serversRemoveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a server and every secret kept for it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.broker(cmd.Context())
			if err != nil {
				return err
			}
			if err := b.RemoveServer(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Removed %s and its secrets.\n", args[0])
			return nil
		},
	}
}

func (a *app) serversShowKeyCmd() *cobra.Command {
	var asJWKS bool
	cmd := &cobra.Command{
		Use:   "show-key NAME",
		Short: "Print the public key of a server's client (private_key_jwt), to register it",
		Long: `Print the public half of the private key the server's client signs its assertions
with (private_key_jwt), as a JSON Web Key whose "kid" is its RFC 7638 thumbprint: what the
authorization server needs to know the client by. The private key stays in the secret store.`,
		Example: `  mcp-broker servers show-key ci > ci-public.jwk
  mcp-broker servers show-key ci --jwks > jwks.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.broker(cmd.Context())
			if err != nil {
				return err
			}
			ck, err := b.ClientKey(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJWKS {
				return writeJSON(a.stdout, map[string]any{"keys": []json.RawMessage{ck.JWK}})
			}
			return writeJSON(a.stdout, ck.JWK)
		},
	}
	cmd.Flags().BoolVar(&asJWKS, "jwks", false, `print a JWK Set ({"keys": [...]}) instead of one JWK`)
	return cmd
}

// authLabel is a server's auth mode as the listings show it, with private_key_jwt and its
// algorithm for a client that signs its assertions.
func authLabel(auth config.AuthMode, clientAuth, signingAlg string) string {
	if clientAuth == "" {
		return string(auth)
	}
	return strings.TrimSpace(fmt.Sprintf("%s (%s %s)", auth, clientAuth, signingAlg))
}

// keptClientAuth is the client authentication srv keeps when `servers add` changes it without
// a secret or a key: private_key_jwt and its algorithm if it had them and is still a
// client-credentials server with the same client, else nothing.
func (a *app) keptClientAuth(srv config.Server) (string, string) {
	_, f, err := a.loadConfig()
	if err != nil {
		return "", ""
	}
	old, ok := f.Server(srv.Name)
	if !ok || old.ClientAuth == "" || srv.Auth != config.AuthClientCredentials || srv.ClientID != old.ClientID {
		return "", ""
	}
	return old.ClientAuth, old.SigningAlg
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
