package doctor

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// TestProviderProfileAndRefreshToken: doctor names the provider profile a sign-in applies (from
// the issuer, or the server's setting), each of its quirks, the server's own settings and the
// request they make; and whether a sign-in will bring a refresh token, which, when it will not,
// is a warning: the report never says "no problems" then.
func TestProviderProfileAndRefreshToken(t *testing.T) {
	openID := func(m map[string]any) {
		m["id_token_signing_alg_values_supported"] = []string{"RS256"}
		m["scopes_supported"] = []string{"openid", "mcp", "offline_access"}
	}
	// entraLike is metadata as Entra ID serves it: no PKCE methods, no registration, no grant types.
	entraLike := func(m map[string]any) {
		openID(m)
		delete(m, "code_challenge_methods_supported")
		delete(m, "registration_endpoint")
		delete(m, "grant_types_supported")
		delete(m, "client_id_metadata_document_supported")
	}
	oauth := func(s config.Server) func(u string) *Setup {
		return func(u string) *Setup {
			s.Name, s.URL, s.Auth = "demo", u, config.AuthOAuth
			return &Setup{Server: s}
		}
	}
	tests := []struct {
		name     string
		editAS   func(map[string]any)
		issuer   string // a path for the authorization server's issuer
		setup    func(u string) *Setup
		blocking bool
		want     map[string]Severity
		detail   map[string]string
		notIn    map[string]string
		verdict  string
	}{
		{
			name:    "plain OAuth server",
			want:    map[string]Severity{itemProvider: Info, itemOffline: OK},
			detail:  map[string]string{itemProvider: "--provider NAME)\nthe authorization request: scope=\"mcp offline_access\", resource=http://127.0.0.1", itemOffline: "offline_access is listed"},
			notIn:   map[string]string{itemProvider: "prompt"},
			verdict: "No problems found.",
		},
		{
			name:    "OpenID provider with offline_access",
			editAS:  openID,
			want:    map[string]Severity{itemProvider: Info, itemOffline: OK},
			detail:  map[string]string{itemProvider: "prompt=consent", itemOffline: "prompt=consent (OpenID Connect Core §11)"},
			verdict: "No problems found.",
		},
		{
			name: "OpenID provider without offline_access",
			editAS: func(m map[string]any) {
				openID(m)
				m["scopes_supported"] = []string{"openid", "mcp"}
			},
			want:    map[string]Severity{itemOffline: Warn},
			detail:  map[string]string{itemOffline: "none expected: an OpenID provider that does not offer offline_access"},
			verdict: "warning(s)",
		},
		{
			name:    "no refresh_token grant",
			editAS:  func(m map[string]any) { m["grant_types_supported"] = []string{"authorization_code"} },
			want:    map[string]Severity{itemOffline: Warn, itemGrants: Warn},
			detail:  map[string]string{itemOffline: "does not offer the refresh_token grant"},
			verdict: "warning(s)",
		},
		{
			name:    "a prompt of the user's own replaces consent",
			editAS:  openID,
			setup:   oauth(config.Server{AuthParams: map[string]string{"prompt": "login"}}),
			want:    map[string]Severity{itemOffline: Warn},
			detail:  map[string]string{itemProvider: "your settings:\n- authorization parameters prompt=login (--auth-param)", itemOffline: "prompt=login instead"},
			verdict: "warning(s)",
		},
		{
			name:   "Entra ID, set with --provider",
			editAS: entraLike,
			setup:  oauth(config.Server{Provider: "entra"}),
			want:   map[string]Severity{itemProvider: OK, itemPKCE: Info, itemReg: Warn, itemGrants: Info, itemOffline: OK},
			detail: map[string]string{
				itemProvider: "Microsoft Entra ID (set with --provider entra)\n- no resource parameter: Entra ID v2 refuses resource together with scopes (AADSTS9010010)",
				itemPKCE:     "Microsoft Entra ID documents S256 support: used",
				itemReg:      "App registrations",
				itemOffline:  "Entra ID issues a refresh token for offline_access",
			},
			notIn:   map[string]string{itemProvider: "resource=http"},
			verdict: "warning(s)",
		},
		{
			name:    "Entra ID with its client",
			editAS:  entraLike,
			setup:   oauth(config.Server{Provider: "entra", ClientID: "app-id", Scopes: []string{"api://app-id/.default"}, NoResourceOnRefresh: true}),
			want:    map[string]Severity{itemProvider: OK, itemReg: OK},
			detail:  map[string]string{itemReg: `configured, client id "app-id"`, itemProvider: `scope="api://app-id/.default offline_access", no resource; refresh requests without resource`},
			verdict: "No problems found.",
		},
		{
			name:     "Entra ID metadata with detection off",
			editAS:   entraLike,
			setup:    oauth(config.Server{Provider: "none"}),
			blocking: true,
			want:     map[string]Severity{itemProvider: Info, itemPKCE: Fail},
			detail:   map[string]string{itemProvider: "detection off (--provider none)"},
		},
		{
			name:    "Keycloak, detected from the issuer",
			editAS:  openID,
			issuer:  "/realms/demo",
			want:    map[string]Severity{itemProvider: OK, itemOffline: OK},
			detail:  map[string]string{itemProvider: "Keycloak (detected from the issuer)\n- offline_access asked for, without prompt=consent"},
			notIn:   map[string]string{itemProvider: "prompt=consent\n"},
			verdict: "No problems found.",
		},
		{
			name:   "Okta's org authorization server",
			editAS: openID,
			setup:  oauth(config.Server{Provider: "okta", ClientID: "app"}),
			want:   map[string]Severity{itemProvider: Warn},
			detail: map[string]string{itemProvider: "org authorization server"},
		},
		{
			name:   "Auth0 with settings of the server's own",
			editAS: openID,
			setup:  oauth(config.Server{Provider: "auth0", AuthParams: map[string]string{"organization": "org_1"}, SendToken: "id", NoResource: true}),
			want:   map[string]Severity{itemProvider: OK},
			detail: map[string]string{itemProvider: "audience=http://127.0.0.1", itemOffline: "Allow Offline Access"},
		},
		{
			name:   "a client-credentials server",
			editAS: openID,
			setup: func(u string) *Setup {
				return &Setup{Server: config.Server{Name: "ci", URL: u, Auth: config.AuthClientCredentials, ClientID: "bot"}}
			},
			want: map[string]Severity{itemOffline: Info},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := oauthServerAt(t, tt.issuer, tt.editAS)
			var r *Report
			if tt.setup != nil {
				r = RunFor(t.Context(), nil, *tt.setup(u))
			} else {
				r = Run(t.Context(), nil, u)
			}
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			t.Logf("report:\n%s", text.String())
			got := findings(r)
			if r.Blocking() != tt.blocking {
				t.Errorf("Blocking() = %v, want %v\n%s", r.Blocking(), tt.blocking, text.String())
			}
			for item, sev := range tt.want {
				if f, ok := got[item]; !ok || f.Severity != sev {
					t.Errorf("%s: %v (present %v), want %v\n%s", item, f.Severity, ok, sev, text.String())
				}
			}
			for item, want := range tt.detail {
				if !strings.Contains(got[item].Detail, want) {
					t.Errorf("%s: %q lacks %q", item, got[item].Detail, want)
				}
			}
			for item, not := range tt.notIn {
				if strings.Contains(got[item].Detail, not) {
					t.Errorf("%s: %q has %q", item, got[item].Detail, not)
				}
			}
			if tt.verdict != "" && !strings.Contains(text.String(), tt.verdict) {
				t.Errorf("verdict: want %q in\n%s", tt.verdict, text.String())
			}
			if _, ok := got[itemProvider]; ok == (tt.setup != nil && tt.setup(u).Server.Auth != config.AuthOAuth) {
				t.Errorf("provider item present %v\n%s", ok, text.String())
			}
		})
	}
}

