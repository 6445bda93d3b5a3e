package windows

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

const authURL = "https://auth.example.com/authorize?client_id=abc&code_challenge=xyz&state=123"

func TestSignInGolden(t *testing.T) {
	a := test.NewTempApp(t)
	s := ShowSignIn(a, "studio", authURL, func() {})
	s.Window().Resize(fyne.NewSize(500, 280))
	assertMarkup(t, "signin.xml", s.Window())
	s.Close()
}

func TestSignInCancel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		end    func(s *SignIn)
		cancel int
	}{
		{"Cancel button", func(s *SignIn) { test.Tap(s.cancel) }, 1},
		{"window closed by the person", func(s *SignIn) { s.Window().Close() }, 1},
		{"Close: the sign-in ended", func(s *SignIn) { s.Close() }, 0},
		{"Close, then Close again", func(s *SignIn) { s.Close(); s.Close() }, 0},
		{"Cancel, then Close from the tray", func(s *SignIn) { test.Tap(s.cancel); s.Close() }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			cancels := 0
			s := ShowSignIn(a, "studio", "", func() { cancels++ })
			tc.end(s)
			if cancels != tc.cancel {
				t.Errorf("cancel called %d times, want %d", cancels, tc.cancel)
			}
			if isOpen(s.Window()) {
				t.Error("the window is still open")
			}
		})
	}
}

func TestSignInLink(t *testing.T) {
	a := test.NewTempApp(t)
	s := ShowSignIn(a, "studio", authURL, func() {})
	test.Tap(s.copy)
	if got := a.Clipboard().Content(); got != authURL {
		t.Errorf("clipboard %q, want the sign-in link", got)
	}
	test.Tap(s.open)
	if s.message.Text != "Opened the sign-in page again." {
		t.Errorf("after Open again: %q", s.message.Text)
	}
	s.Close()

	// Without a link there is nothing to open or copy.
	s = ShowSignIn(a, "studio", "", func() {})
	if s.open != nil || s.copy != nil {
		t.Error("link buttons without a link")
	}
	s.Close()
}
