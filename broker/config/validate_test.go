package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"studio", true},
		{"My_Server-2.prod", true},
		{"a", true},
		{strings.Repeat("x", 64), true},
		{strings.Repeat("x", 65), false},
		{"", false},
		{".hidden", false},
		{"-flag", false},
		{"has space", false},
		{"slash/name", false},
		{"back\\slash", false},
		{"..", false},
		{"colon:x", false},
		{"émoji", false},
	}
	for _, tt := range tests {
		err := ValidateName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestServerValidate(t *testing.T) {
	base := Server{Name: "s", URL: "https://mcp.example.com/mcp", Auth: AuthOAuth}
	tests := []struct {
		name    string
		edit    func(*Server)
		wantErr string // "" means valid
	}{
		{"https", func(*Server) {}, ""},
		{"http localhost", func(s *Server) { s.URL = "http://localhost:3000/mcp" }, ""},
		{"http LOCALHOST", func(s *Server) { s.URL = "http://LOCALHOST/mcp" }, ""},
		{"http 127.0.0.1", func(s *Server) { s.URL = "http://127.0.0.1:8080/mcp" }, ""},
		{"http 127.1.2.3", func(s *Server) { s.URL = "http://127.1.2.3/" }, ""},
		{"http ::1", func(s *Server) { s.URL = "http://[::1]:9000/mcp" }, ""},
		{"http remote", func(s *Server) { s.URL = "http://mcp.example.com/mcp" }, "plain http"},
		{"http localhost lookalike", func(s *Server) { s.URL = "http://localhost.example.com/" }, "plain http"},
		{"http 128.0.0.1", func(s *Server) { s.URL = "http://128.0.0.1/" }, "plain http"},
		{"ftp", func(s *Server) { s.URL = "ftp://mcp.example.com/" }, "must use https"},
		{"relative", func(s *Server) { s.URL = "/mcp" }, "absolute"},
		{"no host", func(s *Server) { s.URL = "https:///mcp" }, "absolute"},
		{"empty url", func(s *Server) { s.URL = "" }, "absolute"},
		{"userinfo", func(s *Server) { s.URL = "https://user:hunter2@mcp.example.com/" }, "user name or password"},
		{"fragment", func(s *Server) { s.URL = "https://mcp.example.com/mcp#x" }, "fragment"},
		// An API key in the query stays out of the message (the check below the table).
		{"http remote with a key", func(s *Server) { s.URL = "http://mcp.example.com/mcp?api_key=hunter2" }, "plain http"},
		{"fragment with a key", func(s *Server) { s.URL = "https://mcp.example.com/mcp?api_key=hunter2#x" }, "fragment"},
		{"ftp with a key", func(s *Server) { s.URL = "ftp://mcp.example.com/?hunter2" }, "must use https"},
		{"bad name", func(s *Server) { s.Name = "-x" }, "server name"},
		{"unknown auth", func(s *Server) { s.Auth = "basic" }, "unknown auth mode"},
		{"empty auth", func(s *Server) { s.Auth = "" }, "unknown auth mode"},
		{"bearer", func(s *Server) { s.Auth = AuthBearer; s.Header = "X-API-Key" }, ""},
		{"none", func(s *Server) { s.Auth = AuthNone }, ""},
		{"client credentials", func(s *Server) { s.Auth = AuthClientCredentials; s.ClientID = "c" }, ""},
		{"workload, file", func(s *Server) { s.Auth, s.ClientID, s.AssertionFile = AuthWorkload, "wl", "/var/run/token" }, ""},
		{"workload, command", func(s *Server) {
			s.Auth, s.ClientID, s.AssertionCommand = AuthWorkload, "wl", "gcloud auth print-identity-token"
		}, ""},
		{"workload without a source", func(s *Server) { s.Auth, s.ClientID = AuthWorkload, "wl" }, "needs the file or the command"},
		{"workload with two sources", func(s *Server) {
			s.Auth, s.ClientID, s.AssertionFile, s.AssertionCommand = AuthWorkload, "wl", "/t", "cat /t"
		}, "not both"},
		{"workload, relative file", func(s *Server) { s.Auth, s.ClientID, s.AssertionFile = AuthWorkload, "wl", "token" }, "absolute path"},
		{"workload, two-line command", func(s *Server) { s.Auth, s.ClientID, s.AssertionCommand = AuthWorkload, "wl", "a\nb" }, "one line"},
		{"workload without a client id", func(s *Server) { s.Auth, s.AssertionFile = AuthWorkload, "/t" }, "needs the client id"},
		{"assertion file on oauth", func(s *Server) { s.AssertionFile = "/t" }, "only with auth workload"},
		{"enterprise", func(s *Server) { s.Auth, s.ClientID, s.IdP = AuthEnterprise, "c", "corp" }, ""},
		{"enterprise without an IdP", func(s *Server) { s.Auth, s.ClientID = AuthEnterprise, "c" }, "needs the identity provider"},
		{"enterprise, bad IdP name", func(s *Server) { s.Auth, s.ClientID, s.IdP = AuthEnterprise, "c", "-corp" }, "identity provider name"},
		{"IdP on oauth", func(s *Server) { s.IdP = "corp" }, "only with auth enterprise"},
		{"private_key_jwt", func(s *Server) {
			s.Auth, s.ClientID, s.ClientAuth, s.SigningAlg = AuthClientCredentials, "c", ClientAuthPrivateKeyJWT, "ES256"
		}, ""},
		{"private_key_jwt, algorithm unknown yet", func(s *Server) {
			s.Auth, s.ClientID, s.ClientAuth = AuthClientCredentials, "c", ClientAuthPrivateKeyJWT
		}, ""},
		{"private_key_jwt without client id", func(s *Server) { s.Auth, s.ClientAuth = AuthClientCredentials, ClientAuthPrivateKeyJWT }, "needs the client id"},
		{"private_key_jwt with oauth", func(s *Server) { s.ClientID, s.ClientAuth = "c", ClientAuthPrivateKeyJWT }, "only with auth client-credentials"},
		{"unknown client auth", func(s *Server) {
			s.Auth, s.ClientID, s.ClientAuth = AuthClientCredentials, "c", "client_secret_jwt"
		}, "unknown client auth"},
		{"unknown signing algorithm", func(s *Server) {
			s.Auth, s.ClientID, s.ClientAuth, s.SigningAlg = AuthClientCredentials, "c", ClientAuthPrivateKeyJWT, "HS256"
		}, "unknown signing algorithm"},
		{"signing algorithm without private_key_jwt", func(s *Server) { s.SigningAlg = "ES256" }, "only with client auth"},
		{"transport auto", func(s *Server) { s.Transport = TransportAuto }, ""},
		{"transport sse", func(s *Server) { s.Transport = TransportSSE }, ""},
		{"transport streamable", func(s *Server) { s.Transport = TransportStreamableHTTP }, ""},
		{"transport unknown", func(s *Server) { s.Transport = "websocket" }, "unknown transport"},
		{"dpop auto", func(s *Server) { s.DPoP = DPoPAuto }, ""},
		{"dpop on", func(s *Server) { s.DPoP = DPoPOn }, ""},
		{"dpop off", func(s *Server) { s.DPoP = DPoPOff }, ""},
		{"dpop unknown", func(s *Server) { s.DPoP = "yes" }, "unknown dpop setting"},
		{"scopes", func(s *Server) { s.Scopes = []string{"read", "mcp:tools", "https://x/y"} }, ""},
		{"scope with space", func(s *Server) { s.Scopes = []string{"read write"} }, "invalid scope"},
		{"empty scope", func(s *Server) { s.Scopes = []string{""} }, "invalid scope"},
		{"scope with quote", func(s *Server) { s.Scopes = []string{`a"b`} }, "invalid scope"},
		{"header with colon", func(s *Server) { s.Header = "X-Key:" }, "invalid header"},
		{"header with space", func(s *Server) { s.Header = "X Key" }, "invalid header"},
		{"cimd", func(s *Server) { s.ClientMetadataURL = "https://app.example.com/oauth/client.json" }, ""},
		{"cimd http", func(s *Server) { s.ClientMetadataURL = "http://app.example.com/client.json" }, "client metadata url"},
		{"cimd no path", func(s *Server) { s.ClientMetadataURL = "https://app.example.com/" }, "client metadata url"},
		{"cimd fragment", func(s *Server) { s.ClientMetadataURL = "https://app.example.com/c.json#x" }, "client metadata url"},
		{"provider settings", func(s *Server) {
			s.Provider, s.NoResource, s.SendToken = "entra", true, "id"
			s.AuthParams = map[string]string{"prompt": "login", "domain_hint": "example.com", "empty": ""}
		}, ""},
		{"provider none", func(s *Server) { s.Provider = "none" }, ""},
		{"send the access token", func(s *Server) { s.SendToken = "access" }, ""},
		{"unknown provider", func(s *Server) { s.Provider = "azure" }, `unknown provider "azure": want one of auth0, cognito, entra, google, keycloak, okta, none`},
		{"unknown token", func(s *Server) { s.SendToken = "refresh" }, "want access or id"},
		{"a parameter the sign-in sets", func(s *Server) { s.AuthParams = map[string]string{"client_id": "x"} }, "set by the sign-in itself"},
		{"scope as a parameter", func(s *Server) { s.AuthParams = map[string]string{"scope": "x"} }, "set by the sign-in itself"},
		{"a parameter name with a space", func(s *Server) { s.AuthParams = map[string]string{"a b": "x"} }, "invalid authorization parameter name"},
		{"an empty parameter name", func(s *Server) { s.AuthParams = map[string]string{"": "x"} }, "invalid authorization parameter name"},
		{"a control character", func(s *Server) { s.AuthParams = map[string]string{"a": "x\ny"} }, "control character"},
		{"provider on client credentials", func(s *Server) { s.Auth, s.ClientID, s.Provider = AuthClientCredentials, "c", "okta" }, "only with auth oauth"},
		{"no resource on bearer", func(s *Server) { s.Auth, s.NoResource = AuthBearer, true }, "only with auth oauth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			tt.edit(&s)
			err := s.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate(%+v) = %v, want nil", s, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate(%+v) = %v, want an error containing %q", s, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error %q leaks the password from the URL", err)
			}
			// A setting's error names the server once, and says what is wrong without it.
			var invalid *InvalidServerError
			if err != nil && tt.name != "bad name" {
				if !errors.As(err, &invalid) || invalid.Name != s.Name {
					t.Fatalf("Validate(%+v) = %v, want an *InvalidServerError for %q", s, err, s.Name)
				}
				if !strings.HasPrefix(err.Error(), `server "s": `) || strings.Contains(invalid.Err.Error(), `server "s"`) {
					t.Errorf("error %q, cause %q: want the name once, in front", err, invalid.Err)
				}
			}
		})
	}
}

