// Package assets holds the files that MCP Broker embeds in its binary: the pages the
// loopback server shows in the browser at the end of a sign-in, and the icons of the app and
// its tray.
//
// Everything here is static and self-contained so that it works offline, under a strict
// Content-Security-Policy (no scripts, no external fetches), and from a binary that was
// copied anywhere.
package assets

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"sync"
)

// Files holds every embedded asset, by file name. It is exported so that other parts of the
// program (the tray, later) can read what they need without this package growing a helper per file.
//
//go:embed callback_success.html callback_failure.html
var Files embed.FS

// Icons holds the app icon (icon.png, 512×512, also what `fyne package` puts in the desktop
// archive) and one tray icon per state (tray-ok.png, tray-signin.png, tray-error.png,
// tray-empty.png, 64×64). All are PNG: the Linux tray only decodes PNG. They are drawn by
// assets/internal/iconart; edit the drawing and run `go generate ./assets`, never the PNGs (a
// test checks that they match). A separate variable from Files, so that a program that never
// shows an icon does not carry them.
//
//go:generate go run ./internal/gen
//go:embed icon.png tray-ok.png tray-signin.png tray-error.png tray-empty.png
var Icons embed.FS

// pageData is what the callback templates see.
type pageData struct {
	Title   string
	Message string
}

// callbackTemplates parses the two callback pages once. It is lazy, not a package-level
// template.Must, so that a broken template surfaces as an error rather than a panic at start-up
// (and the tests catch it).
var callbackTemplates = sync.OnceValues(func() (*template.Template, error) {
	return template.ParseFS(Files, "callback_success.html", "callback_failure.html")
})

// CallbackPage renders the page the browser shows after a sign-in: the success page when ok is
// true, the failure page otherwise. Title and message are plain text; html/template escapes
// them, so a message that quotes an authorization server's error_description cannot inject markup.
// The failure page adds a line telling the user to close the tab and go back to MCP Broker
// or the terminal, where the real error is reported.
func CallbackPage(ok bool, title, message string) ([]byte, error) {
	t, err := callbackTemplates()
	if err != nil {
		return nil, fmt.Errorf("parsing the callback pages: %w", err)
	}
	name := "callback_failure.html"
	if ok {
		name = "callback_success.html"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, pageData{Title: title, Message: message}); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", name, err)
	}
	return buf.Bytes(), nil
}
