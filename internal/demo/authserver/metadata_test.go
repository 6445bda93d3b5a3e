package authserver_test

import (
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

func TestMetadataLocations(t *testing.T) {
	const (
		oauth = "/.well-known/oauth-authorization-server"
		oidc  = "/.well-known/openid-configuration"
	)
	tests := []struct {
		name  string
		opts  authserver.Options
		found []string // paths that must serve the document
		gone  []string // paths that must be 404
	}{
		{
			name:  "no path",
			found: []string{oauth, oidc},
			gone:  []string{oauth + "/tenant1"},
		},
		{
			name:  "issuer with path",
			opts:  authserver.Options{Issuer: "/tenant1"},
			found: []string{oauth + "/tenant1", oidc + "/tenant1", "/tenant1" + oidc},
			gone:  []string{oauth, oidc},
		},
		{
			name:  "path, OIDC appended only",
			opts:  authserver.Options{Issuer: "tenant1/", MetadataAt: []authserver.MetadataLocation{authserver.MetadataOIDCAppended}},
			found: []string{"/tenant1" + oidc},
			gone:  []string{oauth + "/tenant1", oidc + "/tenant1"},
		},
		{
			name:  "no path, RFC 8414 only",
			opts:  authserver.Options{MetadataAt: []authserver.MetadataLocation{authserver.MetadataOAuth}},
			found: []string{oauth},
			gone:  []string{oidc},
		},
		{
			name: "no metadata (2025-03-26 fallback)",
			opts: authserver.Options{NoMetadata: true},
			gone: []string{oauth, oidc},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := start(t, tt.opts)
			base := baseOf(as)
			for _, p := range tt.found {
				status, m := getJSON(t, base+p)
				if status != http.StatusOK {
					t.Errorf("GET %s: status %d, want 200", p, status)
					continue
				}
				if m["issuer"] != as.Issuer() {
					t.Errorf("GET %s: issuer %v, want %s", p, m["issuer"], as.Issuer())
				}
				if m["token_endpoint"] != as.Issuer()+"/token" {
					t.Errorf("GET %s: token_endpoint %v", p, m["token_endpoint"])
				}
			}
			for _, p := range tt.gone {
				if status, _ := getJSON(t, base+p); status != http.StatusNotFound {
					t.Errorf("GET %s: status %d, want 404", p, status)
				}
			}
		})
	}
}

