package doctor

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
)

// server starts an httptest server on 127.0.0.1 whose routes are set after
// it starts, since the documents name the server's own URL.
func server(t *testing.T) (*httptest.Server, *http.ServeMux) {
	mux := http.NewServeMux()
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s, mux
}

func jsonDoc(v any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
}

func challenge(value string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if value != "" {
			w.Header().Set("WWW-Authenticate", value)
		}
		w.WriteHeader(http.StatusUnauthorized)
	}
}

func authServerDoc(issuer string, edit func(m map[string]any)) map[string]any {
	m := map[string]any{
		"issuer":                                         issuer,
		"authorization_endpoint":                         issuer + "/authorize",
		"token_endpoint":                                 issuer + "/token",
		"registration_endpoint":                          issuer + "/register",
		"revocation_endpoint":                            issuer + "/revoke",
		"response_types_supported":                       []string{"code"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token", "client_credentials"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"none", "client_secret_basic"},
		"scopes_supported":                               []string{"mcp", "offline_access"},
		"client_id_metadata_document_supported":          true,
		"authorization_response_iss_parameter_supported": true,
	}
	if edit != nil {
		edit(m)
	}
	return m
}

// oauthServer is a protected MCP server at /mcp with its authorization
// server; prmResource and editAS let a test make either hostile.
func oauthServer(t *testing.T, prmResource func(rsURL string) string, editAS func(m map[string]any)) string {
	rs, rsMux := server(t)
	as, asMux := server(t)
	rsMux.HandleFunc("POST /mcp", challenge(`Bearer resource_metadata="`+rs.URL+`/.well-known/oauth-protected-resource/mcp", scope="mcp"`))
	rsMux.HandleFunc("GET /.well-known/oauth-protected-resource/mcp", jsonDoc(map[string]any{
		"resource":              prmResource(rs.URL),
		"authorization_servers": []string{as.URL},
		"scopes_supported":      []string{"mcp"},
	}))
	asMux.HandleFunc("GET /.well-known/oauth-authorization-server", jsonDoc(authServerDoc(as.URL, editAS)))
	// Its endpoints answer doctor's probes as real ones do.
	asMux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "missing client_id", http.StatusBadRequest)
	})
	asMux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid_client"}`))
	})
	return rs.URL + "/mcp"
}

func findings(r *Report) map[string]Finding {
	m := map[string]Finding{}
	for _, f := range r.Findings {
		m[f.Item] = f
	}
	return m
}

