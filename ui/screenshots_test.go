package ui_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/mcp-broker/mcp-broker/bridge/traffic"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
	"github.com/mcp-broker/mcp-broker/ui/autostart"
	"github.com/mcp-broker/mcp-broker/ui/internal/xwin"
)

// TestScreenshots shows the tray the way a person sees it, in a real StatusNotifierItem host
// (gtk-sni-tray-standalone from Debian's haskell-gtk-sni-tray-utils, a panel at the bottom of
// the screen) under Xvfb, and keeps screenshots in $MCP_BROKER_ARTIFACTS:
//
//   - tray-menu.png: the menu opened by clicking the icon, with a server a Claude Code session
//     is waiting on;
//   - tray-submenu.png: the same with the server's submenu open;
//   - sign-in-window.png: the window shown while the browser sign-in runs;
//   - main-window.png: the main window, opened with Status…, with the server, its actions and
//     the live session;
//   - timeline-window.png: the Timeline window, opened with the main window's Traffic… button,
//     with a request the waiting session relayed while it was watched, and its answer;
//   - server-form.png: the Add server form;
//   - claude-window.png: the Configure Claude Code window of the server;
//   - diagnosis-window.png: the server's diagnosis, once it has run;
//   - tools-window.png: the Tools window of the server (not signed in, so it says what to do).
//
// It also checks that cancelling a sign-in by closing its window brings the menu back.
func TestScreenshots(t *testing.T) {
	testenv.RequireDisplay(t)
	conn := testenv.RequireSessionBus(t)
	host := testenv.RequireTool(t, "gtk-sni-tray-standalone", "apt-get install haskell-gtk-sni-tray-utils")
	xdotool := testenv.RequireTool(t, "xdotool", "apt-get install xdotool")
	testenv.RequireTool(t, "import", "apt-get install imagemagick")
	cli, trayBin := binaries(t)
	d := newDesk(t)
	dm := startDemo(t)
	d.servers(dm.Server())

	tr, s := startVisibleTray(t, d, conn, host, trayBin)
	b := d.startBridge(cli, "demo")
	defer b.stop(t)
	s.waitMenu(30*time.Second, "the waiting bridge", func(m item) bool {
		_, ok := m.find("⚠ Sign in to demo")
		return ok
	})
	// Click the icon: the host's panel is the window named after it, the icon its first cell.
	x, y := hostIcon(t, xdotool)
	before := shot(t)
	run(t, xdotool, "mousemove", strconv.Itoa(x), strconv.Itoa(y), "click", "1")
	settle(t, before, "the menu", time.Second)
	screenshot(t, "tray-menu.png")

	// Down to the server's item (the waiting item, a separator, then the server), Right opens
	// its submenu, which the host fills in once it is open.
	before = shot(t)
	run(t, xdotool, "key", "Down", "Down", "Right")
	// The host opens the submenu empty and fills it in about a second later (its dbusmenu
	// library waits on AboutToShow): wait for a longer quiet spell.
	settle(t, before, "the submenu", 3*time.Second)
	screenshot(t, "tray-submenu.png")
	run(t, xdotool, "key", "Escape", "Escape", "Escape")

	// The sign-in window, then cancel it by closing it: the menu offers the sign-in again.
	before = shot(t)
	s.click("⚠ Sign in to demo")
	poll(t, 30*time.Second, "the sign-in window", func() bool { ok, _ := xwin.Exists("Sign in to demo"); return ok })
	settle(t, before, "the sign-in window", time.Second)
	screenshot(t, "sign-in-window.png")
	if err := xwin.Close("Sign in to demo"); err != nil {
		t.Fatal(err)
	}
	s.waitMenu(30*time.Second, "the sign-in offered again after cancelling", func(m item) bool {
		_, ok := m.find("⚠ Sign in to demo")
		_, signing := m.find("demo · signing in…")
		return ok && !signing
	})

	// The main window, opened from the menu.
	before = shot(t)
	s.click("Status…")
	poll(t, 30*time.Second, "the main window", func() bool { ok, _ := xwin.Exists("MCP Broker"); return ok })
	settle(t, before, "the main window", time.Second)
	screenshot(t, "main-window.png")

	// The Timeline window, opened with the Traffic… button at the main window's bottom right.
	// While it watches, the bridge writes its timeline: send requests until one is in it.
	before = shot(t)
	x, y = windowCorner(t, xdotool, "^MCP Broker$")
	run(t, xdotool, "mousemove", strconv.Itoa(x-60), strconv.Itoa(y-30), "click", "1")
	poll(t, 30*time.Second, "the Timeline window", func() bool { ok, _ := xwin.Exists("MCP Broker traffic"); return ok })
	id, sent := 10, time.Time{}
	poll(t, 30*time.Second, "a relayed request in the timeline", func() bool {
		if time.Since(sent) > time.Second { // the bridge looks for a watcher once a second
			fmt.Fprintf(b.stdin, `{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`+"\n", id)
			id, sent = id+1, time.Now()
		}
		return timelineHas(d, `"method":"tools/list"`)
	})
	settle(t, before, "the Timeline window", 2*time.Second)
	screenshot(t, "timeline-window.png")
	closeWindow(t, "MCP Broker traffic")

	// The other windows, each opened from the menu, pictured, and closed.
	for _, w := range []struct {
		path        []string
		title, file string
		quiet       time.Duration
	}{
		{[]string{"Add server…"}, "Add server", "server-form.png", time.Second},
		{[]string{"demo", "Configure Claude Code…"}, "Configure Claude Code for demo", "claude-window.png", time.Second},
		{[]string{"demo", "Diagnose…"}, "Diagnose demo", "diagnosis-window.png", 3 * time.Second},
		{[]string{"demo", "Tools…"}, "Tools of demo", "tools-window.png", 2 * time.Second},
	} {
		before = shot(t)
		s.click(w.path...)
		poll(t, 30*time.Second, "the window "+w.title, func() bool { ok, _ := xwin.Exists(w.title); return ok })
		settle(t, before, "the window "+w.title, w.quiet)
		screenshot(t, w.file)
		closeWindow(t, w.title)
	}

	s.click("Quit")
	if code := tr.wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit %d after Quit", code)
	}
}

