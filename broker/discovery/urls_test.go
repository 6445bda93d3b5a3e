package discovery

import (
	"net/url"
	"reflect"
	"testing"
)

func TestCanonicalResource(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "https://mcp.example.com/mcp", want: "https://mcp.example.com/mcp"},
		{in: "HTTPS://MCP.Example.COM/Mcp", want: "https://mcp.example.com/Mcp"},
		{in: "https://mcp.example.com:443/mcp/", want: "https://mcp.example.com/mcp"},
		{in: "http://127.0.0.1:80/x", want: "http://127.0.0.1/x"},
		{in: "https://mcp.example.com:8443", want: "https://mcp.example.com:8443"},
		{in: "https://mcp.example.com/", want: "https://mcp.example.com"},
		{in: "https://mcp.example.com", want: "https://mcp.example.com"},
		{in: "https://mcp.example.com/mcp#frag", want: "https://mcp.example.com/mcp"},
		{in: "https://mcp.example.com/a%2Fb/?tenant=x", want: "https://mcp.example.com/a%2Fb?tenant=x"},
		{in: "http://[::1]:3000/mcp", want: "http://[::1]:3000/mcp"},
		{in: "mcp.example.com/mcp", wantErr: true},
		{in: "ftp://mcp.example.com/", wantErr: true},
		{in: "https:///mcp", wantErr: true},
		{in: "https://user:pw@mcp.example.com/", wantErr: true},
		{in: "://", wantErr: true},
	}
	for _, tt := range tests {
		got, err := CanonicalResource(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("CanonicalResource(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestCheckEndpoint(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"https://auth.example.com/token", true},
		{"HTTPS://auth.example.com/token?x=1", true},
		{"http://localhost:8080/token", true},
		{"http://LOCALHOST/token", true},
		{"http://127.0.0.1:9/authorize", true},
		{"http://127.5.6.7/authorize", true},
		{"http://[::1]:9/authorize", true},
		{"http://auth.example.com/token", false},
		{"http://localhost.example.com/token", false},
		{"http://10.0.0.1/token", false},
		{"javascript:alert(1)", false},
		{"JavaScript://auth.example.com/%0aalert(1)", false},
		{"data:text/html,<script>alert(1)</script>", false},
		{"file:///etc/passwd", false},
		{"https://user:pw@auth.example.com/", false},
		{"https://auth.example.com/a#frag", false},
		{"https://auth.example.com/a#", false},
		{"/relative/token", false},
		{"https:opaque", false},
		{"https://", false},
		{"", false},
		{" https://auth.example.com/", false},
	}
	for _, tt := range tests {
		if err := CheckEndpoint(tt.in); (err == nil) != tt.ok {
			t.Errorf("CheckEndpoint(%q) = %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}

func TestResourceMatches(t *testing.T) {
	const server = "https://mcp.example.com/api/mcp"
	tests := []struct {
		advertised string
		want       bool
	}{
		{"https://mcp.example.com/api/mcp", true},
		{"HTTPS://MCP.EXAMPLE.COM:443/api/mcp/", true},
		{"https://mcp.example.com", true},
		{"https://mcp.example.com/", true},
		{"https://mcp.example.com/api", true},
		{"https://mcp.example.com/ap", false},        // not a whole segment
		{"https://mcp.example.com/api/mcp/x", false}, // more specific than the server
		{"https://mcp.example.com/other", false},
		{"https://evil.example.com/api/mcp", false},
		{"http://mcp.example.com/api/mcp", false},
		{"https://mcp.example.com:8443/api/mcp", false},
		{"https://mcp.example.com/?a=1", false}, // a query on a prefix
		{"not a url", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := resourceMatches(tt.advertised, server); got != tt.want {
			t.Errorf("resourceMatches(%q, %q) = %v, want %v", tt.advertised, server, got, tt.want)
		}
	}
	if !resourceMatches("https://h.example/mcp?tenant=a", "https://h.example/mcp?tenant=a") {
		t.Error("equal URLs with a query should match")
	}
	if resourceMatches("https://h.example/mcp?tenant=a", "https://h.example/mcp?tenant=b") {
		t.Error("different queries should not match")
	}
}

func TestWellKnownURLs(t *testing.T) {
	mustParse := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if got, want := wellKnownURL(mustParse("https://H.example:443/public/mcp/?x=1"), "oauth-protected-resource"),
		"https://h.example/.well-known/oauth-protected-resource/public/mcp?x=1"; got != want {
		t.Errorf("wellKnownURL = %q, want %q", got, want)
	}
	tests := []struct {
		issuer string
		want   []string
	}{
		{"https://as.example", []string{
			"https://as.example/.well-known/oauth-authorization-server",
			"https://as.example/.well-known/openid-configuration",
		}},
		{"https://as.example/", []string{
			"https://as.example/.well-known/oauth-authorization-server",
			"https://as.example/.well-known/openid-configuration",
		}},
		{"https://as.example/tenant1", []string{
			"https://as.example/.well-known/oauth-authorization-server/tenant1",
			"https://as.example/.well-known/openid-configuration/tenant1",
			"https://as.example/tenant1/.well-known/openid-configuration",
		}},
		{"https://as.example/a/b/", []string{
			"https://as.example/.well-known/oauth-authorization-server/a/b",
			"https://as.example/.well-known/openid-configuration/a/b",
			"https://as.example/a/b/.well-known/openid-configuration",
		}},
	}
	for _, tt := range tests {
		if got := authServerMetadataURLs(mustParse(tt.issuer)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("authServerMetadataURLs(%q) = %q, want %q", tt.issuer, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp"},
		{"https://mcp.example.com/mcp?api_key=SECRET&b=2", "https://mcp.example.com/mcp?api_key=***&b=***"},
		{"https://user:SECRET@mcp.example.com/", "https://mcp.example.com/"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
