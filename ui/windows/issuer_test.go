package windows

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func TestIssuerChanged(t *testing.T) {
	const was, now = "https://login.example.com", "https://login.other.example"
	for _, tc := range []struct {
		name   string
		end    func(w *IssuerChanged)
		trusts int
	}{
		{"Trust the new sign-in server", func(w *IssuerChanged) { test.Tap(w.trust) }, 1},
		{"Keep the old one", func(w *IssuerChanged) { test.Tap(w.keep) }, 0},
		{"window closed", func(w *IssuerChanged) { w.Window().Close() }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			trusts := 0
			w := ShowIssuerChanged(a, "studio", was, now, func() { trusts++ })
			if w.trust.Text != "Trust the new sign-in server" {
				t.Errorf("trust button %q", w.trust.Text)
			}
			var text strings.Builder
			for _, o := range test.LaidOutObjects(w.Window().Content()) {
				switch o := o.(type) {
				case *widget.Label:
					text.WriteString(o.Text + "\n")
				case *widget.RichText:
					text.WriteString(o.String() + "\n")
				}
			}
			if !contains(text.String(), "studio", was, now) {
				t.Errorf("the window does not name the server and both sign-in servers:\n%s", text.String())
			}
			tc.end(w)
			if trusts != tc.trusts {
				t.Errorf("trust called %d times, want %d", trusts, tc.trusts)
			}
			if isOpen(w.Window()) {
				t.Error("the window is still open")
			}
		})
	}
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
