package doctor

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRefusedResourceMetadata checks that a challenge whose resource_metadata discovery refuses
// to fetch (here another port on this machine) shows as a problem, with the reason, although
// sign-in can go on with the well-known metadata; and that doctor did not fetch it either.
func TestRefusedResourceMetadata(t *testing.T) {
	var hits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(elsewhere.Close)
	rs, rsMux := server(t)
	as, asMux := server(t)
	rsMux.HandleFunc("POST /mcp", challenge(`Bearer resource_metadata="`+elsewhere.URL+`/prm", scope="mcp"`))
	rsMux.HandleFunc("GET /.well-known/oauth-protected-resource/mcp", jsonDoc(map[string]any{
		"resource":              rs.URL + "/mcp",
		"authorization_servers": []string{as.URL},
	}))
	asMux.HandleFunc("GET /.well-known/oauth-authorization-server", jsonDoc(authServerDoc(as.URL, nil)))

	r := Run(t.Context(), nil, rs.URL+"/mcp")
	f := findings(r)
	if c := f[itemChallenge]; c.Severity != Warn || !strings.Contains(c.Detail, "refusing resource_metadata") ||
		!strings.Contains(c.Detail, "well-known") {
		t.Errorf("challenge finding = %v %q, want a warning naming the refusal and the fallback", c.Severity, c.Detail)
	}
	if p := f[itemPRM]; p.Severity != OK || !strings.Contains(p.Detail, "/.well-known/oauth-protected-resource/mcp") {
		t.Errorf("metadata finding = %v %q, want the well-known metadata found", p.Severity, p.Detail)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the refused resource_metadata got %d requests", n)
	}
}