func TestRun(t *testing.T) {
	type expect map[string]Severity
	tests := []struct {
		name     string
		url      func(t *testing.T) string
		blocking bool
		want     expect // items that must be present with these severities
		absent   []string
		detail   map[string]string // substrings the item's detail must hold
		notIn    map[string]string // substrings it must not
	}{
		{
			name: "healthy OAuth server",
			url: func(t *testing.T) string {
				return oauthServer(t, func(rs string) string { return rs + "/mcp" }, nil)
			},
			want: expect{
				itemChallenge: OK, itemPRM: OK, itemResource: OK, itemAuthServer: OK, itemEndpoints: OK, itemPKCE: OK,
				itemReg: OK, itemGrants: OK, itemOffline: OK, itemISS: OK, itemStreamable: Info, itemDevice: Info,
			},
			absent: []string{itemServer, itemLegacySSE},
			detail: map[string]string{
				itemChallenge: `scope="mcp"`,
				itemReg:       "client ID metadata document: supported",
				itemGrants:    "client_credentials",
				itemDevice:    "not offered: over SSH or in a container, use `mcp-broker login NAME --no-browser` and paste",
			},
		},
		{
			name: "the device grant offered",
			url: func(t *testing.T) string {
				return oauthServer(t, func(rs string) string { return rs + "/mcp" }, func(m map[string]any) {
					m["device_authorization_endpoint"] = m["issuer"].(string) + "/device_authorization"
					m["grant_types_supported"] = []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"}
				})
			},
			want:   expect{itemDevice: OK},
			detail: map[string]string{itemDevice: "/device_authorization: `mcp-broker login NAME --device` signs in with a code"},
		},
		{
			name: "a device endpoint not to be used",
			url: func(t *testing.T) string {
				return oauthServer(t, func(rs string) string { return rs + "/mcp" }, func(m map[string]any) {
					m["device_authorization_endpoint"] = "http://auth.example.com/device"
					m["grant_types_supported"] = []string{"authorization_code", "urn:ietf:params:oauth:grant-type:device_code"}
				})
			},
			want:   expect{itemDevice: Warn},
			detail: map[string]string{itemDevice: "offered, but unusable: refusing device_authorization_endpoint"},
		},
		{
			name: "a device endpoint without the grant listed",
			url: func(t *testing.T) string {
				return oauthServer(t, func(rs string) string { return rs + "/mcp" }, func(m map[string]any) {
					m["device_authorization_endpoint"] = m["issuer"].(string) + "/device_authorization"
					m["grant_types_supported"] = []string{"authorization_code"}
				})
			},
			want:   expect{itemDevice: Info},
			detail: map[string]string{itemDevice: "grant_types_supported does not list urn:ietf:params:oauth:grant-type:device_code"},
		},
		{
			name: "hostile resource metadata",
			url: func(t *testing.T) string {
				return oauthServer(t, func(string) string { return "https://evil.example.com/mcp" }, nil)
			},
			blocking: true,
			want:     expect{itemChallenge: OK, itemPRM: OK, itemResource: Fail},
			detail:   map[string]string{itemResource: "evil.example.com"},
			notIn:    map[string]string{itemPRM: "not at"},
			absent:   []string{itemAuthServer, itemPKCE},
		},
		{
			name: "hostile authorization server: every problem reported",
			url: func(t *testing.T) string {
				return oauthServer(t, func(rs string) string { return rs + "/mcp" }, func(m map[string]any) {
					m["authorization_endpoint"] = "javascript:alert(1)"
					m["token_endpoint"] = "http://auth.example.com/token"
					delete(m, "code_challenge_methods_supported")
					m["grant_types_supported"] = []string{"authorization_code"}
					delete(m, "registration_endpoint")
					m["client_id_metadata_document_supported"] = false
				})
			},
			blocking: true,
			want:     expect{itemAuthServer: OK, itemEndpoints: Fail, itemPKCE: Fail, itemGrants: Warn, itemReg: Warn},
			detail: map[string]string{
				itemEndpoints: "token_endpoint \"http://auth.example.com/token\"",
				itemPKCE:      "refusing",
			},
		},
		{
			name: "issuer mismatch",
			url: func(t *testing.T) string {
				return oauthServer(t, func(rs string) string { return rs + "/mcp" }, func(m map[string]any) {
					m["issuer"] = "https://impostor.example.com"
				})
			},
			blocking: true,
			want:     expect{itemAuthServer: Fail},
			detail:   map[string]string{itemAuthServer: "impostor.example.com"},
		},
		{
			name: "unreachable",
			url: func(t *testing.T) string {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr := l.Addr().String()
				l.Close()
				return "http://" + addr + "/mcp"
			},
			blocking: true,
			want:     expect{itemServer: Fail},
			absent:   []string{itemChallenge},
			detail:   map[string]string{itemServer: "cannot reach the MCP server at http://127.0.0.1"},
			notIn:    map[string]string{itemServer: "requesting"},
		},
		{
			name: "not an MCP endpoint: 404 everywhere",
			url: func(t *testing.T) string {
				s, _ := server(t)
				return s.URL + "/nothing"
			},
			blocking: true,
			want:     expect{itemChallenge: Info, itemPRM: Fail, itemStreamable: Info, itemLegacySSE: Fail},
			absent:   []string{itemAuthServer},
			detail:   map[string]string{itemPRM: "check that the URL is its MCP endpoint", itemLegacySSE: "POST 404, GET 404"},
		},
		{
			name:     "insecure server URL",
			url:      func(*testing.T) string { return "http://mcp.example.com/mcp" },
			blocking: true,
			want:     expect{itemServer: Fail},
		},
		{
			name: "open Streamable HTTP server",
			url: func(t *testing.T) string {
				s, mux := server(t)
				mux.HandleFunc("POST /mcp", jsonDoc(map[string]any{"jsonrpc": "2.0", "id": 0, "result": map[string]any{}}))
				return s.URL + "/mcp"
			},
			want:   expect{itemChallenge: Info, itemPRM: Info, itemStreamable: OK},
			absent: []string{itemAuthServer, itemLegacySSE},
			detail: map[string]string{itemChallenge: "no authorization required", itemStreamable: "application/json"},
		},
		{
			name: "open legacy SSE server",
			url: func(t *testing.T) string {
				s, mux := server(t)
				mux.HandleFunc("GET /sse", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/event-stream")
					w.Write([]byte(": hello\n\nevent: endpoint\ndata: /message?sessionId=abc123\n\n"))
					w.(http.Flusher).Flush()
					<-r.Context().Done()
				})
				return s.URL + "/sse"
			},
			want:   expect{itemChallenge: Info, itemStreamable: Info, itemLegacySSE: OK},
			detail: map[string]string{itemLegacySSE: "/message?sessionId=***"},
		},
		{
			name: "SSE stream without an endpoint event",
			url: func(t *testing.T) string {
				s, mux := server(t)
				mux.HandleFunc("GET /sse", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/event-stream")
					w.Write([]byte(": keep-alive\n\n"))
					w.(http.Flusher).Flush()
					<-r.Context().Done()
				})
				return s.URL + "/sse"
			},
			blocking: true,
			want:     expect{itemLegacySSE: Fail},
			detail:   map[string]string{itemLegacySSE: "no endpoint event"},
		},
		{
			name: "2025-03-26 server with default endpoints",
			url: func(t *testing.T) string {
				s, mux := server(t)
				mux.HandleFunc("POST /mcp", challenge(""))
				return s.URL + "/mcp"
			},
			want:   expect{itemChallenge: Warn, itemPRM: Warn, itemAuthServer: Warn, itemEndpoints: OK, itemPKCE: Info, itemReg: Info, itemStreamable: Info},
			absent: []string{itemGrants, itemOffline, itemISS},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Run(t.Context(), nil, tt.url(t))
			got := findings(r)
			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			t.Logf("report:\n%s", text.String())
			if r.Blocking() != tt.blocking {
				t.Errorf("Blocking() = %v, want %v\n%s", r.Blocking(), tt.blocking, text.String())
			}
			for item, sev := range tt.want {
				if f, ok := got[item]; !ok || f.Severity != sev {
					t.Errorf("%s: got %v (present %v), want %v\n%s", item, f.Severity, ok, sev, text.String())
				}
			}
			for _, item := range tt.absent {
				if _, ok := got[item]; ok {
					t.Errorf("%s: present, want absent\n%s", item, text.String())
				}
			}
			for item, sub := range tt.detail {
				if !strings.Contains(got[item].Detail, sub) {
					t.Errorf("%s: detail %q lacks %q", item, got[item].Detail, sub)
				}
			}
			for item, sub := range tt.notIn {
				if strings.Contains(got[item].Detail, sub) {
					t.Errorf("%s: detail %q holds %q", item, got[item].Detail, sub)
				}
			}
		})
	}
}

