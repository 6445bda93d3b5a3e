package windows

import (
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// ClaudeWriter is what the Configure Claude Code window needs: the Claude
// Code configuration writer. scope is "user", "local" or "project"; dir is
// the project folder for local and project, "" for user.
type ClaudeWriter interface {
	// Preview returns the file the entry for server name would go to and the
	// entry itself, as it would be written, without writing anything.
	Preview(scope, dir, name string) (path, entry string, err error)
	// Write adds the entry, keeping everything else in the file, and returns
	// the file and its backup ("" when there was no file to back up). A file
	// that is not valid JSON is left untouched and the error says so.
	Write(scope, dir, name string) (path, backup string, err error)
	// Command is the `claude mcp add …` command that adds the same entry with
	// Claude Code's own CLI, for people who prefer to run it themselves.
	Command(name string) string
}

// scopeChoice is one answer to "who should get this server?".
type scopeChoice struct {
	scope, label, help string
	needsDir           bool
}

// scopeChoices are Claude Code's configuration scopes, in words.
var scopeChoices = []scopeChoice{
	{"user", "Just me, everywhere (user)",
		"Added to your ~/.claude.json: every Claude Code session of yours can use it.", false},
	{"local", "Just me, in one project (local)",
		"Added to your ~/.claude.json for one project folder only: Claude Code uses it when started there.", true},
	{"project", "Everyone in a project (.mcp.json, project)",
		"Written to .mcp.json in the project folder, to commit and share. It holds no secret: everyone signs in with their own mcp-broker. Claude Code asks each person to approve it once.", true},
}

// ConfigureClaude is the window that adds a server to Claude Code's
// configuration: choose a scope (and folder), see the exact entry and the
// file it goes to, write it; or copy the equivalent `claude mcp add` command.
type ConfigureClaude struct {
	win  fyne.Window
	cw   ClaudeWriter
	name string

	scope     *widget.RadioGroup
	scopeHelp *widget.RichText
	dir       *widget.Entry
	choose    *widget.Button
	dirRow    *fyne.Container
	path      *widget.Label
	entry     *widget.Label
	preview   *fyne.Container  // path and entry, hidden until there is a preview
	needDir   *widget.RichText // asks for the folder while there is none
	problem   *widget.Label    // why there is no preview
	write     *widget.Button
	result    *outcome
	command   *widget.Label
	cmdHint   *widget.RichText
	copy      *widget.Button

	mu     sync.Mutex // guards closed, read by goroutines that finish after the window
	closed bool
	bg     sync.WaitGroup // the preview and write goroutines
	run    int            // the latest preview: results of older ones are dropped
}

// ShowConfigureClaude opens the window for the server called name.
func ShowConfigureClaude(a fyne.App, cw ClaudeWriter, name string) *ConfigureClaude {
	c := &ConfigureClaude{cw: cw, name: name, win: a.NewWindow("Configure Claude Code for " + name)}
	c.build(a)
	c.win.SetOnClosed(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
	})
	c.win.Resize(fyne.NewSize(620, 680))
	c.win.Show()
	return c
}

// Window is the window.
func (c *ConfigureClaude) Window() fyne.Window { return c.win }

func (c *ConfigureClaude) build(a fyne.App) {
	labels := make([]string, len(scopeChoices))
	for i, s := range scopeChoices {
		labels[i] = s.label
	}
	c.scope = widget.NewRadioGroup(labels, func(string) { c.scopeChanged() })
	c.scope.Required = true
	c.scopeHelp = hint("")

	c.dir = widget.NewEntry()
	c.dir.SetPlaceHolder("the project folder")
	c.dir.OnChanged = func(string) { c.refresh() }
	c.choose = widget.NewButtonWithIcon("Choose…", theme.FolderOpenIcon(), c.chooseDir)
	c.dirRow = container.NewVBox(
		section("Project folder"),
		container.NewBorder(nil, nil, nil, c.choose, c.dir),
	)

	c.path = mono("")
	c.entry = mono("")
	c.preview = container.NewVBox(
		section("File"), c.path,
		section("Entry"), c.entry,
	)
	c.needDir = hint("")
	c.problem = errorLabel()
	c.write = widget.NewButtonWithIcon("Add to Claude Code", theme.DocumentSaveIcon(), c.doWrite)
	c.write.Importance = widget.HighImportance
	c.result = newOutcome()

	c.command = mono("")
	c.cmdHint = hint("")
	c.copy = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		a.Clipboard().SetContent(c.command.Text)
		c.copy.SetText("Copied")
	})

	body := container.NewVBox(
		heading("Use "+c.name+" in Claude Code"),
		note("Claude Code will start mcp-broker as a local server for "+c.name+"; mcp-broker signs in and relays. The entry holds no token or secret."),
		gap(),
		section("Who should get it?"),
		c.scope,
		c.scopeHelp,
		c.dirRow,
		gap(),
		c.needDir,
		c.preview,
		c.problem,
		container.NewHBox(layout.NewSpacer(), c.write),
		c.result.box,
		gap(),
		widget.NewSeparator(),
		section("Or run Claude Code's own command"),
		container.NewBorder(nil, nil, nil, container.NewVBox(c.copy), c.command),
		c.cmdHint,
	)
	closeBtn := widget.NewButton("Close", c.win.Close)
	c.win.SetContent(page(body, container.NewHBox(layout.NewSpacer(), closeBtn)))
	c.scope.SetSelected(scopeChoices[0].label)
}

