package windows

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func newConfigure(t *testing.T, cw ClaudeWriter) (fyne.App, *ConfigureClaude) {
	t.Helper()
	a := test.NewTempApp(t)
	c := ShowConfigureClaude(a, cw, "studio")
	t.Cleanup(func() {
		if isOpen(c.Window()) {
			c.Window().Close()
		}
		wait(t, &c.bg)
	})
	wait(t, &c.bg)
	c.Window().Resize(fyne.NewSize(620, 900))
	return a, c
}

func TestConfigureClaudeGolden(t *testing.T) {
	_, c := newConfigure(t, &fakeClaude{})
	assertMarkup(t, "claude_user.xml", c.Window())
}

// The preview follows the scope and the folder; without a folder for a
// project scope there is nothing to write.
func TestConfigureClaudePreview(t *testing.T) {
	cw := &fakeClaude{}
	_, c := newConfigure(t, cw)
	if c.path.Text != "/home/ada/.claude.json" || !strings.Contains(c.entry.Text, `"MCP_BROKER_SERVER": "studio"`) {
		t.Errorf("user scope preview: path %q, entry %q", c.path.Text, c.entry.Text)
	}
	if c.write.Disabled() {
		t.Error("Write disabled with a preview")
	}
	if c.dirRow.Visible() {
		t.Error("the folder is asked for in user scope")
	}
	if want := "claude mcp add --scope user studio -e MCP_BROKER_SERVER=studio -- /usr/local/bin/mcp-broker bridge"; c.command.Text != want {
		t.Errorf("command = %q, want %q", c.command.Text, want)
	}

	c.scope.SetSelected(scopeChoices[2].label) // project
	wait(t, &c.bg)
	if !c.dirRow.Visible() || !c.write.Disabled() || c.preview.Visible() || !c.needDir.Visible() {
		t.Errorf("project scope without a folder: folder shown %v, write disabled %v, preview shown %v, ask shown %v",
			c.dirRow.Visible(), c.write.Disabled(), c.preview.Visible(), c.needDir.Visible())
	}
	c.dir.SetText("/home/ada/src/app") // one preview at a time: the test driver runs fyne.Do on the calling goroutine
	wait(t, &c.bg)
	if c.path.Text != "/home/ada/src/app/.mcp.json" || !c.preview.Visible() || c.write.Disabled() {
		t.Errorf("project scope with a folder: path %q, preview shown %v, write disabled %v", c.path.Text, c.preview.Visible(), c.write.Disabled())
	}
	if want := "claude mcp add --scope project studio"; !strings.HasPrefix(c.command.Text, want) {
		t.Errorf("command = %q, want it to start %q", c.command.Text, want)
	}

	c.scope.SetSelected(scopeChoices[1].label) // local, same folder
	wait(t, &c.bg)
	if want := "claude mcp add studio"; !strings.HasPrefix(c.command.Text, want) {
		t.Errorf("command = %q, want it to start %q (local is Claude Code's default)", c.command.Text, want)
	}
	previews, writes := cw.calls()
	if want := "local /home/ada/src/app studio"; previews[len(previews)-1] != want {
		t.Errorf("last preview %q, want %q", previews[len(previews)-1], want)
	}
	if len(writes) != 0 {
		t.Errorf("previewing wrote: %q", writes)
	}
}

func TestConfigureClaudeWrite(t *testing.T) {
	cw := &fakeClaude{backup: "/home/ada/src/app/.mcp.json.bak"}
	_, c := newConfigure(t, cw)
	c.scope.SetSelected(scopeChoices[2].label)
	c.dir.SetText("/home/ada/src/app") // one preview at a time: the test driver runs fyne.Do on the calling goroutine
	wait(t, &c.bg)
	test.Tap(c.write)
	wait(t, &c.bg)
	_, writes := cw.calls()
	if want := []string{"project /home/ada/src/app studio"}; !slices.Equal(writes, want) {
		t.Errorf("Write calls %q, want %q", writes, want)
	}
	want := "Done: studio is in /home/ada/src/app/.mcp.json. Claude Code uses it from its next session.\n" +
		"The file as it was before is saved as /home/ada/src/app/.mcp.json.bak."
	if !c.result.box.Visible() || c.result.label.Text != want {
		t.Errorf("result %q, want %q", c.result.label.Text, want)
	}
}

func TestConfigureClaudeErrors(t *testing.T) {
	t.Run("write", func(t *testing.T) {
		cw := &fakeClaude{writeErr: errors.New("/home/ada/.claude.json is not valid JSON (line 3, column 5): it was left untouched; fix it and try again")}
		_, c := newConfigure(t, cw)
		test.Tap(c.write)
		wait(t, &c.bg)
		want := "Claude Code was not configured. /home/ada/.claude.json is not valid JSON (line 3, column 5): it was left untouched; fix it and try again."
		if c.result.label.Text != want || c.result.label.Importance != widget.DangerImportance {
			t.Errorf("result %q (importance %v), want %q in red", c.result.label.Text, c.result.label.Importance, want)
		}
	})
	t.Run("preview", func(t *testing.T) {
		cw := &fakeClaude{previewErr: errors.New("reading /home/ada/.claude.json: permission denied")}
		_, c := newConfigure(t, cw)
		want := "The entry cannot be shown. Reading /home/ada/.claude.json: permission denied."
		if !c.problem.Visible() || c.problem.Text != want {
			t.Errorf("problem %q, want %q", c.problem.Text, want)
		}
		if !c.write.Disabled() || c.preview.Visible() {
			t.Error("Write enabled or preview shown without a preview")
		}
	})
}

func TestConfigureClaudeCopyCommand(t *testing.T) {
	a, c := newConfigure(t, &fakeClaude{})
	test.Tap(c.copy)
	if got := a.Clipboard().Content(); got != c.command.Text || got == "" {
		t.Errorf("clipboard %q, want the command %q", got, c.command.Text)
	}
	if c.copy.Text != "Copied" {
		t.Errorf("Copy button reads %q after copying", c.copy.Text)
	}
}

func TestScopedCommand(t *testing.T) {
	const cmd = "claude mcp add studio -e MCP_BROKER_SERVER=studio -- /bin/mcp-broker bridge"
	for _, tc := range []struct{ cmd, scope, want string }{
		{cmd, "user", "claude mcp add --scope user studio -e MCP_BROKER_SERVER=studio -- /bin/mcp-broker bridge"},
		{cmd, "project", "claude mcp add --scope project studio -e MCP_BROKER_SERVER=studio -- /bin/mcp-broker bridge"},
		{cmd, "local", cmd},
		{"something else", "user", "something else"},
	} {
		if got := scopedCommand(tc.cmd, tc.scope); got != tc.want {
			t.Errorf("scopedCommand(%q, %q) = %q, want %q", tc.cmd, tc.scope, got, tc.want)
		}
	}
}
