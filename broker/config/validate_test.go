package config

import (
	"errors"
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
		{"transport auto", func(s *Server) { s.Transport = TransportAuto }, ""},
		{"transport sse", func(s *Server) { s.Transport = TransportSSE }, ""},
		{"transport streamable", func(s *Server) { s.Transport = TransportStreamableHTTP }, ""},
		{"transport unknown", func(s *Server) { s.Transport = "websocket" }, "unknown transport"},
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
