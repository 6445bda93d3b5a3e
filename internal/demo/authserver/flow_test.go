package authserver_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

func TestCodeFlowAndRefreshRotation(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true})
	clientID := registerPublic(t, as)

	tok := obtain(t, as, clientID)
	at, _ := tok["access_token"].(string)
	rt1, _ := tok["refresh_token"].(string)
	if at == "" || rt1 == "" || tok["token_type"] != "Bearer" || tok["scope"] != "mcp:read mcp:write" {
		t.Fatalf("token response = %v", redactTok(tok))
	}
	if tok["expires_in"] != float64(3600) {
		t.Errorf("expires_in = %v, want 3600", tok["expires_in"])
	}
	info, ok := as.Verify(at)
	if !ok {
		t.Fatal("Verify(access token) = false")
	}
	if info.ClientID != clientID || info.Subject != authserver.DemoSubject || info.Resource != testResource ||
		!slices.Equal(info.Scopes, []string{"mcp:read", "mcp:write"}) {
		t.Errorf("TokenInfo = %+v", info)
	}

	// Rotation: the new refresh token works, with optional scope narrowing.
	refresh := func(rt string, extra url.Values) (int, map[string]any) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {testResource}}
		for k, v := range extra {
			form[k] = v
		}
		return token(t, as, clientAuth{method: authserver.AuthNone, id: clientID}, form)
	}
	status, tok2 := refresh(rt1, url.Values{"scope": {"mcp:read"}})
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, tok2)
	}
	rt2, at2 := tok2["refresh_token"].(string), tok2["access_token"].(string)
	if rt2 == "" || rt2 == rt1 || at2 == at {
		t.Fatal("refresh did not rotate the tokens")
	}
	if info, _ := as.Verify(at2); !slices.Equal(info.Scopes, []string{"mcp:read"}) || info.Resource != testResource {
		t.Errorf("narrowed TokenInfo = %+v", info)
	}
	status, tok3 := refresh(rt2, nil)
	if status != http.StatusOK {
		t.Fatalf("second refresh: %d %v", status, tok3)
	}
	if tok3["scope"] != "mcp:read mcp:write" {
		t.Errorf("refresh without scope got %v, want the original grant", tok3["scope"])
	}
	// Widening is refused.
	status, m := refresh(tok3["refresh_token"].(string), url.Values{"scope": {"mcp:admin"}})
	wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_scope")

	// Reuse of a rotated refresh token: invalid_grant, and the whole family dies.
	status, m = refresh(rt1, nil)
	wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_grant")
	for _, a := range []string{at, at2, tok3["access_token"].(string)} {
		if _, ok := as.Verify(a); ok {
			t.Error("an access token of the revoked family still verifies")
		}
	}
	status, m = refresh(tok3["refresh_token"].(string), nil)
	wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_grant")

	st := as.Stats()
	want := authserver.Stats{Registrations: 1, Authorizations: 1, CodeExchanges: 1, Refreshes: 2, RefreshReuse: 1}
	if st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}

	// Another grant of the same client is unaffected.
	if _, ok := as.Verify(obtain(t, as, clientID)["access_token"].(string)); !ok {
		t.Error("a new grant does not verify")
	}
}

