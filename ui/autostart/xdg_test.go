//go:build linux || freebsd || openbsd || netbsd || dragonfly || solaris

package autostart

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// xdgEnv points the XDG folders into a temp folder and returns the user
// autostart file, the system autostart folder and an executable to start.
func xdgEnv(t *testing.T) (userFile, systemDir, bin string) {
	t.Helper()
	root := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "config"))
	t.Setenv("XDG_CONFIG_DIRS", filepath.Join(root, "etc-xdg")+":relative/ignored")
	bin = filepath.Join(root, "bin dir", "mcp-broker")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "config", "autostart", AppID+".desktop"), filepath.Join(root, "etc-xdg", "autostart"), bin
}

func mustEnabled(t *testing.T, want bool) {
	t.Helper()
	got, err := Enabled()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Enabled() = %v, want %v", got, want)
	}
}

// validate runs desktop-file-validate (Debian's desktop-file-utils) on the
// file. Without the tool the entry goes unvalidated, and the test fails under
// CI=true, where scripts/install-deps.sh installs it.
func validate(t *testing.T, path string) {
	t.Helper()
	tool, err := exec.LookPath("desktop-file-validate")
	if err != nil && testenv.InCI() {
		t.Fatal("desktop-file-validate is not installed (CI=true: scripts/install-deps.sh installs desktop-file-utils)")
	}
	if err != nil {
		t.Log("desktop-file-validate is not installed: the entry is not validated by it")
		return
	}
	if out, err := exec.CommandContext(t.Context(), tool, path).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("desktop-file-validate %s: %v\n%s", path, err, out)
	}
}

func TestEnableDisable(t *testing.T) {
	user, _, bin := xdgEnv(t)
	mustEnabled(t, false)
	if err := Disable(); err != nil {
		t.Errorf("Disable with nothing to disable: %v", err)
	}

	if err := Enable(bin); err != nil {
		t.Fatal(err)
	}
	mustEnabled(t, true)
	data, err := os.ReadFile(user)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := renderDesktop(Default(), bin)
	if !bytes.Equal(data, want) {
		t.Errorf("entry:\n%s\nwant:\n%s", data, want)
	}
	if !strings.Contains(string(data), `Exec="`+bin+`"`) {
		t.Errorf("Exec must quote the path with a space:\n%s", data)
	}
	if fi, err := os.Stat(user); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("entry mode: %v %v", fi.Mode(), err)
	}
	validate(t, user)

	// Enabling twice is fine and changes nothing.
	if err := Enable(bin); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(user); !bytes.Equal(again, data) {
		t.Error("a second Enable changed the entry")
	}

	if err := Disable(); err != nil {
		t.Fatal(err)
	}
	mustEnabled(t, false)
	if _, err := os.Stat(user); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the entry is still there: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(user)); len(entries) != 0 {
		t.Errorf("left behind in the autostart folder: %v", entries)
	}
}

