package providers

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Zitadel is a running zitadel/oidc example OpenID provider (testdata/providers/zitadel).
type Zitadel struct {
	// Issuer is its issuer (no trailing slash).
	Issuer string
	// ClientID is its pre-registered public client (PKCE, loopback redirect on any port,
	// authorization-code, device-code (RFC 8628) and refresh-token grants, JWT access tokens).
	// The provider has no dynamic client registration.
	ClientID string
	// Username and Password are one of the example's accounts, and Subject its subject.
	Username, Password, Subject string

	jwksURI string // from its metadata
}

// StartZitadel starts the example provider from in on a free loopback port, with access
// tokens of ttl (0: 20s), and stops it when t's cleanup runs.
func StartZitadel(t testing.TB, in *Install, ttl time.Duration) *Zitadel {
	t.Helper()
	if ttl == 0 {
		ttl = 20 * time.Second
	}
	pr, pw := io.Pipe()
	issuers := make(chan string, 1)
	go func() {
		// Owned by the process: ends when the pipe is closed at cleanup.
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "issuer "); ok {
				select {
				case issuers <- u:
				default: // it says it once; never block on a second
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() { pw.Close() }) // after the process has stopped: cleanups run last first
	p := start(t, in.ZitadelOP, []string{"-access-token-ttl", ttl.String()}, nil, pw)
	z := &Zitadel{ClientID: "native", Username: "test-user2", Password: "verysecure", Subject: "id2"}
	select {
	case z.Issuer = <-issuers:
	case <-p.exited:
		t.Fatalf("zitadel-op exited at start (%v):\n%s", p.err, lastLines(p.output.String(), 40))
	case <-time.After(startTimeout):
		t.Fatalf("zitadel-op named no issuer within %s:\n%s", startTimeout, lastLines(p.output.String(), 40))
	}
	waitReady(t, p, "zitadel-op", z.Issuer+"/.well-known/openid-configuration")
	resp, err := http.Get(z.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil || meta.JWKSURI == "" {
		t.Fatalf("zitadel-op's metadata names no jwks_uri (%v)", err)
	}
	z.jwksURI = meta.JWKSURI
	return z
}