// Two refreshes racing with one refresh token: exactly one wins, and the
// loser's reuse revokes the winner's tokens too. That is why clients must
// refresh under a lock.
func TestConcurrentRefreshKillsGrant(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true})
	clientID := registerPublic(t, as)
	rt := obtain(t, as, clientID)["refresh_token"].(string)

	const n = 4
	var wg sync.WaitGroup
	statuses := make([]int, n)
	bodies := make([]map[string]any, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			statuses[i], bodies[i], errs[i] = tokenRequest(t.Context(), as, clientAuth{method: authserver.AuthNone, id: clientID},
				url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var won []string
	for i := range n {
		if statuses[i] == http.StatusOK {
			won = append(won, bodies[i]["access_token"].(string))
		} else if bodies[i]["error"] != "invalid_grant" {
			t.Errorf("loser got %d %v, want invalid_grant", statuses[i], bodies[i]["error"])
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d refreshes succeeded, want exactly 1", len(won))
	}
	if _, ok := as.Verify(won[0]); ok {
		t.Error("the winner's access token survived the reuse")
	}
	if got := as.Stats().RefreshReuse; got != n-1 {
		t.Errorf("RefreshReuse = %d, want %d", got, n-1)
	}
}

func TestConsentAllowDeny(t *testing.T) {
	as := start(t, authserver.Options{})
	clientID := registerPublic(t, as)
	idRE := regexp.MustCompile(`name="request_id" value="([^"]+)"`)

	consent := func(t *testing.T) (requestID, page string) {
		_, challenge := pkce()
		resp, err := noFollow.Get(as.Issuer() + "/authorize?" + authParams(clientID, challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("consent page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		m := idRE.FindSubmatch(b)
		if m == nil {
			t.Fatalf("no request_id in page:\n%s", b)
		}
		return string(m[1]), string(b)
	}
	decide := func(t *testing.T, requestID, decision string) *http.Response {
		form := url.Values{"request_id": {requestID}, "decision": {decision}}
		resp, err := browser().PostForm(as.Issuer()+"/authorize/decision", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	t.Run("page", func(t *testing.T) {
		_, page := consent(t)
		for _, want := range []string{
			"test client", "<code>mcp:read</code>", "<code>mcp:write</code>", testResource,
			`<button id="allow" name="decision" value="allow">Allow</button>`,
			`<button id="deny" name="decision" value="deny">Deny</button>`,
			`action="/authorize/decision"`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("consent page lacks %q", want)
			}
		}
	})
	t.Run("allow", func(t *testing.T) {
		id, _ := consent(t)
		resp := decide(t, id, "allow")
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st-123" {
			t.Fatalf("allow: %d %s", resp.StatusCode, loc.Redacted())
		}
		if !strings.HasPrefix(loc.String(), redirectURI+"?") {
			t.Errorf("allow redirected to %s", loc.Redacted())
		}
		// The request id is single-use.
		if resp := decide(t, id, "allow"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("replayed decision: status %d, want 400", resp.StatusCode)
		}
	})
	t.Run("deny", func(t *testing.T) {
		id, _ := consent(t)
		resp := decide(t, id, "deny")
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if q := loc.Query(); resp.StatusCode != http.StatusFound || q.Get("error") != "access_denied" || q.Has("code") || q.Get("state") != "st-123" {
			t.Errorf("deny: %d %s", resp.StatusCode, loc)
		}
	})
	t.Run("forged request id", func(t *testing.T) {
		if resp := decide(t, "forged", "allow"); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("forged decision: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	if st := as.Stats(); st.Authorizations != 1 {
		t.Errorf("Authorizations = %d, want 1", st.Authorizations)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true})
	clientID := registerPublic(t, as)
	_, challenge := pkce()
	tests := []struct {
		name      string
		edit      func(url.Values)
		wantError string // "" means an HTML error page, never a redirect
	}{
		{"unknown client", func(v url.Values) { v.Set("client_id", "nope") }, ""},
		{"missing client", func(v url.Values) { v.Del("client_id") }, ""},
		{"unregistered redirect_uri", func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:53682/other") }, ""},
		{"redirect_uri prefix only", func(v url.Values) { v.Set("redirect_uri", redirectURI+"/x") }, ""},
		{"missing redirect_uri", func(v url.Values) { v.Del("redirect_uri") }, ""},
		{"response_type token", func(v url.Values) { v.Set("response_type", "token") }, "unsupported_response_type"},
		{"no PKCE", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, "invalid_request"},
		{"plain PKCE", func(v url.Values) { v.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"method omitted (defaults to plain)", func(v url.Values) { v.Del("code_challenge_method") }, "invalid_request"},
		{"malformed challenge", func(v url.Values) { v.Set("code_challenge", "short") }, "invalid_request"},
		{"unknown scope", func(v url.Values) { v.Set("scope", "mcp:read root") }, "invalid_scope"},
		{"two resources", func(v url.Values) { v.Add("resource", "https://x.example/") }, "invalid_target"},
		{"relative resource", func(v url.Values) { v.Set("resource", "/mcp") }, "invalid_target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := authParams(clientID, challenge)
			tt.edit(params)
			resp, err := noFollow.Get(as.Issuer() + "/authorize?" + params.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if tt.wantError == "" {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
					!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
					t.Errorf("got %d Location %q, want a 400 HTML page", resp.StatusCode, resp.Header.Get("Location"))
				}
				return
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || loc.Query().Get("error") != tt.wantError ||
				loc.Query().Get("state") != "st-123" || loc.Query().Has("code") {
				t.Errorf("got %d %s, want redirect with error=%s", resp.StatusCode, loc, tt.wantError)
			}
		})
	}
	if st := as.Stats(); st.Authorizations != 0 {
		t.Errorf("Authorizations = %d, want 0", st.Authorizations)
	}
}

func TestRequireResource(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true, RequireResource: true})
	clientID := registerPublic(t, as)
	verifier, challenge := pkce()
	params := authParams(clientID, challenge)
	params.Del("resource")
	if loc := authorize(t, as, params); loc.Query().Get("error") != "invalid_target" {
		t.Errorf("authorize without resource: %s", loc)
	}
	loc := authorize(t, as, authParams(clientID, challenge))
	form := codeGrant(loc.Query().Get("code"), verifier)
	form.Del("resource")
	status, m := token(t, as, clientAuth{method: authserver.AuthNone, id: clientID}, form)
	wantOAuthError(t, status, m, http.StatusBadRequest, "invalid_target")
	// The code was not consumed by the refused request.
	status, m = token(t, as, clientAuth{method: authserver.AuthNone, id: clientID}, codeGrant(loc.Query().Get("code"), verifier))
	if status != http.StatusOK {
		t.Errorf("exchange with resource: %d %v", status, m)
	}
}

func TestHostileRedirects(t *testing.T) {
	tests := []struct {
		name  string
		opts  authserver.Options
		check func(t *testing.T, issuer string, q url.Values)
	}{
		{"honest, no iss", authserver.Options{}, func(t *testing.T, _ string, q url.Values) {
			if q.Get("state") != "st-123" || q.Has("iss") || q.Get("code") == "" {
				t.Errorf("redirect query %v", q)
			}
		}},
		{"ISSParameter", authserver.Options{ISSParameter: true}, func(t *testing.T, issuer string, q url.Values) {
			if q.Get("iss") != issuer {
				t.Errorf("iss = %q, want %q", q.Get("iss"), issuer)
			}
		}},
		{"WrongState", authserver.Options{Hostile: authserver.Hostile{WrongState: true}}, func(t *testing.T, _ string, q url.Values) {
			if q.Get("state") == "st-123" || q.Get("state") == "" {
				t.Errorf("state = %q, want another one", q.Get("state"))
			}
		}},
		{"WrongISS", authserver.Options{ISSParameter: true, Hostile: authserver.Hostile{WrongISS: true}}, func(t *testing.T, _ string, q url.Values) {
			if q.Get("iss") != authserver.WrongIssuer {
				t.Errorf("iss = %q, want %q", q.Get("iss"), authserver.WrongIssuer)
			}
		}},
		{"ErrorRedirect", authserver.Options{Hostile: authserver.Hostile{ErrorRedirect: true}}, func(t *testing.T, _ string, q url.Values) {
			if q.Get("error") != "access_denied" || q.Get("error_description") == "" || q.Has("code") {
				t.Errorf("redirect query %v", q)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.AutoApprove = true
			as := start(t, tt.opts)
			clientID := registerPublic(t, as)
			_, challenge := pkce()
			tt.check(t, as.Issuer(), authorize(t, as, authParams(clientID, challenge)).Query())
		})
	}
}

func TestTokenErrors(t *testing.T) {
	clock := newFakeClock()
	as := start(t, authserver.Options{AutoApprove: true, Now: clock.Now})
	clientID := registerPublic(t, as)
	none := clientAuth{method: authserver.AuthNone, id: clientID}
	newCode := func() (code, verifier string) {
		verifier, challenge := pkce()
		return authorize(t, as, authParams(clientID, challenge)).Query().Get("code"), verifier
	}

	tests := []struct {
		name       string
		form       func(code, verifier string) url.Values
		wantStatus int
		wantError  string
	}{
		{"wrong verifier", func(c, _ string) url.Values { v, _ := pkce(); return codeGrant(c, v) }, 400, "invalid_grant"},
		{"missing verifier", func(c, _ string) url.Values { f := codeGrant(c, ""); f.Del("code_verifier"); return f }, 400, "invalid_request"},
		{"wrong redirect_uri", func(c, v string) url.Values {
			f := codeGrant(c, v)
			f.Set("redirect_uri", "http://127.0.0.1:53682/other")
			return f
		}, 400, "invalid_grant"},
		{"other resource", func(c, v string) url.Values {
			f := codeGrant(c, v)
			f.Set("resource", "http://127.0.0.1:9/other")
			return f
		}, 400, "invalid_target"},
		{"unknown code", func(_, v string) url.Values { return codeGrant("nope", v) }, 400, "invalid_grant"},
		{"unknown grant type", func(c, v string) url.Values {
			f := codeGrant(c, v)
			f.Set("grant_type", "password")
			return f
		}, 400, "unsupported_grant_type"},
		{"client_credentials disabled", func(string, string) url.Values {
			return url.Values{"grant_type": {"client_credentials"}}
		}, 400, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, verifier := newCode()
			status, m := token(t, as, none, tt.form(code, verifier))
			wantOAuthError(t, status, m, tt.wantStatus, tt.wantError)
		})
	}

	t.Run("expired code", func(t *testing.T) {
		code, verifier := newCode()
		clock.Advance(authserver.CodeTTL + time.Second)
		status, m := token(t, as, none, codeGrant(code, verifier))
		wantOAuthError(t, status, m, 400, "invalid_grant")
	})
	t.Run("code replay revokes", func(t *testing.T) {
		code, verifier := newCode()
		status, tok := token(t, as, none, codeGrant(code, verifier))
		if status != http.StatusOK {
			t.Fatalf("first exchange: %d %v", status, tok)
		}
		status, m := token(t, as, none, codeGrant(code, verifier))
		wantOAuthError(t, status, m, 400, "invalid_grant")
		if _, ok := as.Verify(tok["access_token"].(string)); ok {
			t.Error("token from a replayed code still verifies")
		}
		if as.Stats().CodeReuse != 1 {
			t.Errorf("CodeReuse = %d, want 1", as.Stats().CodeReuse)
		}
	})
	t.Run("form content type required", func(t *testing.T) {
		resp, err := http.Post(as.Issuer()+"/token", "application/json", strings.NewReader(`{"grant_type":"refresh_token"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})
}

func TestAccessTokenExpiry(t *testing.T) {
	clock := newFakeClock()
	as := start(t, authserver.Options{AutoApprove: true, Now: clock.Now, AccessTokenTTL: 30 * time.Second})
	clientID := registerPublic(t, as)
	tok := obtain(t, as, clientID)
	if tok["expires_in"] != float64(30) {
		t.Errorf("expires_in = %v, want 30", tok["expires_in"])
	}
	at := tok["access_token"].(string)
	info, ok := as.Verify(at)
	if !ok || !info.Expiry.Equal(clock.Now().Add(30*time.Second)) {
		t.Fatalf("Verify = %+v, %v", info, ok)
	}
	clock.Advance(31 * time.Second)
	if _, ok := as.Verify(at); ok {
		t.Error("expired token verifies")
	}
	// The refresh token outlives the access token.
	as.SetAccessTokenTTL(2 * time.Second)
	status, m := token(t, as, clientAuth{method: authserver.AuthNone, id: clientID},
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}})
	if status != http.StatusOK || m["expires_in"] != float64(2) {
		t.Fatalf("refresh after expiry: %d %v", status, redactTok(m))
	}
	if _, ok := as.Verify(m["access_token"].(string)); !ok {
		t.Error("refreshed token does not verify")
	}
	as.RevokeAll()
	if _, ok := as.Verify(m["access_token"].(string)); ok {
		t.Error("token verifies after RevokeAll")
	}
}

func TestNoRefreshTokens(t *testing.T) {
	for _, tt := range []struct {
		name   string
		opts   authserver.Options
		grants []string
	}{
		{"server option", authserver.Options{AutoApprove: true, NoRefreshTokens: true}, []string{"authorization_code"}},
		{"client without refresh_token grant", authserver.Options{AutoApprove: true}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			as := start(t, tt.opts)
			body := map[string]any{"redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "none"}
			if tt.grants != nil {
				body["grant_types"] = tt.grants
			}
			status, reg := register(t, as, body)
			if status != http.StatusCreated {
				t.Fatalf("register: %d %v", status, reg)
			}
			tok := obtain(t, as, reg["client_id"].(string))
			if _, ok := tok["refresh_token"]; ok {
				t.Error("refresh token issued")
			}
		})
	}
}

func TestHostileNoAccessToken(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true, Hostile: authserver.Hostile{NoAccessToken: true}})
	tok := obtain(t, as, registerPublic(t, as))
	if _, ok := tok["access_token"]; ok {
		t.Errorf("access_token present: %v", redactTok(tok))
	}
	if tok["token_type"] != "Bearer" {
		t.Errorf("token_type = %v", tok["token_type"])
	}
}

func TestHostileRejectResourceOnRefresh(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true, Hostile: authserver.Hostile{RejectResourceOnRefresh: true}})
	clientID := registerPublic(t, as)
	rt := obtain(t, as, clientID)["refresh_token"].(string)
	none := clientAuth{method: authserver.AuthNone, id: clientID}
	status, m := token(t, as, none, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {testResource}})
	wantOAuthError(t, status, m, 400, "invalid_target")
	status, m = token(t, as, none, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if status != http.StatusOK {
		t.Fatalf("refresh without resource: %d %v", status, m)
	}
	// The audience survives a refresh without resource.
	if info, _ := as.Verify(m["access_token"].(string)); info.Resource != testResource {
		t.Errorf("Resource after refresh = %q", info.Resource)
	}
}

func TestRequestsAreRedacted(t *testing.T) {
	as := start(t, authserver.Options{AutoApprove: true})
	clientID := registerPublic(t, as)
	tok := obtain(t, as, clientID)
	token(t, as, clientAuth{method: authserver.AuthNone, id: clientID},
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}})

	reqs := as.Requests()
	var endpoints []string
	for _, r := range reqs {
		endpoints = append(endpoints, r.Endpoint)
	}
	want := []string{authserver.EndpointRegister, authserver.EndpointAuthorize, authserver.EndpointToken, authserver.EndpointToken}
	if !slices.Equal(endpoints, want) {
		t.Fatalf("endpoints = %v, want %v", endpoints, want)
	}
	if got := reqs[0].Form["redirect_uris"]; !slices.Equal(got, []string{redirectURI}) {
		t.Errorf("register redirect_uris = %v", got)
	}
	if reqs[1].Form.Get("code_challenge_method") != "S256" || reqs[1].Form.Get("resource") != testResource {
		t.Errorf("authorize form = %v", reqs[1].Form)
	}
	exch := reqs[2]
	if exch.Form.Get("code") != authserver.Redacted || exch.Form.Get("code_verifier") != authserver.Redacted ||
		exch.AuthMethod != authserver.AuthNone || exch.ClientID != clientID || exch.Form.Get("resource") != testResource {
		t.Errorf("exchange record = %+v", exch)
	}
	if reqs[3].Form.Get("refresh_token") != authserver.Redacted {
		t.Errorf("refresh record = %v", reqs[3].Form)
	}
	for _, r := range reqs {
		for _, vs := range r.Form {
			for _, v := range vs {
				if v == tok["refresh_token"] || v == tok["access_token"] {
					t.Errorf("a secret leaked into Requests(): %s", r.Endpoint)
				}
			}
		}
	}
}

// redactTok hides token values in failure messages.
func redactTok(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k == "access_token" || k == "refresh_token" || k == "id_token" {
			v = authserver.Redacted
		}
		out[k] = v
	}
	return out
}
