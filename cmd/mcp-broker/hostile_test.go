package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
)

// hostileEnv is a CLI whose every trace can be searched afterwards: a file secret store, debug
// logs, the bridge's log file, and private runtime, cache, home and project folders. It keeps
// every output the test captured and every secret the broker held or the test injected, so that
// checkLeaks can grep all of them for all of the secrets.
type hostileEnv struct {
	*cli
	home, logFile, runtime string
	dirs                   []string // searched by checkLeaks besides the config folder

	mu      sync.Mutex
	outputs map[string]string // what -> text
	secrets []string
	// inURL are secrets the test put in a server's URL: config.json holds them by design.
	inURL []string
}

func newHostileEnv(t *testing.T) *hostileEnv {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := &hostileEnv{outputs: map[string]string{}}
	runtime, cache, logs := filepath.Join(root, "run"), filepath.Join(root, "cache"), filepath.Join(root, "logs")
	h.home = filepath.Join(root, "home")
	for _, d := range []string{runtime, cache, logs, h.home} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	h.logFile, h.runtime = filepath.Join(logs, "bridge.log"), runtime
	h.dirs = []string{runtime, cache, logs, h.home}
	h.cli = newBinaryCLI(t, "MCP_BROKER_SECRET_STORE=file", "MCP_BROKER_LOG=debug", "MCP_BROKER_LOG_FILE="+h.logFile,
		"XDG_RUNTIME_DIR="+runtime, "MCP_BROKER_RUNTIME_DIR=", "XDG_CACHE_HOME="+cache, "MCP_BROKER_SERVER=",
		"HOME="+h.home, "CLAUDE_CONFIG_DIR=")
	return h
}

// inject records a secret the test itself gave the broker.
func (h *hostileEnv) inject(secret string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.secrets = append(h.secrets, secret)
	return secret
}

// injectURL records a secret the test put in a server URL's query.
func (h *hostileEnv) injectURL(secret string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inURL = append(h.inURL, secret)
	return secret
}

// noteSecrets records every secret the file store holds now: whole items, and the tokens and
// client secrets inside them.
func (h *hostileEnv) noteSecrets() []string {
	h.t.Helper()
	var found []string
	filepath.WalkDir(filepath.Join(h.dir, "secrets"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		found = append(found, string(b))
		var fields map[string]any
		if json.Unmarshal(b, &fields) == nil {
			for k, v := range fields {
				if s, ok := v.(string); ok && len(s) >= 8 && (strings.Contains(k, "token") || strings.Contains(k, "secret")) {
					found = append(found, s)
				}
			}
		}
		return nil
	})
	h.mu.Lock()
	h.secrets = append(h.secrets, found...)
	h.mu.Unlock()
	return found
}

func (h *hostileEnv) record(what, text string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.outputs[fmt.Sprintf("%02d %s", len(h.outputs), what)] = text
}

func (h *hostileEnv) run(stdin string, args ...string) result {
	h.t.Helper()
	r := h.cli.run(stdin, args...)
	h.record(strings.Join(args[:min(2, len(args))], " "), r.stdout+r.stderr)
	return r
}

func (h *hostileEnv) ok(stdin string, args ...string) result {
	h.t.Helper()
	r := h.run(stdin, args...)
	if r.code != 0 {
		h.t.Fatalf("mcp-broker %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func (h *hostileEnv) login(name string, visit func(string), extra ...string) result {
	h.t.Helper()
	r := h.cli.login(name, visit, extra...)
	h.record("login "+name, r.stdout+r.stderr)
	return r
}

// finish records the live bridge's status files (it removes them as it exits), then waits for
// it to exit and records its stderr.
func (h *hostileEnv) finish(p *bridgeProc) {
	h.t.Helper()
	live := 0
	filepath.WalkDir(h.runtime, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			b, _ := os.ReadFile(path)
			h.record("live "+path, string(b))
			live++
		}
		return nil
	})
	if live == 0 {
		h.t.Error("no status file while the bridge ran: the leak check would miss it")
	}
	p.stdin.Close()
	p.waitExit(time.Now())
	h.record("bridge stderr", p.stderr.String())
}

