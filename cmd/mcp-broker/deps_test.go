//go:build !tray

package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestCommandLineBuildLinksNoTray: the command-line build is what every bridge start loads,
// so it links of the app's packages only ui/display (the check that says there is no display
// for the tray) and nothing of Fyne: each package more is start time and memory for every
// Claude Code session. A flag or constant the tray shares is spelt out here instead (see
// backgroundFlag), with a test holding the two together.
func TestCommandLineBuildLinksNoTray(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), "go", "list", "-deps", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for dep := range strings.Lines(string(out)) {
		dep = strings.TrimSpace(dep)
		if strings.HasPrefix(dep, "fyne.io/") || strings.HasPrefix(dep, "github.com/mcp-broker/mcp-broker/ui/") && dep != "github.com/mcp-broker/mcp-broker/ui/display" {
			t.Errorf("the command-line build links %s", dep)
		}
	}
}
