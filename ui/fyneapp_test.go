package ui

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/mcp-broker/mcp-broker/ui/autostart"
)

// TestFyneAppToml keeps FyneApp.toml, the app's run-time id and the autostart entry in step:
// one id names the preferences folder, the notifications' sender, the .desktop file that
// `fyne package` writes and the autostart entry.
func TestFyneAppToml(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "FyneApp.toml"))
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `\s*=\s*"?([^"\n]*)"?\s*$`).FindSubmatch(data)
		if m == nil {
			t.Fatalf("FyneApp.toml has no %s", name)
		}
		return string(m[1])
	}
	if id := field("ID"); id != AppID || AppID != autostart.AppID {
		t.Errorf("FyneApp.toml ID %q, ui.AppID %q, autostart.AppID %q: keep them the same", id, AppID, autostart.AppID)
	}
	if name := field("Name"); name != appName || appName != autostart.AppName {
		t.Errorf("FyneApp.toml Name %q, autostart.AppName %q", name, autostart.AppName)
	}
	icon := field("Icon")
	if _, err := os.Stat(filepath.Join("..", icon)); err != nil {
		t.Errorf("FyneApp.toml Icon %q: %v", icon, err)
	}
	if field("fyneDo") != "true" {
		t.Error("FyneApp.toml must keep [Migrations] fyneDo = true: every UI change from a goroutine goes through fyne.Do")
	}
	for _, name := range []string{"Version", "Build"} {
		field(name)
	}
}
