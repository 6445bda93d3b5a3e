package windows

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	hints "github.com/mcp-broker/mcp-broker/broker/hint"
)

// newForm opens the add-server window at the size of the goldens.
func newForm(t *testing.T, ed ServerEditor, existing *config.Server) *ServerForm {
	t.Helper()
	a := test.NewTempApp(t)
	f := ShowServerForm(a, ed, existing)
	f.Window().Resize(fyne.NewSize(600, 1000))
	t.Cleanup(func() {
		if isOpen(f.Window()) {
			f.Window().Close()
		}
		wait(t, &f.bg)
	})
	return f
}

func TestServerFormGoldens(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		f := newForm(t, &fakeEditor{report: goodReport}, nil)
		assertMarkup(t, "serverform_empty.xml", f.Window())
	})
	t.Run("filled", func(t *testing.T) {
		f := newForm(t, &fakeEditor{report: goodReport}, nil)
		test.Type(f.url, "https://mcp.example.com/mcp")
		f.auth.SetSelectedIndex(2) // API key or bearer token
		test.Type(f.secret, "sk-123")
		test.Type(f.header, "X-API-Key")
		assertMarkup(t, "serverform_filled.xml", f.Window())
	})
	t.Run("findings", func(t *testing.T) {
		f := newForm(t, &fakeEditor{report: blockingReport}, nil)
		test.Type(f.url, "https://mcp.example.com/mcp")
		test.Tap(f.check)
		wait(t, &f.bg)
		assertMarkup(t, "serverform_findings.xml", f.Window())
		f.Window().Resize(fyne.NewSize(600, 1180))
		assertImage(t, "serverform_findings.png", f.Window())
	})
}

// isOpen reports whether w is still one of the app's windows.
func isOpen(w fyne.Window) bool {
	return slices.Contains(fyne.CurrentApp().Driver().AllWindows(), w)
}

func TestSuggestName(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://mcp.notion.com/mcp", "notion"},
		{"https://studio.example.com/mcp", "studio"},
		{"https://api.githubcopilot.com/mcp/", "githubcopilot"},
		{"https://example.com/mcp", "example"},
		{"https://www.example.co.uk/sse", "example"},
		{"http://127.0.0.1:8123/mcp", "localhost-8123"},
		{"http://localhost/mcp", "localhost"},
		{"https://10.1.2.3/mcp", "10.1.2.3"},
		{"https://[2001:db8::1]/mcp", "2001-db8--1"},
		{"  https://Studio.Example.COM./mcp ", "studio"},
		{"https://xn--bcher-kva.example/mcp", "xn--bcher-kva"},
		{"", ""},
		{"studio", ""},
		{"https://", ""},
	} {
		if got := SuggestName(tc.url); got != tc.want {
			t.Errorf("SuggestName(%q) = %q, want %q", tc.url, got, tc.want)
		}
		if got := SuggestName(tc.url); got != "" {
			if err := config.ValidateName(got); err != nil {
				t.Errorf("SuggestName(%q) = %q, not a valid name: %v", tc.url, got, err)
			}
		}
	}
}

// The name follows the URL until the user types one of their own; clearing
// it brings the suggestion back.
func TestServerFormSuggestsName(t *testing.T) {
	f := newForm(t, &fakeEditor{report: goodReport}, nil)
	test.Type(f.url, "https://studio.example.com/mcp")
	if f.name.Text != "studio" {
		t.Fatalf("name after typing the URL = %q, want studio", f.name.Text)
	}
	f.url.SetText("https://mcp.notion.com/mcp")
	if f.name.Text != "notion" {
		t.Fatalf("name after changing the URL = %q, want notion", f.name.Text)
	}
	f.name.SetText("")
	test.Type(f.name, "work")
	f.url.SetText("https://other.example.com/mcp")
	if f.name.Text != "work" {
		t.Fatalf("a typed name was replaced by %q", f.name.Text)
	}
	f.name.SetText("")
	f.url.SetText("https://studio.example.com/mcp")
	if f.name.Text != "studio" {
		t.Fatalf("name after clearing it = %q, want the suggestion studio", f.name.Text)
	}
}