func TestMetadataFields(t *testing.T) {
	tests := []struct {
		name  string
		opts  authserver.Options
		check func(t *testing.T, issuer string, m map[string]any)
	}{
		{
			name: "defaults",
			check: func(t *testing.T, issuer string, m map[string]any) {
				wantStrings(t, m, "scopes_supported", "mcp:read", "mcp:write", "mcp:admin", "offline_access")
				wantStrings(t, m, "response_types_supported", "code")
				wantStrings(t, m, "grant_types_supported", "authorization_code", "refresh_token")
				wantStrings(t, m, "token_endpoint_auth_methods_supported", "none", "client_secret_basic", "client_secret_post")
				wantStrings(t, m, "code_challenge_methods_supported", "S256")
				if m["authorization_endpoint"] != issuer+"/authorize" || m["registration_endpoint"] != issuer+"/register" {
					t.Errorf("endpoints: %v %v", m["authorization_endpoint"], m["registration_endpoint"])
				}
				for _, k := range []string{"authorization_response_iss_parameter_supported", "client_id_metadata_document_supported"} {
					if _, ok := m[k]; ok {
						t.Errorf("%s present by default", k)
					}
				}
			},
		},
		{
			name: "options",
			opts: authserver.Options{
				Scopes: []string{"a", "b"}, DisableDCR: true, ISSParameter: true, CIMD: true,
				ClientCredentials: true, AuthMethods: []string{"client_secret_post"}, NoRefreshTokens: true,
			},
			check: func(t *testing.T, _ string, m map[string]any) {
				wantStrings(t, m, "scopes_supported", "a", "b")
				wantStrings(t, m, "grant_types_supported", "authorization_code", "client_credentials")
				wantStrings(t, m, "token_endpoint_auth_methods_supported", "client_secret_post")
				if _, ok := m["registration_endpoint"]; ok {
					t.Error("registration_endpoint present with DisableDCR")
				}
				if m["authorization_response_iss_parameter_supported"] != true || m["client_id_metadata_document_supported"] != true {
					t.Errorf("flags missing: %v", m)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := start(t, tt.opts)
			status, m := getJSON(t, baseOf(as)+"/.well-known/oauth-authorization-server")
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			tt.check(t, as.Issuer(), m)
		})
	}
}

func TestDisableDCRRemovesEndpoint(t *testing.T) {
	as := start(t, authserver.Options{DisableDCR: true})
	resp, err := http.Post(as.Issuer()+"/register", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /register: status %d, want 404", resp.StatusCode)
	}
}

func TestHostileMetadata(t *testing.T) {
	tests := []struct {
		name    string
		hostile authserver.Hostile
		check   func(t *testing.T, issuer string, m map[string]any)
	}{
		{"IssuerMismatch", authserver.Hostile{IssuerMismatch: true}, func(t *testing.T, issuer string, m map[string]any) {
			if m["issuer"] == issuer {
				t.Errorf("issuer = %v, want a different one", m["issuer"])
			}
		}},
		{"NoS256", authserver.Hostile{NoS256: true}, func(t *testing.T, _ string, m map[string]any) {
			wantStrings(t, m, "code_challenge_methods_supported", "plain")
		}},
		{"NoPKCEMetadata", authserver.Hostile{NoPKCEMetadata: true}, func(t *testing.T, _ string, m map[string]any) {
			if _, ok := m["code_challenge_methods_supported"]; ok {
				t.Error("code_challenge_methods_supported present")
			}
		}},
		{"InsecureTokenEndpoint", authserver.Hostile{InsecureTokenEndpoint: true}, func(t *testing.T, _ string, m map[string]any) {
			if m["token_endpoint"] != "http://auth.example.com/token" {
				t.Errorf("token_endpoint = %v", m["token_endpoint"])
			}
		}},
		{"JavascriptAuthorize", authserver.Hostile{JavascriptAuthorize: true}, func(t *testing.T, _ string, m map[string]any) {
			if m["authorization_endpoint"] != "javascript:alert(1)" {
				t.Errorf("authorization_endpoint = %v", m["authorization_endpoint"])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := start(t, authserver.Options{Hostile: tt.hostile})
			status, m := getJSON(t, baseOf(as)+"/.well-known/oauth-authorization-server")
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			tt.check(t, as.Issuer(), m)
		})
	}
}

func TestHostileHugeMetadata(t *testing.T) {
	as := start(t, authserver.Options{Hostile: authserver.Hostile{HugeMetadata: true}})
	resp, err := http.Get(baseOf(as) + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if n <= 2<<20 {
		t.Errorf("metadata is %d bytes, want > 2 MiB", n)
	}
}

func TestHostileCrossOriginRedirect(t *testing.T) {
	const other = "http://127.0.0.2:8080"
	as := start(t, authserver.Options{Issuer: "/t", Hostile: authserver.Hostile{CrossOriginRedirect: other}})
	for _, p := range []string{"/.well-known/oauth-authorization-server/t", "/t/.well-known/openid-configuration"} {
		resp, err := noFollow.Get(baseOf(as) + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != other+p {
			t.Errorf("GET %s: %d Location %q, want 302 to %s", p, resp.StatusCode, resp.Header.Get("Location"), other+p)
		}
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "example.com:80", "[::]:0"} {
		as := authserver.New(authserver.Options{})
		if base, err := as.Start(addr); err == nil {
			_ = as.Close()
			t.Errorf("Start(%q) = %s, want an error", addr, base)
		}
	}
}

// baseOf is the server's base URL (the issuer without its path).
func baseOf(as *authserver.Server) string {
	iss := as.Issuer()
	// The issuer is http://127.0.0.1:port[/path]; cut after host:port.
	n := 0
	for i, c := range iss {
		if c == '/' {
			n++
			if n == 3 {
				return iss[:i]
			}
		}
	}
	return iss
}

// wantStrings checks that m[key] is exactly the JSON array want.
func wantStrings(t *testing.T, m map[string]any, key string, want ...string) {
	t.Helper()
	arr, _ := m[key].([]any)
	got := make([]string, 0, len(arr))
	for _, v := range arr {
		s, _ := v.(string)
		got = append(got, s)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", key, got, want)
	}
}
