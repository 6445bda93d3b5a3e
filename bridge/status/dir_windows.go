//go:build windows

package status

import (
	"io/fs"

	"golang.org/x/sys/windows"
)

// checkOwner trusts the folder: on Windows os.TempDir is already per user
// (%LOCALAPPDATA%\Temp) and new folders inherit its owner-only ACL.
func checkOwner(string, fs.FileInfo) error { return nil }

// ownedPrivately trusts the file or folder, for the reason checkOwner does.
func ownedPrivately(string, fs.FileInfo) error { return nil }

// ownProcessAlive reports whether pid is a running process of ours: one we may not open
// (access denied) is another user's, so not ours.
func ownProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return false
	}
	defer windows.CloseHandle(h)
	var code uint32
	return windows.GetExitCodeProcess(h, &code) == nil && code == stillActive
}

// stillActive is the exit code GetExitCodeProcess reports for a running process.
const stillActive = 259

// alive reports whether a process with that pid is running.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		// Access denied means it exists (another user's).
		return err == windows.ERROR_ACCESS_DENIED
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	return code == stillActive
}
