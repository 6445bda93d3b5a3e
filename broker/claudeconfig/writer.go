package claudeconfig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
)

// Writer writes mcp-broker's entries into Claude Code's configuration. The zero value of each
// field but Binary means "as Claude Code would find it", so tests set Home and the rest leave
// it.
type Writer struct {
	// Home is the user's home folder, where ~/.claude.json lives; "" means os.UserHomeDir.
	Home string
	// ClaudeConfigDir replaces the home folder for Claude Code's files as CLAUDE_CONFIG_DIR
	// does; "" means the variable's value.
	ClaudeConfigDir string
	// Getenv reads CLAUDE_CONFIG_DIR (when ClaudeConfigDir is "") and the variables that place
	// mcp-broker's lock folder (see config.LockDirFrom); nil means os.Getenv. The command line
	// passes the environment it was run with, so that its tests can run it in process.
	Getenv func(string) string
	// Binary is the absolute path of the mcp-broker executable the entry runs.
	Binary string
}

// getenv is w.Getenv, or os.Getenv when it is nil.
func (w Writer) getenv() func(string) string {
	if w.Getenv != nil {
		return w.Getenv
	}
	return os.Getenv
}

// writeAtomic is replaceFile; tests replace it to make a write fail.
var writeAtomic = replaceFile

// Preview is what Add would write, to show before writing.
type Preview struct {
	// Path is the file to be written.
	Path  string
	Scope Scope
	// Project is the key under "projects" for ScopeLocal (see ProjectKey), else "".
	Project string
	// Where is the object in the file that gets the entry, for a person:
	// mcpServers, or projects["/repo"].mcpServers.
	Where string
	// Snippet is the member Add writes, as it appears in the file (two-space indent):
	// "NAME": {"type": "stdio", ...}.
	Snippet string
	// Status says whether the file already has an entry of that name, and whether it is ours.
	Status Status
	// Current is the entry already there (indented JSON) when Status is not StatusNew.
	Current string
	// FileExists is false when Add would create the file.
	FileExists bool
}

// AddOptions tune Add.
type AddOptions struct {
	// Replace overwrites a different entry of the same name instead of failing with
	// *ExistsError.
	Replace bool
}

// Result says what Add did.
type Result struct {
	// Path is the file written (or that already had the entry).
	Path string
	// Project is the key under "projects" for ScopeLocal, else "".
	Project string
	// Where is the object that holds the entry: mcpServers, or projects["/repo"].mcpServers.
	Where string
	// Backup is the copy of the file from before the change (<Path>.bak), "" when nothing was
	// backed up (a new file, or no change).
	Backup string
	// Created is true when the file did not exist.
	Created bool
	// Replaced is true when a different entry of that name was overwritten.
	Replaced bool
	// Unchanged is true when the entry was already there, exactly: nothing was written.
	Unchanged bool
}

// Preview returns where Add would write the entry for name and what, reading the file as it is
// now (it writes nothing). When the file cannot be edited it returns the preview so far with
// the error (a *FileError for a malformed file).
func (w Writer) Preview(t Target, name string) (Preview, error) {
	p, loc, err := w.prepare(t, name)
	if err != nil {
		return Preview{Scope: t.Scope}, err
	}
	pv := Preview{Path: loc.path, Scope: t.Scope, Project: loc.project, Where: loc.where(), Snippet: Snippet(name, w.Binary)}
	real, err := resolveFile(loc)
	if err != nil {
		return pv, err
	}
	data, fi, err := readFile(real)
	if err != nil {
		return pv, err
	}
	pv.FileExists = fi != nil
	e, err := p.apply(data, false)
	if err != nil {
		return pv, withPath(err, loc.path)
	}
	pv.Status = e.status
	pv.Current = indent(e.current)
	return pv, nil
}

// Snippet returns the member that Add writes for name, indented by two spaces as Claude Code
// writes it: "NAME": {"type": "stdio", "command": binary, ...}.
func Snippet(name, binary string) string {
	return quoteJSON(name) + ": " + string(renderJSON(Entry(name, binary), "", "  ", "\n", false))
}

