package claudeconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Scope is where in Claude Code's configuration an entry goes; the values are the names
// `claude mcp add --scope` takes.
type Scope string

// The scopes, as Claude Code names them.
const (
	// ScopeLocal is one project folder's entry in ~/.claude.json: private to the user, only in
	// that project. It is `claude mcp add`'s default.
	ScopeLocal Scope = "local"
	// ScopeUser is the top-level "mcpServers" of ~/.claude.json: every project of the user.
	ScopeUser Scope = "user"
	// ScopeProject is .mcp.json in a project folder, meant to be checked in and shared. Claude
	// Code asks each user to approve its servers once.
	ScopeProject Scope = "project"
)

// Scopes lists the scopes in the order a chooser shows them.
var Scopes = []Scope{ScopeLocal, ScopeProject, ScopeUser}

// ParseScope checks a scope name from the command line or a settings file.
func ParseScope(s string) (Scope, error) {
	switch sc := Scope(s); sc {
	case ScopeLocal, ScopeUser, ScopeProject:
		return sc, nil
	}
	return "", fmt.Errorf("unknown scope %q: use local, project or user", s)
}

// Target says which file and which part of it an entry goes into.
type Target struct {
	Scope Scope
	// Dir is the project folder for ScopeLocal (any folder inside the project: Claude Code
	// files local entries under the repository's root) and the folder that holds .mcp.json for
	// ScopeProject. It must exist. ScopeUser ignores it.
	Dir string
}

// EnvClaudeConfigDir is the variable with which Claude Code moves its configuration folder,
// ~/.claude.json included.
const EnvClaudeConfigDir = "CLAUDE_CONFIG_DIR"

// location is the resolved target: the file and the keys down to the "mcpServers" object.
type location struct {
	path    string
	keys    []string // e.g. ["projects", "/repo", "mcpServers"]
	project string   // ScopeLocal: the key under "projects"
	mode    os.FileMode
	global  bool // ~/.claude.json: take Claude Code's lock
	// projectDir is, for ScopeProject, the folder of .mcp.json with links resolved: a
	// .mcp.json that is a link must lead to a file inside it (see resolveFile).
	projectDir string
}

// where describes keys for a person: mcpServers, or projects["/repo"].mcpServers.
func (l location) where() string {
	if l.project != "" {
		return fmt.Sprintf("projects[%s].mcpServers", quoteJSON(l.project))
	}
	return "mcpServers"
}

// locate resolves t for w.
func (w Writer) locate(t Target) (location, error) {
	switch t.Scope {
	case ScopeUser, ScopeLocal:
		path, err := w.globalFile()
		if err != nil {
			return location{}, err
		}
		loc := location{path: path, keys: []string{"mcpServers"}, mode: 0o600, global: true}
		if t.Scope == ScopeLocal {
			if t.Dir == "" {
				return location{}, errors.New("local scope needs a project folder")
			}
			key, err := ProjectKey(t.Dir)
			if err != nil {
				return location{}, err
			}
			loc.project = key
			loc.keys = []string{"projects", key, "mcpServers"}
		}
		return loc, nil
	case ScopeProject:
		if t.Dir == "" {
			return location{}, errors.New("project scope needs a folder for .mcp.json")
		}
		dir, err := filepath.Abs(t.Dir)
		if err != nil {
			return location{}, fmt.Errorf("resolving %s: %w", t.Dir, err)
		}
		if err := isDir(dir); err != nil {
			return location{}, err
		}
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return location{}, fmt.Errorf("resolving %s: %w", dir, err)
		}
		// .mcp.json is shared (checked in) and holds no secret: Claude Code creates it 0644 too.
		return location{path: filepath.Join(dir, ".mcp.json"), keys: []string{"mcpServers"}, mode: 0o644, projectDir: real}, nil
	}
	return location{}, fmt.Errorf("unknown scope %q: use local, project or user", t.Scope)
}

// globalFile is the file Claude Code keeps its global configuration in (see the package doc).
func (w Writer) globalFile() (string, error) {
	home := w.Home
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding the home folder for ~/.claude.json: %w", err)
		}
		home = h
	}
	configDir := w.ClaudeConfigDir
	if configDir == "" {
		configDir = w.getenv()(EnvClaudeConfigDir)
	}
	base, claudeDir := home, filepath.Join(home, ".claude")
	if configDir != "" {
		abs, err := filepath.Abs(configDir)
		if err != nil {
			return "", fmt.Errorf("resolving %s=%s: %w", EnvClaudeConfigDir, configDir, err)
		}
		base, claudeDir = abs, abs
	}
	// Claude Code before ~/.claude.json kept the same document in .config.json, and still
	// prefers it while it holds anything.
	legacy := filepath.Join(claudeDir, ".config.json")
	if fi, err := os.Stat(legacy); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
		return legacy, nil
	}
	return filepath.Join(base, ".claude.json"), nil
}

// ProjectKey returns the key under which Claude Code files a folder's local-scope settings in
// ~/.claude.json: the root of the git repository the folder is in (for a linked worktree, the
// main repository's root; a submodule is its own root), or the folder itself outside a
// repository, with symbolic links resolved, and with forward slashes on Windows. Claude Code
// derives it the same way from the folder it starts in, so an entry filed under it is seen from
// anywhere in the project.
func ProjectKey(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", dir, err)
	}
	if err := isDir(abs); err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", abs, err)
	}
	key := real
	if root := gitRoot(real); root != "" {
		key = root
	}
	if runtime.GOOS == "windows" {
		key = filepath.ToSlash(key)
	}
	return key, nil
}

// gitRoot returns the root of the git repository holding dir, or "" outside one. It reads
// the files git leaves rather than running git, which may not be installed.
func gitRoot(dir string) string {
	for d := dir; ; {
		dotGit := filepath.Join(d, ".git")
		fi, err := os.Stat(dotGit)
		if err == nil {
			if fi.Mode().IsRegular() {
				if main := worktreeMain(d, dotGit); main != "" {
					return main
				}
			}
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// worktreeMain returns the main repository's root when the .git file of dir points into
// another repository's worktrees (its git dir has a "commondir"), else "". A submodule's .git
// file points to a git dir without one.
func worktreeMain(dir, dotGit string) string {
	b, err := os.ReadFile(dotGit)
	if err != nil {
		return ""
	}
	gitDir, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir:")
	if !ok {
		return ""
	}
	gitDir = strings.TrimSpace(gitDir)
	if !filepath.IsAbs(gitDir) {
		gitDir = filepath.Join(dir, gitDir)
	}
	common, err := os.ReadFile(filepath.Join(gitDir, "commondir"))
	if err != nil {
		return ""
	}
	commonDir := strings.TrimSpace(string(common))
	if !filepath.IsAbs(commonDir) {
		commonDir = filepath.Join(gitDir, commonDir)
	}
	commonDir = filepath.Clean(commonDir)
	if filepath.Base(commonDir) != ".git" {
		return "" // a bare main repository has no working tree to be the project
	}
	root, err := filepath.EvalSymlinks(filepath.Dir(commonDir))
	if err != nil {
		return ""
	}
	return root
}

// isDir checks that dir is an existing folder, with an error that says which.
func isDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("folder %s does not exist", dir)
	case err != nil:
		return fmt.Errorf("checking folder %s: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("%s is not a folder", dir)
	}
	return nil
}
