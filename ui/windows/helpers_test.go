package windows

import (
	"context"
	"flag"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/doctor"
)

// update rewrites the golden files under testdata/ from what the windows
// render now: go test ./ui/windows/ -update, then review the diff (the PNGs
// are screenshots of the windows in the light theme).
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// assertMarkup compares the window's canvas with testdata/name. Fyne writes
// a mismatch to testdata/failed/name.
func assertMarkup(t *testing.T, name string, w fyne.Window) {
	t.Helper()
	settle(w)
	if *update {
		writeGolden(t, name, []byte(test.RenderToMarkup(w.Canvas())))
	}
	test.AssertRendersToMarkup(t, name, w.Canvas())
}

// assertImage compares a capture of the window with testdata/name, drawn in
// Fyne's light theme so the golden doubles as a screenshot.
func assertImage(t *testing.T, name string, w fyne.Window) {
	t.Helper()
	test.ApplyTheme(t, lightTheme{})
	t.Cleanup(func() { test.ApplyTheme(t, test.Theme()) })
	settle(w)
	img := w.Canvas().Capture()
	if *update {
		path := filepath.Join("testdata", name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	test.AssertImageMatches(t, name, img)
}

// settle lays the whole window out again at its size, as a real driver
// does on its next frame after content changed size (a wrapped label that
// got longer text, rows added by a background result). The test driver lays
// out only on Resize, so without this a golden would depend on whether the
// background result arrived before or after the test sized the window.
func settle(w fyne.Window) {
	size := w.Canvas().Size()
	w.Resize(size.AddWidthHeight(1, 1))
	w.Resize(size)
}

func writeGolden(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join("testdata", name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// lightTheme is Fyne's default theme in its light variant, whatever the
// settings say: what most people see.
type lightTheme struct{}

func (lightTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return theme.DefaultTheme().Color(n, theme.VariantLight)
}
func (lightTheme) Font(s fyne.TextStyle) fyne.Resource     { return theme.DefaultTheme().Font(s) }
func (lightTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }
func (lightTheme) Size(n fyne.ThemeSizeName) float32       { return theme.DefaultTheme().Size(n) }

// wait waits for a window's background work, failing the test after a
// generous bound rather than hanging it.
func wait(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the window's background work did not finish")
	}
}

// walk calls fn on o and every visible object under it, through the
// renderers Fyne has cached (test.LaidOutObjects would create new ones, which
// replaces a Label's insides). fn returns whether to look inside.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject) bool) {
	if o == nil || !o.Visible() || !fn(o) {
		return
	}
	switch c := o.(type) {
	case fyne.Widget:
		for _, child := range test.WidgetRenderer(c).Objects() {
			walk(child, fn)
		}
	case *fyne.Container:
		for _, child := range c.Objects {
			walk(child, fn)
		}
	}
}

// findButton finds the visible button labelled text under o, or fails.
func findButton(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	var found *widget.Button
	walk(o, func(obj fyne.CanvasObject) bool {
		if b, ok := obj.(*widget.Button); ok && b.Text == text && found == nil {
			found = b
		}
		return found == nil
	})
	if found == nil {
		t.Fatalf("no button %q", text)
	}
	return found
}

// texts returns the text of every visible label and rich text under o.
func texts(o fyne.CanvasObject) []string {
	var out []string
	walk(o, func(obj fyne.CanvasObject) bool {
		switch l := obj.(type) {
		case *widget.Label:
			if l.Text != "" {
				out = append(out, l.Text)
			}
			return false
		case *widget.RichText:
			if s := l.String(); s != "" {
				out = append(out, s)
			}
			return false
		}
		return true
	})
	return out
}

// hasText reports whether a visible label under o reads exactly text.
func hasText(o fyne.CanvasObject, text string) bool {
	return slices.Contains(texts(o), text)
}

// hasTextContaining reports whether a visible label under o contains part.
func hasTextContaining(o fyne.CanvasObject, part string) bool {
	return slices.ContainsFunc(texts(o), func(s string) bool { return strings.Contains(s, part) })
}

// fakeEditor is a ServerEditor that records its calls.
type fakeEditor struct {
	report  *doctor.Report
	diagErr error
	saveErr error
	// hold, when set, makes Diagnose wait for it or for its context.
	hold chan struct{}

	mu        sync.Mutex
	diagnosed []string
	setups    []config.Server // what each Diagnose call was given
	saved     []savedServer
	diagCtx   context.Context
}

type savedServer struct {
	srv    config.Server
	secret string
}

func (e *fakeEditor) Diagnose(ctx context.Context, srv config.Server) (*doctor.Report, error) {
	e.mu.Lock()
	e.diagnosed = append(e.diagnosed, srv.URL)
	e.setups = append(e.setups, srv)
	e.diagCtx = ctx
	e.mu.Unlock()
	if e.hold != nil {
		select {
		case <-e.hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return e.report, e.diagErr
}

func (e *fakeEditor) IdPs() []string { return []string{"corp", "lab"} }

func (e *fakeEditor) Save(_ context.Context, srv config.Server, secret string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.saved = append(e.saved, savedServer{srv, secret})
	return e.saveErr
}

func (e *fakeEditor) calls() (diagnosed []string, saved []savedServer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.diagnosed...), append([]savedServer(nil), e.saved...)
}

// fakeClaude is a ClaudeWriter that records its calls.
type fakeClaude struct {
	previewErr error
	writeErr   error
	backup     string

	mu       sync.Mutex
	previews []string // "scope dir name"
	writes   []string
}

func (c *fakeClaude) path(scope, dir string) string {
	if scope == "project" {
		return filepath.Join(dir, ".mcp.json")
	}
	return "/home/ada/.claude.json"
}

func (c *fakeClaude) Preview(scope, dir, name string) (string, string, error) {
	c.mu.Lock()
	c.previews = append(c.previews, scope+" "+dir+" "+name)
	c.mu.Unlock()
	if c.previewErr != nil {
		return "", "", c.previewErr
	}
	entry := `"` + name + `": {"type": "stdio", "command": "/usr/local/bin/mcp-broker", "args": ["bridge"], "env": {"MCP_BROKER_SERVER": "` + name + `"}}`
	return c.path(scope, dir), entry, nil
}

func (c *fakeClaude) Write(scope, dir, name string) (string, string, error) {
	c.mu.Lock()
	c.writes = append(c.writes, scope+" "+dir+" "+name)
	c.mu.Unlock()
	if c.writeErr != nil {
		return "", "", c.writeErr
	}
	return c.path(scope, dir), c.backup, nil
}

func (c *fakeClaude) Command(name string) string {
	return "claude mcp add " + name + " -e MCP_BROKER_SERVER=" + name + " -- /usr/local/bin/mcp-broker bridge"
}

func (c *fakeClaude) calls() (previews, writes []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.previews...), append([]string(nil), c.writes...)
}

// Reports as package doctor writes them, for a server that works and for
// one that cannot.
var (
	goodReport = &doctor.Report{ServerURL: "https://mcp.example.com/mcp", Findings: []doctor.Finding{
		{Item: "401 challenge", Severity: doctor.OK, Detail: `Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`},
		{Item: "resource metadata", Severity: doctor.OK, Detail: "found at https://mcp.example.com/.well-known/oauth-protected-resource/mcp"},
		{Item: "auth server", Severity: doctor.OK, Detail: "issuer https://auth.example.com (matches), metadata at https://auth.example.com/.well-known/oauth-authorization-server"},
		{Item: "PKCE S256", Severity: doctor.OK, Detail: "S256 advertised"},
		{Item: "grant types", Severity: doctor.Warn, Detail: "authorization_code\nno refresh_token: you will sign in again whenever the access token expires"},
		{Item: "offline_access", Severity: doctor.Info, Detail: "not listed in scopes_supported: not asked for"},
		{Item: "Streamable HTTP", Severity: doctor.Info, Detail: "POST answered 401: needs a token; the transport is checked after sign-in"},
	}}
	blockingReport = &doctor.Report{ServerURL: "https://mcp.example.com/mcp", Findings: []doctor.Finding{
		{Item: "401 challenge", Severity: doctor.OK, Detail: `Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`},
		{Item: "resource metadata", Severity: doctor.OK, Detail: "found at https://mcp.example.com/.well-known/oauth-protected-resource/mcp"},
		{Item: "PKCE S256", Severity: doctor.Fail, Detail: "the authorization server https://auth.example.com does not advertise PKCE S256 (code_challenge_methods_supported: plain)"},
		{Item: "registration", Severity: doctor.Warn, Detail: "dynamic registration: no registration_endpoint\nonly a client id registered with the authorization server beforehand will work"},
	}}
)

// labelWith returns the visible label under o that reads text, or nil.
func labelWith(o fyne.CanvasObject, text string) *widget.Label {
	var found *widget.Label
	walk(o, func(obj fyne.CanvasObject) bool {
		if l, ok := obj.(*widget.Label); ok && l.Text == text && found == nil {
			found = l
		}
		return found == nil
	})
	return found
}
