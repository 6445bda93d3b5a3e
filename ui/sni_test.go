package ui_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/mcp-broker/mcp-broker/assets"
)

// This file reads and drives the real tray over D-Bus, the way a panel does: the
// StatusNotifierItem (icon) of the tray process and its com.canonical.dbusmenu menu.

const (
	itemPath = dbus.ObjectPath("/StatusNotifierItem")
	menuPath = dbus.ObjectPath("/StatusNotifierMenu")
)

// sni is the tray of one process, seen from the bus.
type sni struct {
	t    *testing.T
	conn *dbus.Conn
	name string // org.kde.StatusNotifierItem-<pid>-1
}

// waitForTray waits until the process pid has published its tray on the bus.
func waitForTray(t *testing.T, conn *dbus.Conn, pid int) *sni {
	t.Helper()
	name := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", pid)
	poll(t, 30*time.Second, "the tray's StatusNotifierItem on the bus", func() bool {
		var owned bool
		err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&owned)
		return err == nil && owned
	})
	s := &sni{t: t, conn: conn, name: name}
	// The name comes before the menu is filled in: wait for a first item.
	poll(t, 30*time.Second, "a first menu item", func() bool { return len(s.layout().Children) > 0 })
	return s
}

// item is one dbusmenu item.
type item struct {
	ID       int32
	Label    string
	Enabled  bool
	Checked  bool
	Sep      bool
	Submenu  bool
	Children []item
}

