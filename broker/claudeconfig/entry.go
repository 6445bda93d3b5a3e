package claudeconfig

import (
	"runtime"
	"strings"
)

// EnvServer is the environment variable that tells `mcp-broker bridge` which configured server
// to relay (the bridge reads it when --server is not given). It is the only thing the entry
// carries: the bridge finds the URL in mcp-broker's config and the token in the keychain. It is
// defined here, with the entry, because the entry is the contract between the two.
const EnvServer = "MCP_BROKER_SERVER"

// Server is one stdio server entry of Claude Code's "mcpServers", in the key order Claude Code
// writes (type, command, args, env).
type Server struct {
	Type    string            `json:"type"`
	Command string            `json:"command"`
	Args    []string          `json:"args"`
	Env     map[string]string `json:"env"`
}

// Entry returns the entry that runs binary (the absolute path of mcp-broker) as the bridge of
// the server called name.
func Entry(name, binary string) Server {
	return Server{
		Type:    "stdio",
		Command: binary,
		Args:    []string{"bridge"},
		Env:     map[string]string{EnvServer: name},
	}
}

// Command returns the `claude mcp add` command line that adds the same entry as Entry, in local
// scope (Claude Code's default), for a user to paste into a shell:
//
//	claude mcp add NAME -e MCP_BROKER_SERVER=NAME -- /abs/path/mcp-broker bridge
//
// Arguments that the shell would split or expand are quoted (POSIX single quotes; double quotes
// on Windows). The name goes before -e because -e takes several values. Note that
// `claude mcp add` accepts only letters, digits, '-' and '_' in a name: for a name with a '.',
// which mcp-broker allows, only Add can write the entry (Claude Code reads it fine).
func Command(name, binary string) string {
	return commandFor(name, binary, runtime.GOOS)
}

func commandFor(name, binary, goos string) string {
	words := []string{"claude", "mcp", "add", name, "-e", EnvServer + "=" + name, "--", binary, "bridge"}
	for i, w := range words {
		words[i] = shellQuote(w, goos)
	}
	return strings.Join(words, " ")
}

// shellQuote quotes s for the shell of goos when it holds anything but characters every shell
// takes literally.
func shellQuote(s, goos string) string {
	if s != "" && strings.Trim(s, safeChars(goos)) == "" {
		return s
	}
	if goos == "windows" {
		// cmd.exe and PowerShell both take "…" literally for a path; a '"' cannot be in one.
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// safeChars are the characters that need no quoting. Backslash is a path separator on Windows
// and an escape character in POSIX shells.
func safeChars(goos string) string {
	const common = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@+,"
	if goos == "windows" {
		return common + `\`
	}
	return common
}

// TemporaryBinary reports whether binary is an executable that `go run` or `go test` built in
// a temporary "go-build" folder: an entry pointing there breaks as soon as Go cleans it up, so
// callers warn before writing one.
func TemporaryBinary(binary string) bool {
	isSep := func(r rune) bool { return r == '/' || r == '\\' }
	for _, part := range strings.FieldsFunc(binary, isSep) {
		if strings.HasPrefix(part, "go-build") {
			return true
		}
	}
	return false
}
