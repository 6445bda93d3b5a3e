package discovery

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestIssuerTrailingSlash: metadata whose issuer differs from the issuer it was fetched for by
// one trailing slash, either way, is used, with its own issuer as the one in use, and the
// difference is noted for doctor; any other difference is refused, as the MCP conformance
// suite's auth/metadata-issuer-mismatch expects (its impostor issuer is another host).
func TestIssuerTrailingSlash(t *testing.T) {
	tests := []struct {
		name     string
		prm      func(as string) string // the issuer the resource metadata names
		metadata func(as string) string // the issuer the metadata names
		legacy   bool                   // no resource metadata: the 2025-03-26 fallback
		accepted bool
	}{
		{"metadata adds a slash", func(as string) string { return as }, func(as string) string { return as + "/" }, false, true},
		{"metadata drops the slash", func(as string) string { return as + "/" }, func(as string) string { return as }, false, true},
		{"2025-03-26 server whose metadata adds a slash", nil, func(as string) string { return as + "/" }, true, true},
		{"two slashes", func(as string) string { return as }, func(as string) string { return as + "//" }, false, false},
		{"a slash and a path", func(as string) string { return as }, func(as string) string { return as + "/tenant/" }, false, false},
		{"a slash and a case change", func(as string) string { return as }, func(as string) string { return strings.ToUpper(as) + "/" }, false, false},
		{"another host", func(as string) string { return as }, func(string) string { return "https://attacker.example.com/" }, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, as := newStub(t), newStub(t)
			base := as
			if tt.legacy {
				base = rs
				rs.on("POST /mcp", unauthorized(`Bearer`))
			} else {
				rs.on("POST /mcp", unauthorized(`Bearer resource_metadata="`+rs.URL+`/.well-known/oauth-protected-resource/mcp"`))
				rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(rs.URL+"/mcp", tt.prm(as.URL))))
			}
			declared := tt.metadata(base.URL)
			base.on("/.well-known/oauth-authorization-server", serveJSON(asDoc(declared, base.URL)))

			res, err := (&Fetcher{}).Discover(t.Context(), rs.URL+"/mcp")
			if !tt.accepted {
				var mismatch *IssuerMismatchError
				if !errors.As(err, &mismatch) {
					t.Fatalf("Discover = %v, want an IssuerMismatchError", err)
				}
				if res.IssuerDiffersBySlash() {
					t.Error("IssuerDiffersBySlash on a refused metadata document")
				}
				return
			}
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if res.AuthServer.Issuer != declared || !res.IssuerDiffersBySlash() {
				t.Errorf("issuer in use %q (differs by slash: %v), want the metadata's %q", res.AuthServer.Issuer, res.IssuerDiffersBySlash(), declared)
			}
			noted := false
			for _, p := range res.Trace {
				noted = noted || strings.Contains(p.Note, "trailing slash")
			}
			if !noted {
				t.Errorf("the trace does not note the slash: %+v", res.Trace)
			}
		})
	}
	// An issuer as it should be is no deviation.
	rs, as := newStub(t), newStub(t)
	rs.on("POST /mcp", unauthorized(`Bearer`))
	rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(rs.URL+"/mcp", as.URL)))
	as.on("/.well-known/oauth-authorization-server", serveJSON(asDoc(as.URL, as.URL)))
	if res, err := (&Fetcher{}).Discover(t.Context(), rs.URL+"/mcp"); err != nil || res.IssuerDiffersBySlash() {
		t.Errorf("Discover = %v, differs by slash %v", err, res.IssuerDiffersBySlash())
	}
}

// TestProbeAuthorizationEndpoint: the verdict on what an authorization endpoint answers a
// browser that arrives without parameters.
func TestProbeAuthorizationEndpoint(t *testing.T) {
	jsonAnswer := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}
	}
	page := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			fmt.Fprint(w, "<html><body>Sign in</body></html>")
		}
	}
	tests := []struct {
		name    string
		h       http.HandlerFunc // nil: no such route (404)
		verdict PageVerdict
		why     string
	}{
		{"a sign-in page", page(http.StatusOK), PageServes, "200 OK"},
		{"a redirect to the login page, not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://login.example.com/", http.StatusFound)
		}, PageServes, "302"},
		{"an error page for the missing parameters", page(http.StatusBadRequest), PageServes, "400"},
		{"invalid_request in JSON", jsonAnswer(http.StatusBadRequest, `{"error":"invalid_request","error_description":"client_id is required"}`), PageServes, "400"},
		{"no such route", nil, PageStub, "404 Not Found"},
		{"no GET", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}, PageStub, "RFC 6749 §3.1"},
		{"not implemented", jsonAnswer(http.StatusNotImplemented, `{}`), PageStub, "501"},
		{"a JSON error no authorization endpoint answers", jsonAnswer(http.StatusInternalServerError, `{"error":"not_implemented"}`), PageStub, `"not_implemented"`},
		{"the same with 200", jsonAnswer(http.StatusOK, `{"error":"not_found"}`), PageStub, `"not_found"`},
		{"a server error", page(http.StatusInternalServerError), PageDoubtful, "500"},
		{"server_error in JSON", jsonAnswer(http.StatusInternalServerError, `{"error":"server_error"}`), PageDoubtful, "500"},
		{"JSON where a page belongs", jsonAnswer(http.StatusOK, `{"message":"hello"}`), PageDoubtful, "with JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			if tt.h != nil {
				mux.HandleFunc("/authorize", tt.h)
			}
			srv := httptest.NewServer(mux)
			defer srv.Close()
			got, err := (&Fetcher{}).ProbeAuthorizationEndpoint(t.Context(), srv.URL+"/authorize")
			if err != nil {
				t.Fatal(err)
			}
			if got.Verdict != tt.verdict || !strings.Contains(got.Why, tt.why) {
				t.Errorf("verdict %v (%s), want %v mentioning %q", got.Verdict, got.Why, tt.verdict, tt.why)
			}
		})
	}
	if _, err := (&Fetcher{}).ProbeAuthorizationEndpoint(t.Context(), "javascript:alert(1)"); err == nil {
		t.Error("a javascript: endpoint was probed")
	}
}
