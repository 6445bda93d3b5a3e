//go:build !windows

package loopback

import (
	"errors"
	"syscall"
)

// isAddrInUse reports whether err is the bind failure for a port that is taken.
func isAddrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }
