package autostart

import (
	"errors"
	"fmt"
	"strings"
)

// This file holds the Windows command line of the Run value. It has no build
// tag so that its tests run everywhere.

// windowsCommandLine joins argv into the command line Windows splits again
// with CommandLineToArgvW. The program is always quoted: an unquoted path
// with a space ("C:\Program Files\...") is read as a shorter program plus
// arguments, the classic unquoted-path hole. Program names are split by
// quotes alone (no backslash escapes), so a quote cannot appear in one; a
// path cannot hold one anyway.
func windowsCommandLine(argv []string) (string, error) {
	if len(argv) == 0 || argv[0] == "" {
		return "", errors.New("building the command line: no program")
	}
	for _, a := range argv {
		if strings.ContainsRune(a, 0) {
			return "", fmt.Errorf("building the command line: %q contains a NUL character", a)
		}
	}
	if strings.Contains(argv[0], `"`) {
		return "", fmt.Errorf("building the command line: the program path %q contains a double quote", argv[0])
	}
	parts := []string{`"` + argv[0] + `"`}
	for _, a := range argv[1:] {
		parts = append(parts, escapeWindowsArg(a))
	}
	return strings.Join(parts, " "), nil
}

// escapeWindowsArg quotes one argument for CommandLineToArgvW, as Go's
// syscall.EscapeArg does on Windows: quotes around an argument with a space
// or tab (or an empty one), a backslash before each quote, and the
// backslashes that precede a quote (or the closing quote) doubled.
func escapeWindowsArg(s string) string {
	if s == "" {
		return `""`
	}
	if !strings.ContainsAny(s, " \t\"\\") {
		return s
	}
	quote := strings.ContainsAny(s, " \t")
	var b strings.Builder
	if quote {
		b.WriteByte('"')
	}
	slashes := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(c)
	}
	if quote {
		b.WriteString(strings.Repeat(`\`, slashes))
		b.WriteByte('"')
	}
	return b.String()
}

// startupApprovedDisabled reads a value under Explorer's StartupApproved\Run
// key, where Task Manager's Startup tab records its switch: the low bit of
// the first byte is set (03 00 00 00 …) when the user disabled the entry and
// clear (02 00 00 00 …) when it is enabled.
func startupApprovedDisabled(data []byte) bool {
	return len(data) > 0 && data[0]&1 == 1
}
