package authserver_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// workloadJWT is an assertion signed by platform for as, as a workload's platform issues one.
func workloadJWT(t *testing.T, platform *authserver.Server, audience string, exp time.Duration) string {
	t.Helper()
	jwt, err := platform.SignJWT(authserver.TypeJWT, map[string]any{
		"iss": platform.Issuer(), "sub": "ci-runner", "aud": audience,
		"iat": time.Now().Unix(), "exp": time.Now().Add(exp).Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return jwt
}

func jwtBearer(assertion string) url.Values {
	return url.Values{"grant_type": {authserver.GrantJWTBearer}, "assertion": {assertion}, "resource": {testResource}}
}

// TestJWTBearerWorkload: a workload's JWT from a trusted issuer, for this server, buys a token
// for its subject; every other assertion is refused with invalid_grant.
func TestJWTBearerWorkload(t *testing.T) {
	platform := start(t, authserver.Options{})
	stranger := start(t, authserver.Options{})
	as := start(t, authserver.Options{JWTBearer: true})
	as.Trust(platform.Issuer(), platform.PublicKey())
	as.RegisterClient(authserver.Client{ID: "wl", GrantTypes: []string{authserver.GrantJWTBearer}})
	as.RegisterClient(authserver.Client{ID: "web", RedirectURIs: []string{redirectURI}})
	pub := clientAuth{method: authserver.AuthNone, id: "wl"}

	if _, m := getJSON(t, as.Issuer()+"/.well-known/oauth-authorization-server"); !slices.Contains(toStrings(m["grant_types_supported"]), authserver.GrantJWTBearer) {
		t.Errorf("grant_types_supported = %v", m["grant_types_supported"])
	}
	status, tok := token(t, as, pub, jwtBearer(workloadJWT(t, platform, as.Issuer(), time.Minute)))
	if status != http.StatusOK {
		t.Fatalf("jwt-bearer: %d %v", status, tok)
	}
	if _, ok := tok["refresh_token"]; ok {
		t.Error("the JWT bearer grant issued a refresh token")
	}
	info, ok := as.Verify(tok["access_token"].(string))
	if !ok || info.ClientID != "wl" || info.Subject != "ci-runner" || info.Resource != testResource {
		t.Errorf("TokenInfo = %+v %v", info, ok)
	}

	for name, tt := range map[string]struct {
		auth      clientAuth
		assertion string
		code      string
	}{
		"wrong audience":   {pub, workloadJWT(t, platform, "https://elsewhere.example", time.Minute), "invalid_grant"},
		"expired":          {pub, workloadJWT(t, platform, as.Issuer(), -time.Minute), "invalid_grant"},
		"untrusted issuer": {pub, workloadJWT(t, stranger, as.Issuer(), time.Minute), "invalid_grant"},
		"not a JWT":        {pub, "not.a.jwt", "invalid_grant"},
		"no assertion":     {pub, "", "invalid_request"},
		"client without the grant": {clientAuth{method: authserver.AuthNone, id: "web"},
			workloadJWT(t, platform, as.Issuer(), time.Minute), "unauthorized_client"},
	} {
		t.Run(name, func(t *testing.T) {
			status, m := token(t, as, tt.auth, jwtBearer(tt.assertion))
			wantOAuthError(t, status, m, http.StatusBadRequest, tt.code)
		})
	}
	// A forged signature: the payload of one JWT with the signature of another.
	a, b := workloadJWT(t, platform, as.Issuer(), time.Minute), workloadJWT(t, platform, as.Issuer(), time.Hour)
	forged := a[:strings.LastIndex(a, ".")] + b[strings.LastIndex(b, "."):]
	status, m := token(t, as, pub, jwtBearer(forged))
	wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_grant")

	if got := as.Stats().JWTBearerGrants; got != 1 {
		t.Errorf("JWTBearerGrants = %d, want 1", got)
	}
	for _, r := range as.Requests() {
		if v := r.Form.Get("assertion"); v != "" && v != authserver.Redacted {
			t.Error("a request record holds an assertion")
		}
	}
}

// TestEnterpriseExchange is SEP-990 end to end between two servers: the identity provider signs
// a person in (an ID token with the authorization code grant), exchanges the ID token for an
// ID-JAG, and the authorization server that trusts it takes the ID-JAG for an access token,
// checking the client and the resource it names.
func TestEnterpriseExchange(t *testing.T) {
	idp := start(t, authserver.Options{AutoApprove: true, OpenID: true, TokenExchange: true,
		Scopes: []string{"openid", "offline_access", "mcp:read", "mcp:write"}})
	as := start(t, authserver.Options{JWTBearer: true})
	as.Trust(idp.Issuer(), idp.PublicKey())
	idpClient := registerPublic(t, idp)
	as.RegisterClient(authserver.Client{ID: "mcp-client", Secret: "s3cret", GrantTypes: []string{authserver.GrantJWTBearer}})
	idp.SetIDJAGClient(as.Issuer(), "mcp-client")

	// The person signs in at the identity provider.
	verifier, challenge := pkce()
	params := authParams(idpClient, challenge)
	params.Set("scope", "openid offline_access")
	params.Del("resource")
	code := authorize(t, idp, params).Query().Get("code")
	form := codeGrant(code, verifier)
	form.Del("resource")
	status, signIn := token(t, idp, clientAuth{method: authserver.AuthNone, id: idpClient}, form)
	idToken, _ := signIn["id_token"].(string)
	if status != http.StatusOK || idToken == "" || signIn["refresh_token"] == nil {
		t.Fatalf("sign-in: %d %v", status, redactTok(signIn))
	}
	// A refresh renews the ID token too.
	status, renewed := token(t, idp, clientAuth{method: authserver.AuthNone, id: idpClient},
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {signIn["refresh_token"].(string)}})
	if status != http.StatusOK || renewed["id_token"] == nil || renewed["id_token"] == idToken {
		t.Fatalf("refresh: %d %v", status, redactTok(renewed))
	}

	exchange := url.Values{
		"grant_type": {authserver.GrantTokenExchange}, "subject_token": {idToken},
		"subject_token_type": {authserver.TokenTypeIDToken}, "requested_token_type": {authserver.TokenTypeIDJAG},
		"audience": {as.Issuer()}, "resource": {testResource},
	}
	status, jag := token(t, idp, clientAuth{method: authserver.AuthNone, id: idpClient}, exchange)
	if status != http.StatusOK || jag["issued_token_type"] != authserver.TokenTypeIDJAG || jag["token_type"] != "N_A" {
		t.Fatalf("token exchange: %d %v", status, redactTok(jag))
	}
	basic := clientAuth{method: authserver.AuthClientSecretBasic, id: "mcp-client", secret: "s3cret"}
	status, tok := token(t, as, basic, jwtBearer(jag["access_token"].(string)))
	if status != http.StatusOK {
		t.Fatalf("jwt-bearer with the ID-JAG: %d %v", status, tok)
	}
	if info, ok := as.Verify(tok["access_token"].(string)); !ok || info.Subject != authserver.DemoSubject || info.Resource != testResource || info.ClientID != "mcp-client" {
		t.Errorf("TokenInfo = %+v %v", info, ok)
	}

	// The ID-JAG names its client and its resource; another client, or another resource, is refused.
	as.RegisterClient(authserver.Client{ID: "other", Secret: "pw", GrantTypes: []string{authserver.GrantJWTBearer}})
	status, m := token(t, as, clientAuth{method: authserver.AuthClientSecretBasic, id: "other", secret: "pw"}, jwtBearer(jag["access_token"].(string)))
	wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_grant")
	elsewhere := jwtBearer(jag["access_token"].(string))
	elsewhere.Set("resource", "http://127.0.0.1:9/other")
	status, m = token(t, as, basic, elsewhere)
	wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_target")

	// The identity provider takes only its own ID tokens, issued to the client asking, and
	// insists on the parameters SEP-990 requires.
	bad := func(change func(url.Values)) url.Values {
		f := cloneForm(exchange)
		change(f)
		return f
	}
	for name, f := range map[string]url.Values{
		"an ID token of another client": bad(func(f url.Values) { f.Set("subject_token", idp.IssueIDToken("someone-else", "u", time.Minute)) }),
		"an expired ID token":           bad(func(f url.Values) { f.Set("subject_token", idp.IssueIDToken(idpClient, "u", -time.Minute)) }),
		"another issuer's token":        bad(func(f url.Values) { f.Set("subject_token", as.IssueIDToken(idpClient, "u", time.Minute)) }),
	} {
		status, m := token(t, idp, clientAuth{method: authserver.AuthNone, id: idpClient}, f)
		if status != http.StatusBadRequest || m["error"] != "invalid_grant" {
			t.Errorf("%s: %d %v", name, status, m)
		}
	}
	for _, p := range []string{"audience", "resource", "requested_token_type", "subject_token_type"} {
		status, m := token(t, idp, clientAuth{method: authserver.AuthNone, id: idpClient}, bad(func(f url.Values) { f.Del(p) }))
		if status != http.StatusBadRequest || m["error"] != "invalid_request" {
			t.Errorf("without %s: %d %v", p, status, m)
		}
	}
	if st := idp.Stats(); st.TokenExchanges != 1 || st.IDTokens != 2 {
		t.Errorf("IdP stats = %+v", st)
	}
}

func toStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, e := range l {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
