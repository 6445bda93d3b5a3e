package mcpserver_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// TestFullOAuthDance does by hand what the broker automates: 401, PRM, AS
// metadata, DCR, authorization with PKCE, token exchange, then MCP calls.
func TestFullOAuthDance(t *testing.T) {
	e := newEnv(t, func(o *mcpserver.Options) { o.ChallengeScope = "mcp:read" })

	// 1. The unauthenticated request is challenged.
	res := post(t, e.mcp.URL(), "", "", initializeBody)
	if res.status != http.StatusUnauthorized {
		t.Fatalf("initialize without token: %d", res.status)
	}
	m := regexp.MustCompile(`resource_metadata="([^"]+)"`).FindStringSubmatch(res.header.Get("WWW-Authenticate"))
	if m == nil {
		t.Fatalf("no resource_metadata in %q", res.header.Get("WWW-Authenticate"))
	}

	// 2. Protected Resource Metadata names this resource and the AS.
	status, prm := get(t, m[1])
	if status != http.StatusOK || prm["resource"] != e.mcp.URL() {
		t.Fatalf("PRM: %d resource %v, want %s", status, prm["resource"], e.mcp.URL())
	}
	servers, _ := prm["authorization_servers"].([]any)
	if len(servers) != 1 {
		t.Fatalf("authorization_servers = %v", prm["authorization_servers"])
	}
	issuer := servers[0].(string)

	// 3. Authorization server metadata.
	status, meta := get(t, issuer+"/.well-known/oauth-authorization-server")
	if status != http.StatusOK || meta["issuer"] != issuer {
		t.Fatalf("AS metadata: %d issuer %v", status, meta["issuer"])
	}
	if methods, _ := meta["code_challenge_methods_supported"].([]any); !slices.Contains(methods, any("S256")) {
		t.Fatalf("no S256 in %v", methods)
	}

	// 4. Dynamic Client Registration of a public client.
	regBody, _ := json.Marshal(map[string]any{
		"client_name": "dance", "redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "none",
		"grant_types": []string{"authorization_code", "refresh_token"}, "application_type": "native",
	})
	resp, err := http.Post(meta["registration_endpoint"].(string), "application/json", strings.NewReader(string(regBody)))
	if err != nil {
		t.Fatal(err)
	}
	var reg map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&reg); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	clientID := reg["client_id"].(string)

	// 5 and 6. Authorize (the "browser" stops at the loopback URI) and
	// exchange the code with PKCE and the resource.
	accessToken := tokenFor(t, issuer, clientID, e.mcp.URL(), "mcp:read")

	// 7. MCP over Streamable HTTP.
	sid := session(t, e.mcp.URL(), accessToken)
	res = post(t, e.mcp.URL(), accessToken, sid, toolsListBody)
	if res.status != http.StatusOK {
		t.Fatalf("tools/list: %d", res.status)
	}
	names := toolNames(t, res.msg)
	for _, want := range []string{"echo", "add", "whoami", "admin_action"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools/list lacks %s: %v", want, names)
		}
	}
	res = post(t, e.mcp.URL(), accessToken, sid, callBody(3, "whoami", `{}`))
	want := "client_id=" + clientID + " subject=" + authserver.DemoSubject + " scopes=mcp:read resource=" + e.mcp.URL()
	if got := toolText(t, res.msg); got != want {
		t.Errorf("whoami = %q, want %q", got, want)
	}
	res = post(t, e.mcp.URL(), accessToken, sid, callBody(4, "add", `{"a":2,"b":3.5}`))
	if got := toolText(t, res.msg); got != "5.5" {
		t.Errorf("add = %q, want 5.5", got)
	}
	if h := e.mcp.Hits(); h.Unauthorized != 1 || h.Authorized < 4 || !h.LastAuthorizationOK {
		t.Errorf("Hits = %+v", h)
	}
}

