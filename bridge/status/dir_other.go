//go:build !unix && !windows

package status

import "io/fs"

func checkOwner(string, fs.FileInfo) error { return nil }

// alive cannot tell on this platform: every file counts as live.
func alive(pid int) bool { return pid > 0 }

func ownedPrivately(string, fs.FileInfo) error { return nil }

// ownProcessAlive cannot tell on this platform either.
func ownProcessAlive(pid int) bool { return pid > 0 }
