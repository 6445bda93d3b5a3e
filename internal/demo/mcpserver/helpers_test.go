package mcpserver_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

const (
	// redirectURI is the loopback redirect URI of the test clients.
	redirectURI = "http://127.0.0.1:53682/callback"
	// testClient is a public client pre-registered on every test AS.
	testClient = "test-client"
	// protocolVersion is the MCP revision the raw requests speak.
	protocolVersion = "2025-06-18"
)

// env is an authorization server and an MCP server that trusts it.
type env struct {
	as  *authserver.Server
	mcp *mcpserver.Server
}

// newEnv starts both servers on 127.0.0.1. edit adjusts the MCP options
// (Verifier and AuthServers are preset).
func newEnv(t *testing.T, edit func(*mcpserver.Options)) *env {
	t.Helper()
	as := authserver.New(authserver.Options{AutoApprove: true})
	if _, err := as.Start(""); err != nil {
		t.Fatalf("starting AS: %v", err)
	}
	t.Cleanup(func() { _ = as.Close() })
	as.RegisterClient(authserver.Client{ID: testClient, Name: "test", RedirectURIs: []string{redirectURI}})

	opts := mcpserver.Options{
		Verifier:    as,
		AuthServers: []string{as.Issuer()},
		Scopes:      []string{"mcp:read", "mcp:write"},
	}
	if edit != nil {
		edit(&opts)
	}
	srv := mcpserver.New(opts)
	if _, err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting MCP server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("closing MCP server: %v", err)
		}
	})
	return &env{as: as, mcp: srv}
}

// browser follows redirects until the loopback redirect URI.
var browser = &http.Client{
	Timeout: 10 * time.Second,
	CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirectURI) {
			return http.ErrUseLastResponse
		}
		return nil
	},
}

func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// tokenFor runs the code flow with the pre-registered client at the AS whose
// endpoints are under issuer, for resource ("" = none) and scope, and
// returns the access token.
func tokenFor(t *testing.T, issuer, clientID, resource, scope string) string {
	t.Helper()
	verifier, challenge := pkce()
	q := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"xyz"}, "scope": {scope},
	}
	if resource != "" {
		q.Set("resource", resource)
	}
	resp, err := browser.Get(issuer + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "xyz" {
		t.Fatalf("authorize: %d, no code in redirect", resp.StatusCode)
	}
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "code_verifier": {verifier},
		"redirect_uri": {redirectURI}, "client_id": {clientID},
	}
	if resource != "" {
		form.Set("resource", resource)
	}
	resp, err = http.PostForm(issuer+"/token", form)
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: status %d error %q (%v)", resp.StatusCode, tok.Error, err)
	}
	return tok.AccessToken
}

// rpcResult is a response from the Streamable HTTP endpoint.
type rpcResult struct {
	status    int
	header    http.Header
	sessionID string
	msg       map[string]any // the JSON-RPC response, if any
}

// post sends one JSON-RPC message to u with the bearer token (if any) and
// the session id (if any), and decodes a JSON or SSE answer.
func post(t *testing.T, u, token, sessionID, body string) rpcResult {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if sessionID != "" {
		req.Header.Set("Mcp-Session-Id", sessionID)
		req.Header.Set("Mcp-Protocol-Version", protocolVersion)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	res := rpcResult{status: resp.StatusCode, header: resp.Header, sessionID: resp.Header.Get("Mcp-Session-Id")}
	if resp.StatusCode != http.StatusOK {
		return res
	}
	data := raw
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		data = nil
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data:"); ok && strings.TrimSpace(d) != "" {
				data = []byte(d) // the last data line is the response
			}
		}
	}
	if err := json.Unmarshal(data, &res.msg); err != nil {
		t.Fatalf("decoding JSON-RPC answer %q: %v", raw, err)
	}
	return res
}

const (
	initializeBody  = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + protocolVersion + `","capabilities":{},"clientInfo":{"name":"test","version":"0"}}}`
	initializedBody = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	toolsListBody   = `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
)

func callBody(id int, tool string, args string) string {
	return `{"jsonrpc":"2.0","id":` + itoa(id) + `,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `}}`
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// session initializes a Streamable HTTP session and returns its id.
func session(t *testing.T, u, token string) string {
	t.Helper()
	res := post(t, u, token, "", initializeBody)
	if res.status != http.StatusOK || res.sessionID == "" {
		t.Fatalf("initialize: status %d session %q", res.status, res.sessionID)
	}
	if res := post(t, u, token, res.sessionID, initializedBody); res.status != http.StatusAccepted {
		t.Fatalf("initialized: status %d", res.status)
	}
	return res.sessionID
}

// toolNames lists the tools in a tools/list response.
func toolNames(t *testing.T, msg map[string]any) []string {
	t.Helper()
	result, _ := msg["result"].(map[string]any)
	tools, _ := result["tools"].([]any)
	var names []string
	for _, tl := range tools {
		m, _ := tl.(map[string]any)
		name, _ := m["name"].(string)
		names = append(names, name)
	}
	if len(names) == 0 {
		t.Fatalf("no tools in %v", msg)
	}
	return names
}

// toolText returns the first text content of a tools/call response.
func toolText(t *testing.T, msg map[string]any) string {
	t.Helper()
	result, _ := msg["result"].(map[string]any)
	content, _ := result["content"].([]any)
	if len(content) == 0 {
		t.Fatalf("no content in %v", msg)
	}
	first, _ := content[0].(map[string]any)
	text, _ := first["text"].(string)
	return text
}

// get fetches u without auth.
func get(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]any{}
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatalf("decoding %s: %v", u, err)
		}
	}
	return resp.StatusCode, m
}

// baseOf cuts "/mcp" off the MCP URL.
func baseOf(s *mcpserver.Server) string { return strings.TrimSuffix(s.URL(), mcpserver.PathMCP) }
