package broker_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// newKeyPEM makes a private key for alg and returns it as PEM (PKCS #8 for ES256, PKCS #1 for
// RS256: the forms openssl writes by default) with its public key.
func newKeyPEM(t *testing.T, alg string) (string, crypto.PublicKey) {
	t.Helper()
	switch alg {
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), k.Public()
	case "RS256":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})), k.Public()
	}
	t.Fatalf("no key for %s", alg)
	return "", nil
}

// keyServer is a client-credentials server whose client "bot" authenticates with private_key_jwt.
var keyServer = config.Server{Auth: config.AuthClientCredentials, ClientID: "bot", ClientAuth: config.ClientAuthPrivateKeyJWT}

// pemBody is the first line of a PEM's base64: a piece of the key itself.
func pemBody(p string) string { return strings.Split(p, "\n")[1] }

// TestPrivateKeyJWT is a client-credentials server whose client signs assertions with its key,
// from AddServer to RemoveServer: the token is granted, renewed and revoked on the strength of
// the key, which lives in the secret store only, and goes with the server.
func TestPrivateKeyJWT(t *testing.T) {
	for _, alg := range []string{"ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			keyPEM, public := newKeyPEM(t, alg)
			e := newEnv(t, envOptions{as: authserver.Options{ClientCredentials: true, PrivateKeyJWT: true}, server: keyServer, secret: keyPEM})
			e.as.RegisterClient(authserver.Client{ID: "bot", PublicKey: public, GrantTypes: []string{authserver.GrantClientCredentials}})

			srv, err := e.b.Server("demo")
			if err != nil || srv.SigningAlg != alg {
				t.Fatalf("configured %+v, %v: want signing_alg %s", srv, err, alg)
			}
			stored, err := e.store.Get(t.Context(), "client-key/demo")
			if err != nil || !strings.HasPrefix(stored, "-----BEGIN PRIVATE KEY-----") {
				t.Fatalf("the key is not stored as PKCS #8 (%v)", err)
			}
			if _, err := e.store.Get(t.Context(), "client-secret/demo"); err == nil {
				t.Error("the key was stored as a client secret too")
			}
			data, _ := os.ReadFile(e.config)
			if strings.Contains(string(data), pemBody(keyPEM)) || strings.Contains(string(data), "PRIVATE KEY") {
				t.Error("config.json holds the key")
			}

			e.mustLogin()
			if got := e.callTool("whoami"); got != 200 {
				t.Fatalf("HTTP %d", got)
			}
			cred, err := e.b.Credential(t.Context(), "demo")
			if err != nil {
				t.Fatal(err)
			}
			// A rejected token is renewed with a new grant, and a new assertion.
			if _, err := e.b.Refresh(t.Context(), "demo", cred.Value); err != nil {
				t.Fatalf("renewing: %v", err)
			}
			tokens := e.requests(authserver.EndpointToken)
			if len(tokens) != 2 || e.as.Stats().ClientCredentialsGrants != 2 {
				t.Fatalf("%d token requests, stats %+v", len(tokens), e.as.Stats())
			}
			for _, r := range tokens {
				if r.AuthMethod != authserver.AuthPrivateKeyJWT || r.Form.Has("client_secret") || r.ClientID != "bot" {
					t.Errorf("token request authenticated with %q as %q, form %v", r.AuthMethod, r.ClientID, r.Form)
				}
			}
			st, err := e.b.Status()
			if err != nil || st[0].Client == nil || st[0].Client.AuthMethod != "private_key_jwt" || st[0].ClientAuth != "private_key_jwt" || st[0].SigningAlg != alg {
				t.Errorf("status = %+v (client %+v), %v", st[0], st[0].Client, err)
			}

			res, err := e.b.Logout(t.Context(), "demo")
			if err != nil || !res.Revoked {
				t.Fatalf("logout = %+v, %v: the revocation request authenticates with the key too", res, err)
			}
			if _, err := e.store.Get(t.Context(), "client-key/demo"); err != nil {
				t.Errorf("logout took the key (it keeps the client, as it keeps a client secret): %v", err)
			}
			if err := e.b.RemoveServer(t.Context(), "demo"); err != nil {
				t.Fatal(err)
			}
			if keys := e.store.Keys(); len(keys) != 0 {
				t.Errorf("secrets left after remove: %v", keys)
			}
		})
	}
}