func TestRunShowsNoSecret(t *testing.T) {
	u := oauthServer(t, func(rs string) string { return rs + "/mcp?key=SECRET" }, nil) + "?key=SECRET"
	r := Run(t.Context(), &discovery.Fetcher{}, u)
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	js, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if r.Blocking() {
		t.Errorf("a server URL with a query should still pass:\n%s", text.String())
	}
	if strings.Contains(text.String(), "SECRET") || bytes.Contains(js, []byte("SECRET")) {
		t.Errorf("the report shows the query value:\n%s\n%s", text.String(), js)
	}
}

func TestWriteTextAndJSON(t *testing.T) {
	r := &Report{ServerURL: "https://mcp.example.com/mcp", Findings: []Finding{
		{Item: "401 challenge", Severity: OK, Detail: `Bearer scope="a"`},
		{Item: "PKCE S256", Severity: Fail, Detail: "not advertised\nsecond line"},
		{Item: "grant types", Severity: Warn, Detail: "no refresh_token"},
		{Item: "offline_access", Severity: Info, Detail: "not listed"},
	}}
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `mcp-broker doctor: https://mcp.example.com/mcp

✔ 401 challenge   Bearer scope="a"
✘ PKCE S256       not advertised
                  second line
! grant types     no refresh_token
• offline_access  not listed

1 blocking problem(s): mcp-broker will not sign in to or connect to this server.
`
	if b.String() != want {
		t.Errorf("WriteText:\n%s\nwant:\n%s", b.String(), want)
	}
	js, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		Blocking bool `json:"blocking"`
		Findings []struct {
			Item, Severity, Detail string
		} `json:"findings"`
	}
	if err := json.Unmarshal(js, &decoded); err != nil {
		t.Fatal(err)
	}
	if !decoded.Blocking || len(decoded.Findings) != 4 || decoded.Findings[1].Severity != "fail" || decoded.Findings[3].Severity != "info" {
		t.Errorf("JSON = %s", js)
	}
}

