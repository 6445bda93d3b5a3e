// Package windows builds the tray app's windows: the main window (Status:
// every server with its state and actions, the menu's and Remove), the
// add/edit server form, Configure Claude Code, sign-in progress, the
// diagnosis report, a server's tools, and the live traffic of the bridges
// (Timeline).
//
// Each window is a struct that keeps its widgets, built by a function that
// takes the fyne.App, in the style of fyne-io/calculator, so tests drive it
// with fyne.io/fyne/v2/test (test.Tap, test.Type) and compare it with golden
// markup. The windows reach the broker only through small interfaces defined
// here (ServerEditor, ClaudeWriter) or plain functions, so the tray decides
// what they do and tests give them fakes. Work that may block (diagnosis,
// saving, writing files) runs in a goroutine owned by the window, cancelled
// when the window closes, and reaches the widgets again through fyne.Do.
//
// Like all Fyne UI code, the constructors (NewStatus, Show…) and the methods
// that are not documented as safe from any goroutine run on Fyne's
// goroutine: in a menu or button callback, or inside fyne.Do.
//
// The package uses widgets only and never fyne.io/fyne/v2/app, so it builds
// and tests with CGO_ENABLED=0.
package windows