// layout reads the whole menu (GetLayout(0, -1, [])).
func (s *sni) layout() item {
	s.t.Helper()
	var rev uint32
	var root struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	ctx, cancel := context.WithTimeout(s.t.Context(), 10*time.Second)
	defer cancel()
	call := s.conn.Object(s.name, menuPath).CallWithContext(ctx, "com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{})
	if err := call.Store(&rev, &root); err != nil {
		s.t.Fatalf("GetLayout: %v", err)
	}
	return toItem(root.ID, root.Props, root.Children)
}

func toItem(id int32, props map[string]dbus.Variant, children []dbus.Variant) item {
	it := item{ID: id, Enabled: true}
	if v, ok := props["label"].Value().(string); ok {
		it.Label = v
	}
	if v, ok := props["enabled"].Value().(bool); ok {
		it.Enabled = v
	}
	if v, ok := props["type"].Value().(string); ok && v == "separator" {
		it.Sep = true
	}
	if v, ok := props["children-display"].Value().(string); ok && v == "submenu" {
		it.Submenu = true
	}
	switch v := props["toggle-state"].Value().(type) {
	case int32:
		it.Checked = v == 1
	case int64:
		it.Checked = v == 1
	case int:
		it.Checked = v == 1
	}
	for _, c := range children {
		// Each child is a (ia{sv}av) struct, which godbus hands over as []any.
		fields, ok := c.Value().([]any)
		if !ok || len(fields) != 3 {
			continue
		}
		cid, _ := fields[0].(int32)
		cprops, _ := fields[1].(map[string]dbus.Variant)
		cchildren, _ := fields[2].([]dbus.Variant)
		it.Children = append(it.Children, toItem(cid, cprops, cchildren))
	}
	return it
}

// outline renders the menu as tray.Outline renders a fyne.Menu, so the two can be compared.
func (it item) outline() string {
	var b strings.Builder
	var walk func(items []item, indent string)
	walk = func(items []item, indent string) {
		for _, c := range items {
			b.WriteString(indent)
			if c.Sep {
				b.WriteString("---\n")
				continue
			}
			if c.Checked {
				b.WriteString("[x] ")
			}
			b.WriteString(c.Label)
			if !c.Enabled {
				b.WriteString(" (disabled)")
			}
			if c.Submenu || len(c.Children) > 0 {
				b.WriteString(" >")
			}
			b.WriteString("\n")
			walk(c.Children, indent+"    ")
		}
	}
	walk(it.Children, "")
	return b.String()
}

// find returns the item reached by a path of label prefixes, or false.
func (it item) find(path ...string) (item, bool) {
	cur := it
	for _, p := range path {
		i := slices.IndexFunc(cur.Children, func(c item) bool { return !c.Sep && strings.HasPrefix(c.Label, p) })
		if i < 0 {
			return item{}, false
		}
		cur = cur.Children[i]
	}
	return cur, true
}

// click sends the "clicked" event to the item found by its labels, as a panel does.
func (s *sni) click(path ...string) {
	s.t.Helper()
	it, ok := s.layout().find(path...)
	if !ok {
		s.t.Fatalf("no menu item %q in:\n%s", path, s.layout().outline())
	}
	ctx, cancel := context.WithTimeout(s.t.Context(), 10*time.Second)
	defer cancel()
	call := s.conn.Object(s.name, menuPath).CallWithContext(ctx, "com.canonical.dbusmenu.Event", 0, it.ID, "clicked", dbus.MakeVariant(""), uint32(0))
	if call.Err != nil {
		s.t.Fatalf("clicking %q: %v", path, call.Err)
	}
}

// waitMenu polls the menu until cond holds, and returns how long that took. It fails after
// limit, printing the last menu.
func (s *sni) waitMenu(limit time.Duration, what string, cond func(item) bool) time.Duration {
	s.t.Helper()
	start := time.Now()
	var last item
	deadline := start.Add(limit)
	for {
		last = s.layout()
		if cond(last) {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the menu did not show %s within %s; it reads:\n%s", what, limit, last.outline())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// iconPixmap reads the icon the tray shows (IconPixmap: ARGB32, network byte order).
func (s *sni) iconPixmap() ([]byte, error) {
	v, err := s.conn.Object(s.name, itemPath).GetProperty("org.kde.StatusNotifierItem.IconPixmap")
	if err != nil {
		return nil, fmt.Errorf("reading IconPixmap: %w", err)
	}
	var px []struct {
		W, H int32
		Pix  []byte
	}
	if err := v.Store(&px); err != nil || len(px) == 0 {
		return nil, fmt.Errorf("IconPixmap %v: %v", v, err)
	}
	return px[0].Pix, nil
}

// waitIcon waits until the tray shows the named icon of assets.Icons. The item's properties
// may be exported a moment after its name and menu: a failed read is tried again until limit.
func (s *sni) waitIcon(limit time.Duration, file string) {
	s.t.Helper()
	want := argb(s.t, file)
	deadline := time.Now().Add(limit)
	for {
		got, err := s.iconPixmap()
		if err == nil && bytes.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("another icon is shown")
			}
			s.t.Fatalf("no icon %s within %s: %v", file, limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// argb converts an embedded PNG icon the way fyne.io/systray does for IconPixmap.
func argb(t *testing.T, file string) []byte {
	t.Helper()
	data, err := fs.ReadFile(assets.Icons, file)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	out := make([]byte, 0, w*h*4)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, b, a := img.At(x, y).RGBA()
			out = append(out, byte(a), byte(r), byte(g), byte(b))
		}
	}
	return out
}

var _ = png.Decode // the PNG decoder must be registered for image.Decode

// notifications is an org.freedesktop.Notifications server on the test's bus: it records
// what the tray sends, as a desktop's notification daemon would show it.
type notifications struct {
	mu   sync.Mutex
	got  []string
	next uint32
}

// Notify implements org.freedesktop.Notifications.Notify.
func (n *notifications) Notify(appName string, replacesID uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, summary+" | "+body)
	n.next++
	return n.next, nil
}

// GetCapabilities implements org.freedesktop.Notifications.GetCapabilities.
func (n *notifications) GetCapabilities() ([]string, *dbus.Error) { return []string{"body"}, nil }

// GetServerInformation implements org.freedesktop.Notifications.GetServerInformation.
func (n *notifications) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "test", "mcp-broker", "1", "1.2", nil
}

// serveNotifications claims org.freedesktop.Notifications on conn for the test.
func serveNotifications(t *testing.T, conn *dbus.Conn) *notifications {
	t.Helper()
	n := &notifications{}
	const path = dbus.ObjectPath("/org/freedesktop/Notifications")
	if err := conn.Export(n, path, "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("claiming org.freedesktop.Notifications: %v (reply %d): is a notification daemon running on this bus?", err, reply)
	}
	t.Cleanup(func() {
		_, _ = conn.ReleaseName("org.freedesktop.Notifications")
		_ = conn.Export(nil, path, "org.freedesktop.Notifications")
	})
	return n
}

// wait waits for a notification whose "summary | body" contains want.
func (n *notifications) wait(t *testing.T, limit time.Duration, want string) {
	t.Helper()
	poll(t, limit, "a notification with "+want, func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return slices.ContainsFunc(n.got, func(s string) bool { return strings.Contains(s, want) })
	})
}

func (n *notifications) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}

// poll waits until cond holds, failing t after limit. Limits are generous: a loaded 2-core
// CI machine can be slow, and each condition normally holds well within them.
func poll(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