// TestMcpGoClients drives both transports with mcp-go's own clients.
func TestMcpGoClients(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name      string
		version   string // "" lets mcp-go try the stateless 2026-07-28 protocol first
		resource  string
		newClient func(token string) (*client.Client, error)
	}{
		{"streamable", protocolVersion, e.mcp.URL(), func(tok string) (*client.Client, error) {
			return client.NewStreamableHttpClient(e.mcp.URL(), transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + tok}))
		}},
		{"streamable modern", "", e.mcp.URL(), func(tok string) (*client.Client, error) {
			return client.NewStreamableHttpClient(e.mcp.URL(), transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + tok}))
		}},
		{"sse", protocolVersion, e.mcp.SSEURL(), func(tok string) (*client.Client, error) {
			return client.NewSSEMCPClient(e.mcp.SSEURL(), client.WithHeaders(map[string]string{"Authorization": "Bearer " + tok}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tokenFor(t, e.as.Issuer(), testClient, tt.resource, "mcp:read mcp:write")
			c, err := tt.newClient(tok)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			ctx := t.Context()
			if err := c.Start(ctx); err != nil {
				t.Fatalf("Start: %v", err)
			}
			init, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
				ProtocolVersion: tt.version, ClientInfo: mcp.Implementation{Name: "test", Version: "0"},
			}})
			if err != nil {
				t.Fatalf("Initialize: %v", err)
			}
			if tt.version == "" && init.ProtocolVersion != mcp.LATEST_PROTOCOL_VERSION {
				t.Errorf("negotiated %s, want %s", init.ProtocolVersion, mcp.LATEST_PROTOCOL_VERSION)
			}
			tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
			if err != nil || len(tools.Tools) != 4 {
				t.Fatalf("ListTools: %v, %d tools", err, len(tools.Tools))
			}
			call := mcp.CallToolRequest{}
			call.Params.Name = "whoami"
			r, err := c.CallTool(ctx, call)
			if err != nil {
				t.Fatalf("whoami: %v", err)
			}
			text := r.Content[0].(mcp.TextContent).Text
			if !strings.Contains(text, "scopes=mcp:read mcp:write resource="+tt.resource) {
				t.Errorf("whoami = %q", text)
			}
			call.Params.Name = "echo"
			call.Params.Arguments = map[string]any{"message": "hi there"}
			if r, err := c.CallTool(ctx, call); err != nil || r.Content[0].(mcp.TextContent).Text != "hi there" {
				t.Errorf("echo: %v %v", err, r)
			}
			if _, err := c.GetPrompt(ctx, mcp.GetPromptRequest{Params: mcp.GetPromptParams{Name: "greeting", Arguments: map[string]string{"name": "Ada"}}}); err != nil {
				t.Errorf("greeting: %v", err)
			}
			if rr, err := c.ReadResource(ctx, mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: "demo://readme"}}); err != nil || len(rr.Contents) != 1 {
				t.Errorf("readme: %v", err)
			}
		})
	}
}

func TestChallengePerPRMMode(t *testing.T) {
	tests := []struct {
		mode       mcpserver.PRMMode
		scope      string
		wantHeader string // with BASE for the base URL
		served     []string
		missing    []string
	}{
		{
			mode: mcpserver.PRMPathAndChallenge, scope: "mcp:read",
			wantHeader: `Bearer resource_metadata="BASE/.well-known/oauth-protected-resource/mcp", scope="mcp:read"`,
			served:     []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource/sse"},
			missing:    []string{"/.well-known/oauth-protected-resource"},
		},
		{
			mode:       mcpserver.PRMPathAndChallenge,
			wantHeader: `Bearer resource_metadata="BASE/.well-known/oauth-protected-resource/mcp"`,
			served:     []string{"/.well-known/oauth-protected-resource/mcp"},
		},
		{
			mode: mcpserver.PRMPathOnly, scope: "mcp:read mcp:write",
			wantHeader: `Bearer scope="mcp:read mcp:write"`,
			served:     []string{"/.well-known/oauth-protected-resource/mcp"},
			missing:    []string{"/.well-known/oauth-protected-resource"},
		},
		{
			mode:       mcpserver.PRMRootOnly,
			wantHeader: `Bearer`,
			served:     []string{"/.well-known/oauth-protected-resource"},
			missing:    []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource/sse"},
		},
		{
			mode:       mcpserver.PRMNone,
			wantHeader: `Bearer`,
			missing:    []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String()+"/"+tt.scope, func(t *testing.T) {
			e := newEnv(t, func(o *mcpserver.Options) { o.PRM = tt.mode; o.ChallengeScope = tt.scope })
			base := baseOf(e.mcp)
			res := post(t, e.mcp.URL(), "", "", initializeBody)
			want := strings.ReplaceAll(tt.wantHeader, "BASE", base)
			if res.status != http.StatusUnauthorized || res.header.Get("WWW-Authenticate") != want {
				t.Errorf("got %d %q, want 401 %q", res.status, res.header.Get("WWW-Authenticate"), want)
			}
			for _, p := range tt.served {
				status, prm := get(t, base+p)
				if status != http.StatusOK || prm["resource"] != e.mcp.URL() && prm["resource"] != e.mcp.SSEURL() {
					t.Errorf("GET %s: %d resource %v", p, status, prm["resource"])
				}
			}
			for _, p := range tt.missing {
				if status, _ := get(t, base+p); status != http.StatusNotFound {
					t.Errorf("GET %s: %d, want 404", p, status)
				}
			}
		})
	}
}

