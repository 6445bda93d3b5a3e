package doctor

import (
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// TestAssertionGrants: doctor says which assertion grants the authorization server advertises,
// and, for a configured server, whether its setup can work with them.
func TestAssertionGrants(t *testing.T) {
	wifAS := func(m map[string]any) {
		m["grant_types_supported"] = []string{grantJWTBearer}
		delete(m, "code_challenge_methods_supported")
		delete(m, "registration_endpoint")
	}
	idp := func(t *testing.T, grants []string) *config.IdP {
		s, mux := server(t)
		mux.HandleFunc("GET /.well-known/openid-configuration", jsonDoc(map[string]any{
			"issuer": s.URL, "authorization_endpoint": s.URL + "/authorize", "token_endpoint": s.URL + "/token", "grant_types_supported": grants,
		}))
		return &config.IdP{Name: "corp", Issuer: s.URL, ClientID: "c"}
	}
	tests := []struct {
		name     string
		editAS   func(map[string]any)
		setup    func(t *testing.T, url string) *Setup // nil: doctor URL
		blocking bool
		want     map[string]Severity
		detail   map[string]string
	}{
		{
			name: "URL of a server offering the JWT bearer grant",
			editAS: func(m map[string]any) {
				m["grant_types_supported"] = []string{"authorization_code", "refresh_token", grantJWTBearer, grantTokenExchange}
			},
			want:   map[string]Severity{itemAssertion: Info, itemGrants: OK},
			detail: map[string]string{itemAssertion: "jwt-bearer (RFC 7523): advertised\ntoken-exchange (RFC 8693): advertised\nusable with --auth workload"},
		},
		{
			name:   "a workload server where the grant is offered",
			editAS: wifAS,
			setup: func(t *testing.T, u string) *Setup {
				return &Setup{Server: config.Server{Name: "ci", URL: u, Auth: config.AuthWorkload, ClientID: "wl", AssertionFile: "/run/token"}}
			},
			// No authorization_code and no PKCE block nothing: no browser is involved.
			want:   map[string]Severity{itemAssertion: OK, itemGrants: Info, itemPKCE: Info},
			detail: map[string]string{itemAssertion: `configured: workload identity, client "wl", the JWT from the file /run/token`},
		},
		{
			name: "a workload server where it is not",
			setup: func(t *testing.T, u string) *Setup {
				return &Setup{Server: config.Server{Name: "ci", URL: u, Auth: config.AuthWorkload, ClientID: "wl", AssertionCommand: "x"}}
			},
			blocking: true,
			want:     map[string]Severity{itemAssertion: Fail},
			detail:   map[string]string{itemAssertion: "jwt-bearer (RFC 7523): not advertised"},
		},
		{
			name:   "an enterprise server and its identity provider",
			editAS: wifAS,
			setup: func(t *testing.T, u string) *Setup {
				return &Setup{Server: config.Server{Name: "wiki", URL: u, Auth: config.AuthEnterprise, ClientID: "w", IdP: "corp"}, IdP: idp(t, []string{grantTokenExchange})}
			},
			want:   map[string]Severity{itemAssertion: OK, itemIdP: OK},
			detail: map[string]string{itemIdP: "token-exchange (RFC 8693): advertised", itemAssertion: "through the identity provider corp"},
		},
		{
			name:   "an identity provider without token exchange",
			editAS: wifAS,
			setup: func(t *testing.T, u string) *Setup {
				return &Setup{Server: config.Server{Name: "wiki", URL: u, Auth: config.AuthEnterprise, ClientID: "w", IdP: "corp"}, IdP: idp(t, []string{"authorization_code"})}
			},
			blocking: true,
			want:     map[string]Severity{itemIdP: Fail},
		},
		{
			name: "an OAuth server, configured",
			setup: func(t *testing.T, u string) *Setup {
				return &Setup{Server: config.Server{Name: "s", URL: u, Auth: config.AuthOAuth}}
			},
			want:   map[string]Severity{itemAssertion: Info, itemPKCE: OK},
			detail: map[string]string{itemAssertion: "configured: auth oauth, which does not use them"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := oauthServer(t, func(rs string) string { return rs + "/mcp" }, tt.editAS)
			var r *Report
			if tt.setup == nil {
				r = Run(t.Context(), nil, u)
			} else {
				r = RunFor(t.Context(), nil, *tt.setup(t, u))
			}
			got := findings(r)
			for item, sev := range tt.want {
				if f, ok := got[item]; !ok || f.Severity != sev {
					t.Errorf("%s = %+v, want severity %v", item, f, sev)
				}
			}
			for item, sub := range tt.detail {
				if !strings.Contains(got[item].Detail, sub) {
					t.Errorf("%s detail %q lacks %q", item, got[item].Detail, sub)
				}
			}
			if r.Blocking() != tt.blocking {
				t.Errorf("Blocking = %v, want %v; findings %+v", r.Blocking(), tt.blocking, r.Findings)
			}
		})
	}
}