// answer records and returns a bridge's answer.
func (h *hostileEnv) answer(p *bridgeProc, id float64) map[string]any {
	h.t.Helper()
	m := p.recvID(id)
	b, _ := json.Marshal(m)
	h.record(fmt.Sprintf("bridge answer %v", id), string(b))
	return m
}

// checkLeaks greps every secret over every output captured and every file the test's broker
// wrote, except the secret store itself.
func (h *hostileEnv) checkLeaks() {
	h.t.Helper()
	h.noteSecrets()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.secrets)+len(h.inURL) == 0 {
		h.t.Fatal("no secrets to look for: the leak check would prove nothing")
	}
	texts := map[string]string{}
	for what, out := range h.outputs {
		texts[what] = out
	}
	files := 0
	for _, root := range append([]string{h.dir}, h.dirs...) {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && p == filepath.Join(h.dir, "secrets") {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() {
				b, _ := os.ReadFile(p)
				texts[p] = string(b)
				files++
			}
			return nil
		})
	}
	if files == 0 {
		h.t.Error("the broker wrote no file at all: the leak check would prove nothing")
	}
	config := filepath.Join(h.dir, "config.json")
	for what, text := range texts {
		for _, secret := range h.secrets {
			if secret != "" && strings.Contains(text, secret) {
				h.t.Errorf("%s holds a secret (%d bytes, starting %.4q)", what, len(secret), secret)
			}
		}
		// Only config.json holds the URL as it was written; every output (servers add and
		// list, status, logs, errors, status files) shows it redacted.
		showsConfig := what == config
		for _, secret := range h.inURL {
			if !showsConfig && strings.Contains(text, secret) {
				h.t.Errorf("%s holds the secret of a URL's query (%.4q...)", what, secret)
			}
		}
	}
	if len(h.inURL) > 0 {
		if b, _ := os.ReadFile(config); !strings.Contains(string(b), h.inURL[0]) {
			h.t.Error("config.json lost the URL's query")
		}
	}
}

// errText returns the message of a JSON-RPC error answer, or of an isError tool result; "" for
// a success.
func errText(m map[string]any) string {
	if e, ok := m["error"].(map[string]any); ok {
		b, _ := json.Marshal(e)
		return string(b)
	}
	if r, ok := m["result"].(map[string]any); ok && r["isError"] == true {
		b, _ := json.Marshal(r)
		return string(b)
	}
	return ""
}