// windowCorner returns the screen position of the bottom right corner of the visible window
// whose name matches the regular expression name.
func windowCorner(t *testing.T, xdotool, name string) (int, int) {
	t.Helper()
	vals := geometry(t, xdotool, name)
	return vals["X"] + vals["WIDTH"], vals["Y"] + vals["HEIGHT"]
}

// timelineHas reports whether an events file of the desk's bridges holds s.
func timelineHas(d *desk, s string) bool {
	files, _ := filepath.Glob(filepath.Join(traffic.Dir(d.runtimeDir), "*.jsonl"))
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil && strings.Contains(string(data), s) {
			return true
		}
	}
	return false
}

// closeWindow closes the window titled title and waits until it is gone.
func closeWindow(t *testing.T, title string) {
	t.Helper()
	if err := xwin.Close(title); err != nil {
		t.Fatalf("closing %q: %v", title, err)
	}
	poll(t, 30*time.Second, "the window "+title+" closed", func() bool { ok, _ := xwin.Exists(title); return !ok })
}

// hostIcon returns the screen position of the first icon in gtk-sni-tray-standalone's panel.
func hostIcon(t *testing.T, xdotool string) (int, int) {
	t.Helper()
	vals := geometry(t, xdotool, "gtk-sni-tray-standalone")
	// Icons are laid out from the left, each as tall as the panel.
	return vals["X"] + vals["HEIGHT"]/2, vals["Y"] + vals["HEIGHT"]/2
}

