//go:build !tray && unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mcp-broker/mcp-broker/ui/autostart"
)

// TestTrayFlagsReachTheTrayBuild: `mcp-broker` alone hands over to the tray build beside it
// with the flags it was given (--background from the start-at-login entry, --show), and
// refuses a window --show does not know before it hands over.
func TestTrayFlagsReachTheTrayBuild(t *testing.T) {
	bin := needBinary(t)
	dir := t.TempDir()
	cli := filepath.Join(dir, "mcp-broker")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cli, data, 0o755); err != nil {
		t.Fatal(err)
	}
	got := filepath.Join(dir, "args")
	// The tray build stands in: it writes the arguments it was given, one a line.
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + got + "'\n"
	if err := os.WriteFile(filepath.Join(dir, trayName), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{nil, "\n"},
		{[]string{autostart.BackgroundFlag}, autostart.BackgroundFlag + "\n"},
		{[]string{"--show", "timeline"}, "--show\ntimeline\n"},
	}
	for _, tt := range tests {
		_ = os.Remove(got)
		cmd := exec.CommandContext(t.Context(), cli, tt.args...)
		cmd.Env = append(os.Environ(), "DISPLAY=:99")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mcp-broker %q: %v\n%s", tt.args, err, out)
		}
		if data, err := os.ReadFile(got); err != nil || string(data) != tt.want {
			t.Errorf("mcp-broker %q: the tray build got %q (%v), want %q", tt.args, data, err, tt.want)
		}
	}

	_ = os.Remove(got)
	cmd := exec.CommandContext(t.Context(), cli, "--show", "nope")
	cmd.Env = append(os.Environ(), "DISPLAY=:99")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("mcp-broker --show nope: %v, want exit 2\n%s", err, out)
	}
	if _, err := os.Stat(got); err == nil {
		t.Error("mcp-broker --show nope handed over to the tray build")
	}
}