// TestRunWithServer: with the configuration of the server, doctor judges its client's key
// (private_key_jwt) and its grant against what the authorization server advertises.
func TestRunWithServer(t *testing.T) {
	jwtAS := func(methods, algs []string, grants ...string) func(m map[string]any) {
		return func(m map[string]any) {
			m["token_endpoint_auth_methods_supported"] = methods
			if algs != nil {
				m["token_endpoint_auth_signing_alg_values_supported"] = algs
			}
			if grants != nil {
				m["grant_types_supported"] = grants
			}
		}
	}
	clientCredentials := func(clientAuth string) config.Server {
		return config.Server{Name: "s", Auth: config.AuthClientCredentials, ClientID: "c", ClientAuth: clientAuth}
	}
	keyed := func(alg string) Setup {
		return Setup{Server: clientCredentials(config.ClientAuthPrivateKeyJWT), KeyAlgorithm: alg}
	}
	tests := []struct {
		name     string
		as       func(m map[string]any)
		setup    *Setup
		want     map[string]Severity
		detail   map[string]string
		blocking bool
	}{
		{"the key fits", jwtAS([]string{"private_key_jwt"}, []string{"ES256"}, "client_credentials"), ptr(keyed("ES256")),
			map[string]Severity{itemClientKey: OK, itemGrants: OK},
			map[string]string{itemReg: "private_key_jwt signing algorithms: ES256", itemClientKey: "an ES256 key"}, false},
		{"an algorithm the server does not take", jwtAS([]string{"private_key_jwt"}, []string{"ES256"}, "client_credentials"), ptr(keyed("RS256")),
			map[string]Severity{itemClientKey: Fail}, map[string]string{itemClientKey: "ES256 only"}, true},
		{"no key stored", jwtAS([]string{"private_key_jwt"}, []string{"ES256"}, "client_credentials"), ptr(keyed("")),
			map[string]Severity{itemClientKey: Fail}, map[string]string{itemClientKey: "no private key is stored"}, true},
		{"the key unreadable", jwtAS([]string{"private_key_jwt"}, nil, "client_credentials"),
			&Setup{Server: clientCredentials(config.ClientAuthPrivateKeyJWT), KeyProblem: "the keychain is locked"},
			map[string]Severity{itemClientKey: Fail}, map[string]string{itemClientKey: "keychain is locked"}, true},
		{"private_key_jwt not accepted", jwtAS([]string{"client_secret_basic"}, nil, "client_credentials"), ptr(keyed("ES256")),
			map[string]Severity{itemClientKey: Fail}, map[string]string{itemClientKey: "does not accept"}, true},
		{"nothing advertised", jwtAS(nil, nil, "client_credentials"), ptr(keyed("ES256")),
			map[string]Severity{itemClientKey: Info}, map[string]string{itemClientKey: "does not advertise"}, false},
		{"a client secret, where keys are taken", jwtAS([]string{"client_secret_basic", "private_key_jwt"}, []string{"RS256"}, "client_credentials"),
			&Setup{Server: clientCredentials("")}, map[string]Severity{itemClientKey: Info}, map[string]string{itemClientKey: "accepts private_key_jwt, with RS256"}, false},
		{"no client_credentials grant", jwtAS([]string{"private_key_jwt"}, []string{"ES256"}, "authorization_code"), ptr(keyed("ES256")),
			map[string]Severity{itemGrants: Fail}, map[string]string{itemGrants: "no client_credentials"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := oauthServer(t, func(rs string) string { return rs + "/mcp" }, tt.as)
			setup := *tt.setup
			setup.Server.URL = u
			r := RunFor(t.Context(), nil, setup)
			var text bytes.Buffer
			r.WriteText(&text)
			got := findings(r)
			for item, sev := range tt.want {
				if f, ok := got[item]; !ok || f.Severity != sev {
					t.Errorf("%s: %v (present %v), want %v\n%s", item, f.Severity, ok, sev, text.String())
				}
			}
			for item, sub := range tt.detail {
				if !strings.Contains(got[item].Detail, sub) {
					t.Errorf("%s: %q lacks %q", item, got[item].Detail, sub)
				}
			}
			if r.Blocking() != tt.blocking {
				t.Errorf("Blocking() = %v, want %v\n%s", r.Blocking(), tt.blocking, text.String())
			}
		})
	}
	// Without the configuration there is no client to judge.
	u := oauthServer(t, func(rs string) string { return rs + "/mcp" }, jwtAS([]string{"private_key_jwt"}, []string{"ES256"}))
	if _, ok := findings(Run(t.Context(), nil, u))[itemClientKey]; ok {
		t.Error("a client key finding without a configured server")
	}
}

func ptr[T any](v T) *T { return &v }
