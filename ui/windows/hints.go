package windows

import (
	"errors"
	"runtime"

	"github.com/mcp-broker/mcp-broker/broker"
	// As hints: the package has a function hint of its own (a caption under a field).
	hints "github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/ui/tray"
)

// Advice words the next step after err (its hint: see package hint) in the app's terms, for a
// notification or a window other than the main window: the menu item or button to use, and
// where it is ("in the MCP Broker menu or window", for the server the error is about when it
// names one), never a command to type. "" when err carries no hint. The app's notifications
// end with it, as do the error messages of every window but the main one (see adviceHere).
func Advice(err error) string {
	return advice(hints.Of(err), runtime.GOOS, place{server: serverOf(err)})
}

// adviceHere words the next step after err for the main window, where it is read under the
// server it is about, whose buttons are right there: "Choose Sign in.".
func adviceHere(err error) string { return advice(hints.Of(err), runtime.GOOS, place{here: true}) }

// place is where advice is read, which decides how it points at a button or menu item.
type place struct {
	// here is the main window, under the server: its buttons need no directions.
	here bool
	// server is the server the advice is about, when not here and the error names it.
	server string
}

// appWide is where the app's menu and main window are, for advice read elsewhere.
const appWide = " in the MCP Broker menu or window"

// item names the server's item label where it is read: "Sign in" under the server, "Sign in
// for studio in the MCP Broker menu or window" elsewhere.
func (p place) item(label string) string {
	switch {
	case p.here:
		return label
	case p.server != "":
		return label + " for " + p.server + appWide
	}
	return label + appWide
}

// global names an item that is the app's, not a server's, where it is read.
func (p place) global(label string) string {
	if p.here {
		return label
	}
	return label + appWide
}

// serverOf is the server an error is about, when it says: the broker's errors name it.
func serverOf(err error) string {
	var op *broker.OpError
	if errors.As(err, &op) && op.Server != "" {
		return op.Server
	}
	var sir *broker.SignInRequiredError
	if errors.As(err, &sir) {
		return sir.Server
	}
	return ""
}

// advice words h for the app on the system goos, read at p.
func advice(h hints.Hint, goos string, p place) string {
	const fileStore = `keep secrets in an unencrypted file instead: set "secret_store": "file" in the configuration file (config.json)`
	switch h {
	case hints.SignIn:
		return "Choose " + p.item(tray.LabelSignIn) + "."
	case hints.AcceptNewIssuer:
		return "If the server's operators moved it there, choose " + p.item(tray.LabelSignIn) + " and accept the new sign-in server."
	case hints.StoreToken:
		return "Enter its token in the server's settings (" + tray.LabelEdit + ")."
	case hints.ClientID, hints.ClientIDOrMetadataURL:
		return "Enter a client ID registered with the authorization server in the server's settings (" + tray.LabelEdit + ")."
	case hints.ClientSecret:
		return "Enter a client ID and its secret in the server's settings (" + tray.LabelEdit + ")."
	case hints.NoAuth:
		return "Set Sign-in to None in the server's settings (" + tray.LabelEdit + ")."
	case hints.AddServer:
		return "Choose " + p.global(tray.LabelAddServer) + " to add it."
	case hints.Diagnose:
		if p.here {
			return "Choose " + tray.LabelDiagnose + " for the details."
		}
		return "For the details, choose " + p.item(tray.LabelDiagnose) + "."
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
		return "Choose " + p.global(tray.LabelSignInIdP) + "."
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