func TestPRMDocuments(t *testing.T) {
	e := newEnv(t, nil)
	for _, tt := range []struct{ path, resource string }{
		{e.mcp.PRMURL(mcpserver.PathMCP), e.mcp.URL()},
		{e.mcp.PRMURL(mcpserver.PathSSE), e.mcp.SSEURL()},
	} {
		status, prm := get(t, tt.path)
		if status != http.StatusOK || prm["resource"] != tt.resource {
			t.Errorf("GET %s: %d resource %v, want %s", tt.path, status, prm["resource"], tt.resource)
		}
		servers, _ := prm["authorization_servers"].([]any)
		if len(servers) != 1 || servers[0] != e.as.Issuer() {
			t.Errorf("authorization_servers = %v", servers)
		}
		scopes, _ := prm["scopes_supported"].([]any)
		if len(scopes) != 2 {
			t.Errorf("scopes_supported = %v", scopes)
		}
	}
	// The SSE transport's 401 names its own metadata.
	resp, err := http.Get(e.mcp.SSEURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := `Bearer resource_metadata="` + e.mcp.PRMURL(mcpserver.PathSSE) + `"`
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != want {
		t.Errorf("GET /sse: %d %q, want %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
	}
}

func TestWrongResource(t *testing.T) {
	e := newEnv(t, func(o *mcpserver.Options) { o.WrongResource = true })
	status, prm := get(t, e.mcp.PRMURL(mcpserver.PathMCP))
	if status != http.StatusOK || prm["resource"] != mcpserver.WrongResourceURL {
		t.Errorf("PRM resource = %v, want %s", prm["resource"], mcpserver.WrongResourceURL)
	}
}

func TestStepUp(t *testing.T) {
	e := newEnv(t, func(o *mcpserver.Options) { o.StepUpScope = "mcp:admin" })
	low := tokenFor(t, e.as.Issuer(), testClient, e.mcp.URL(), "mcp:read mcp:write")
	sid := session(t, e.mcp.URL(), low)

	wantHeader := `Bearer error="insufficient_scope", scope="mcp:read mcp:write mcp:admin", resource_metadata="` +
		e.mcp.PRMURL(mcpserver.PathMCP) + `"`
	for _, body := range []string{
		callBody(5, "admin_action", `{}`),
		"[" + callBody(6, "echo", `{"message":"x"}`) + "," + callBody(7, "admin_action", `{}`) + "]",
	} {
		res := post(t, e.mcp.URL(), low, sid, body)
		if res.status != http.StatusForbidden || res.header.Get("WWW-Authenticate") != wantHeader {
			t.Errorf("admin_action with low scope: %d %q, want 403 %q", res.status, res.header.Get("WWW-Authenticate"), wantHeader)
		}
	}
	// The body peek restores the body: other calls with the same token work.
	if res := post(t, e.mcp.URL(), low, sid, callBody(8, "echo", `{"message":"still here"}`)); toolText(t, res.msg) != "still here" {
		t.Errorf("echo after peek = %v", res.msg)
	}

	high := tokenFor(t, e.as.Issuer(), testClient, e.mcp.URL(), "mcp:read mcp:write mcp:admin")
	res := post(t, e.mcp.URL(), high, sid, callBody(9, "admin_action", `{}`))
	if res.status != http.StatusOK || toolText(t, res.msg) != "admin action done" {
		t.Errorf("admin_action with mcp:admin: %d %v", res.status, res.msg)
	}
	if h := e.mcp.Hits(); h.Forbidden != 2 {
		t.Errorf("Forbidden = %d, want 2", h.Forbidden)
	}

	t.Run("no step-up scope configured", func(t *testing.T) {
		e := newEnv(t, nil)
		tok := tokenFor(t, e.as.Issuer(), testClient, e.mcp.URL(), "mcp:read")
		sid := session(t, e.mcp.URL(), tok)
		if res := post(t, e.mcp.URL(), tok, sid, callBody(1, "admin_action", `{}`)); res.status != http.StatusOK {
			t.Errorf("admin_action: %d", res.status)
		}
	})
}

// TestStepUpMissingOnly: the 403 names only the scope the operation lacks.
func TestStepUpMissingOnly(t *testing.T) {
	e := newEnv(t, func(o *mcpserver.Options) { o.StepUpScope, o.StepUpMissingOnly = "mcp:admin", true })
	low := tokenFor(t, e.as.Issuer(), testClient, e.mcp.URL(), "mcp:read mcp:write")
	sid := session(t, e.mcp.URL(), low)
	want := `Bearer error="insufficient_scope", scope="mcp:admin", resource_metadata="` + e.mcp.PRMURL(mcpserver.PathMCP) + `"`
	if res := post(t, e.mcp.URL(), low, sid, callBody(1, "admin_action", `{}`)); res.status != http.StatusForbidden || res.header.Get("WWW-Authenticate") != want {
		t.Errorf("admin_action with low scope: %d %q, want 403 %q", res.status, res.header.Get("WWW-Authenticate"), want)
	}
}

// TestOpenInitialize: initialize and notifications need no token, anything else does, and its
// 401 carries the challenge scope.
func TestOpenInitialize(t *testing.T) {
	e := newEnv(t, func(o *mcpserver.Options) { o.OpenInitialize, o.ChallengeScope = true, "mcp:read" })
	sid := session(t, e.mcp.URL(), "")
	res := post(t, e.mcp.URL(), "", sid, toolsListBody)
	if res.status != http.StatusUnauthorized || !strings.Contains(res.header.Get("WWW-Authenticate"), `scope="mcp:read"`) {
		t.Fatalf("tools/list without a token: %d %q, want 401 with the scope", res.status, res.header.Get("WWW-Authenticate"))
	}
	tok := tokenFor(t, e.as.Issuer(), testClient, e.mcp.URL(), "mcp:read")
	if res := post(t, e.mcp.URL(), tok, sid, toolsListBody); res.status != http.StatusOK || len(toolNames(t, res.msg)) == 0 {
		t.Errorf("tools/list with a token in the session opened without one: %d %v", res.status, res.msg)
	}
}

func TestAudienceAndTokenChecks(t *testing.T) {
	e := newEnv(t, nil)
	mcpToken := tokenFor(t, e.as.Issuer(), testClient, e.mcp.URL(), "mcp:read")
	sseToken := tokenFor(t, e.as.Issuer(), testClient, e.mcp.SSEURL(), "mcp:read")
	unbound := tokenFor(t, e.as.Issuer(), testClient, "", "mcp:read")
	other := tokenFor(t, e.as.Issuer(), testClient, "http://127.0.0.1:1/mcp", "mcp:read")
	revoked := tokenFor(t, e.as.Issuer(), testClient, e.mcp.URL(), "mcp:read")

	tests := []struct {
		name       string
		header     string
		url        string
		wantStatus int
		wantError  string
	}{
		{"valid", "Bearer " + mcpToken, e.mcp.URL(), http.StatusOK, ""},
		{"scheme is case-insensitive", "bearer " + mcpToken, e.mcp.URL(), http.StatusOK, ""},
		{"token for the SSE resource", "Bearer " + sseToken, e.mcp.URL(), http.StatusUnauthorized, "invalid_token"},
		{"token for /mcp at /sse", "Bearer " + mcpToken, e.mcp.SSEURL(), http.StatusUnauthorized, "invalid_token"},
		{"token without resource", "Bearer " + unbound, e.mcp.URL(), http.StatusUnauthorized, "invalid_token"},
		{"token for another server", "Bearer " + other, e.mcp.URL(), http.StatusUnauthorized, "invalid_token"},
		{"unknown token", "Bearer nope", e.mcp.URL(), http.StatusUnauthorized, "invalid_token"},
		{"revoked token", "Bearer " + revoked, e.mcp.URL(), http.StatusUnauthorized, "invalid_token"},
		{"basic auth", "Basic dXNlcjpwdw==", e.mcp.URL(), http.StatusUnauthorized, ""},
		{"no header", "", e.mcp.URL(), http.StatusUnauthorized, ""},
		{"token in query only", "", e.mcp.URL() + "?access_token=" + url.QueryEscape(mcpToken), http.StatusUnauthorized, ""},
	}
	// The cases run in order: "revoked token" calls RevokeAll, and no later
	// case needs a valid token.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "revoked token" {
				e.as.RevokeAll()
			}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, tt.url, strings.NewReader(initializeBody))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			if tt.url == e.mcp.SSEURL() {
				req.Method = http.MethodGet
				req.Body = http.NoBody
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			h := resp.Header.Get("WWW-Authenticate")
			hasErr := strings.Contains(h, `error="`)
			if tt.wantError != "" && !strings.Contains(h, `error="`+tt.wantError+`"`) || tt.wantError == "" && hasErr {
				t.Errorf("WWW-Authenticate = %q, want error %q", h, tt.wantError)
			}
		})
	}
	if h := e.mcp.Hits(); h.TokenInQuery != 1 || h.LastAuthorizationOK {
		t.Errorf("Hits = %+v, want TokenInQuery 1 and last not OK", h)
	}
}

