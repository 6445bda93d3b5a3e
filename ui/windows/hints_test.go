package windows

import (
	"strings"
	"testing"

	hints "github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/ui/tray"
)

// TestAdviceSpeaksTheTraysLanguage: every hint has a sentence in the tray, which names a menu
// item or a window where there is one, and never a command, a flag or an environment variable:
// the tray's user has no terminal open.
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
	for _, h := range hints.All() {
		for _, goos := range []string{"linux", "darwin", "windows"} {
			got := advice(h, goos)
			if got == "" || !strings.HasSuffix(got, ".") || strings.ToUpper(got[:1]) != got[:1] {
				t.Errorf("%v on %s: %q is not a sentence", h, goos, got)
			}
			for _, cli := range []string{"mcp-broker ", "`", " --", "MCP_BROKER_", "security ", "chmod"} {
				if strings.Contains(got, cli) {
					t.Errorf("%v on %s: %q has command-line text (%q)", h, goos, got, cli)
				}
			}
			if item, ok := items[h]; ok && !strings.Contains(got, item) {
				t.Errorf("%v on %s: %q does not name %q", h, goos, got, item)
			}
		}
	}
	if got := advice(hints.None, "linux"); got != "" {
		t.Errorf("no hint: %q", got)
	}
}
