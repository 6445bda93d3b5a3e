package windows

import (
	"errors"
	"runtime"

	"github.com/mcp-broker/mcp-broker/broker"
	// As hints: the package has a function hint of its own (a caption under a field).
	hints "github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/ui/tray"
)

// Advice words the next step after err (its hint: see package hint) in the tray's terms: the
// menu item or window to use, never a command to type. "" when err carries no hint. The tray's
// notifications end with it, as do the windows' error messages.
func Advice(err error) string { return advice(hints.Of(err), runtime.GOOS) }

// advice words h for the tray on the system goos.
func advice(h hints.Hint, goos string) string {
	const fileStore = `keep secrets in an unencrypted file instead: set "secret_store": "file" in the configuration file (config.json)`
	switch h {
	case hints.SignIn:
		return "Choose " + tray.LabelSignIn + " in the server's menu."
	case hints.AcceptNewIssuer:
		return "If the server's operators moved it there, choose " + tray.LabelSignIn + " and accept the new sign-in server."
	case hints.StoreToken:
		return "Enter its token in the server's settings (" + tray.LabelEdit + ")."
	case hints.ClientID, hints.ClientIDOrMetadataURL:
		return "Enter a client ID registered with the authorization server in the server's settings (" + tray.LabelEdit + ")."
	case hints.ClientSecret:
		return "Enter a client ID and its secret in the server's settings (" + tray.LabelEdit + ")."
	case hints.NoAuth:
		return "Set Sign-in to None in the server's settings (" + tray.LabelEdit + ")."
	case hints.AddServer:
		return "Choose " + tray.LabelAddServer + " to add it."
	case hints.Diagnose:
		return "Choose " + tray.LabelDiagnose + " in the server's menu for the details."
	case hints.UnlockKeychain:
		switch goos {
		case "darwin":
			return "Unlock the login keychain (in Keychain Access) and try again."
		case "windows":
			return "Unlock the Windows Credential Manager and try again."
		}
		return "Unlock the login keyring (for example in Seahorse) and try again."
	case hints.StartKeychain:
		return "Start gnome-keyring (or another Secret Service), or " + fileStore + "."
	case hints.CreateKeyring:
		return "Create a default keyring (for example in Seahorse) and try again, or " + fileStore + "."
	case hints.FileStore:
		return "To " + fileStore + "."
	case hints.TryAgain:
		return "Try again."
	case hints.SignInIdP:
		return "Choose " + tray.LabelSignInIdP + " in the menu."
	case hints.WorkloadAssertion:
		return "Check the workload's JWT file or command and its client ID in the server's settings (" + tray.LabelEdit + ")."
	case hints.PreRegisteredClient:
		return "Register this app with the provider as the message says, then enter its client ID (and secret, if it has one) in the server's settings (" + tray.LabelEdit + ")."
	case hints.PrivateKey:
		return "Choose the client's private key in the server's settings (" + tray.LabelEdit + ")."
	case hints.TrustCA:
		store := "the system's trust store"
		switch goos {
		case "darwin":
			store = "the System keychain in Keychain Access, marked Always Trust"
		case "windows":
			store = "the Trusted Root Certification Authorities of the Windows certificate store"
		}
		return `If a proxy on this network inspects TLS, add its certificate authority to ` + store + `, or set "ca_file" in the configuration file (config.json) to its PEM file.`
	}
	return ""
}

// withoutServer is err's cause when err is a broker error about a server (broker.OpError): a
// window about that server names it already.
func withoutServer(err error) error {
	var op *broker.OpError
	if errors.As(err, &op) && op.Server != "" {
		return op.Err
	}
	return err
}
