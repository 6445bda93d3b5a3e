package broker

import (
	"errors"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// Op is what a public method of the Broker was doing when it failed.
type Op string

// The operations.
const (
	OpConfig     Op = "read the configuration" // Server, Servers
	OpStatus     Op = "read the status"        // Status, ReadStatus
	OpSignIn     Op = "sign in"                // Login, StepUp
	OpSignOut    Op = "sign out"               // Logout
	OpCredential Op = "get a credential"       // Credential, Refresh
	OpAdd        Op = "add the server"         // AddServer, EnsureURLServer
	OpRemove     Op = "remove the server"      // RemoveServer
	OpClientKey  Op = "read the client's key"  // ClientKey
)

// OpError is the error of every public method of the Broker (and of ReadStatus): which server
// (empty when none: Servers, Status, a name that is not valid; the identity provider's name
// for the identity provider methods, OpIdP), what it was doing, and why it
// failed. Its text reads "NAME: cause". The cause is wrapped, so the package's typed errors
// (SignInRequiredError, IssuerChangedError, ...) and the hints of package hint are found through
// it with errors.As and errors.Is; an edge that names the server itself (the tray's notification
// title) shows Err alone.
//
// The methods wrap once, at their boundary: below it, errors never repeat the server's name.
type OpError struct {
	Op     Op
	Server string
	Err    error
}

// Error reads "NAME: cause", or the cause alone when there is no server or the cause names it
// already (an unknown server, a server whose settings are not valid).
func (e *OpError) Error() string {
	if e.Server == "" || namesServer(e.Err) {
		return e.Err.Error()
	}
	return e.Server + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

// namesServer reports whether err's text names the server already.
func namesServer(err error) bool {
	var unknown *UnknownServerError
	var invalid *config.InvalidServerError
	var unknownIdP *config.UnknownIdPError
	var invalidIdP *config.InvalidIdPError
	return errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &unknownIdP) || errors.As(err, &invalidIdP)
}

// wrap returns err as the OpError of op on server, or nil for no error.
func wrap(op Op, server string, err error) error {
	if err == nil {
		return nil
	}
	return &OpError{Op: op, Server: server, Err: err}
}