func TestServerFormCheckShowsFindings(t *testing.T) {
	ed := &fakeEditor{report: blockingReport}
	f := newForm(t, ed, nil)
	test.Type(f.url, "https://mcp.example.com/mcp")
	test.Tap(f.check)
	wait(t, &f.bg)

	diagnosed, saved := ed.calls()
	if want := []string{"https://mcp.example.com/mcp"}; !slices.Equal(diagnosed, want) {
		t.Errorf("Diagnose calls = %q, want %q", diagnosed, want)
	}
	if len(saved) != 0 {
		t.Errorf("Check saved: %v", saved)
	}
	content := f.Window().Content()
	if !hasText(content, "1 blocking problem: mcp-broker will not be able to sign in to or connect to this server.") {
		t.Errorf("no verdict among %q", texts(content))
	}
	if l := labelWith(content, "PKCE S256"); l == nil || l.Importance != widget.DangerImportance {
		t.Errorf("the blocking finding is not shown in red: %+v", l)
	}
	if !hasText(content, "Ask the server's operator for a client id and enter it under Client ID.") {
		t.Errorf("no next step for the registration warning among %q", texts(content))
	}
	if !f.check.Disabled() && !f.save.Disabled() && f.busyRow.Visible() {
		t.Error("still busy after the check")
	}
}

func TestServerFormCheckError(t *testing.T) {
	ed := &fakeEditor{diagErr: errors.New("dial tcp 127.0.0.1:1: connection refused")}
	f := newForm(t, ed, nil)
	test.Type(f.url, "http://127.0.0.1:1/mcp")
	test.Tap(f.check)
	wait(t, &f.bg)
	want := "The check could not run. Dial tcp 127.0.0.1:1: connection refused."
	if !hasText(f.Window().Content(), want) {
		t.Errorf("no %q among %q", want, texts(f.Window().Content()))
	}
	// Saving a server that could not be checked asks first.
	test.Tap(f.save)
	if f.confirm == nil {
		t.Fatal("Save after a failed check did not ask")
	}
}