// TestHostileInputs drives the real binary into hostile servers and files: each scenario ends
// with a clear error, loses nothing, and leaves no secret in any output, file or log.
func TestHostileInputs(t *testing.T) {
	t.Run("redirect", func(t *testing.T) {
		h := newHostileEnv(t)
		key := h.inject("HOSTILE-api-key-6f1d2c")
		marker := h.injectURL("HOSTILE-query-9a8b7c")
		var elsewhere atomic.Int32
		var carried atomic.Int32
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			elsewhere.Add(1)
			if r.Header.Get("X-API-Key") != "" || r.Header.Get("Authorization") != "" || strings.Contains(r.URL.RawQuery, marker) {
				carried.Add(1)
			}
			http.Error(w, "nothing here", http.StatusNotFound)
		}))
		t.Cleanup(other.Close)
		hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The query too: a Location that repeats it must not carry it into an error.
			http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		}))
		t.Cleanup(hostile.Close)

		h.ok(key+"\n", "servers", "add", "redir", hostile.URL+"/mcp?api_key="+marker, "--auth", "bearer", "--header", "X-API-Key", "--token-stdin")
		p := h.startBridge("--server", "redir")
		p.send(e2eInitialize)
		init := h.answer(p, 0)
		p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
		p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
		list := h.answer(p, 1)
		h.finish(p)

		msg := errText(init) + errText(list)
		t.Logf("the client's error: %s", msg)
		if msg == "" {
			t.Fatalf("the client got no error: initialize %v, tools/list %v", init, list)
		}
		if !strings.Contains(msg, hostile.URL) || !strings.Contains(msg, other.URL) || !strings.Contains(msg, "redirect") {
			t.Errorf("the error does not name the redirect and both origins (%s, %s):\n%s", hostile.URL, other.URL, msg)
		}
		if n := carried.Load(); n != 0 {
			t.Errorf("%d requests carried the key or the URL's secret to the other origin (%d requests there)", n, elsewhere.Load())
		}
		if vals := h.noteSecrets(); len(vals) != 1 || vals[0] != key {
			t.Errorf("the stored key was lost or changed: %d secrets stored", len(vals))
		}
		h.checkLeaks()
	})

	t.Run("symlinks", func(t *testing.T) {
		h := newHostileEnv(t)
		h.inject("HOSTILE-unused-token-51ab") // a secret of another server, never to be shown
		h.ok("HOSTILE-unused-token-51ab\n", "servers", "add", "keyed", "https://keyed.example.com/mcp", "--auth", "bearer", "--token-stdin")
		h.ok("", "servers", "add", "studio", "https://mcp.example.com/mcp")
		root := filepath.Dir(h.home)
		outside := filepath.Join(root, "outside")
		os.Mkdir(outside, 0o700)
		const victimText = "victim: must not change\n"
		victimBak, victimCfg := filepath.Join(outside, "victim-bak.txt"), filepath.Join(outside, "victim.json")
		os.WriteFile(victimBak, []byte(victimText), 0o600)
		os.WriteFile(victimCfg, []byte(`{"mcpServers":{}}`+"\n"), 0o600)

		// A project whose .mcp.json.bak leads outside: the backup must not be written through it.
		bakProject, linkProject := filepath.Join(root, "proj-bak"), filepath.Join(root, "proj-link")
		h.dirs = append(h.dirs, bakProject, linkProject, outside)
		os.Mkdir(bakProject, 0o755)
		const oldProject = `{"mcpServers":{"other":{"type":"http","url":"https://o.example.com/mcp"}}}` + "\n"
		os.WriteFile(filepath.Join(bakProject, ".mcp.json"), []byte(oldProject), 0o644)
		if err := os.Symlink(victimBak, filepath.Join(bakProject, ".mcp.json.bak")); err != nil {
			t.Fatal(err)
		}
		r := h.run("", "claude", "add", "studio", "--scope", "project", "--dir", bakProject)
		t.Logf(".mcp.json.bak linking outside: exit %d: %s%s", r.code, r.stdout, r.stderr)
		if got, _ := os.ReadFile(victimBak); string(got) != victimText {
			t.Errorf("the file .mcp.json.bak links to was written: %q", got)
		}
		if r.code == 0 {
			// The backup it announces must be there, in the project, with the old file.
			fi, err := os.Lstat(filepath.Join(bakProject, ".mcp.json.bak"))
			if got, _ := os.ReadFile(filepath.Join(bakProject, ".mcp.json.bak")); err != nil || !fi.Mode().IsRegular() || string(got) != oldProject {
				t.Errorf("the backup claude add announced is not the old .mcp.json in the project: %v, %q", err, got)
			}
		}
		if r.code == 0 {
			if e := entry(t, filepath.Join(bakProject, ".mcp.json"), "", "studio"); e == nil {
				t.Errorf("claude add succeeded but .mcp.json has no entry; stdout %s", r.stdout)
			}
			if e := entry(t, filepath.Join(bakProject, ".mcp.json"), "", "other"); e == nil {
				t.Error("the project's other server was lost")
			}
		} else if !strings.Contains(r.stderr, ".mcp.json.bak") {
			t.Errorf("claude add refused without naming the backup link: exit %d: %s", r.code, r.stderr)
		}

		// A project whose .mcp.json leads outside: refused, the target untouched.
		os.Mkdir(linkProject, 0o755)
		if err := os.Symlink(victimCfg, filepath.Join(linkProject, ".mcp.json")); err != nil {
			t.Fatal(err)
		}
		r = h.run("", "claude", "add", "studio", "--scope", "project", "--dir", linkProject)
		t.Logf(".mcp.json linking outside: exit %d: %s", r.code, r.stderr)
		if r.code == 0 || !strings.Contains(r.stderr, "link") {
			t.Errorf("a .mcp.json linking out of the project: exit %d, stderr %q", r.code, r.stderr)
		}
		if got, _ := os.ReadFile(victimCfg); string(got) != `{"mcpServers":{}}`+"\n" {
			t.Errorf("the file .mcp.json links to was written: %q", got)
		}
		if _, err := os.Lstat(filepath.Join(outside, "victim.json.bak")); err == nil {
			t.Error("a backup was written outside the project")
		}
		h.checkLeaks()
	})

	t.Run("issuer switch", func(t *testing.T) {
		h := newHostileEnv(t)
		secret := h.inject("HOSTILE-client-secret-3e4f5a")
		var ases [2]*authserver.Server
		var mcps [2]*mcpserver.Server
		for i := range ases {
			ases[i] = authserver.New(authserver.Options{AutoApprove: true})
			if _, err := ases[i].Start("127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ases[i].Close() })
			ases[i].RegisterClient(authserver.Client{ID: "pre", Secret: secret, RedirectURIs: []string{"http://127.0.0.1/callback"}})
			mcps[i] = mcpserver.New(mcpserver.Options{Verifier: ases[i], AuthServers: []string{ases[i].Issuer()}})
		}
		var current atomic.Int32
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mcps[current.Load()].Handler().ServeHTTP(w, r)
		}))
		t.Cleanup(front.Close)

		h.ok(secret+"\n", "servers", "add", "demo", front.URL+mcpserver.PathMCP, "--client-id", "pre", "--client-secret-stdin")
		if r := h.login("demo", follow(t)); r.code != 0 {
			t.Fatalf("first login: exit %d\n%s", r.code, r.stderr)
		}
		before := h.noteSecrets()
		current.Store(1)
		r := h.run("", "login", "demo", "--no-browser")
		t.Logf("login: exit %d: %s", r.code, r.stderr)
		if r.code == 0 || !strings.Contains(r.stderr, ases[0].Issuer()) || !strings.Contains(r.stderr, ases[1].Issuer()) {
			t.Errorf("login after the issuer switch must fail naming both issuers (%s, %s): exit %d\nstderr: %s", ases[0].Issuer(), ases[1].Issuer(), r.code, r.stderr)
		}
		for _, req := range ases[1].Requests() {
			if req.Form.Has("client_secret") || req.AuthMethod == authserver.AuthClientSecretBasic || req.AuthMethod == authserver.AuthClientSecretPost {
				t.Errorf("the new issuer received the client secret at %s", req.Endpoint)
			}
		}
		if n := len(ases[1].Requests()); n != 0 {
			t.Errorf("the new issuer received %d requests", n)
		}
		after := h.noteSecrets()
		for _, s := range before {
			if !strings.Contains(strings.Join(after, "\n"), s) {
				t.Error("a stored secret was lost or changed by the refused login")
			}
		}
		var list []map[string]any
		if err := json.Unmarshal([]byte(h.ok("", "servers", "list", "--json").stdout), &list); err != nil || len(list) != 1 || list[0]["url"] != front.URL+mcpserver.PathMCP {
			t.Errorf("servers after the refused login = %v (%v)", list, err)
		}
		h.checkLeaks()
	})

	t.Run("URL change", func(t *testing.T) {
		h := newHostileEnv(t)
		_, m1 := servers(t, authserver.Options{AutoApprove: true}, mcpserver.Options{})
		_, m2 := servers(t, authserver.Options{AutoApprove: true}, mcpserver.Options{})
		h.ok("", "servers", "add", "demo", m1.URL())
		if r := h.login("demo", follow(t)); r.code != 0 {
			t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
		}
		var oldTokens []string
		filepath.WalkDir(filepath.Join(h.dir, "secrets"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(p)
				var tok struct {
					AccessToken string `json:"access_token"`
				}
				if json.Unmarshal(b, &tok) == nil && tok.AccessToken != "" {
					oldTokens = append(oldTokens, tok.AccessToken)
				}
			}
			return nil
		})
		h.noteSecrets()
		if len(oldTokens) != 1 {
			t.Fatalf("%d access tokens stored after login, want 1", len(oldTokens))
		}
		p := h.startBridge("--server", "demo", "--no-browser")
		p.send(e2eInitialize)
		h.answer(p, 0)
		p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
		p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`)
		if a := h.answer(p, 1); errText(a) != "" {
			t.Fatalf("whoami before the change: %v", a)
		}

		h.ok("", "servers", "add", "demo", m2.URL())
		// The running bridge must not take the change to the new server: whatever it answers
		// (its cached credential may still serve the old server), nothing reaches m2.
		p.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`)
		a := h.answer(p, 2)
		t.Logf("a call after the URL changed: %v", a)
		if msg := errText(a); msg == "" && !strings.Contains(fmt.Sprint(a), "resource="+m1.URL()) {
			t.Errorf("after the URL changed, a running bridge answered from somewhere other than the old server: %v", a)
		}
		h.finish(p)
		if st := h.status(); len(st.Servers) != 1 || st.Servers[0].SignedIn {
			t.Errorf("status after the URL change = %+v", st.Servers)
		}
		h.record("status", h.cli.ok("", "status").stdout)
		for _, s := range h.secretValues() {
			if strings.Contains(s, oldTokens[0]) {
				t.Error("the old URL's token is still stored")
			}
		}
		if h2 := m2.Hits(); h2.Authorized+h2.Unauthorized != 0 {
			t.Errorf("the running bridge sent requests to the new URL: %+v", h2)
		}
		h.checkLeaks()
	})

	t.Run("oversized tokens", func(t *testing.T) {
		// The authorization server's token endpoint pads every access token to more than
		// 16 KiB, more than a macOS or Windows keychain item holds; the resource server takes
		// the padding off before it checks the token.
		h := newHostileEnv(t)
		as := authserver.New(authserver.Options{AutoApprove: true})
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/token") {
				as.Handler().ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			as.Handler().ServeHTTP(rec, r)
			var body map[string]any
			if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &body) == nil {
				if tok, ok := body["access_token"].(string); ok {
					body["access_token"] = tok + hugePad
				}
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(rec.Code)
			json.NewEncoder(w).Encode(body)
		}))
		t.Cleanup(front.Close)
		m := mcpserver.New(mcpserver.Options{Verifier: padVerifier{as}, AuthServers: []string{front.URL}})
		if _, err := m.Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })

		h.ok("", "servers", "add", "big", m.URL())
		if r := h.login("big", follow(t)); r.code != 0 {
			t.Fatalf("login with a 16 KiB token: exit %d\n%s", r.code, r.stderr)
		}
		var stored []string
		for _, s := range h.noteSecrets() {
			if strings.HasSuffix(s, hugePad) {
				stored = append(stored, s)
			}
		}
		if len(stored) != 1 || len(stored[0]) <= 16<<10 {
			t.Fatalf("the 16 KiB access token was not stored whole (%d found)", len(stored))
		}
		if st := h.status(); !st.Servers[0].SignedIn {
			t.Errorf("status = %+v", st.Servers[0])
		}
		p := h.startBridge("--server", "big", "--no-browser")
		p.send(e2eInitialize)
		h.answer(p, 0)
		p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
		p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`)
		if a := h.answer(p, 1); errText(a) != "" || !strings.Contains(fmt.Sprint(a), "subject=demo-user") {
			t.Errorf("whoami with the 16 KiB token: %v", a)
		}
		h.finish(p)
		if hits := m.Hits(); hits.Authorized == 0 || !hits.LastAuthorizationOK {
			t.Errorf("the server never accepted the whole token: %+v", hits)
		}
		h.checkLeaks()
	})

	t.Run("forged callback", func(t *testing.T) {
		h := newHostileEnv(t)
		as, m := servers(t, authserver.Options{AutoApprove: true}, mcpserver.Options{})
		h.ok("", "servers", "add", "demo", m.URL())
		var forgedStatus atomic.Int32
		r := h.login("demo", func(authURL string) {
			u, err := url.Parse(authURL)
			if err != nil {
				t.Errorf("the sign-in URL: %v", err)
				return
			}
			redirect := u.Query().Get("redirect_uri")
			if !strings.HasPrefix(redirect, "http://127.0.0.1:") {
				t.Errorf("redirect_uri = %q", redirect)
				return
			}
			resp, err := http.Get(redirect + "?code=HOSTILE-forged-code&state=forged-state")
			if err != nil {
				t.Errorf("the forged callback: %v", err)
			} else {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				forgedStatus.Store(int32(resp.StatusCode))
			}
			follow(t)(authURL)
		})
		if r.code != 0 || !strings.Contains(r.stdout, "Signed in to demo") {
			t.Fatalf("login after a forged callback: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "wrong state") {
			t.Errorf("the forged callback was not reported: %s", r.stderr)
		}
		if forgedStatus.Load() == http.StatusOK {
			t.Log("the forged callback got 200 (the stray-request page)")
		}
		if n := as.Stats().CodeExchanges; n != 1 {
			t.Errorf("%d code exchanges, want 1 (the forged code must never be redeemed)", n)
		}
		for _, req := range as.Requests() {
			if req.Endpoint == authserver.EndpointToken && req.Form.Get("state") != "" {
				t.Errorf("a token request carried a state: %v", req.Form)
			}
		}
		if st := h.status(); !st.Servers[0].SignedIn {
			t.Errorf("status after login = %+v", st.Servers[0])
		}
		h.checkLeaks()
	})

	t.Run("oversized answer", func(t *testing.T) {
		h := newHostileEnv(t)
		marker := h.injectURL("HOSTILE-query-c0ffee12")
		const limit = 64 << 10
		big := strings.Repeat("x", 4*limit)
		hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				http.Error(w, "no stream here", http.StatusMethodNotAllowed)
				return
			}
			var msg struct {
				ID     json.RawMessage `json:"id"`
				Method string          `json:"method"`
			}
			json.NewDecoder(r.Body).Decode(&msg)
			switch msg.Method {
			case "initialize":
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"hostile","version":"1"}}}`, msg.ID)
			case "tools/call":
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprintf(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"%s\"}]}}\n\n", msg.ID, big)
				w.(http.Flusher).Flush()
				<-r.Context().Done() // the stream stays open, as a live server's does
			case "tools/list":
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"tools":[{"name":"echo","inputSchema":{"type":"object"}}]}}`, msg.ID)
			default:
				w.WriteHeader(http.StatusAccepted)
			}
		}))
		t.Cleanup(hostile.Close)
		h.ok("", "servers", "add", "huge", hostile.URL+"/mcp?api_key="+marker, "--auth", "none")
		p := h.startBridge("--server", "huge", "--max-message", fmt.Sprint(limit))
		p.send(e2eInitialize)
		h.answer(p, 0)
		p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
		sent := time.Now()
		p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}`)
		a := h.answer(p, 1)
		took := time.Since(sent)
		t.Logf("after %s: %s", took, errText(a))
		if msg := errText(a); !strings.Contains(msg, "limit") || !strings.Contains(msg, fmt.Sprint(limit)) {
			t.Errorf("the oversized answer did not end in an error naming the limit: %.300v", a)
		}
		if took > 5*time.Second {
			t.Errorf("the error came after %s, want it at once", took)
		}
		// The session goes on.
		p.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
		if a := h.answer(p, 2); errText(a) != "" {
			t.Errorf("tools/list after the oversized answer: %v", a)
		}
		h.finish(p)
		h.checkLeaks()
	})
}

// hugePad makes an access token more than 16 KiB long.
var hugePad = "~pad~" + strings.Repeat("P", 16<<10)

// padVerifier checks a token padded with hugePad: the padding must be there, whole.
type padVerifier struct{ as *authserver.Server }

func (v padVerifier) Verify(token string) (authserver.TokenInfo, bool) {
	base, ok := strings.CutSuffix(token, hugePad)
	if !ok {
		return authserver.TokenInfo{}, false
	}
	return v.as.Verify(base)
}
