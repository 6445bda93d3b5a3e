package provider

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		issuer    string
		endpoints []string
		want      string
	}{
		{"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", nil, Entra},
		{"https://login.microsoftonline.com/common/v2.0/", nil, Entra},
		{"https://login.microsoftonline.us/tenant/v2.0", nil, Entra},
		{"https://contoso.ciamlogin.com/3f5e0b2a-0000-0000-0000-000000000000/v2.0", nil, Entra},
		// v1 issuers take resource, and no scopes: not the v2 profile.
		{"https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/", nil, ""},
		{"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/", nil, ""},
		{"https://accounts.google.com", nil, Google},
		{"https://ACCOUNTS.GOOGLE.COM/", nil, Google},
		{"https://dev-abc123.us.auth0.com/", nil, Auth0},
		{"https://tenant.auth0.com/", nil, Auth0},
		{"https://example.okta.com/oauth2/default", nil, Okta},
		{"https://example.okta.com", nil, Okta},
		{"https://example.oktapreview.com/oauth2/aus1a2b3c", nil, Okta},
		{"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf", nil, Cognito},
		{"https://auth.example.com", []string{"https://myapp.auth.eu-west-1.amazoncognito.com/oauth2/authorize"}, Cognito},
		{"https://sso.example.com/realms/engineering", nil, Keycloak},
		{"http://127.0.0.1:8080/realms/demo/", nil, Keycloak},
		{"https://sso.example.com/auth/realms/engineering", nil, Keycloak},
		{"https://sso.example.com/realms/engineering/extra", nil, ""},
		{"https://auth.example.com", nil, ""},
		{"https://google.com.evil.example", nil, ""},
		{"https://evilauth0.com", nil, ""},
		{"https://login.microsoftonline.com.evil.example/t/v2.0", nil, ""},
		{"not a url", nil, ""},
	}
	for _, tt := range tests {
		if got := Detect(tt.issuer, tt.endpoints...).Name; got != tt.want {
			t.Errorf("Detect(%q, %q) = %q, want %q", tt.issuer, tt.endpoints, got, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	entra := "https://login.microsoftonline.com/t/v2.0"
	tests := []struct {
		setting, issuer string
		want            string
		source          Source
	}{
		{"", entra, Entra, Detected},
		{"", "https://auth.example.com", "", Detected},
		{None, entra, "", Off},
		{Auth0, "https://login.example.com", Auth0, Configured},
		{Google, entra, Google, Configured},
	}
	for _, tt := range tests {
		p, src := Resolve(tt.setting, tt.issuer)
		if p.Name != tt.want || src != tt.source {
			t.Errorf("Resolve(%q, %q) = %q, %v; want %q, %v", tt.setting, tt.issuer, p.Name, src, tt.want, tt.source)
		}
	}
}

func TestNamesAndValid(t *testing.T) {
	names := Names()
	if want := []string{Auth0, Cognito, Entra, Google, Keycloak, Okta, None}; !slices.Equal(names, want) {
		t.Errorf("Names() = %q, want %q", names, want)
	}
	for _, n := range append(names, "") {
		if !Valid(n) {
			t.Errorf("Valid(%q) = false", n)
		}
	}
	if Valid("azure") {
		t.Error(`Valid("azure") = true`)
	}
	for _, n := range names[:len(names)-1] {
		p, ok := Lookup(n)
		if !ok || p.Name != n || p.Title == "" || len(p.Quirks()) == 0 {
			t.Errorf("profile %q: %+v, quirks %q", n, p, p.Quirks())
		}
	}
}

// TestRequest pins what each profile adds to a sign-in that asks for mcp:read for the resource
// https://mcp.example.com/mcp: the scope, the resource of the authorization and token requests,
// the further authorization parameters, and the resource of refresh requests.
func TestRequest(t *testing.T) {
	const res = "https://mcp.example.com/mcp"
	oidc := AuthServer{OpenID: true, ScopesSupported: []string{"openid", "mcp:read", OfflineAccess}}
	plain := AuthServer{ScopesSupported: []string{"mcp:read", OfflineAccess}}
	tests := []struct {
		name    string
		profile string
		scopes  []string
		as      AuthServer
		s       Settings
		scope   string
		params  string // url.Values.Encode of AuthParams
		res     string // authorization and token requests
		refresh string
	}{
		{"plain OAuth: offline_access, no prompt", "", []string{"mcp:read"}, plain, Settings{}, "mcp:read offline_access", "", res, res},
		{"plain OAuth without offline_access", "", []string{"mcp:read"}, AuthServer{ScopesSupported: []string{"mcp:read"}}, Settings{}, "mcp:read", "", res, res},
		{"no scope: none added", "", nil, plain, Settings{}, "", "", res, res},
		{"OpenID provider: prompt=consent", "", []string{"mcp:read"}, oidc, Settings{}, "mcp:read offline_access", "prompt=consent", res, res},
		{"OpenID provider, held offline_access without listing", "", []string{"mcp:read", OfflineAccess}, AuthServer{OpenID: true}, Settings{}, "mcp:read offline_access", "prompt=consent", res, res},
		{"OpenID provider, the user's prompt wins", "", []string{"mcp:read"}, oidc, Settings{AuthParams: map[string]string{"prompt": "login"}}, "mcp:read offline_access", "prompt=login", res, res},
		{"detection off is the standard", None, []string{"mcp:read"}, oidc, Settings{}, "mcp:read offline_access", "prompt=consent", res, res},
		{"Entra: qualified, no resource", Entra, []string{"mcp:read", "openid"}, AuthServer{OpenID: true}, Settings{}, res + "/mcp:read openid offline_access", "", "", ""},
		{"Entra: .default when none", Entra, nil, AuthServer{}, Settings{}, res + "/.default offline_access", "", "", ""},
		{"Entra: qualified scopes kept", Entra, []string{"api://1234/user_impersonation"}, AuthServer{}, Settings{}, "api://1234/user_impersonation offline_access", "", "", ""},
		{"Entra: fixed scopes as given", Entra, []string{"mcp:read"}, AuthServer{}, Settings{FixedScopes: true}, "mcp:read offline_access", "", "", ""},
		{"Google: access_type and prompt", Google, []string{"mcp:read"}, oidc, Settings{}, "mcp:read", "access_type=offline&prompt=consent", res, res},
		{"Auth0: audience", Auth0, []string{"mcp:read"}, oidc, Settings{}, "mcp:read offline_access", "audience=" + url.QueryEscape(res), "", ""},
		{"Okta: offline_access even unlisted", Okta, []string{"mcp:read"}, AuthServer{OpenID: true}, Settings{}, "mcp:read offline_access", "", res, res},
		{"Cognito: nothing asked", Cognito, []string{"mcp:read"}, AuthServer{OpenID: true, ScopesSupported: []string{"openid", OfflineAccess}}, Settings{}, "mcp:read", "", res, res},
		{"Cognito with the ID token: openid", Cognito, []string{"mcp:read"}, AuthServer{OpenID: true}, Settings{SendIDToken: true}, "openid mcp:read", "", res, res},
		{"Keycloak: offline_access without consent", Keycloak, []string{"mcp:read"}, oidc, Settings{}, "mcp:read offline_access", "", res, res},
		{"no resource anywhere", "", []string{"mcp:read"}, plain, Settings{NoResource: true}, "mcp:read offline_access", "", "", ""},
		{"no resource on refresh", "", []string{"mcp:read"}, plain, Settings{NoResourceOnRefresh: true}, "mcp:read offline_access", "", res, ""},
		{"extra parameters", Google, []string{"mcp:read"}, oidc, Settings{AuthParams: map[string]string{"hd": "example.com", "access_type": "online"}}, "mcp:read", "access_type=online&hd=example.com&prompt=consent", res, res},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := Resolve(tt.profile, "https://auth.example.com")
			r := p.Request(tt.scopes, res, tt.as, tt.s)
			if r.Scope != tt.scope || r.AuthParams.Encode() != tt.params || r.Resource != tt.res || r.RefreshResource != tt.refresh {
				t.Errorf("Request = scope %q, params %q, resource %q, refresh resource %q; want %q, %q, %q, %q",
					r.Scope, r.AuthParams.Encode(), r.Resource, r.RefreshResource, tt.scope, tt.params, tt.res, tt.refresh)
			}
		})
	}
}