func TestIdPValidate(t *testing.T) {
	base := IdP{Name: "corp", Issuer: "https://idp.example.com", ClientID: "c"}
	tests := []struct {
		name    string
		edit    func(*IdP)
		wantErr string
	}{
		{"https", func(*IdP) {}, ""},
		{"with a path", func(p *IdP) { p.Issuer = "https://login.example.com/tenant/v2.0" }, ""},
		{"http loopback", func(p *IdP) { p.Issuer = "http://127.0.0.1:8080" }, ""},
		{"http remote", func(p *IdP) { p.Issuer = "http://idp.example.com" }, "must use https"},
		{"query", func(p *IdP) { p.Issuer = "https://idp.example.com/?tenant=x" }, "without query"},
		{"relative", func(p *IdP) { p.Issuer = "idp.example.com" }, "absolute"},
		{"no client", func(p *IdP) { p.ClientID = "" }, "no client id"},
		{"bad name", func(p *IdP) { p.Name = "a b" }, "identity provider name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base
			tt.edit(&p)
			err := p.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestFileIdPs: an enterprise server must name a configured identity provider, names are
// unique, and Save keeps them sorted.
func TestFileIdPs(t *testing.T) {
	f := &File{Servers: []Server{{Name: "s", URL: "https://mcp.example.com/mcp", Auth: AuthEnterprise, ClientID: "c", IdP: "corp"}}}
	var unknown *UnknownIdPError
	if err := f.Validate(); !errors.As(err, &unknown) || unknown.Name != "corp" {
		t.Errorf("Validate without the IdP = %v", err)
	}
	f.PutIdP(IdP{Name: "zeta", Issuer: "https://z.example.com", ClientID: "z"})
	f.PutIdP(IdP{Name: "corp", Issuer: "https://idp.example.com", ClientID: "c"})
	if err := f.Validate(); err != nil {
		t.Fatalf("Validate = %v", err)
	}
	f.IdPs = append(f.IdPs, IdP{Name: "corp", Issuer: "https://other.example.com", ClientID: "c"})
	if err := f.Validate(); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("Validate with a duplicate = %v", err)
	}
	f.IdPs = f.IdPs[:2]
	path := filepath.Join(t.TempDir(), "config.json")
	if err := Save(path, f); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil || len(back.IdPs) != 2 || back.IdPs[0].Name != "corp" {
		t.Fatalf("Load = %+v, %v", back, err)
	}
	if !back.RemoveIdP("zeta") || back.RemoveIdP("zeta") {
		t.Error("RemoveIdP")
	}
}

func TestValidateNetworkSettings(t *testing.T) {
	for _, p := range []string{"", "direct", "http://proxy.example.com:3128", "proxy.example.com:3128", "socks5://127.0.0.1:1080"} {
		if err := ValidateProxy(p); err != nil {
			t.Errorf("ValidateProxy(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"http://user:PROXY-PW@proxy:3128", "http://user@proxy:3128", "ftp://proxy", "Direct", "http://proxy/path"} {
		err := ValidateProxy(p)
		if err == nil || strings.Contains(err.Error(), "PROXY-PW") {
			t.Errorf("ValidateProxy(%q) = %v, want an error without the password", p, err)
		}
	}
	if err := ValidateCAFile("/etc/ssl/corp.pem"); err != nil {
		t.Errorf("an absolute CA file: %v", err)
	}
	if err := ValidateCAFile("corp.pem"); err == nil {
		t.Error("a relative CA file was accepted")
	}
	// Save refuses a file with either setting wrong.
	for _, f := range []*File{{Proxy: "http://u:PROXY-PW@p:1"}, {CAFile: "relative.pem"}} {
		if err := Save(t.TempDir()+"/config.json", f); err == nil || strings.Contains(err.Error(), "PROXY-PW") {
			t.Errorf("Save(%+v) = %v", f, err)
		}
	}
}