// oauthServerAt is oauthServer with the authorization server's issuer at path (RFC 8414's
// path-inserted metadata URL), as Keycloak's realms are.
func oauthServerAt(t *testing.T, path string, editAS func(map[string]any)) string {
	if path == "" {
		return oauthServer(t, func(rs string) string { return rs + "/mcp" }, editAS)
	}
	rs, rsMux := server(t)
	as, asMux := server(t)
	issuer := as.URL + path
	rsMux.HandleFunc("POST /mcp", challenge(`Bearer resource_metadata="`+rs.URL+`/.well-known/oauth-protected-resource/mcp", scope="mcp"`))
	rsMux.HandleFunc("GET /.well-known/oauth-protected-resource/mcp", jsonDoc(map[string]any{
		"resource": rs.URL + "/mcp", "authorization_servers": []string{issuer}, "scopes_supported": []string{"mcp"},
	}))
	asMux.HandleFunc("GET /.well-known/oauth-authorization-server"+path, jsonDoc(authServerDoc(issuer, editAS)))
	// Its endpoints answer doctor's probes as real ones do.
	asMux.HandleFunc("GET "+path+"/authorize", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "missing client_id", http.StatusBadRequest)
	})
	asMux.HandleFunc("POST "+path+"/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid_client"}`))
	})
	return rs.URL + "/mcp"
}