func TestNoAuth(t *testing.T) {
	e := newEnv(t, func(o *mcpserver.Options) { o.NoAuth = true })
	sid := session(t, e.mcp.URL(), "")
	res := post(t, e.mcp.URL(), "", sid, callBody(2, "whoami", `{}`))
	if res.status != http.StatusOK || !strings.HasPrefix(toolText(t, res.msg), "anonymous") {
		t.Errorf("whoami without auth: %d %v", res.status, res.msg)
	}
	if status, _ := get(t, e.mcp.PRMURL(mcpserver.PathMCP)); status != http.StatusNotFound {
		t.Errorf("PRM with NoAuth: %d, want 404", status)
	}
}

// TestPRMNoneSharedOrigin is the 2025-03-26 arrangement: no PRM, and the
// authorization server at the MCP server's origin.
func TestPRMNoneSharedOrigin(t *testing.T) {
	ln, err := authserver.ListenLoopback("")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	as := authserver.New(authserver.Options{BaseURL: base, AutoApprove: true})
	as.RegisterClient(authserver.Client{ID: testClient, RedirectURIs: []string{redirectURI}})
	srv := mcpserver.New(mcpserver.Options{Verifier: as, PRM: mcpserver.PRMNone, Fallback: as.Handler()})
	if got, err := srv.Serve(ln); err != nil || got != base {
		t.Fatalf("Serve = %q, %v", got, err)
	}
	t.Cleanup(func() { _ = srv.Close() })

	res := post(t, srv.URL(), "", "", initializeBody)
	if res.status != http.StatusUnauthorized || res.header.Get("WWW-Authenticate") != "Bearer" {
		t.Fatalf("challenge: %d %q", res.status, res.header.Get("WWW-Authenticate"))
	}
	status, meta := get(t, base+"/.well-known/oauth-authorization-server")
	if status != http.StatusOK || meta["issuer"] != base || meta["authorization_endpoint"] != base+"/authorize" {
		t.Fatalf("AS metadata at the MCP origin: %d %v", status, meta)
	}
	tok := tokenFor(t, base, testClient, srv.URL(), "mcp:read")
	sid := session(t, srv.URL(), tok)
	if res := post(t, srv.URL(), tok, sid, toolsListBody); res.status != http.StatusOK {
		t.Errorf("tools/list: %d", res.status)
	}
}

