package windows

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// ecKeyPEM is a new P-256 private key in PEM.
func ecKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// TestServerFormPrivateKey: a client-credentials client that signs with its private key. The
// key is pasted (never shown, and something else pasted is refused without being quoted), its
// public half can be copied to register it, and Save hands the key over as the secret, with
// private_key_jwt in the configuration.
func TestServerFormPrivateKey(t *testing.T) {
	ed := &fakeEditor{report: goodReport}
	f := newForm(t, ed, nil)
	test.Type(f.url, "https://ci.example.com/mcp")
	f.auth.SetSelectedIndex(1) // client credentials
	if !f.clientAuthRow[0].Visible() || f.keyRow[0].Visible() || !f.secretRow[0].Visible() {
		t.Fatal("client credentials: want the credential choice and the secret, not the key")
	}
	f.clientAuth.SetSelectedIndex(1) // private key
	if !f.keyRow[0].Visible() || f.secretRow[0].Visible() {
		t.Fatal("private key: want the key row instead of the secret")
	}
	test.Type(f.clientID, "robot")

	// Save without a key: asked for one, nothing saved.
	test.Tap(f.save)
	wait(t, &f.bg)
	if !f.keyErr.Visible() || f.keyErr.Text != "Choose the client's private key." {
		t.Errorf("key error = %q (visible %v)", f.keyErr.Text, f.keyErr.Visible())
	}
	if _, saved := ed.calls(); len(saved) != 0 {
		t.Fatalf("saved without a key: %v", saved)
	}

	f.app.Clipboard().SetContent("hunter2 is not a key")
	test.Tap(f.pasteKey)
	if !f.keyErr.Visible() || strings.Contains(f.keyErr.Text, "hunter2") || !f.copyPublic.Disabled() {
		t.Errorf("pasting something else: error %q (visible %v), copy enabled %v", f.keyErr.Text, f.keyErr.Visible(), !f.copyPublic.Disabled())
	}

	keyPEM := ecKeyPEM(t)
	f.app.Clipboard().SetContent(keyPEM)
	test.Tap(f.pasteKey)
	if f.keyErr.Visible() || !strings.HasPrefix(f.keyStatus.Text, "ES256 key ") {
		t.Fatalf("pasting the key: status %q, error %q", f.keyStatus.Text, f.keyErr.Text)
	}
	for _, s := range texts(f.Window().Content()) {
		if strings.Contains(s, strings.Split(keyPEM, "\n")[1]) {
			t.Fatal("the window shows the key")
		}
	}
	test.Tap(f.copyPublic)
	var jwk map[string]any
	if err := json.Unmarshal([]byte(f.app.Clipboard().Content()), &jwk); err != nil || jwk["kty"] != "EC" || jwk["kid"] == nil {
		t.Fatalf("the clipboard holds %q (%v), want the public JWK", f.app.Clipboard().Content(), err)
	}
	if _, private := jwk["d"]; private {
		t.Fatal("Copy public key copied the private key")
	}

	test.Tap(f.save)
	wait(t, &f.bg)
	_, saved := ed.calls()
	if len(saved) != 1 {
		t.Fatalf("Save calls = %d, want 1", len(saved))
	}
	want := config.Server{Name: "ci", URL: "https://ci.example.com/mcp", Auth: config.AuthClientCredentials, ClientID: "robot",
		ClientAuth: config.ClientAuthPrivateKeyJWT, Transport: config.TransportAuto}
	if !reflect.DeepEqual(saved[0].srv, want) || saved[0].secret != keyPEM {
		t.Errorf("saved %+v (key given: %v)\nwant  %+v with the key", saved[0].srv, saved[0].secret == keyPEM, want)
	}
}

// TestServerFormPrivateKeyEdit: editing a server whose key is stored keeps it unless another is
// chosen; choosing a client secret instead drops private_key_jwt.
func TestServerFormPrivateKeyEdit(t *testing.T) {
	existing := &config.Server{Name: "ci", URL: "https://ci.example.com/mcp", Auth: config.AuthClientCredentials, ClientID: "robot",
		ClientAuth: config.ClientAuthPrivateKeyJWT, SigningAlg: "RS256", Transport: config.TransportAuto}
	t.Run("kept", func(t *testing.T) {
		ed := &fakeEditor{report: goodReport}
		f := newForm(t, ed, existing)
		if !f.keyRow[0].Visible() || !strings.Contains(f.keyStatus.Text, "RS256 key is stored") {
			t.Fatalf("edit: key row visible %v, status %q", f.keyRow[0].Visible(), f.keyStatus.Text)
		}
		test.Tap(f.save)
		wait(t, &f.bg)
		if _, saved := ed.calls(); len(saved) != 1 || !reflect.DeepEqual(saved[0].srv, *existing) || saved[0].secret != "" {
			t.Errorf("saved %+v, want the server as it was and no key (the stored one stays)", saved)
		}
	})
	t.Run("replaced by a secret", func(t *testing.T) {
		ed := &fakeEditor{report: goodReport}
		f := newForm(t, ed, existing)
		f.clientAuth.SetSelectedIndex(0)
		test.Type(f.secret, "robot-secret")
		test.Tap(f.save)
		wait(t, &f.bg)
		want := *existing
		want.ClientAuth, want.SigningAlg = "", ""
		if _, saved := ed.calls(); len(saved) != 1 || !reflect.DeepEqual(saved[0].srv, want) || saved[0].secret != "robot-secret" {
			t.Errorf("saved %+v, want %+v with the secret", saved, want)
		}
	})
}

// TestServerFormDPoP: the DPoP setting shows for the modes that can bind tokens (browser sign-in
// and client credentials), is saved as chosen ("" for automatic, as the CLI stores it), is read
// back when editing, and is dropped for a mode that cannot use it.
func TestServerFormDPoP(t *testing.T) {
	ed := &fakeEditor{report: goodReport}
	f := newForm(t, ed, nil)
	test.Type(f.url, "https://mcp.example.com/mcp")
	if !f.dpopRow[0].Visible() || f.dpop.Selected != dpopChoices[0].label {
		t.Fatalf("browser sign-in: DPoP row visible %v, selected %q; want it shown, automatic", f.dpopRow[0].Visible(), f.dpop.Selected)
	}
	f.dpop.SetSelectedIndex(1) // always
	test.Tap(f.save)
	wait(t, &f.bg)
	_, saved := ed.calls()
	if len(saved) != 1 || saved[0].srv.DPoP != config.DPoPOn {
		t.Fatalf("saved %+v, want dpop on", saved)
	}

	existing := saved[0].srv
	existing.DPoP = config.DPoPOff
	ed = &fakeEditor{report: goodReport}
	f = newForm(t, ed, &existing)
	if f.dpop.Selected != dpopChoices[2].label {
		t.Errorf("editing a server with dpop off: selected %q", f.dpop.Selected)
	}
	f.dpop.SetSelectedIndex(0) // automatic
	test.Tap(f.save)
	wait(t, &f.bg)
	if _, saved := ed.calls(); len(saved) != 1 || saved[0].srv.DPoP != "" {
		t.Errorf("saved %+v, want dpop \"\" (automatic)", saved)
	}

	ed = &fakeEditor{report: goodReport}
	f = newForm(t, ed, &existing)
	for i, c := range authChoices { // the API key mode has no DPoP
		if c.value == config.AuthBearer {
			f.auth.SetSelectedIndex(i)
		}
	}
	if f.dpopRow[0].Visible() {
		t.Error("API key: the DPoP row is shown")
	}
}
