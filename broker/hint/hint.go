// Package hint names the next step a person can take after an error, in no program's words.
//
// The library packages (broker, broker/secrets, broker/claudeconfig) say in an error's text what
// failed, and attach a Hint for what to do about it; the edges turn the Hint into words: the
// command line into the exact command to run (`mcp-broker login NAME`), the tray into the menu
// item or window to use ("choose Sign in"). Keeping the advice out of the text is what lets one
// error read right in a terminal and in a notification.
//
// A Hint names the step, never its arguments: the edge knows the server from the error (see
// broker.OpError) and fills in the rest.
package hint

import (
	"crypto/x509"
	"errors"
)

// Hint is a next step. The zero value, None, is no advice.
type Hint int

// The next steps.
const (
	// None: no advice.
	None Hint = iota
	// SignIn: sign in to the server (again).
	SignIn
	// AcceptNewIssuer: the server names another authorization server than its pre-registered
	// client was set up with; if the server's operators really moved it, sign in accepting it.
	AcceptNewIssuer
	// StoreToken: store the bearer server's static token (or API key).
	StoreToken
	// ClientID: configure a client registered beforehand with the authorization server, which
	// registers none itself.
	ClientID
	// ClientIDOrMetadataURL: as ClientID, or a client metadata document URL, which the
	// authorization server accepts.
	ClientIDOrMetadataURL
	// ClientSecret: configure the client id and secret of a client-credentials server.
	ClientSecret
	// NoAuth: configure the server without authorization: it asks for none.
	NoAuth
	// AddServer: no server of that name is configured: look at the list, or add it.
	AddServer
	// Diagnose: run the diagnosis of the server's discovery for the details.
	Diagnose
	// UnlockKeychain: unlock the OS keychain (its login keyring) and try again.
	UnlockKeychain
	// StartKeychain: start a keychain service (a Secret Service such as gnome-keyring), or
	// choose the unencrypted file secret store.
	StartKeychain
	// CreateKeyring: create a default keyring in the keychain service, or choose the file store.
	CreateKeyring
	// FileStore: this system has no keychain: choose the unencrypted file secret store.
	FileStore
	// TryAgain: the cause passes by itself (another process was busy): try again.
	TryAgain
	// SignInIdP: sign in to the company's identity provider (the error names it: see
	// broker.IdPSignInRequiredError), once for every server configured with it.
	SignInIdP
	// WorkloadAssertion: check the workload's JWT source (its file or command) and client id,
	// which the authorization server refused or which gave no JWT.
	WorkloadAssertion
	// PrivateKey: give the client-credentials server its client's private key (private_key_jwt),
	// of an algorithm the authorization server accepts.
	PrivateKey
	// TrustCA: a server's certificate is signed by an authority this computer does not trust,
	// most often because a corporate proxy inspects TLS: trust that authority (the system's
	// trust store, or a CA file in the configuration).
	TrustCA
	// PreRegisteredClient: register this program with the provider (the error says how) and
	// configure that client's id, with its secret when the provider gave one.
	PreRegisteredClient

	end // one past the last Hint
)

var names = [...]string{
	None: "None", SignIn: "SignIn", AcceptNewIssuer: "AcceptNewIssuer", StoreToken: "StoreToken",
	ClientID: "ClientID", ClientIDOrMetadataURL: "ClientIDOrMetadataURL", ClientSecret: "ClientSecret",
	NoAuth: "NoAuth", AddServer: "AddServer", Diagnose: "Diagnose", UnlockKeychain: "UnlockKeychain",
	StartKeychain: "StartKeychain", CreateKeyring: "CreateKeyring", FileStore: "FileStore", TryAgain: "TryAgain",
	SignInIdP: "SignInIdP", WorkloadAssertion: "WorkloadAssertion", PrivateKey: "PrivateKey",
	TrustCA: "TrustCA", PreRegisteredClient: "PreRegisteredClient",
}

// String returns the Hint's Go name, for tests and logs (never shown to people as advice).
func (h Hint) String() string {
	if h < 0 || h >= end {
		return "Hint(invalid)"
	}
	return names[h]
}

// All returns every Hint but None, so that an edge's tests can check it renders each one.
func All() []Hint {
	all := make([]Hint, 0, end-1)
	for h := None + 1; h < end; h++ {
		all = append(all, h)
	}
	return all
}

// Of returns the hint of the first error in err's tree that carries one (a Hint method), or None.
// An error without one whose tree holds an x509.UnknownAuthorityError is TrustCA: that error
// comes from the standard library, deep inside whichever request met it (discovery, a token
// request, the bridge's stream), and the next step is the same for all.
func Of(err error) Hint {
	var h interface{ Hint() Hint }
	if errors.As(err, &h) {
		return h.Hint()
	}
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		return TrustCA
	}
	return None
}

// With returns err with hint h attached; its text and its wrapped errors stay err's. A nil err
// stays nil.
func With(err error, h Hint) error {
	if err == nil {
		return nil
	}
	return &hinted{err: err, hint: h}
}

// hinted is an error with a hint attached.
type hinted struct {
	err  error
	hint Hint
}

func (e *hinted) Error() string { return e.err.Error() }
func (e *hinted) Unwrap() error { return e.err }
func (e *hinted) Hint() Hint    { return e.hint }
