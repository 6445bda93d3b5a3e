package ui_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/mcp-broker/mcp-broker/internal/testenv"
	"github.com/mcp-broker/mcp-broker/ui/autostart"
	"github.com/mcp-broker/mcp-broker/ui/internal/xwin"
)

// Window titles the launcher tests look for.
const (
	mainTitle     = "MCP Broker"
	timelineTitle = "MCP Broker traffic"
)

// ownTrayHost takes the tray host's name on the bus: the app then trusts its icon to be seen.
func ownTrayHost(t *testing.T, conn *dbus.Conn) {
	t.Helper()
	if reply, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning the StatusNotifierWatcher name: %v (reply %v)", err, reply)
	}
	t.Cleanup(func() { _, _ = conn.ReleaseName("org.kde.StatusNotifierWatcher") })
}

// announced waits for the tray's announcement in the runtime folder: from then on a new start
// hands over to it.
func announced(t *testing.T, d *desk) {
	t.Helper()
	poll(t, 10*time.Second, "the tray's announcement", func() bool {
		_, err := os.Stat(filepath.Join(d.runtimeDir, "tray.json"))
		return err == nil
	})
}

func windowShown(title string) bool { ok, _ := xwin.Exists(title); return ok }

// TestLauncherShowsTheMainWindow: with a tray host on the bus, a start at login (the
// autostart entry's --background) puts up the icon alone; started again (the app launcher's
// .desktop entry runs the program without flags), the new process hands over to the running
// one, which shows its main window, and exits; with --show timeline, the running one opens
// the Timeline window; another --background start changes nothing. The start-at-login entry
// an earlier release wrote (without --background) is rewritten at the start.
func TestLauncherShowsTheMainWindow(t *testing.T) {
	testenv.RequireDisplay(t)
	conn := testenv.RequireSessionBus(t)
	_, trayBin := binaries(t)
	ownTrayHost(t, conn)
	d := newDesk(t)
	// Start at login as an earlier release wrote it, in the desk's autostart folder.
	t.Setenv("XDG_CONFIG_HOME", d.xdgConfig)
	earlier := autostart.Default()
	earlier.Args = nil
	if err := earlier.Enable(trayBin); err != nil {
		t.Fatal(err)
	}
	entry := filepath.Join(d.xdgConfig, "autostart", autostart.AppID+".desktop")

	tr := d.start(trayBin, nil, nil, autostart.BackgroundFlag)
	s := waitForTray(t, conn, tr.cmd.Process.Pid)
	announced(t, d)
	if windowShown(mainTitle) {
		t.Fatal("a window at a start at login with a tray host")
	}
	poll(t, 10*time.Second, "the start-at-login entry rewritten with "+autostart.BackgroundFlag, func() bool {
		data, err := os.ReadFile(entry)
		return err == nil && strings.Contains(string(data), "mcp-broker-tray "+autostart.BackgroundFlag+"\n")
	})

	// Another start at login: nothing to show.
	if code := d.start(trayBin, nil, nil, autostart.BackgroundFlag).wait(t, 30*time.Second); code != 0 {
		t.Fatalf("a second --background start exited %d", code)
	}

	testenv.RequireTool(t, "import", "apt-get install imagemagick")
	before := shot(t)
	second := d.start(trayBin, nil, nil)
	if code := second.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("the second start exited %d:\n%s", code, second.out.String())
	}
	poll(t, 30*time.Second, "the running app's main window", func() bool { return windowShown(mainTitle) })
	settle(t, before, "the main window", time.Second)
	screenshot(t, "main-window-from-launcher.png")
	if windowShown(timelineTitle) {
		t.Error("the Timeline window opened without --show timeline")
	}

	third := d.start(trayBin, nil, nil, "--show", "timeline")
	if code := third.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("the --show timeline start exited %d:\n%s", code, third.out.String())
	}
	poll(t, 30*time.Second, "the running app's Timeline window", func() bool { return windowShown(timelineTitle) })

	s.click("Quit")
	if code := tr.wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit %d after Quit", code)
	}
}

// TestLauncherStartOpensTheMainWindow: with a tray host on the bus and no app running, a start
// from the app launcher (no flags) puts up the icon and opens the main window too, and with
// --show timeline the Timeline window besides.
func TestLauncherStartOpensTheMainWindow(t *testing.T) {
	testenv.RequireDisplay(t)
	conn := testenv.RequireSessionBus(t)
	_, trayBin := binaries(t)
	ownTrayHost(t, conn)
	d := newDesk(t)

	tr := d.start(trayBin, nil, nil, "--show", "timeline")
	s := waitForTray(t, conn, tr.cmd.Process.Pid)
	poll(t, 30*time.Second, "the main window", func() bool { return windowShown(mainTitle) })
	poll(t, 30*time.Second, "the Timeline window", func() bool { return windowShown(timelineTitle) })

	s.click("Quit")
	if code := tr.wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit %d after Quit", code)
	}
}
