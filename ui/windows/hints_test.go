package windows

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker"

	hints "github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/ui/tray"
)

// TestAdviceSpeaksTheTraysLanguage: every hint has a sentence in the tray, wherever it is read,
// which names a menu item or a window where there is one, and never a command, a flag or an
// environment variable: the tray's user has no terminal open.
func TestAdviceSpeaksTheTraysLanguage(t *testing.T) {
	items := map[hints.Hint]string{
		hints.SignIn:                tray.LabelSignIn,
		hints.AcceptNewIssuer:       tray.LabelSignIn,
		hints.StoreToken:            tray.LabelEdit,
		hints.ClientID:              tray.LabelEdit,
		hints.ClientIDOrMetadataURL: tray.LabelEdit,
		hints.ClientSecret:          tray.LabelEdit,
		hints.NoAuth:                tray.LabelEdit,
		hints.AddServer:             tray.LabelAddServer,
		hints.Diagnose:              tray.LabelDiagnose,
		hints.SignInIdP:             tray.LabelSignInIdP,
		hints.WorkloadAssertion:     tray.LabelEdit,
		hints.PrivateKey:            tray.LabelEdit,
		hints.PreRegisteredClient:   tray.LabelEdit,
	}
	places := []place{{here: true}, {server: "studio"}, {}}
	for _, h := range hints.All() {
		for _, goos := range []string{"linux", "darwin", "windows"} {
			for _, p := range places {
				got := advice(h, goos, p)
				if got == "" || !strings.HasSuffix(got, ".") || strings.ToUpper(got[:1]) != got[:1] {
					t.Errorf("%v on %s at %+v: %q is not a sentence", h, goos, p, got)
				}
				for _, cli := range []string{"mcp-broker ", "`", " --", "MCP_BROKER_", "security ", "chmod"} {
					if strings.Contains(got, cli) {
						t.Errorf("%v on %s at %+v: %q has command-line text (%q)", h, goos, p, got, cli)
					}
				}
				if item, ok := items[h]; ok && !strings.Contains(got, item) {
					t.Errorf("%v on %s at %+v: %q does not name %q", h, goos, p, got, item)
				}
				if strings.Contains(got, "server's menu") {
					t.Errorf("%v on %s at %+v: %q sends to a menu that the window has not", h, goos, p, got)
				}
			}
		}
	}
	for _, p := range places {
		if got := advice(hints.None, "linux", p); got != "" {
			t.Errorf("no hint at %+v: %q", p, got)
		}
	}
}

// TestAdviceByPlace: the next step points at a button or menu item as seen from where it is
// read. Under the server in the main window the button is right there; a notification or
// another window says where to find it, for the server the error names.
func TestAdviceByPlace(t *testing.T) {
	refused := &broker.OpError{Op: broker.OpSignIn, Server: "notion", Err: hints.With(errors.New("the sign-in was refused"), hints.SignIn)}
	expired := fmt.Errorf("calling: %w", &broker.SignInRequiredError{Server: "linear", Reason: "the sign-in has expired"})
	unreachable := hints.With(errors.New("no answer"), hints.Diagnose)
	idp := &broker.OpError{Op: broker.OpSignIn, Server: "wiki", Err: &broker.IdPSignInRequiredError{IdP: "corp"}}
	tests := []struct {
		err         error
		here, there string
	}{
		{refused, "Choose Sign in.", "Choose Sign in for notion in the MCP Broker menu or window."},
		{expired, "Choose Sign in.", "Choose Sign in for linear in the MCP Broker menu or window."},
		{unreachable, "Choose Diagnose… for the details.", "For the details, choose Diagnose… in the MCP Broker menu or window."},
		{&broker.OpError{Op: broker.OpSignIn, Server: "search", Err: unreachable}, "Choose Diagnose… for the details.",
			"For the details, choose Diagnose… for search in the MCP Broker menu or window."},
		{idp, "Choose Sign in with your company account.", "Choose Sign in with your company account in the MCP Broker menu or window."},
		{hints.With(errors.New("no server named x"), hints.AddServer), "Choose Add server… to add it.", "Choose Add server… in the MCP Broker menu or window to add it."},
		{hints.With(errors.New("static"), hints.StoreToken), "Enter its token in the server's settings (Edit server…).", "Enter its token in the server's settings (Edit server…)."},
		{errors.New("no hint"), "", ""},
	}
	for _, tt := range tests {
		if got := adviceHere(tt.err); got != tt.here {
			t.Errorf("in the main window, %v: %q, want %q", tt.err, got, tt.here)
		}
		if got := Advice(tt.err); got != tt.there {
			t.Errorf("elsewhere, %v: %q, want %q", tt.err, got, tt.there)
		}
	}
	// The main window's message and another window's differ only in the advice.
	if got, want := explainHere("Signing in failed.", refused), "Signing in failed. The sign-in was refused. Choose Sign in."; got != want {
		t.Errorf("explainHere: %q, want %q", got, want)
	}
	if got, want := explain("Signing in failed.", refused), "Signing in failed. The sign-in was refused. Choose Sign in for notion in the MCP Broker menu or window."; got != want {
		t.Errorf("explain: %q, want %q", got, want)
	}
}