func TestRefreshOutlook(t *testing.T) {
	tests := []struct {
		name    string
		profile string
		as      AuthServer
		s       Settings
		want    bool
		why     string
	}{
		{"plain OAuth with the grant", "", AuthServer{GrantTypesSupported: []string{"authorization_code", "refresh_token"}}, Settings{}, true, "refresh_token grant"},
		{"plain OAuth without the grant", "", AuthServer{GrantTypesSupported: []string{"authorization_code"}}, Settings{}, false, "does not offer the refresh_token grant"},
		{"grant types not listed", "", AuthServer{}, Settings{}, false, "RFC 8414"},
		{"offline_access listed", "", AuthServer{ScopesSupported: []string{OfflineAccess}}, Settings{}, true, "offline_access"},
		{"OpenID provider with offline_access", "", AuthServer{OpenID: true, ScopesSupported: []string{OfflineAccess}, GrantTypesSupported: []string{"refresh_token"}}, Settings{}, true, "prompt=consent"},
		{"OpenID provider without offline_access", "", AuthServer{OpenID: true, GrantTypesSupported: []string{"refresh_token"}}, Settings{}, false, "§11"},
		{"OpenID provider, the user's prompt", "", AuthServer{OpenID: true, ScopesSupported: []string{OfflineAccess}}, Settings{AuthParams: map[string]string{"prompt": "login"}}, false, "prompt=login"},
		{"OpenID provider, the user's prompt with consent", "", AuthServer{OpenID: true, ScopesSupported: []string{OfflineAccess}}, Settings{AuthParams: map[string]string{"prompt": "login consent"}}, true, "prompt=consent"},
		{"Google, whatever the metadata", Google, AuthServer{OpenID: true}, Settings{}, true, "access_type=offline"},
		{"Cognito, whatever the metadata", Cognito, AuthServer{OpenID: true}, Settings{}, true, "every authorization code grant"},
		{"Entra, no grant types listed", Entra, AuthServer{OpenID: true}, Settings{}, true, "offline_access"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := Lookup(tt.profile)
			got := p.RefreshOutlook(tt.as, tt.s)
			if got.Expected != tt.want || !strings.Contains(got.Why, tt.why) {
				t.Errorf("RefreshOutlook = %+v, want %v with %q", got, tt.want, tt.why)
			}
		})
	}
}

func TestIssuerWarning(t *testing.T) {
	okta, _ := Lookup(Okta)
	if w := okta.IssuerWarning("https://example.okta.com"); !strings.Contains(w, "org authorization server") || !strings.Contains(w, "https://example.okta.com/oauth2/") {
		t.Errorf("Okta org issuer: %q", w)
	}
	if w := okta.IssuerWarning("https://example.okta.com/oauth2/default"); w != "" {
		t.Errorf("Okta custom authorization server: %q", w)
	}
	if w := (Profile{}).IssuerWarning("https://example.okta.com"); w != "" {
		t.Errorf("standard profile: %q", w)
	}
}

func TestSettingsDescribe(t *testing.T) {
	if got := (Settings{}).Describe(); len(got) != 0 {
		t.Errorf("no settings: %q", got)
	}
	got := strings.Join(Settings{AuthParams: map[string]string{"b": "2", "a": "1"}, NoResource: true, FixedScopes: true, SendIDToken: true}.Describe(), "\n")
	for _, want := range []string{"a=1 b=2 (--auth-param)", "--no-resource", "--scopes", "--send-token id"} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe() = %q, lacks %q", got, want)
		}
	}
}
