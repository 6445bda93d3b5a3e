package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/claudeconfig"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

func (a *app) claudeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "claude",
		Short: "Configure Claude Code to use a server through mcp-broker",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRunE("add or command"),
	}
	cmd.AddCommand(a.claudeAddCmd(), a.claudeCommandCmd())
	return cmd
}

func (a *app) claudeAddCmd() *cobra.Command {
	var (
		scope, dir string
		replace    bool
	)
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a server to Claude Code's configuration",
		Long: `Add a configured server to Claude Code, as ` + "`claude mcp add`" + ` would, without needing
Claude Code's CLI. The entry starts ` + "`mcp-broker bridge`" + ` and holds no secret.

Scopes (as Claude Code names them):
  local    only in one project, for you: ~/.claude.json, under the project (default,
           as for ` + "`claude mcp add`" + `); the project is the git repository --dir is in
  project  shared with the project: .mcp.json in --dir (Claude Code asks each user
           to approve it once)
  user     in all your projects: ~/.claude.json

Every other setting and server in the file is kept, the file's layout too; the file as it
was is saved to <file>.bak first. A file that is not valid JSON is left untouched. A .mcp.json
that is a symbolic link is written through only to a file inside the project folder; a link
that leads out of it is refused.`,
		Example: `  mcp-broker claude add studio
  mcp-broker claude add studio --scope user
  mcp-broker claude add studio --scope project --dir ~/src/app`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			sc, err := claudeconfig.ParseScope(scope)
			if err != nil {
				return usageError{err.Error()}
			}
			if sc == claudeconfig.ScopeUser && dir != "" {
				return usageError{"--dir goes with --scope local or project: user scope is for every project"}
			}
			if sc != claudeconfig.ScopeUser && (dir == "" || !filepath.IsAbs(dir)) {
				// The folder we run in, and what a relative --dir is relative to, are env's.
				wd, err := a.env.Getwd()
				if err != nil {
					return fmt.Errorf("finding the current folder: %w", err)
				}
				dir = filepath.Join(wd, dir)
			}
			w, err := a.claudeWriter(name)
			if err != nil {
				return err
			}
			if claudeconfig.TemporaryBinary(w.Binary) {
				fmt.Fprintf(a.stderr, "WARNING: this mcp-broker (%s) was built by `go run` in a temporary folder: Claude Code's entry stops working when Go removes it. Build or install mcp-broker, and run `claude add` from there.\n", w.Binary)
			}
			target := claudeconfig.Target{Scope: sc, Dir: dir}
			res, err := w.Add(cmd.Context(), target, name, claudeconfig.AddOptions{Replace: replace})
			var exists *claudeconfig.ExistsError
			if errors.As(err, &exists) {
				return fmt.Errorf("%w:\n%s\nTo use mcp-broker's entry instead, run again with --replace (the file is backed up first)", err, exists.Current)
			}
			if err != nil {
				return err
			}
			a.printAdded(name, sc, res, w.Binary)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&scope, "scope", string(claudeconfig.ScopeLocal), "where the entry goes: local, project or user")
	f.StringVar(&dir, "dir", "", "the project folder for local and project scope (default: the current folder)")
	f.BoolVar(&replace, "replace", false, "replace a different entry of the same name")
	return cmd
}

// printAdded says what was written, where, and where the old file went.
func (a *app) printAdded(name string, sc claudeconfig.Scope, res claudeconfig.Result, binary string) {
	where := res.Path + " (" + res.Where + ")"
	if res.Unchanged {
		fmt.Fprintf(a.stdout, "Claude Code already has %s in %s: nothing to change.\n", name, where)
		return
	}
	verb := "Added"
	if res.Replaced {
		verb = "Replaced"
	}
	fmt.Fprintf(a.stdout, "%s %s in Claude Code's %s configuration: %s\n", verb, name, sc, where)
	fmt.Fprintln(a.stdout, indentLines(claudeconfig.Snippet(name, binary), "  "))
	switch {
	case res.Created:
		fmt.Fprintf(a.stdout, "Created %s.\n", res.Path)
	case res.Backup != "":
		fmt.Fprintf(a.stdout, "The file as it was is saved in %s.\n", res.Backup)
	}
	if sc == claudeconfig.ScopeProject {
		fmt.Fprintln(a.stdout, "Claude Code asks to approve servers from .mcp.json the first time it starts in that folder.")
	}
	fmt.Fprintf(a.stdout, "Check it with: claude mcp get %s\n", name)
}

func (a *app) claudeCommandCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "command NAME",
		Short: "Print the `claude mcp add` command that adds a server to Claude Code",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			w, err := a.claudeWriter(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, claudeconfig.Command(args[0], w.Binary))
			if strings.Contains(args[0], ".") {
				fmt.Fprintf(a.stderr, "Note: `claude mcp add` refuses names with '.': use `mcp-broker claude add %s` instead.\n", args[0])
			}
			return nil
		},
	}
}

// claudeWriter checks that name is a configured server and returns a writer whose entries run
// this very executable: the absolute path, symbolic links resolved, so that the entry keeps
// working from any folder Claude Code starts in.
func (a *app) claudeWriter(name string) (claudeconfig.Writer, error) {
	if err := config.ValidateName(name); err != nil {
		return claudeconfig.Writer{}, err
	}
	_, f, err := a.loadConfig()
	if err != nil {
		return claudeconfig.Writer{}, err
	}
	if _, ok := f.Server(name); !ok {
		return claudeconfig.Writer{}, &broker.UnknownServerError{Name: name}
	}
	exe, err := a.env.Executable()
	if err != nil {
		return claudeconfig.Writer{}, fmt.Errorf("finding the path of mcp-broker: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	w := claudeconfig.Writer{Binary: exe, Getenv: a.env.Getenv}
	// Without a home folder the writer reports it, but only for the scopes that need one.
	if home, err := a.env.UserHomeDir(); err == nil {
		w.Home = home
	}
	return w, nil
}

// indentLines puts prefix in front of every line of s.
func indentLines(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