func TestExpireSessions(t *testing.T) {
	e := newEnv(t, nil)
	tok := tokenFor(t, e.as.Issuer(), testClient, e.mcp.URL(), "mcp:read")
	sid := session(t, e.mcp.URL(), tok)
	if res := post(t, e.mcp.URL(), tok, sid, toolsListBody); res.status != http.StatusOK {
		t.Fatalf("tools/list: %d", res.status)
	}
	if n := e.mcp.ExpireSessions(); n != 1 {
		t.Errorf("ExpireSessions = %d, want 1", n)
	}
	if res := post(t, e.mcp.URL(), tok, sid, toolsListBody); res.status != http.StatusNotFound {
		t.Errorf("tools/list with expired session: %d, want 404", res.status)
	}
	// A new session works; DELETE ends it.
	sid = session(t, e.mcp.URL(), tok)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodDelete, e.mcp.URL(), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Mcp-Session-Id", sid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
	if res := post(t, e.mcp.URL(), tok, sid, toolsListBody); res.status != http.StatusNotFound {
		t.Errorf("tools/list after DELETE: %d, want 404", res.status)
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		s := mcpserver.New(mcpserver.Options{NoAuth: true})
		if base, err := s.Start(addr); err == nil {
			_ = s.Close()
			t.Errorf("Start(%q) = %s, want an error", addr, base)
		}
	}
}

// Close must not hang on an open SSE stream.
func TestCloseCutsOpenStreams(t *testing.T) {
	as := authserver.New(authserver.Options{AutoApprove: true})
	if _, err := as.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = as.Close() })
	as.RegisterClient(authserver.Client{ID: testClient, RedirectURIs: []string{redirectURI}})
	srv := mcpserver.New(mcpserver.Options{Verifier: as})
	if _, err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	tok := tokenFor(t, as.Issuer(), testClient, srv.SSEURL(), "")

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.SSEURL(), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "event: endpoint\n" {
		t.Fatalf("first SSE line %q, %v", line, err)
	}

	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung with an SSE stream open")
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
