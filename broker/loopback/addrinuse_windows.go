package loopback

import (
	"errors"
	"syscall"
)

// Winsock's codes: Go's syscall.EADDRINUSE on Windows is an invented value no call returns.
const (
	wsaeAddrInUse = syscall.Errno(10048) // WSAEADDRINUSE: another socket is bound to the port
	wsaeAccess    = syscall.Errno(10013) // WSAEACCES: held with SO_EXCLUSIVEADDRUSE, or in a reserved range
)

// isAddrInUse reports whether err is the bind failure for a port that cannot be had. Both codes
// mean the same to the user: pick another port or close what holds it.
func isAddrInUse(err error) bool {
	return errors.Is(err, wsaeAddrInUse) || errors.Is(err, wsaeAccess)
}