// Invalid input is shown next to its field, and nothing is checked or saved.
func TestServerFormInvalidInput(t *testing.T) {
	for _, tc := range []struct {
		name, url, server, scopes string
		field                     func(*ServerForm) *widget.Label
		want                      string
	}{
		{"name with a space", "https://mcp.example.com/mcp", "my server", "",
			func(f *ServerForm) *widget.Label { return f.nameErr },
			`Server name "my server" has ' ': use only letters, digits, '.', '_' and '-'.`},
		{"name starting with a dash", "https://mcp.example.com/mcp", "-x", "",
			func(f *ServerForm) *widget.Label { return f.nameErr },
			`Server name "-x" must not start with '.' or '-'.`},
		{"plain http", "http://mcp.example.com/mcp", "studio", "",
			func(f *ServerForm) *widget.Label { return f.urlErr },
			`URL "http://mcp.example.com/mcp" uses plain http: use https (http is allowed only for localhost and 127.0.0.1).`},
		{"no URL", "", "studio", "",
			func(f *ServerForm) *widget.Label { return f.urlErr },
			"Enter the server's MCP endpoint, like https://mcp.example.com/mcp."},
		{"bad scope", "https://mcp.example.com/mcp", "studio", `read "write"`,
			func(f *ServerForm) *widget.Label { return f.scopesErr },
			`Invalid scope "\"write\"": a scope is one or more printable characters without spaces, '"' or '\'.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ed := &fakeEditor{report: goodReport}
			f := newForm(t, ed, nil)
			test.Type(f.url, tc.url)
			f.name.SetText(tc.server)
			test.Type(f.scopes, tc.scopes)
			test.Tap(f.save)
			wait(t, &f.bg)
			if l := tc.field(f); !l.Visible() || l.Text != tc.want {
				t.Errorf("field error = %q (visible %v), want %q", l.Text, l.Visible(), tc.want)
			}
			if diagnosed, saved := ed.calls(); len(diagnosed)+len(saved) != 0 {
				t.Errorf("invalid input was checked %q or saved %v", diagnosed, saved)
			}
			if !isOpen(f.Window()) {
				t.Error("the window closed")
			}
		})
	}
}

// Save checks the URL first, then saves what the fields say.
func TestServerFormSaves(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fill   func(f *ServerForm)
		want   config.Server
		secret string
	}{
		{"oauth", func(f *ServerForm) {
			test.Type(f.url, "https://studio.example.com/mcp")
		}, config.Server{Name: "studio", URL: "https://studio.example.com/mcp", Auth: config.AuthOAuth, Transport: config.TransportAuto}, ""},
		{"oauth with a client and scopes", func(f *ServerForm) {
			test.Type(f.url, "https://studio.example.com/mcp")
			test.Type(f.clientID, "my-client")
			test.Type(f.secret, "s3cret")
			test.Type(f.scopes, " mcp:read  mcp:write ")
			f.transport.SetSelectedIndex(1)
		}, config.Server{Name: "studio", URL: "https://studio.example.com/mcp", Auth: config.AuthOAuth, ClientID: "my-client",
			Scopes: []string{"mcp:read", "mcp:write"}, Transport: config.TransportStreamableHTTP}, "s3cret"},
		{"oauth with a provider's settings", func(f *ServerForm) {
			test.Type(f.url, "https://studio.example.com/mcp")
			f.provider.SetSelectedIndex(1) // Microsoft Entra ID
			test.Type(f.authParams, "prompt=login  domain_hint=example.com")
			test.Tap(f.noResource)
			f.sendToken.SetSelectedIndex(1) // ID token
		}, config.Server{Name: "studio", URL: "https://studio.example.com/mcp", Auth: config.AuthOAuth, Transport: config.TransportAuto,
			Provider: "entra", AuthParams: map[string]string{"prompt": "login", "domain_hint": "example.com"}, NoResource: true, SendToken: "id"}, ""},
		{"client credentials; the provider's settings are not saved", func(f *ServerForm) {
			f.provider.SetSelectedIndex(2)
			test.Type(f.authParams, "prompt=login")
			test.Tap(f.noResource)
			test.Type(f.url, "https://ci.example.com/mcp")
			f.name.SetText("ci-robot")
			f.auth.SetSelectedIndex(1)
			test.Type(f.clientID, "robot")
			test.Type(f.secret, "robot-secret")
		}, config.Server{Name: "ci-robot", URL: "https://ci.example.com/mcp", Auth: config.AuthClientCredentials, ClientID: "robot",
			Transport: config.TransportAuto}, "robot-secret"},
		{"API key in a header; hidden fields are not saved", func(f *ServerForm) {
			test.Type(f.url, "https://search.example.com/sse")
			test.Type(f.clientID, "typed before switching")
			f.auth.SetSelectedIndex(2)
			test.Type(f.secret, "key-123")
			test.Type(f.header, "X-API-Key")
			f.transport.SetSelectedIndex(2)
		}, config.Server{Name: "search", URL: "https://search.example.com/sse", Auth: config.AuthBearer, Header: "X-API-Key",
			Transport: config.TransportSSE}, "key-123"},
		{"none drops the secret", func(f *ServerForm) {
			test.Type(f.url, "http://127.0.0.1:8123/mcp")
			test.Type(f.secret, "typed before switching")
			f.auth.SetSelectedIndex(3)
		}, config.Server{Name: "localhost-8123", URL: "http://127.0.0.1:8123/mcp", Auth: config.AuthNone, Transport: config.TransportAuto}, ""},
		{"workload identity: a JWT file, no secret", func(f *ServerForm) {
			test.Type(f.url, "https://build.example.com/mcp")
			test.Type(f.secret, "typed before switching")
			f.auth.SetSelectedIndex(4)
			test.Type(f.clientID, "ci")
			test.Type(f.assertionFile, "/var/run/secrets/tokens/mcp")
		}, config.Server{Name: "build", URL: "https://build.example.com/mcp", Auth: config.AuthWorkload, ClientID: "ci",
			AssertionFile: "/var/run/secrets/tokens/mcp", Transport: config.TransportAuto}, ""},
		{"company account", func(f *ServerForm) {
			test.Type(f.url, "https://wiki.example.com/mcp")
			test.Type(f.assertionFile, "/typed/before/switching")
			f.auth.SetSelectedIndex(5)
			f.idp.SetSelected("corp")
			test.Type(f.clientID, "wiki-app")
			test.Type(f.secret, "wiki-secret")
		}, config.Server{Name: "wiki", URL: "https://wiki.example.com/mcp", Auth: config.AuthEnterprise, ClientID: "wiki-app",
			IdP: "corp", Transport: config.TransportAuto}, "wiki-secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ed := &fakeEditor{report: goodReport}
			f := newForm(t, ed, nil)
			tc.fill(f)
			test.Tap(f.save)
			wait(t, &f.bg)
			diagnosed, saved := ed.calls()
			if want := []string{tc.want.URL}; !slices.Equal(diagnosed, want) {
				t.Errorf("Diagnose calls = %q, want %q", diagnosed, want)
			}
			if len(saved) != 1 {
				t.Fatalf("Save calls = %d, want 1", len(saved))
			}
			if !reflect.DeepEqual(saved[0].srv, tc.want) {
				t.Errorf("saved %+v\nwant  %+v", saved[0].srv, tc.want)
			}
			if saved[0].secret != tc.secret {
				t.Errorf("saved secret %q, want %q", saved[0].secret, tc.secret)
			}
			// The check judged the setup being saved, sign-in method and its fields included.
			if got := ed.setups[0]; got.Auth != tc.want.Auth || got.IdP != tc.want.IdP || got.AssertionFile != tc.want.AssertionFile ||
				(got.Auth == config.AuthWorkload || got.Auth == config.AuthEnterprise) && got.ClientID != tc.want.ClientID {
				t.Errorf("checked %+v, want the setup of %+v", got, tc.want)
			}
			if isOpen(f.Window()) {
				t.Error("the window stayed open after saving")
			}
		})
	}
}

// A blocking finding needs a confirmation, and "Don't save" saves nothing.
func TestServerFormBlockingAsks(t *testing.T) {
	ed := &fakeEditor{report: blockingReport}
	f := newForm(t, ed, nil)
	test.Type(f.url, "https://mcp.example.com/mcp")
	test.Tap(f.save)
	wait(t, &f.bg)
	if f.confirm == nil {
		t.Fatal("no confirmation for a server with a blocking finding")
	}
	top := f.Window().Canvas().Overlays().Top()
	if !hasTextContaining(top, "Save it anyway?") {
		t.Errorf("the question reads %q", texts(top))
	}
	test.Tap(findButton(t, top, "Don't save"))
	wait(t, &f.bg)
	if _, saved := ed.calls(); len(saved) != 0 {
		t.Fatalf("saved after Don't save: %v", saved)
	}
	if !isOpen(f.Window()) {
		t.Fatal("the window closed after Don't save")
	}

	test.Tap(f.save) // the URL was checked: no second diagnosis
	top = f.Window().Canvas().Overlays().Top()
	test.Tap(findButton(t, top, "Save anyway"))
	wait(t, &f.bg)
	diagnosed, saved := ed.calls()
	if len(diagnosed) != 1 || len(saved) != 1 {
		t.Fatalf("Diagnose calls %q, Save calls %v; want one each", diagnosed, saved)
	}
	if isOpen(f.Window()) {
		t.Error("the window stayed open after Save anyway")
	}
}

// A failed save is explained in the window, which stays open to retry.
func TestServerFormSaveError(t *testing.T) {
	// The broker's error names the server, which the window is about, and carries the next step.
	saveErr := &broker.OpError{Op: broker.OpAdd, Server: "mcp.example.com", Err: hints.With(errors.New("storing the secret: the keychain did not answer"), hints.TryAgain)}
	ed := &fakeEditor{report: goodReport, saveErr: saveErr}
	f := newForm(t, ed, nil)
	test.Type(f.url, "https://mcp.example.com/mcp")
	test.Type(f.secret, "s3cret")
	test.Tap(f.save)
	wait(t, &f.bg)
	want := "The server was not saved. Storing the secret: the keychain did not answer. Try again."
	if !f.message.Visible() || f.message.Text != want {
		t.Errorf("message = %q, want %q", f.message.Text, want)
	}
	if !isOpen(f.Window()) {
		t.Error("the window closed after a failed save")
	}
	if f.save.Disabled() {
		t.Error("Save stays disabled after a failed save")
	}
}

// The secret field is a password field that cannot be revealed; editing a
// server never puts its secret back in it, and keeps what the form does not show.
func TestServerFormSecret(t *testing.T) {
	existing := &config.Server{Name: "studio", URL: "https://studio.example.com/mcp", Auth: config.AuthClientCredentials,
		ClientID: "robot", Scopes: []string{"a", "b"}, ClientMetadataURL: "https://app.example.com/client.json", NoResourceOnRefresh: true}
	ed := &fakeEditor{report: goodReport}
	f := newForm(t, ed, existing)
	if !f.secret.Password {
		t.Error("the secret entry is not a password entry")
	}
	if _, ok := f.secret.ActionItem.(*canvas.Rectangle); !ok {
		t.Errorf("the secret entry has an action item %T, which may reveal it", f.secret.ActionItem)
	}
	if f.secret.Text != "" {
		t.Errorf("the secret field shows %q when editing", f.secret.Text)
	}
	if !f.name.Disabled() || f.name.Text != "studio" || f.clientID.Text != "robot" || f.scopes.Text != "a b" {
		t.Errorf("edit form: name %q (disabled %v), client id %q, scopes %q", f.name.Text, f.name.Disabled(), f.clientID.Text, f.scopes.Text)
	}
	test.Tap(f.save)
	wait(t, &f.bg)
	_, saved := ed.calls()
	if len(saved) != 1 {
		t.Fatalf("Save calls = %d, want 1", len(saved))
	}
	want := *existing
	want.Transport = config.TransportAuto
	if !reflect.DeepEqual(saved[0].srv, want) || saved[0].secret != "" {
		t.Errorf("saved %+v with secret %q\nwant  %+v with none (keep the stored one)", saved[0].srv, saved[0].secret, want)
	}
}

// Closing the window cancels a check in flight, and its result is dropped.
func TestServerFormCloseCancelsCheck(t *testing.T) {
	ed := &fakeEditor{report: goodReport, hold: make(chan struct{})}
	a := test.NewTempApp(t)
	f := ShowServerForm(a, ed, nil)
	test.Type(f.url, "https://mcp.example.com/mcp")
	test.Tap(f.save)
	if !f.busyRow.Visible() || !f.save.Disabled() {
		t.Error("no activity shown while checking")
	}
	f.Window().Close()
	wait(t, &f.bg)
	ed.mu.Lock()
	ctxErr := ed.diagCtx.Err()
	ed.mu.Unlock()
	if ctxErr == nil {
		t.Error("closing the window did not cancel Diagnose")
	}
	if _, saved := ed.calls(); len(saved) != 0 {
		t.Errorf("saved after the window closed: %v", saved)
	}
}

// The provider's settings: an existing server's are shown and saved again as they were, the
// check judges them, and parameters that are not KEY=VALUE, or that the sign-in sets itself, are
// refused next to their field.
func TestServerFormSignInSettings(t *testing.T) {
	existing := config.Server{Name: "studio", URL: "https://studio.example.com/mcp", Auth: config.AuthOAuth, Transport: config.TransportAuto,
		Provider: "none", AuthParams: map[string]string{"b": "2", "a": "1"}, NoResource: true, SendToken: "id"}
	ed := &fakeEditor{report: goodReport}
	f := newForm(t, ed, &existing)
	if f.authParams.Text != "a=1 b=2" || !f.noResource.Checked || f.provider.Selected != "None: the standard requests" || f.sendToken.Selected != "ID token" {
		t.Errorf("fields: %q %v %q %q", f.authParams.Text, f.noResource.Checked, f.provider.Selected, f.sendToken.Selected)
	}
	test.Tap(f.save)
	wait(t, &f.bg)
	diagnosed, saved := ed.calls()
	if len(saved) != 1 || !reflect.DeepEqual(saved[0].srv, existing) {
		t.Errorf("saved %+v, want %+v", saved, existing)
	}
	if len(diagnosed) != 1 || ed.setups[0].Provider != "none" || !ed.setups[0].NoResource || ed.setups[0].AuthParams["a"] != "1" {
		t.Errorf("checked %+v, want the provider's settings", ed.setups)
	}

	for _, tc := range []struct{ params, want string }{
		{"prompt", `"prompt" is not KEY=VALUE.`},
		{"redirect_uri=https://evil.example", `The authorization parameter "redirect_uri" is set by the sign-in itself (the scopes and the resource have settings of their own).`},
	} {
		ed := &fakeEditor{report: goodReport}
		f := newForm(t, ed, nil)
		test.Type(f.url, "https://studio.example.com/mcp")
		test.Type(f.authParams, tc.params)
		test.Tap(f.save)
		wait(t, &f.bg)
		if !f.authParamsErr.Visible() || f.authParamsErr.Text != tc.want {
			t.Errorf("%q: error %q (visible %v), want %q", tc.params, f.authParamsErr.Text, f.authParamsErr.Visible(), tc.want)
		}
		if diagnosed, saved := ed.calls(); len(diagnosed)+len(saved) != 0 {
			t.Errorf("%q: checked %q or saved %v", tc.params, diagnosed, saved)
		}
	}
}