// choice is the scope chosen.
func (c *ConfigureClaude) choice() scopeChoice {
	for _, s := range scopeChoices {
		if s.label == c.scope.Selected {
			return s
		}
	}
	return scopeChoices[0]
}

func (c *ConfigureClaude) scopeChanged() {
	s := c.choice()
	setQuiet(c.scopeHelp, s.help)
	if s.needsDir {
		c.dirRow.Show()
	} else {
		c.dirRow.Hide()
	}
	c.refresh()
}

// chooseDir asks for the project folder with the platform's folder dialog.
func (c *ConfigureClaude) chooseDir() {
	d := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil {
			setMessage(c.problem, explain("The folder could not be opened.", err))
			return
		}
		if dir != nil {
			c.dir.SetText(dir.Path()) // refreshes the preview
		}
	}, c.win)
	if cur := strings.TrimSpace(c.dir.Text); cur != "" {
		if l, err := storage.ListerForURI(storage.NewFileURI(cur)); err == nil {
			d.SetLocation(l)
		}
	}
	d.Resize(fyne.NewSize(560, 420))
	d.Show()
}

// args are the writer's arguments for the current choice; ok is false while
// a folder is needed and missing.
func (c *ConfigureClaude) args() (scope, dir string, ok bool) {
	s := c.choice()
	if !s.needsDir {
		return s.scope, "", true
	}
	dir = strings.TrimSpace(c.dir.Text)
	return s.scope, dir, dir != ""
}

// refresh updates the preview and the command for the current choice. The
// preview reads Claude Code's file, which can be large, so it runs in a
// goroutine; only the latest one's result is shown.
func (c *ConfigureClaude) refresh() {
	c.copy.SetText("Copy")
	c.command.SetText(scopedCommand(c.cw.Command(c.name), c.choice().scope))
	if c.choice().needsDir {
		setQuiet(c.cmdHint, "Run it in a terminal, in the project folder.")
	} else {
		setQuiet(c.cmdHint, "Run it in a terminal.")
	}
	c.result.set("", 0, false)
	c.run++
	run := c.run
	scope, dir, ok := c.args()
	if !ok {
		c.preview.Hide()
		c.write.Disable()
		setMessage(c.problem, "")
		setQuiet(c.needDir, "Choose the project folder to see the entry and where it goes.")
		return
	}
	setQuiet(c.needDir, "")
	c.write.Disable()
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		path, entry, err := c.cw.Preview(scope, dir, c.name)
		c.ui(func() {
			if run != c.run {
				return
			}
			if err != nil {
				c.preview.Hide()
				setMessage(c.problem, explain("The entry cannot be shown.", err))
				return
			}
			setMessage(c.problem, "")
			c.path.SetText(path)
			c.entry.SetText(entry)
			c.preview.Show()
			c.write.Enable()
		})
	}()
}

// doWrite writes the entry for the current choice in a goroutine.
func (c *ConfigureClaude) doWrite() {
	scope, dir, ok := c.args()
	if !ok {
		return
	}
	c.write.Disable()
	c.result.set("", 0, false)
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		path, backup, err := c.cw.Write(scope, dir, c.name)
		c.ui(func() {
			c.write.Enable()
			if err != nil {
				c.result.set(explain("Claude Code was not configured.", err), widget.DangerImportance, false)
				return
			}
			msg := "Done: " + c.name + " is in " + path + ". Claude Code uses it from its next session."
			if backup != "" {
				msg += "\nThe file as it was before is saved as " + backup + "."
			}
			c.result.set(msg, widget.SuccessImportance, false)
		})
	}()
}

// ui runs fn on Fyne's goroutine unless the window has closed meanwhile.
func (c *ConfigureClaude) ui(fn func()) {
	fyne.Do(func() {
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if !closed {
			fn()
		}
	})
}

// scopedCommand adds the --scope flag to a `claude mcp add` command, so the
// command does what the window's choice does (local is Claude Code's
// default). A command of another shape is returned as it is.
func scopedCommand(cmd, scope string) string {
	const prefix = "claude mcp add "
	if scope == "" || scope == "local" || !strings.HasPrefix(cmd, prefix) {
		return cmd
	}
	return prefix + "--scope " + scope + " " + strings.TrimPrefix(cmd, prefix)
}