// Add writes the entry for name (see Entry) into the target. An identical entry already there
// is success with Unchanged; a different one is an *ExistsError unless opts.Replace. A file
// that is not valid JSON gives a *FileError and is not touched. See the package doc for how
// the write keeps the file safe.
func (w Writer) Add(ctx context.Context, t Target, name string, opts AddOptions) (Result, error) {
	p, loc, err := w.prepare(t, name)
	if err != nil {
		return Result{}, err
	}
	res := Result{Path: loc.path, Project: loc.project, Where: loc.where()}
	if loc.global {
		// CLAUDE_CONFIG_DIR may name a folder Claude Code has not made yet.
		if err := os.MkdirAll(filepath.Dir(loc.path), 0o700); err != nil {
			return res, fmt.Errorf("creating the folder for %s: %w", loc.path, err)
		}
	}
	real, err := resolveFile(loc)
	if err != nil {
		return res, err
	}
	// mcp-broker's lock first, Claude Code's second: a process waiting for ours holds neither.
	release, err := lockTarget(ctx, w.getenv(), real)
	if err != nil {
		return res, err
	}
	defer release()
	if loc.global {
		releaseClaude, err := acquireLock(ctx, loc.path)
		if err != nil {
			return res, err
		}
		defer releaseClaude()
	}
	// The link may have been changed while we waited: the lock is for the file it led to.
	if again, err := resolveFile(loc); err != nil {
		return res, err
	} else if again != real {
		return res, hint.With(fmt.Errorf("%s was changed to lead elsewhere while mcp-broker waited to write it (nothing was changed)", loc.path), hint.TryAgain)
	}
	for attempt := 1; ; attempt++ {
		data, fi, err := readFile(real)
		if err != nil {
			return res, err
		}
		e, err := p.apply(data, opts.Replace)
		if err != nil {
			return res, withPath(err, loc.path)
		}
		switch {
		case e.status == StatusSame:
			res.Unchanged = true
			return res, nil
		case e.status == StatusDifferent && !opts.Replace:
			return res, &ExistsError{Path: loc.path, Where: loc.where(), Name: name, Current: indent(e.current)}
		}
		mode := loc.mode
		res.Created = fi == nil
		if fi != nil {
			mode = fi.Mode().Perm()
			if runtime.GOOS != "windows" && mode&0o200 == 0 {
				return res, fmt.Errorf("%s is read-only: make it writable (chmod u+w %s) and try again", real, real)
			}
			// Beside the path the user knows (the link, if it is one), and never through a
			// link: one there is replaced, not followed. ~/.claude.json holds Claude Code's own
			// secrets (its account), so its copy is private whatever the file's mode.
			res.Backup = loc.path + ".bak"
			backupMode := mode
			if loc.global {
				backupMode = 0o600
			}
			err := checkBackupSlot(res.Backup)
			if err == nil {
				err = writeAtomic(res.Backup, data, backupMode)
			}
			if err != nil {
				return res, fmt.Errorf("backing up %s to %s (nothing was changed): %w", loc.path, res.Backup, err)
			}
		}
		// Someone (an older Claude Code that takes no lock, an editor) may have written the
		// file since we read it: start again from their version rather than undo it. The
		// rename below then replaces the file whole, so a reader never sees half of it.
		again, _, err := readFile(real)
		if err != nil {
			return res, err
		}
		if !bytes.Equal(again, data) {
			if attempt < 3 {
				continue
			}
			return res, hint.With(fmt.Errorf("%s keeps changing while mcp-broker writes it (nothing was changed)", loc.path), hint.TryAgain)
		}
		if err := writeAtomic(real, e.out, mode); err != nil {
			return res, fmt.Errorf("writing %s (it was left as it was): %w", loc.path, err)
		}
		res.Replaced = e.status == StatusDifferent
		return res, nil
	}
}

// prepare checks the arguments and resolves the target.
func (w Writer) prepare(t Target, name string) (plan, location, error) {
	if err := config.ValidateName(name); err != nil {
		return plan{}, location{}, err
	}
	if !filepath.IsAbs(w.Binary) {
		return plan{}, location{}, fmt.Errorf("the path of mcp-broker must be absolute, got %q", w.Binary)
	}
	loc, err := w.locate(t)
	if err != nil {
		return plan{}, location{}, err
	}
	p := plan{keys: loc.keys, name: name, entry: Entry(name, w.Binary)}
	if t.Scope == ScopeLocal {
		p.skeletons = map[int]ordered{2: newProject()}
	}
	return p, loc, nil
}

// newProject is the entry Claude Code 2.1 makes for a project it has not seen, in its order;
// mcpServers is filled in. Claude Code reads a project's entry as it is, without filling in
// defaults, so a new one must have them all.
func newProject() ordered {
	return ordered{
		{"allowedTools", []any{}},
		{"mcpContextUris", []any{}},
		{"mcpServers", nil},
		{"enabledMcpjsonServers", []any{}},
		{"disabledMcpjsonServers", []any{}},
		{"hasTrustDialogAccepted", false},
		{"hasClaudeMdExternalIncludesApproved", false},
		{"hasClaudeMdExternalIncludesWarningShown", false},
	}
}

// withPath names the file in a *FileError.
func withPath(err error, path string) error {
	var fe *FileError
	if errors.As(err, &fe) {
		fe.Path = path
	}
	return err
}

// indent returns raw JSON indented by two spaces, "" for none.
func indent(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}
