package doctor

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// demoServer starts the demo authorization server with opts and an MCP server behind it, on
// 127.0.0.1, and returns the MCP server's URL.
func demoServer(t *testing.T, opts authserver.Options) string {
	t.Helper()
	as := authserver.New(opts)
	asURL, err := as.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	mcp := mcpserver.New(mcpserver.Options{Verifier: as, AuthServers: []string{asURL}})
	if _, err := mcp.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mcp.Close() })
	return mcp.URL()
}

// TestDeviationFindings: doctor reports each deviation of the demo authorization server it can
// see without signing in, with a severity that says whether sign-in still works.
func TestDeviationFindings(t *testing.T) {
	tests := []struct {
		name     string
		opts     authserver.Options
		setup    *Setup
		item     string
		sev      Severity
		detail   string
		blocking bool
	}{
		{"as it should be: the authorization page", authserver.Options{}, nil, itemAuthPage, OK, "400", false},
		{"as it should be: form-encoded token requests", authserver.Options{}, nil, itemTokenRequests, OK, "form-encoded", false},
		{"a JSON-only token endpoint (415)", authserver.Options{Deviations: authserver.Deviations{JSONBodies: authserver.RefuseUnsupportedMediaType}}, nil,
			itemTokenRequests, Warn, "reads only JSON bodies", false},
		{"a JSON-only token endpoint (an empty body)", authserver.Options{Deviations: authserver.Deviations{JSONBodies: authserver.RefuseAsIfEmpty}}, nil,
			itemTokenRequests, Warn, "remembers it", false},
		{"an issuer with a trailing slash", authserver.Options{Deviations: authserver.Deviations{IssuerTrailingSlash: true}}, nil,
			itemAuthServer, Warn, "a trailing slash apart", false},
		{"a stub authorization endpoint", authserver.Options{Deviations: authserver.Deviations{StubAuthorize: http.StatusNotFound}}, nil,
			itemAuthPage, Fail, "only a stub", true},
		{"a stub, and client credentials offered", authserver.Options{ClientCredentials: true, Deviations: authserver.Deviations{StubAuthorize: http.StatusMethodNotAllowed}}, nil,
			itemAuthPage, Fail, "--auth client-credentials", true},
		{"a stub that answers 500", authserver.Options{Deviations: authserver.Deviations{StubAuthorize: http.StatusInternalServerError}}, nil,
			itemAuthPage, Fail, `"not_implemented"`, true},
		{"a stub, for a server configured for client credentials", authserver.Options{ClientCredentials: true, Deviations: authserver.Deviations{StubAuthorize: http.StatusNotFound}},
			&Setup{Server: config.Server{Name: "s", Auth: config.AuthClientCredentials}}, itemAuthPage, -1, "", false},
		{"what the last sign-in saw", authserver.Options{}, &Setup{Server: config.Server{Name: "s", Auth: config.AuthOAuth},
			Deviations: []oauth.Deviation{oauth.DeviationNoExpiresIn, oauth.DeviationTokenTypeCase, oauth.DeviationRegistration200}},
			itemExpiresIn, Warn, "seen at the last sign-in: the token response says nothing usable", false},
		{"what the last sign-in saw, lesser", authserver.Options{}, &Setup{Server: config.Server{Name: "s", Auth: config.AuthOAuth},
			Deviations: []oauth.Deviation{oauth.DeviationTokenTypeCase}}, itemTokenType, Info, `"Bearer"`, false},
		{"registration answers", authserver.Options{}, &Setup{Server: config.Server{Name: "s", Auth: config.AuthOAuth},
			Deviations: []oauth.Deviation{oauth.DeviationRegistration200, oauth.DeviationOtherRedirectURI}}, itemRegAnswer, Warn, "answers 200", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := demoServer(t, tt.opts)
			var r *Report
			if tt.setup != nil {
				setup := *tt.setup
				setup.Server.URL = u
				r = RunFor(t.Context(), nil, setup)
			} else {
				r = Run(t.Context(), nil, u)
			}
			var text bytes.Buffer
			r.WriteText(&text)
			f, ok := findings(r)[tt.item]
			switch {
			case tt.sev < 0 && ok:
				t.Errorf("%s reported: %+v\n%s", tt.item, f, text.String())
			case tt.sev >= 0 && (!ok || f.Severity != tt.sev || !strings.Contains(f.Detail, tt.detail)):
				t.Errorf("%s: %v %q (present %v), want %v mentioning %q\n%s", tt.item, f.Severity, f.Detail, ok, tt.sev, tt.detail, text.String())
			}
			if r.Blocking() != tt.blocking {
				t.Errorf("Blocking() = %v, want %v\n%s", r.Blocking(), tt.blocking, text.String())
			}
		})
	}
}

// TestTokenProbeCarriesNoSecret: the token endpoint probe names a client no server knows and
// sends nothing else a server could take for a credential.
func TestTokenProbeCarriesNoSecret(t *testing.T) {
	as := authserver.New(authserver.Options{Deviations: authserver.Deviations{JSONBodies: authserver.RefuseUnsupportedMediaType}})
	asURL, err := as.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	mcp := mcpserver.New(mcpserver.Options{Verifier: as, AuthServers: []string{asURL}})
	if _, err := mcp.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer mcp.Close()
	Run(t.Context(), nil, mcp.URL())
	var n int
	for _, r := range as.Requests() {
		if r.Endpoint != authserver.EndpointToken {
			continue
		}
		n++
		for k := range r.Form {
			if k != "grant_type" && k != "client_id" {
				t.Errorf("the probe sent %s", k)
			}
		}
		if id := r.Form.Get("client_id"); id != "" && id != oauth.ProbeClientID {
			t.Errorf("the probe named client %q", id)
		}
	}
	if n != 2 {
		t.Errorf("%d token requests, want the form and the JSON probe", n)
	}
}
