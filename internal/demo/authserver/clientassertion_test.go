package authserver_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// assertion describes a client assertion to sign; the zero values of its fields are filled in
// with those of a good one by sign.
type assertion struct {
	key      crypto.Signer
	alg      jose.SignatureAlgorithm
	typ      string // "-" leaves typ out
	iss, sub string
	aud      any // a string or a []string
	exp      time.Duration
	jti      string
}

// sign signs a, as a client of the server at issuer would.
func (a assertion) sign(t *testing.T, issuer string) string {
	t.Helper()
	if a.typ == "" {
		a.typ = "client-authentication+jwt"
	}
	if a.aud == nil {
		a.aud = issuer
	}
	if a.exp == 0 {
		a.exp = 2 * time.Minute
	}
	if a.jti == "" {
		a.jti = rand.Text()
	}
	opts := &jose.SignerOptions{}
	if a.typ != "-" {
		opts = opts.WithType(jose.ContentType(a.typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: a.alg, Key: a.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := map[string]any{"iss": a.iss, "sub": a.sub, "aud": a.aud, "iat": now.Unix(), "exp": now.Add(a.exp).Unix(), "jti": a.jti}
	token, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// assertionGrant is a client_credentials request authenticated by token.
func assertionGrant(token string) url.Values {
	return url.Values{
		"grant_type": {"client_credentials"}, "resource": {testResource},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {token},
	}
}

func TestPrivateKeyJWT(t *testing.T) {
	as := start(t, authserver.Options{ClientCredentials: true, PrivateKeyJWT: true})
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	grants := []string{authserver.GrantClientCredentials}
	as.RegisterClient(authserver.Client{ID: "ec-bot", PublicKey: ecKey.Public(), GrantTypes: grants})
	as.RegisterClient(authserver.Client{ID: "rsa-bot", PublicKey: rsaKey.Public(), GrantTypes: grants})
	as.RegisterClient(authserver.Client{ID: "secret-bot", Secret: "pw", GrantTypes: grants})
	issuer := as.Issuer()

	status, meta := getJSON(t, issuer+"/.well-known/oauth-authorization-server")
	methods, _ := meta["token_endpoint_auth_methods_supported"].([]any)
	if status != http.StatusOK || !slices.Contains(methods, any("private_key_jwt")) ||
		!slices.Equal(meta["token_endpoint_auth_signing_alg_values_supported"].([]any), []any{"ES256", "RS256"}) {
		t.Fatalf("metadata: %d %v %v", status, methods, meta["token_endpoint_auth_signing_alg_values_supported"])
	}

	good := assertion{key: ecKey, alg: jose.ES256, iss: "ec-bot", sub: "ec-bot"}
	withID := func(form url.Values, id string) url.Values { form.Set("client_id", id); return form }
	replayed := good
	replayed.jti = "once"
	ok := []struct {
		name string
		form url.Values
	}{
		{"ES256 with client_id", withID(assertionGrant(good.sign(t, issuer)), "ec-bot")},
		{"without client_id: the sub names the client", assertionGrant(good.sign(t, issuer))},
		{"RS256", assertionGrant(assertion{key: rsaKey, alg: jose.RS256, iss: "rsa-bot", sub: "rsa-bot"}.sign(t, issuer))},
		{"the issuer as an array of one", assertionGrant(assertion{key: ecKey, alg: jose.ES256, iss: "ec-bot", sub: "ec-bot", aud: []string{issuer}}.sign(t, issuer))},
		{"a jti used once", assertionGrant(replayed.sign(t, issuer))},
	}
	for _, tt := range ok {
		status, tok := token(t, as, clientAuth{method: authserver.AuthPrivateKeyJWT}, tt.form)
		if status != http.StatusOK {
			t.Errorf("%s: %d %v", tt.name, status, tok)
			continue
		}
		if info, valid := as.Verify(tok["access_token"].(string)); !valid || info.Resource != testResource {
			t.Errorf("%s: token info %+v %v", tt.name, info, valid)
		}
	}

	refused := []struct {
		name string
		form url.Values
		code string
	}{
		{"replayed jti", assertionGrant(replayed.sign(t, issuer)), "invalid_client"},
		{"the token endpoint as audience", assertionGrant(assertion{key: ecKey, alg: jose.ES256, iss: "ec-bot", sub: "ec-bot", aud: issuer + "/token"}.sign(t, issuer)), "invalid_client"},
		{"another audience beside the issuer", assertionGrant(assertion{key: ecKey, alg: jose.ES256, iss: "ec-bot", sub: "ec-bot", aud: []string{issuer, "https://other.example"}}.sign(t, issuer)), "invalid_client"},
		{"untyped", assertionGrant(assertion{key: ecKey, alg: jose.ES256, iss: "ec-bot", sub: "ec-bot", typ: "-"}.sign(t, issuer)), "invalid_client"},
		{"typed as another JWT", assertionGrant(assertion{key: ecKey, alg: jose.ES256, iss: "ec-bot", sub: "ec-bot", typ: "dpop+jwt"}.sign(t, issuer)), "invalid_client"},
		{"expired", assertionGrant(assertion{key: ecKey, alg: jose.ES256, iss: "ec-bot", sub: "ec-bot", exp: -time.Minute}.sign(t, issuer)), "invalid_client"},
		{"expiring in a day", assertionGrant(assertion{key: ecKey, alg: jose.ES256, iss: "ec-bot", sub: "ec-bot", exp: 24 * time.Hour}.sign(t, issuer)), "invalid_client"},
		{"another key", assertionGrant(assertion{key: otherKey, alg: jose.ES256, iss: "ec-bot", sub: "ec-bot"}.sign(t, issuer)), "invalid_client"},
		{"iss another client", withID(assertionGrant(assertion{key: ecKey, alg: jose.ES256, iss: "rsa-bot", sub: "ec-bot"}.sign(t, issuer)), "ec-bot"), "invalid_client"},
		{"a client with a secret", withID(assertionGrant(good.sign(t, issuer)), "secret-bot"), "invalid_client"},
		{"a secret beside it", func() url.Values {
			f := withID(assertionGrant(good.sign(t, issuer)), "ec-bot")
			f.Set("client_secret", "pw")
			return f
		}(), "invalid_request"},
		{"another assertion type", func() url.Values {
			f := withID(assertionGrant(good.sign(t, issuer)), "ec-bot")
			f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
			return f
		}(), "invalid_client"},
	}
	for _, tt := range refused {
		status, m := token(t, as, clientAuth{method: authserver.AuthPrivateKeyJWT}, tt.form)
		if m["error"] != tt.code {
			t.Errorf("%s: %d %v, want %s", tt.name, status, m, tt.code)
		}
	}
	for _, r := range as.Requests() {
		if a := r.Form.Get("client_assertion"); a != "" && a != authserver.Redacted {
			t.Fatal("a client assertion was recorded")
		}
	}
	if got := as.Requests()[1].AuthMethod; got != authserver.AuthPrivateKeyJWT {
		t.Errorf("recorded auth method %q", got)
	}

	// Registering such a client needs its key, which registration does not take here.
	status, m := register(t, as, map[string]any{"client_name": "x", "grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "private_key_jwt"})
	wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_client_metadata")
}

// TestPrivateKeyJWTOffAndAlgorithms: without the option an assertion is refused even from a
// client with a key, and SigningAlgs limits (and advertises) the algorithms.
func TestPrivateKeyJWTOffAndAlgorithms(t *testing.T) {
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	grants := []string{authserver.GrantClientCredentials}

	off := start(t, authserver.Options{ClientCredentials: true})
	off.RegisterClient(authserver.Client{ID: "ec-bot", PublicKey: ecKey.Public(), GrantTypes: grants})
	status, m := token(t, off, clientAuth{method: authserver.AuthPrivateKeyJWT}, assertionGrant(assertion{key: ecKey, alg: jose.ES256, iss: "ec-bot", sub: "ec-bot"}.sign(t, off.Issuer())))
	wantOAuthError(t, status, m, http.StatusUnauthorized, "invalid_client")
	if _, meta := getJSON(t, off.Issuer()+"/.well-known/oauth-authorization-server"); meta["token_endpoint_auth_signing_alg_values_supported"] != nil {
		t.Errorf("advertised signing algorithms without private_key_jwt: %v", meta)
	}

	rsaOnly := start(t, authserver.Options{ClientCredentials: true, PrivateKeyJWT: true, SigningAlgs: []string{"RS256"}})
	rsaOnly.RegisterClient(authserver.Client{ID: "ec-bot", PublicKey: ecKey.Public(), GrantTypes: grants})
	status, m = token(t, rsaOnly, clientAuth{method: authserver.AuthPrivateKeyJWT}, assertionGrant(assertion{key: ecKey, alg: jose.ES256, iss: "ec-bot", sub: "ec-bot"}.sign(t, rsaOnly.Issuer())))
	wantOAuthError(t, status, m, http.StatusUnauthorized, "invalid_client")
	if _, meta := getJSON(t, rsaOnly.Issuer()+"/.well-known/oauth-authorization-server"); !slices.Equal(meta["token_endpoint_auth_signing_alg_values_supported"].([]any), []any{"RS256"}) {
		t.Errorf("advertised %v", meta["token_endpoint_auth_signing_alg_values_supported"])
	}
}