// geometry returns xdotool's geometry (X, Y, WIDTH, HEIGHT) of the first visible window whose
// name matches the regular expression name.
func geometry(t *testing.T, xdotool, name string) map[string]int {
	t.Helper()
	var out string
	poll(t, 30*time.Second, "the window "+name, func() bool {
		o, err := exec.Command(xdotool, "search", "--onlyvisible", "--name", name).Output()
		out = strings.TrimSpace(string(o))
		return err == nil && out != ""
	})
	win := strings.Fields(out)[0]
	geo, err := exec.Command(xdotool, "getwindowgeometry", "--shell", win).Output()
	if err != nil {
		t.Fatalf("xdotool getwindowgeometry: %v", err)
	}
	vals := map[string]int{}
	for _, line := range strings.Split(string(geo), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			n, _ := strconv.Atoi(v)
			vals[k] = n
		}
	}
	return vals
}

// settle waits until the screen differs from before and then stays the same for quiet, so a
// screenshot shows what was drawn, not half of it. The pictures only illustrate: a screen that
// never settles (a spinner) is taken as it is after 15 s.
func settle(t *testing.T, before []byte, what string, quiet time.Duration) {
	t.Helper()
	poll(t, 30*time.Second, what+" on screen", func() bool { return !bytes.Equal(shot(t), before) })
	prev, since := shot(t), time.Now()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
		cur := shot(t)
		if !bytes.Equal(cur, prev) {
			prev, since = cur, time.Now()
			continue
		}
		if time.Since(since) >= quiet {
			return
		}
	}
}

// shot returns the screen as PNG bytes (for telling whether something changed).
func shot(t *testing.T) []byte {
	t.Helper()
	out, err := exec.Command("import", "-window", "root", "png:-").Output()
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return out
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// startVisibleTray starts the SNI host, then the tray, and waits until the host lists the
// tray. The host comes first: it is also the StatusNotifierWatcher, which a tray registers
// with when it starts (a watcher that comes later is only noticed by some trays).
// gtk-sni-tray-standalone 0.1.8 sometimes dies while starting ("Pattern match failure in do
// expression at app/Main.hs:177", after an UnknownObject error from the bus), and the tray
// then finds no watcher: both are stopped and started again, up to three times.
func startVisibleTray(t *testing.T, d *desk, conn *dbus.Conn, host, trayBin string) (*proc, *sni) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		hp := d.start(host, nil, nil, "--watcher", "--bottom", "--size", "48")
		watching := within(30*time.Second, hp, func() bool {
			var owned bool
			err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&owned)
			return err == nil && owned
		})
		var tr *proc
		var s *sni
		if watching {
			tr = d.start(trayBin, nil, nil, autostart.BackgroundFlag) // the icon alone, as at login
			s = waitForTray(t, conn, tr.cmd.Process.Pid)
			// The watcher lists the item by the tray's well-known or unique bus name.
			var owner string
			if err := conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, s.name).Store(&owner); err != nil {
				t.Fatal(err)
			}
			if within(30*time.Second, hp, func() bool {
				v, err := conn.Object("org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher").
					GetProperty("org.kde.StatusNotifierWatcher.RegisteredStatusNotifierItems")
				if err != nil {
					return false
				}
				items, _ := v.Value().([]string)
				return slices.ContainsFunc(items, func(it string) bool { return strings.Contains(it, owner) || strings.Contains(it, s.name) })
			}) {
				return tr, s
			}
		}
		if attempt == 3 {
			t.Fatalf("the tray never showed in the SNI host (3 attempts); the host's output:\n%s", hp.out.String())
		}
		t.Logf("the SNI host failed to start or to list the tray (attempt %d); starting both again. Its output:\n%s", attempt, hp.out.String())
		for _, p := range []*proc{tr, hp} {
			if p != nil {
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
	}
}

// within polls cond for at most limit, while p runs; it reports whether cond came true.
func within(limit time.Duration, p *proc, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		select {
		case <-p.done:
			return false
		default:
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}
