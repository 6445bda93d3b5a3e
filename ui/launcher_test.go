package ui_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/mcp-broker/mcp-broker/internal/testenv"
	"github.com/mcp-broker/mcp-broker/ui/internal/xwin"
)

// TestLauncherShowsTheMainWindow: with a tray host on the bus, the app starts as an icon
// alone; started again (the app launcher's .desktop entry runs the same program), the new
// process hands over to the running one, which shows its main window, and exits.
func TestLauncherShowsTheMainWindow(t *testing.T) {
	testenv.RequireDisplay(t)
	conn := testenv.RequireSessionBus(t)
	_, trayBin := binaries(t)
	// The tray host's name: the app then trusts its icon to be seen, and opens no window.
	if reply, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning the StatusNotifierWatcher name: %v (reply %v)", err, reply)
	}
	t.Cleanup(func() { _, _ = conn.ReleaseName("org.kde.StatusNotifierWatcher") })
	d := newDesk(t)

	tr := d.start(trayBin, nil, nil)
	s := waitForTray(t, conn, tr.cmd.Process.Pid)
	poll(t, 10*time.Second, "the tray's announcement", func() bool {
		_, err := os.Stat(filepath.Join(d.runtimeDir, "tray.json"))
		return err == nil
	})
	if ok, err := xwin.Exists("MCP Broker"); err != nil || ok {
		t.Fatalf("a window at start with a tray host (shown %v, %v)", ok, err)
	}

	testenv.RequireTool(t, "import", "apt-get install imagemagick")
	before := shot(t)
	second := d.start(trayBin, nil, nil)
	if code := second.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("the second start exited %d:\n%s", code, second.out.String())
	}
	poll(t, 30*time.Second, "the running app's main window", func() bool { ok, _ := xwin.Exists("MCP Broker"); return ok })
	settle(t, before, "the main window", time.Second)
	screenshot(t, "main-window-from-launcher.png")

	s.click("Quit")
	if code := tr.wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit %d after Quit", code)
	}
}