// TestPrivateKeyJWTAddServer: what AddServer takes as a key, and what it refuses, without
// ever quoting the input.
func TestPrivateKeyJWTAddServer(t *testing.T) {
	ecPEM, _ := newKeyPEM(t, "ES256")
	e := newEnv(t, envOptions{as: authserver.Options{ClientCredentials: true, PrivateKeyJWT: true}, server: keyServer, secret: ecPEM})
	ctx := t.Context()
	add := func(srv config.Server, secret string) error {
		srv.Name, srv.URL = "other", e.mcp.URL()
		return e.b.AddServer(ctx, srv, secret)
	}
	notAKey := "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ1dC1ub3QtYS1rZXk=\n-----END PRIVATE KEY-----\n"
	withAlg := func(alg string) config.Server { s := keyServer; s.SigningAlg = alg; return s }
	for _, tt := range []struct {
		name   string
		srv    config.Server
		secret string
		want   string
	}{
		{"not PEM", keyServer, "c2VjcmV0LWJ1dC1ub3QtYS1rZXk", "no PEM block"},
		{"PEM, not a key", keyServer, notAKey, "malformed"},
		{"an algorithm the key does not sign with", withAlg("RS256"), ecPEM, "signs with ES256, not RS256"},
		{"no key given and none stored", keyServer, "", "no private key is stored"},
	} {
		err := add(tt.srv, tt.secret)
		if err == nil || !strings.Contains(err.Error(), tt.want) || hint.Of(err) != hint.PrivateKey {
			t.Errorf("%s: %v (hint %v), want %q and the PrivateKey hint", tt.name, err, hint.Of(err), tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "c2VjcmV0") {
			t.Errorf("%s: the error quotes the input: %v", tt.name, err)
		}
		if _, err := e.b.Server("other"); err == nil {
			t.Fatalf("%s: the server was added", tt.name)
		}
		if _, err := e.store.Get(ctx, "client-key/other"); err == nil {
			t.Fatalf("%s: a key was stored", tt.name)
		}
	}

	// Edited without its key, the server keeps the stored one, and its algorithm.
	edited := keyServer
	edited.Name, edited.URL, edited.Scopes = "demo", e.mcp.URL(), []string{"mcp:read"}
	if err := e.b.AddServer(ctx, edited, ""); err != nil {
		t.Fatal(err)
	}
	if srv, _ := e.b.Server("demo"); srv.SigningAlg != "ES256" {
		t.Errorf("edited without the key: signing_alg %q", srv.SigningAlg)
	}
	// Given a client secret instead, it no longer needs the key, which goes.
	edited.ClientAuth, edited.SigningAlg = "", ""
	if err := e.b.AddServer(ctx, edited, "bot-secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Get(ctx, "client-key/demo"); err == nil {
		t.Error("the unused key stayed in the secret store")
	}
}

// TestPrivateKeyJWTRefusedByTheServer: an authorization server that does not take the key's
// assertions is found out before any token request, with the step to take.
func TestPrivateKeyJWTRefusedByTheServer(t *testing.T) {
	tests := []struct {
		name string
		as   authserver.Options
		want string
		hint hint.Hint
	}{
		{"only RS256", authserver.Options{ClientCredentials: true, PrivateKeyJWT: true, SigningAlgs: []string{"RS256"}},
			"does not accept ES256 client assertions", hint.PrivateKey},
		{"no private_key_jwt", authserver.Options{ClientCredentials: true},
			"does not accept private_key_jwt", hint.Diagnose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keyPEM, public := newKeyPEM(t, "ES256")
			e := newEnv(t, envOptions{as: tt.as, server: keyServer, secret: keyPEM})
			e.as.RegisterClient(authserver.Client{ID: "bot", PublicKey: public, GrantTypes: []string{authserver.GrantClientCredentials}})
			_, err := e.login(broker.LoginOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || hint.Of(err) != tt.hint {
				t.Fatalf("login = %v (hint %v), want %q with %v", err, hint.Of(err), tt.want, tt.hint)
			}
			if n := len(e.requests(authserver.EndpointToken)); n != 0 {
				t.Errorf("%d token requests", n)
			}
			e.assertNothingStored()
		})
	}
}

// TestClientKey: the public half, for the person to register, and nothing private.
func TestClientKey(t *testing.T) {
	keyPEM, public := newKeyPEM(t, "ES256")
	e := newEnv(t, envOptions{as: authserver.Options{ClientCredentials: true, PrivateKeyJWT: true}, server: keyServer, secret: keyPEM})
	ck, err := e.b.ClientKey(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	var jwk map[string]any
	if err := json.Unmarshal(ck.JWK, &jwk); err != nil {
		t.Fatal(err)
	}
	if ck.Algorithm != "ES256" || jwk["kid"] != ck.Thumbprint || ck.Thumbprint == "" || jwk["kty"] != "EC" || jwk["alg"] != "ES256" {
		t.Errorf("ClientKey = %+v, JWK %v", ck, jwk)
	}
	if _, private := jwk["d"]; private {
		t.Error("the JWK holds the private key")
	}
	point, err := public.(*ecdsa.PublicKey).Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	if jwk["x"] != base64.RawURLEncoding.EncodeToString(point[1:33]) || jwk["y"] != base64.RawURLEncoding.EncodeToString(point[33:]) {
		t.Errorf("the JWK %v is not the client's public key", jwk)
	}

	other := config.Server{Name: "plain", URL: e.mcp.URL(), Auth: config.AuthOAuth}
	if err := e.b.AddServer(t.Context(), other, ""); err != nil {
		t.Fatal(err)
	}
	_, err = e.b.ClientKey(t.Context(), "plain")
	var op *broker.OpError
	if !errors.As(err, &op) || op.Op != broker.OpClientKey || hint.Of(err) != hint.PrivateKey {
		t.Errorf("ClientKey of a server without a key: %v", err)
	}
}