// TestExistingEntries: entries switched off by the user read as disabled, one
// for another binary reads as enabled, and Enable rewrites each to ours.
func TestExistingEntries(t *testing.T) {
	tests := []struct {
		name    string
		content string
		enabled bool
	}{
		{"switched off in GNOME", "[Desktop Entry]\nType=Application\nName=MCP Broker\nExec=/old/mcp-broker\nX-GNOME-Autostart-enabled=false\n", false},
		{"hidden", "[Desktop Entry]\nType=Application\nName=MCP Broker\nExec=/old/mcp-broker\nHidden=true\n", false},
		{"another binary", "[Desktop Entry]\nType=Application\nName=MCP Broker\nExec=/old/mcp-broker\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, _, bin := xdgEnv(t)
			os.MkdirAll(filepath.Dir(user), 0o755)
			if err := os.WriteFile(user, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			mustEnabled(t, tt.enabled)
			if err := Enable(bin); err != nil {
				t.Fatal(err)
			}
			mustEnabled(t, true)
			keys, err := parseDesktop(mustRead(t, user))
			if err != nil {
				t.Fatal(err)
			}
			if argv := splitExec(t, keys["Exec"]); !reflect.DeepEqual(argv, []string{bin, BackgroundFlag}) || keys["Hidden"] != "" {
				t.Errorf("after Enable: %v", keys)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSystemEntry: a system-wide entry (a distribution package could install
// one) starts the program too; Disable then writes a Hidden=true user entry,
// which is the spec's way to switch it off, and Enable replaces that.
func TestSystemEntry(t *testing.T) {
	user, systemDir, bin := xdgEnv(t)
	if err := os.MkdirAll(systemDir, 0o755); err != nil {
		t.Fatal(err)
	}
	sys := filepath.Join(systemDir, AppID+".desktop")
	if err := os.WriteFile(sys, []byte("[Desktop Entry]\nType=Application\nName=MCP Broker\nExec=/usr/bin/mcp-broker\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustEnabled(t, true)
	if err := Disable(); err != nil {
		t.Fatal(err)
	}
	mustEnabled(t, false)
	if keys, err := parseDesktop(mustRead(t, user)); err != nil || keys["Hidden"] != "true" {
		t.Errorf("user entry after Disable: %v (%v)", keys, err)
	}
	if err := Enable(bin); err != nil {
		t.Fatal(err)
	}
	mustEnabled(t, true)
	if got := mustRead(t, sys); !strings.Contains(string(got), "/usr/bin/mcp-broker") {
		t.Error("the system entry was changed")
	}

	// A system file that is not a desktop entry is ignored, not an error.
	os.Remove(user)
	os.WriteFile(sys, []byte("garbage"), 0o644)
	mustEnabled(t, false)
}

// TestMalformedUserEntry: a user entry that is not a desktop entry is an
// error for all three calls, and stays byte for byte as it was.
func TestMalformedUserEntry(t *testing.T) {
	user, _, bin := xdgEnv(t)
	os.MkdirAll(filepath.Dir(user), 0o755)
	garbage := []byte("Exec=/bin/evil\n\x00\xff not a desktop entry")
	if err := os.WriteFile(user, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errEnabled := Enabled()
	for name, err := range map[string]error{"Enabled": errEnabled, "Enable": Enable(bin), "Disable": Disable()} {
		var me *MalformedError
		if !errors.As(err, &me) || me.Path != user {
			t.Errorf("%s: %v, want a MalformedError for %s", name, err, user)
		}
	}
	if got := mustRead(t, user); !bytes.Equal(got, garbage) {
		t.Errorf("the malformed entry was changed: %q", got)
	}
}

func TestEnableRefusesBadBinaries(t *testing.T) {
	user, _, bin := xdgEnv(t)
	for _, b := range []string{"", "mcp-broker", "./mcp-broker", filepath.Dir(bin), bin + "-missing"} {
		if err := Enable(b); err == nil {
			t.Errorf("Enable(%q) succeeded", b)
		}
	}
	if _, err := os.Stat(user); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused Enable wrote an entry")
	}
}

// TestEnableKeepsASymlinkedEntry: dotfile managers symlink files into
// ~/.config; the link stays and its target gets the entry.
func TestEnableKeepsASymlinkedEntry(t *testing.T) {
	user, _, bin := xdgEnv(t)
	target := filepath.Join(t.TempDir(), "dotfiles.desktop")
	os.WriteFile(target, []byte("[Desktop Entry]\nType=Application\nExec=/old\nHidden=true\n"), 0o644)
	os.MkdirAll(filepath.Dir(user), 0o755)
	if err := os.Symlink(target, user); err != nil {
		t.Fatal(err)
	}
	if err := Enable(bin); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(user); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v %v", fi, err)
	}
	mustEnabled(t, true)
}

// TestUpgrade: an entry an earlier release wrote (the binary without BackgroundFlag) is
// rewritten as Enable writes it now; one already current, one switched off, one for another
// binary, one the person edited and none at all are left as they are.
func TestUpgrade(t *testing.T) {
	user, _, bin := xdgEnv(t)
	earlier := Default()
	earlier.Args = nil
	written := func(e Entry, binary string) []byte {
		t.Helper()
		data, err := renderDesktop(e, binary)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	current := written(Default(), bin)
	off := bytes.Replace(written(earlier, bin), []byte("X-GNOME-Autostart-enabled=true"), []byte("X-GNOME-Autostart-enabled=false"), 1)
	edited := append(written(earlier, bin), []byte("X-KDE-autostart-phase=2\n")...)
	tests := []struct {
		name    string
		entry   []byte // nil: none
		upgrade bool
	}{
		{"written by an earlier release", written(earlier, bin), true},
		{"current", current, false},
		{"switched off", off, false},
		{"another binary", written(earlier, "/usr/local/bin/mcp-broker"), false},
		{"edited", edited, false},
		{"none", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_ = os.Remove(user)
			if tt.entry != nil {
				if err := os.MkdirAll(filepath.Dir(user), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(user, tt.entry, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Upgrade(bin)
			if err != nil || got != tt.upgrade {
				t.Fatalf("Upgrade = %v, %v; want %v", got, err, tt.upgrade)
			}
			data, err := os.ReadFile(user)
			switch {
			case tt.entry == nil:
				if err == nil {
					t.Error("Upgrade wrote an entry where there was none")
				}
			case tt.upgrade:
				if !bytes.Equal(data, current) {
					t.Errorf("upgraded entry:\n%s\nwant:\n%s", data, current)
				}
				validate(t, user)
			default:
				if !bytes.Equal(data, tt.entry) {
					t.Errorf("entry changed:\n%s", data)
				}
			}
		})
	}
}

// TestGioLaunchesTheEntry has GLib, which GNOME's session manager uses to
// start autostart entries, parse the Exec line and run it: the binary's path
// is full of characters the Exec rules make special. Not %: GLib looks for
// the program before it turns the spec's %% back into %, so it cannot start
// a program whose path holds one, however the entry is written.
func TestGioLaunchesTheEntry(t *testing.T) {
	gio := testenv.RequireTool(t, "gio", "apt-get install libglib2.0-bin")
	root := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "config"))
	t.Setenv("XDG_CONFIG_DIRS", filepath.Join(root, "etc-xdg"))
	dir := filepath.Join(root, `we'ird "dir" $HOME \ \\ (x) ~&;|<>*?#`+"`")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(root, "ran")
	bin := filepath.Join(dir, "mcp-broker")
	script := "#!/bin/sh\nprintf '%s|%s|%s' \"$0\" \"$#\" \"$*\" > '" + marker + "'\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Enable(bin); err != nil {
		t.Fatal(err)
	}
	user := filepath.Join(root, "config", "autostart", AppID+".desktop")
	validate(t, user)
	if out, err := exec.CommandContext(t.Context(), gio, "launch", user).CombinedOutput(); err != nil {
		t.Fatalf("gio launch: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := os.ReadFile(marker)
		if err == nil && len(got) > 0 {
			if string(got) != bin+"|1|"+BackgroundFlag {
				t.Errorf("GLib ran %q, want %q with %s alone", got, bin, BackgroundFlag)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the program never ran")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
