package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/mcpserver"
	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// privateKey makes a key the way the README's openssl commands do: a P-256 key in PKCS #8 for
// ES256, an RSA key in PKCS #1 ("RSA PRIVATE KEY") for RS256. It returns the PEM, the public
// key, and the key's private numbers, which no output may ever hold.
func privateKey(t *testing.T, alg string) (string, crypto.PublicKey, [][]byte) {
	t.Helper()
	var block *pem.Block
	var public crypto.PublicKey
	var private [][]byte
	switch alg {
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		block, public, private = &pem.Block{Type: "PRIVATE KEY", Bytes: der}, k.Public(), [][]byte{raw}
	case "RS256":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		block, public = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}, k.Public()
		for _, n := range append([]*big.Int{k.D, k.Precomputed.Dp, k.Precomputed.Dq, k.Precomputed.Qinv}, k.Primes...) {
			private = append(private, n.Bytes())
		}
	}
	return string(pem.EncodeToMemory(block)), public, private
}

// pemPrivateKey matches a PEM private key with its body (an error may name the header).
var pemPrivateKey = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/]{16}`)

// leaks returns the pieces of the private numbers that out holds, in the encodings a key
// travels in (base64 in a PEM or a JWK, at any byte alignment, hex, decimal), or a PEM
// private key at all.
func leaks(out string, private [][]byte) []string {
	var found []string
	if pemPrivateKey.MatchString(out) {
		found = append(found, "a PEM private key")
	}
	var encodings []string
	for _, n := range private {
		for off := range 3 {
			encodings = append(encodings, base64.StdEncoding.EncodeToString(n[off:]), base64.RawURLEncoding.EncodeToString(n[off:]))
		}
		encodings = append(encodings, hex.EncodeToString(n), strings.ToUpper(hex.EncodeToString(n)), new(big.Int).SetBytes(n).String())
	}
	for _, e := range encodings {
		// 20 characters are 15 bytes or more of the number: past chance by far. The windows
		// inside the encoding do not depend on what comes before the number.
		for i := 4; i+20 <= len(e)-4; i += 16 {
			if strings.Contains(out, e[i:i+20]) {
				found = append(found, e[i:i+20])
			}
		}
	}
	return found
}

// TestPrivateKeyUsage: the flags of private_key_jwt, refused where they make no sense, and a key
// that is not one refused without quoting it.
func TestPrivateKeyUsage(t *testing.T) {
	t.Parallel()
	c := newCLI(t, "MCP_BROKER_SECRET_STORE=file")
	ecPEM, _, material := privateKey(t, "ES256")
	const u = "https://mcp.example.com/mcp"
	cc := []string{"servers", "add", "k", u, "--auth", "client-credentials", "--client-id", "bot"}
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"not client-credentials", ecPEM, []string{"servers", "add", "k", u, "--client-id", "bot", "--private-key-stdin"}, 2, "goes with --auth client-credentials"},
		{"no client id", ecPEM, []string{"servers", "add", "k", u, "--auth", "client-credentials", "--private-key-stdin"}, 2, "needs --client-id"},
		{"with a secret too", ecPEM, append(cc, "--private-key-stdin", "--client-secret-stdin"), 2, "use one of them"},
		{"an algorithm without a key", "", append(cc, "--signing-alg", "ES256"), 2, "--signing-alg goes with --private-key-stdin"},
		{"nothing on stdin", "\n", append(cc, "--private-key-stdin"), 2, "no private key"},
		{"not a key", "just some text\n", append(cc, "--private-key-stdin"), 1, "no PEM block"},
		{"an algorithm the key does not sign with", ecPEM, append(cc, "--private-key-stdin", "--signing-alg", "RS256"), 1, "signs with ES256, not RS256"},
		{"an unknown algorithm", ecPEM, append(cc, "--private-key-stdin", "--signing-alg", "HS256"), 1, "unknown signing algorithm"},
	}
	for _, tt := range tests {
		r := c.run(tt.stdin, tt.args...)
		if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.want) {
			t.Errorf("%s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", tt.name, r.code, tt.code, tt.want, r.stdout, r.stderr)
		}
		if l := leaks(r.stdout+r.stderr, material); len(l) > 0 || strings.Contains(r.stderr, "just some text") {
			t.Errorf("%s: the output quotes the key: %v", tt.name, l)
		}
	}
	if r := c.run("", "servers", "list"); !strings.Contains(r.stdout, "No servers") {
		t.Errorf("a refused add left a server: %s", r.stdout)
	}
	if r := c.run("", "servers", "add", "k", u, "--private-key", "x"); r.code != 2 {
		t.Errorf("a key flag on argv must not exist: exit %d", r.code)
	}
}

// TestPrivateKeyJWTEndToEnd is private_key_jwt as a person sets it up, on the real binary and
// a real authorization server on 127.0.0.1 that knows the client by its public key: add the
// server with the key on stdin, print the public key, diagnose, and call a tool through the
// bridge, which gets its token with a signed assertion. No output, no log and no file but the
// secret store holds the key; removing the server takes it away.
func TestPrivateKeyJWTEndToEnd(t *testing.T) {
	for _, tt := range []struct{ store, alg string }{{"file", "ES256"}, {"file", "RS256"}, {"keychain", "ES256"}} {
		t.Run(tt.store+"/"+tt.alg, func(t *testing.T) {
			if tt.store == "keychain" {
				testenv.RequireKeychain(t)
			}
			keyPEM, public, material := privateKey(t, tt.alg)
			if len(leaks(keyPEM, material)) == 0 {
				t.Fatal("the leak check does not see the key in its own PEM")
			}
			as, m := servers(t, authserver.Options{ClientCredentials: true, PrivateKeyJWT: true}, mcpserver.Options{})
			as.RegisterClient(authserver.Client{ID: "ci-bot", PublicKey: public, GrantTypes: []string{authserver.GrantClientCredentials}})
			vars := append(bridgeVars(t), "MCP_BROKER_SECRET_STORE="+tt.store, "MCP_BROKER_LOG=debug")
			c := newBinaryCLI(t, vars...)
			name := "jwt-" + strings.ToLower(tt.alg)
			t.Cleanup(func() { c.run("", "servers", "remove", name) })

			var outputs []string
			keep := func(r result) result { outputs = append(outputs, r.stdout, r.stderr); return r }
			add := keep(c.ok(keyPEM, "servers", "add", name, m.URL(), "--auth", "client-credentials", "--client-id", "ci-bot",
				"--private-key-stdin", "--signing-alg", tt.alg))
			if !strings.Contains(add.stdout, "mcp-broker servers show-key "+name) {
				t.Errorf("servers add does not say how to register the public key: %s", add.stdout)
			}

			// The public key, to register at the authorization server.
			var jwk map[string]any
			if err := json.Unmarshal([]byte(keep(c.ok("", "servers", "show-key", name)).stdout), &jwk); err != nil {
				t.Fatal(err)
			}
			if jwk["alg"] != tt.alg || jwk["kid"] == "" || jwk["d"] != nil || jwk["p"] != nil {
				t.Errorf("show-key = %v", jwk)
			}
			var set struct{ Keys []map[string]any }
			if err := json.Unmarshal([]byte(keep(c.ok("", "servers", "show-key", name, "--jwks")).stdout), &set); err != nil || len(set.Keys) != 1 || set.Keys[0]["kid"] != jwk["kid"] {
				t.Errorf("show-key --jwks = %+v (%v)", set, err)
			}

			doc := keep(c.ok("", "doctor", name))
			if !strings.Contains(doc.stdout, "an "+tt.alg+" key for private_key_jwt, which the authorization server accepts") ||
				!strings.Contains(doc.stdout, "private_key_jwt signing algorithms: ES256, RS256") {
				t.Errorf("doctor %s:\n%s", name, doc.stdout)
			}
			list := keep(c.ok("", "servers", "list"))
			if !strings.Contains(list.stdout, "client-credentials (private_key_jwt "+tt.alg+")") {
				t.Errorf("servers list:\n%s", list.stdout)
			}

			// Claude Code's side: the bridge gets a token with an assertion on its own.
			p := c.startBridge("--server", name)
			p.send(e2eInitialize)
			p.recvID(0)
			p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`)
			deadline := time.Now().Add(20 * time.Second)
			for {
				who := p.recvID(1)
				text := fmt.Sprint(who["result"])
				if strings.Contains(text, "client_id=ci-bot") {
					break
				}
				if time.Now().After(deadline) || who["error"] != nil {
					t.Fatalf("whoami = %v\nstderr: %s", who, p.stderr.String())
				}
				// The placeholder tool of a bridge still connecting: ask again.
				p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`)
			}
			p.stdin.Close()
			p.waitExit(time.Now())
			outputs = append(outputs, p.stderr.String())
			for _, r := range as.Requests() {
				if r.ClientID == oauth.ProbeClientID {
					continue // doctor's probe of the token endpoint, from a client no server knows
				}
				if r.Endpoint == authserver.EndpointToken && (r.AuthMethod != authserver.AuthPrivateKeyJWT || r.Form.Has("client_secret")) {
					t.Errorf("a token request authenticated with %q", r.AuthMethod)
				}
			}
			if as.Stats().ClientCredentialsGrants == 0 {
				t.Error("no client-credentials grant")
			}
			st := keep(c.ok("", "status"))
			if !strings.Contains(st.stdout, "(pre-registered, private_key_jwt) at "+as.Issuer()) {
				t.Errorf("status:\n%s", st.stdout)
			}
			keep(c.ok("", "status", "--json"))

			for i, out := range outputs {
				if l := leaks(out, material); len(l) > 0 {
					t.Errorf("output %d holds key material %v:\n%s", i, l, out)
				}
			}
			var files []string
			filepath.WalkDir(c.dir, func(path string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && !strings.Contains(path, string(filepath.Separator)+"secrets"+string(filepath.Separator)) {
					files = append(files, path)
				}
				return nil
			})
			for _, f := range files {
				data, _ := os.ReadFile(f)
				if l := leaks(string(data), material); len(l) > 0 || bytes.Contains(data, []byte("PRIVATE KEY")) {
					t.Errorf("%s holds the key", f)
				}
			}
			stored := storedKey(t, c, tt.store, name)
			if !strings.HasPrefix(stored, "-----BEGIN PRIVATE KEY-----") {
				t.Errorf("the secret store does not hold the key as PKCS #8")
			}

			keep(c.ok("", "servers", "remove", name))
			if left := storedKey(t, c, tt.store, name); left != "" {
				t.Error("the key stayed in the secret store after servers remove")
			}
		})
	}
}

// storedKey reads the server's private key from the secret store the CLI uses, "" when none.
func storedKey(t *testing.T, c *cli, store, name string) string {
	t.Helper()
	var s secrets.Store
	if store == "keychain" {
		s = secrets.NewKeychain(5 * time.Second)
	} else {
		fs, err := secrets.NewFileStore(filepath.Join(c.dir, "secrets"))
		if err != nil {
			t.Fatal(err)
		}
		s = fs
	}
	v, err := s.Get(t.Context(), "client-key/"+name)
	if err != nil {
		return ""
	}
	return v
}
