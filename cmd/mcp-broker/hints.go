package main

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/httpclient"
	"github.com/mcp-broker/mcp-broker/broker/redact"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

// advice is the line the command line prints under an error: the next step its hint names
// (package hint), with the exact command to run; "" when it has none. The server comes from
// the error (broker.OpError); its URL, for `doctor`, from the configuration.
func advice(err error) string {
	h := hint.Of(err)
	if h == hint.None {
		return ""
	}
	server := serverOf(err)
	serverURL := ""
	if h == hint.Diagnose && server != "" {
		serverURL = configuredURL(server)
	}
	if h == hint.SignInIdP {
		server = idpOf(err, server)
	}
	return nextStep(h, server, serverURL, runtime.GOOS)
}

// nextStep words hint h for the command line, for the server of that name and URL ("" when not
// known: the command then shows NAME or URL to fill in) on the system goos.
func nextStep(h hint.Hint, server, serverURL, goos string) string {
	name := server
	if name == "" {
		name = "NAME"
		if h == hint.SignInIdP {
			name = "IDP"
		}
	}
	target := "URL"
	if serverURL != "" {
		target = redact.URL(serverURL)
	}
	const fileStore = secrets.EnvStore + "=" + secrets.KindFile
	switch h {
	case hint.SignIn:
		return fmt.Sprintf("Run `mcp-broker login %s`.", name)
	case hint.AcceptNewIssuer:
		return fmt.Sprintf("If the server's operators moved it there, run `mcp-broker login %s --accept-new-issuer`.", name)
	case hint.StoreToken:
		return fmt.Sprintf("Store its token with `mcp-broker servers add %s URL --auth bearer --token-stdin`.", name)
	case hint.ClientID:
		return fmt.Sprintf("Pass a client registered with the authorization server: `mcp-broker servers add %s URL --client-id ID`.", name)
	case hint.ClientIDOrMetadataURL:
		return fmt.Sprintf("Pass a client registered with the authorization server (`mcp-broker servers add %s URL --client-id ID`) or a client metadata document (--client-metadata-url).", name)
	case hint.ClientSecret:
		return fmt.Sprintf("Give it a client id and secret: `mcp-broker servers add %s URL --auth client-credentials --client-id ID --client-secret-stdin`.", name)
	case hint.NoAuth:
		return fmt.Sprintf("Configure it without authorization: `mcp-broker servers add %s URL --auth none`.", name)
	case hint.AddServer:
		return fmt.Sprintf("See `mcp-broker servers list`, or add it with `mcp-broker servers add %s URL`.", name)
	case hint.Diagnose:
		return fmt.Sprintf("Run `mcp-broker doctor %s` for details.", target)
	case hint.UnlockKeychain:
		switch goos {
		case "darwin":
			return "Unlock the login keychain (over SSH: security unlock-keychain) and try again."
		case "windows":
			return "Unlock the Windows Credential Manager and try again."
		}
		return "Unlock the login keyring (for example in Seahorse) and try again."
	case hint.StartKeychain:
		return "Start gnome-keyring (or another Secret Service), or opt in to the unencrypted file store with " + fileStore + "."
	case hint.CreateKeyring:
		return "Create a default keyring (for example in Seahorse) and try again, or opt in to the unencrypted file store with " + fileStore + "."
	case hint.FileStore:
		return "Opt in to the unencrypted file store with " + fileStore + "."
	case hint.TryAgain:
		return "Try again."
	case hint.PrivateKey:
		return fmt.Sprintf("Give it the client's private key: `mcp-broker servers add %s URL --auth client-credentials --client-id ID --private-key-stdin < key.pem`.", name)
	case hint.SignInIdP:
		return fmt.Sprintf("Sign in to your company account, once for all its servers: run `mcp-broker idp login %s`.", name)
	case hint.PreRegisteredClient:
		return fmt.Sprintf("Register mcp-broker there as said, then pass its client: `mcp-broker servers add %s URL --client-id ID --client-secret-stdin` (without --client-secret-stdin when it has no secret).", name)
	case hint.WorkloadAssertion:
		return fmt.Sprintf("Check the workload's JWT source and client id: `mcp-broker servers add %s URL --auth workload --client-id ID --assertion-file PATH` (or --assertion-command CMD).", name)
	case hint.TrustCA:
		return "If a proxy on this network inspects TLS, trust its certificate authority: add it to the system's trust store, or run `mcp-broker config set ca_file /path/to/ca.pem` (or set " + httpclient.EnvCAFile + ")."
	}
	return ""
}

// idpOf is the identity provider a sign-in hint is about: the one the error names, or else the
// one the server is configured with; server itself when neither is known (the identity
// provider commands' errors name the identity provider there).
func idpOf(err error, server string) string {
	var idpErr *broker.IdPSignInRequiredError
	if errors.As(err, &idpErr) {
		return idpErr.IdP
	}
	var op *broker.OpError
	if errors.As(err, &op) && op.Op == broker.OpIdP {
		return server
	}
	path, perr := config.Path()
	if perr != nil {
		return ""
	}
	if f, lerr := config.Load(path); lerr == nil {
		if s, ok := f.Server(server); ok && s.IdP != "" {
			return s.IdP
		}
	}
	return ""
}

// serverOf is the server an error is about: the broker's OpError says, or the name an unknown
// server was asked for by (the claude commands look servers up without a Broker).
func serverOf(err error) string {
	var op *broker.OpError
	if errors.As(err, &op) && op.Server != "" {
		return op.Server
	}
	var unknown *broker.UnknownServerError
	if errors.As(err, &unknown) {
		return unknown.Name
	}
	return ""
}

// configuredURL is the URL the server is configured with, or "" when it cannot be read.
func configuredURL(name string) string {
	path, err := config.Path()
	if err != nil {
		return ""
	}
	f, err := config.Load(path)
	if err != nil {
		return ""
	}
	if s, ok := f.Server(name); ok {
		return s.URL
	}
	return ""
}
