package discovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// stub is an httptest server on 127.0.0.1 with per-path handlers that
// records every request it gets; unknown paths answer 404.
type stub struct {
	*httptest.Server
	t      *testing.T
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	hits   []string
}

func newStub(t *testing.T) *stub {
	s := &stub{t: t, routes: map[string]http.HandlerFunc{}}
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

func (s *stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits = append(s.hits, r.Method+" "+r.URL.RequestURI())
	h := s.routes[r.Method+" "+r.URL.Path]
	if h == nil {
		h = s.routes[r.URL.Path]
	}
	s.mu.Unlock()
	if got := r.Header.Get("MCP-Protocol-Version"); got != DefaultProtocolVersion {
		s.t.Errorf("%s %s: MCP-Protocol-Version %q, want %q", r.Method, r.URL, got, DefaultProtocolVersion)
	}
	if r.Header.Get("Authorization") != "" {
		s.t.Errorf("%s %s: discovery sent an Authorization header", r.Method, r.URL)
	}
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

// on routes "METHOD /path" or "/path" (any method) to h.
func (s *stub) on(route string, h http.HandlerFunc) { s.routes[route] = h }

func (s *stub) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.hits...)
}

func serveJSON(v any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(v); err != nil {
			panic(err)
		}
	}
}

func serveText(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}
}

func unauthorized(challenge string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if challenge != "" {
			w.Header().Set("WWW-Authenticate", challenge)
		}
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
	}
}

func redirect(to string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }
}

func prmDoc(resource string, issuers ...string) map[string]any {
	return map[string]any{"resource": resource, "authorization_servers": issuers, "scopes_supported": []string{"mcp"}}
}

// asDoc is healthy authorization server metadata; edit sets fields on it.
func asDoc(issuer, base string, edit ...func(map[string]any)) map[string]any {
	m := map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                base + "/authorize",
		"token_endpoint":                        base + "/token",
		"registration_endpoint":                 base + "/register",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"none"},
	}
	for _, e := range edit {
		e(m)
	}
	return m
}

func set(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }

func TestDiscover(t *testing.T) {
	type want struct {
		prmURL, asURL string // suffixes after the rs/as URL; "-" means empty
		legacy        bool
		authRequired  bool
		noAuthServer  bool
		rs, as        []string // requests each server must have seen, in order (nil: not checked)
		err           func(t *testing.T, w world, err error)
	}
	ok := func(t *testing.T, _ world, err error) {
		if err != nil {
			t.Fatalf("Discover: %v", err)
		}
	}
	errAs := func(target any) func(t *testing.T, w world, err error) {
		return func(t *testing.T, _ world, err error) {
			if err == nil || !errors.As(err, target) {
				t.Fatalf("Discover error = %v (%T), want %T", err, err, target)
			}
		}
	}
	insecure := func(field string) func(t *testing.T, w world, err error) {
		return func(t *testing.T, _ world, err error) {
			var e *InsecureEndpointError
			if !errors.As(err, &e) || e.Field != field {
				t.Fatalf("Discover error = %v, want an InsecureEndpointError for %s", err, field)
			}
		}
	}
	good := func(w world) {
		w.as.on("/.well-known/oauth-authorization-server", serveJSON(asDoc(w.as.URL, w.as.URL)))
	}
	tests := []struct {
		name  string
		path  string // of the MCP endpoint on rs
		setup func(w world)
		want  want
	}{
		{
			name: "challenge resource_metadata URL comes first",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer resource_metadata="`+w.rs.URL+`/custom/prm.json", scope="mcp"`))
				w.rs.on("/custom/prm.json", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL)))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc("https://evil.example/mcp", w.as.URL)))
				good(w)
			},
			want: want{prmURL: "/custom/prm.json", asURL: "/.well-known/oauth-authorization-server", authRequired: true,
				rs: []string{"POST /mcp", "GET /custom/prm.json"}, as: []string{"GET /.well-known/oauth-authorization-server"}, err: ok},
		},
		{
			name: "relative resource_metadata resolved against the server URL",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer resource_metadata="/custom/prm.json"`))
				w.rs.on("/custom/prm.json", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL)))
				good(w)
			},
			want: want{prmURL: "/custom/prm.json", asURL: "/.well-known/oauth-authorization-server", authRequired: true, err: ok},
		},
		{
			name: "path form before root",
			path: "/public/mcp",
			setup: func(w world) {
				w.rs.on("POST /public/mcp", unauthorized(`Bearer realm="x"`))
				w.rs.on("/.well-known/oauth-protected-resource/public/mcp", serveJSON(prmDoc(w.rs.URL+"/public/mcp", w.as.URL)))
				w.rs.on("/.well-known/oauth-protected-resource", serveJSON(prmDoc("https://evil.example", w.as.URL)))
				good(w)
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/public/mcp", asURL: "/.well-known/oauth-authorization-server", authRequired: true,
				rs: []string{"POST /public/mcp", "GET /.well-known/oauth-protected-resource/public/mcp"}, err: ok},
		},
		{
			name: "root form naming the origin as resource",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource", serveJSON(prmDoc(w.rs.URL, w.as.URL)))
				good(w)
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource", asURL: "/.well-known/oauth-authorization-server", authRequired: true,
				rs: []string{"POST /mcp", "GET /.well-known/oauth-protected-resource/mcp", "GET /.well-known/oauth-protected-resource"}, err: ok},
		},
		{
			name: "server at the root skips the path form",
			path: "/",
			setup: func(w world) {
				w.rs.on("POST /", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource", serveJSON(prmDoc(w.rs.URL+"/", w.as.URL)))
				good(w)
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource", asURL: "/.well-known/oauth-authorization-server", authRequired: true,
				rs: []string{"POST /", "GET /.well-known/oauth-protected-resource"}, err: ok},
		},
		{
			name: "same-origin redirect followed",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", redirect("/meta/prm.json"))
				w.rs.on("/meta/prm.json", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL)))
				good(w)
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "/.well-known/oauth-authorization-server", authRequired: true, err: ok},
		},
		{
			name: "tenant issuer: RFC 8414 path insertion",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL+"/tenant1")))
				w.as.on("/.well-known/oauth-authorization-server/tenant1", serveJSON(asDoc(w.as.URL+"/tenant1", w.as.URL+"/tenant1")))
				w.as.on("/.well-known/oauth-authorization-server", serveJSON(asDoc(w.as.URL, w.as.URL)))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "/.well-known/oauth-authorization-server/tenant1", authRequired: true,
				as: []string{"GET /.well-known/oauth-authorization-server/tenant1"}, err: ok},
		},
		{
			name: "tenant issuer: OpenID path insertion second",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL+"/tenant1")))
				w.as.on("/.well-known/openid-configuration/tenant1", serveJSON(asDoc(w.as.URL+"/tenant1", w.as.URL+"/tenant1")))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "/.well-known/openid-configuration/tenant1", authRequired: true,
				as: []string{"GET /.well-known/oauth-authorization-server/tenant1", "GET /.well-known/openid-configuration/tenant1"}, err: ok},
		},
		{
			name: "tenant issuer: OpenID path appending third",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL+"/tenant1")))
				w.as.on("/tenant1/.well-known/openid-configuration", serveJSON(asDoc(w.as.URL+"/tenant1", w.as.URL+"/tenant1")))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "/tenant1/.well-known/openid-configuration", authRequired: true,
				as: []string{
					"GET /.well-known/oauth-authorization-server/tenant1",
					"GET /.well-known/openid-configuration/tenant1",
					"GET /tenant1/.well-known/openid-configuration",
				}, err: ok},
		},
		{
			name: "root issuer: OpenID configuration second",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL)))
				w.as.on("/.well-known/openid-configuration", serveJSON(asDoc(w.as.URL, w.as.URL)))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "/.well-known/openid-configuration", authRequired: true,
				as: []string{"GET /.well-known/oauth-authorization-server", "GET /.well-known/openid-configuration"}, err: ok},
		},
		{
			name: "2025-03-26 server with metadata at its origin",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-authorization-server", serveJSON(asDoc(w.rs.URL, w.rs.URL+"/oauth")))
			},
			want: want{prmURL: "-", asURL: "/.well-known/oauth-authorization-server", legacy: true, authRequired: true,
				rs: []string{
					"POST /mcp",
					"GET /.well-known/oauth-protected-resource/mcp",
					"GET /.well-known/oauth-protected-resource",
					"GET /.well-known/oauth-authorization-server",
				}, err: ok},
		},
		{
			name:  "2025-03-26 server with default endpoints",
			path:  "/mcp",
			setup: func(w world) { w.rs.on("POST /mcp", unauthorized("")) },
			want:  want{prmURL: "-", asURL: "-", legacy: true, authRequired: true, err: ok},
		},
		{
			name:  "open server needs no sign-in",
			path:  "/mcp",
			setup: func(w world) { w.rs.on("POST /mcp", serveText(`{"jsonrpc":"2.0","id":0,"result":{}}`)) },
			want:  want{prmURL: "-", asURL: "-", noAuthServer: true, err: ok},
		},
		{
			name: "legacy SSE server: POST 405, GET 401 with challenge",
			path: "/sse",
			setup: func(w world) {
				w.rs.on("POST /sse", func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				})
				w.rs.on("GET /sse", unauthorized(`Bearer resource_metadata="`+w.rs.URL+`/.well-known/oauth-protected-resource/sse"`))
				w.rs.on("/.well-known/oauth-protected-resource/sse", serveJSON(prmDoc(w.rs.URL+"/sse", w.as.URL)))
				good(w)
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/sse", asURL: "/.well-known/oauth-authorization-server", authRequired: true,
				rs: []string{"POST /sse", "GET /sse", "GET /.well-known/oauth-protected-resource/sse"}, err: ok},
		},
		{
			name: "open legacy SSE server: the stream is not waited on",
			path: "/sse",
			setup: func(w world) {
				w.rs.on("GET /sse", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/event-stream")
					w.WriteHeader(http.StatusOK)
					w.(http.Flusher).Flush()
					<-r.Context().Done() // a stream that never ends on its own
				})
			},
			want: want{prmURL: "-", asURL: "-", noAuthServer: true, err: ok},
		},
		{
			name:  "404 everywhere: not an MCP endpoint",
			path:  "/nothing",
			setup: func(w world) {},
			want:  want{prmURL: "-", asURL: "-", authRequired: true, noAuthServer: true, err: errAs(new(*NoAuthInfoError))},
		},

		// Hostile and broken servers.
		{
			name: "metadata for another server",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer resource_metadata="`+w.rs.URL+`/.well-known/oauth-protected-resource/mcp"`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc("https://evil.example.com/mcp", w.as.URL)))
				good(w)
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "-", authRequired: true, noAuthServer: true,
				as: []string{}, err: func(t *testing.T, w world, err error) {
					var e *ResourceMismatchError
					if !errors.As(err, &e) || e.Advertised != "https://evil.example.com/mcp" {
						t.Fatalf("Discover error = %v, want a ResourceMismatchError", err)
					}
					if !strings.Contains(err.Error(), "evil.example.com") || !strings.Contains(err.Error(), "refusing to sign in") {
						t.Errorf("message %q should name the resource and the refusal", err)
					}
				}},
		},
		{
			name: "metadata for a sibling path on the same origin",
			path: "/a/mcp",
			setup: func(w world) {
				w.rs.on("POST /a/mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/a/mcp", serveJSON(prmDoc(w.rs.URL+"/b/mcp", w.as.URL)))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/a/mcp", asURL: "-", authRequired: true, noAuthServer: true,
				err: errAs(new(*ResourceMismatchError))},
		},
		{
			name: "issuer mismatch",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL)))
				w.as.on("/.well-known/oauth-authorization-server", serveJSON(asDoc("https://other-issuer.example", w.as.URL)))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "/.well-known/oauth-authorization-server", authRequired: true,
				err: errAs(new(*IssuerMismatchError))},
		},
		{
			// The one difference tolerated: see TestIssuerTrailingSlash.
			name: "issuer differing only by a trailing slash is accepted",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL)))
				w.as.on("/.well-known/oauth-authorization-server", serveJSON(asDoc(w.as.URL+"/", w.as.URL)))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "/.well-known/oauth-authorization-server", authRequired: true, err: ok},
		},
		{
			name: "issuer differing by a trailing slash and more is a mismatch",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL)))
				w.as.on("/.well-known/oauth-authorization-server", serveJSON(asDoc(w.as.URL+"//", w.as.URL)))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "/.well-known/oauth-authorization-server", authRequired: true,
				err: errAs(new(*IssuerMismatchError))},
		},
		{
			name: "http token endpoint on a non-loopback host",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL)))
				w.as.on("/.well-known/oauth-authorization-server", serveJSON(asDoc(w.as.URL, w.as.URL, set("token_endpoint", "http://auth.example.com/token"))))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "/.well-known/oauth-authorization-server", authRequired: true,
				err: insecure("token_endpoint")},
		},
		{
			name: "javascript: authorization endpoint",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL)))
				w.as.on("/.well-known/oauth-authorization-server", serveJSON(asDoc(w.as.URL, w.as.URL, set("authorization_endpoint", "javascript:alert(document.cookie)"))))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "/.well-known/oauth-authorization-server", authRequired: true,
				err: insecure("authorization_endpoint")},
		},
		{
			name: "data: registration endpoint",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL)))
				w.as.on("/.well-known/oauth-authorization-server", serveJSON(asDoc(w.as.URL, w.as.URL, set("registration_endpoint", "data:text/html,hi"))))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "/.well-known/oauth-authorization-server", authRequired: true,
				err: insecure("registration_endpoint")},
		},
		{
			name: "missing token endpoint",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL)))
				w.as.on("/.well-known/oauth-authorization-server", serveJSON(asDoc(w.as.URL, w.as.URL, func(m map[string]any) { delete(m, "token_endpoint") })))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "/.well-known/oauth-authorization-server", authRequired: true,
				err: errAs(new(*MissingFieldError))},
		},
		{
			name: "http issuer on a non-loopback host",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", "http://as.example.com")))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "-", authRequired: true, noAuthServer: true,
				err: insecure("authorization_servers[0]")},
		},
		{
			name: "no authorization server listed",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp")))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "-", authRequired: true, noAuthServer: true,
				err: errAs(new(*MetadataError))},
		},
		{
			name: "javascript: resource_metadata falls back to the well-known URL",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer resource_metadata="javascript:alert(1)"`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL)))
				good(w)
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "/.well-known/oauth-authorization-server", authRequired: true, err: ok},
		},
		{
			name: "metadata over the 1 MiB cap (Content-Length)",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, r *http.Request) {
					body := `{"resource":"` + strings.Repeat("a", 2<<20) + `"}`
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
					fmt.Fprint(w, body)
				})
			},
			want: want{prmURL: "-", asURL: "-", authRequired: true, noAuthServer: true, err: tooLarge},
		},
		{
			name: "metadata over the 1 MiB cap (chunked)",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, r *http.Request) {
					fmt.Fprint(w, `{"resource":"`)
					for range 64 {
						fmt.Fprint(w, strings.Repeat("a", 32<<10))
						w.(http.Flusher).Flush()
					}
					fmt.Fprint(w, `"}`)
				})
			},
			want: want{prmURL: "-", asURL: "-", authRequired: true, noAuthServer: true, err: tooLarge},
		},
		{
			name: "cross-origin redirect refused",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", redirect(w.other.URL+"/prm"))
				w.other.on("/prm", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL)))
			},
			want: want{prmURL: "-", asURL: "-", authRequired: true, noAuthServer: true,
				err: func(t *testing.T, w world, err error) {
					var e *RedirectError
					if !errors.As(err, &e) || !strings.Contains(err.Error(), w.rs.URL) || !strings.Contains(err.Error(), w.other.URL) {
						t.Fatalf("Discover error = %v, want a RedirectError naming %s and %s", err, w.rs.URL, w.other.URL)
					}
					if hits := w.other.requests(); len(hits) != 0 {
						t.Errorf("the other origin was contacted: %v", hits)
					}
				}},
		},
		{
			name: "redirect loop stops",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", redirect("/loop"))
				w.rs.on("/loop", redirect("/.well-known/oauth-protected-resource/mcp"))
			},
			want: want{prmURL: "-", asURL: "-", authRequired: true, noAuthServer: true,
				err: func(t *testing.T, w world, err error) {
					var e *RedirectError
					if !errors.As(err, &e) || !e.TooMany {
						t.Fatalf("Discover error = %v, want a RedirectError for too many redirects", err)
					}
				}},
		},
		{
			name: "malformed JSON at the challenge URL",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer resource_metadata="`+w.rs.URL+`/prm"`))
				w.rs.on("/prm", serveText(`{"resource": "x",`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL)))
			},
			want: want{prmURL: "-", asURL: "-", authRequired: true, noAuthServer: true,
				err: func(t *testing.T, w world, err error) {
					var e *MetadataError
					if !errors.As(err, &e) || e.Purpose != PurposeResourceMetadata || !strings.Contains(err.Error(), w.rs.URL+"/prm") ||
						!strings.Contains(err.Error(), "not valid JSON") {
						t.Fatalf("Discover error = %v, want a MetadataError naming %s/prm", err, w.rs.URL)
					}
				}},
		},
		{
			name: "malformed authorization server metadata",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL)))
				w.as.on("/.well-known/oauth-authorization-server", serveText(`["not", "an", "object"]`))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "-", authRequired: true, noAuthServer: true,
				err: func(t *testing.T, w world, err error) {
					var e *MetadataError
					if !errors.As(err, &e) || e.Purpose != PurposeAuthServerMetadata {
						t.Fatalf("Discover error = %v, want an authorization server MetadataError", err)
					}
				}},
		},
		{
			name: "no authorization server metadata anywhere",
			path: "/mcp",
			setup: func(w world) {
				w.rs.on("POST /mcp", unauthorized(`Bearer`))
				w.rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(w.rs.URL+"/mcp", w.as.URL+"/t")))
			},
			want: want{prmURL: "/.well-known/oauth-protected-resource/mcp", asURL: "-", authRequired: true, noAuthServer: true,
				err: func(t *testing.T, w world, err error) {
					var e *NotFoundError
					if !errors.As(err, &e) || len(e.Tried) != 3 {
						t.Fatalf("Discover error = %v, want a NotFoundError after 3 URLs", err)
					}
				}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := world{rs: newStub(t), as: newStub(t), other: newStub(t)}
			tt.setup(w)
			caller := &http.Client{}
			f := &Fetcher{HTTP: caller}
			res, err := f.Discover(t.Context(), w.rs.URL+tt.path)
			if res == nil {
				t.Fatal("Discover returned a nil Result")
			}
			tt.want.err(t, w, err)
			if caller.CheckRedirect != nil {
				t.Error("Discover modified the caller's http.Client")
			}
			checkURL(t, "ResourceMetadataURL", res.ResourceMetadataURL, w.rs.URL, tt.want.prmURL)
			asBase := w.as.URL
			if tt.want.legacy {
				asBase = w.rs.URL
			}
			checkURL(t, "AuthServerMetadataURL", res.AuthServerMetadataURL, asBase, tt.want.asURL)
			if res.Legacy != tt.want.legacy || res.AuthRequired != tt.want.authRequired {
				t.Errorf("Legacy, AuthRequired = %v, %v; want %v, %v", res.Legacy, res.AuthRequired, tt.want.legacy, tt.want.authRequired)
			}
			if err == nil && !tt.want.noAuthServer && (res.AuthServer == nil || !res.AuthServer.SupportsS256()) {
				t.Errorf("AuthServer = %+v, want metadata supporting S256", res.AuthServer)
			}
			if tt.want.noAuthServer && res.AuthServer != nil {
				t.Errorf("AuthServer = %+v, want none", res.AuthServer)
			}
			if tt.want.rs != nil && !reflect.DeepEqual(w.rs.requests(), tt.want.rs) {
				t.Errorf("server requests = %q, want %q", w.rs.requests(), tt.want.rs)
			}
			if tt.want.as != nil && !reflect.DeepEqual(append([]string{}, w.as.requests()...), tt.want.as) {
				t.Errorf("authorization server requests = %q, want %q", w.as.requests(), tt.want.as)
			}
			// Every request made shows in the trace, and every failure too.
			made := 0
			for _, p := range res.Trace {
				if p.Method != "" {
					made++
				}
			}
			if total := len(w.rs.requests()) + len(w.as.requests()) + len(w.other.requests()); made < total {
				t.Errorf("trace has %d requests, servers saw %d: %+v", made, total, res.Trace)
			}
			if err != nil && !traceHasErr(res.Trace) {
				t.Errorf("the failure %v is not in the trace %+v", err, res.Trace)
			}
		})
	}
}

func tooLarge(t *testing.T, _ world, err error) {
	var tl *TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), "metadata larger than 1 MiB") {
		t.Fatalf("Discover error = %v, want one saying the metadata is larger than 1 MiB", err)
	}
}

// world is the servers of one TestDiscover case: the MCP server, its
// authorization server, and another origin.
type world struct{ rs, as, other *stub }

func traceHasErr(tr []Probe) bool {
	for _, p := range tr {
		if p.Err != "" {
			return true
		}
	}
	return false
}

// checkURL compares a discovered URL with base+suffix; suffix "-" means "".
func checkURL(t *testing.T, name, got, base, suffix string) {
	t.Helper()
	want := base + suffix
	if suffix == "-" {
		want = ""
	}
	if got != want {
		t.Errorf("%s = %q, want %q", name, got, want)
	}
}

func TestDiscoverLegacyDefaults(t *testing.T) {
	rs := newStub(t)
	rs.on("POST /mcp", unauthorized(""))
	res, err := (&Fetcher{}).Discover(t.Context(), rs.URL+"/mcp")
	if err != nil {
		t.Fatal(err)
	}
	want := &AuthServerMetadata{
		Issuer:                        rs.URL,
		AuthorizationEndpoint:         rs.URL + "/authorize",
		TokenEndpoint:                 rs.URL + "/token",
		RegistrationEndpoint:          rs.URL + "/register",
		ResponseTypesSupported:        []string{"code"},
		CodeChallengeMethodsSupported: []string{"S256"},
	}
	if !reflect.DeepEqual(res.AuthServer, want) || res.Issuer != rs.URL || res.Resource != rs.URL+"/mcp" {
		t.Errorf("got issuer %q resource %q metadata %+v; want %q, %q/mcp, %+v", res.Issuer, res.Resource, res.AuthServer, rs.URL, rs.URL, want)
	}
}

func TestDiscoverResultFields(t *testing.T) {
	rs, as := newStub(t), newStub(t)
	rs.on("POST /mcp", unauthorized(`Bearer resource_metadata="`+rs.URL+`/.well-known/oauth-protected-resource/mcp", scope="files:read"`))
	rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(rs.URL+"/mcp/", as.URL)))
	as.on("/.well-known/oauth-authorization-server", serveJSON(asDoc(as.URL, as.URL,
		set("client_id_metadata_document_supported", true),
		set("authorization_response_iss_parameter_supported", true),
		set("scopes_supported", []string{"files:read", "offline_access"}))))
	res, err := (&Fetcher{}).Discover(t.Context(), rs.URL+"/mcp")
	if err != nil {
		t.Fatal(err)
	}
	if res.Resource != rs.URL+"/mcp/" {
		t.Errorf("Resource = %q, want the metadata's resource verbatim %q", res.Resource, rs.URL+"/mcp/")
	}
	if res.Challenge.Scope() != "files:read" || res.Issuer != as.URL {
		t.Errorf("challenge scope %q issuer %q", res.Challenge.Scope(), res.Issuer)
	}
	m := res.AuthServer
	if !m.ClientIDMetadataDocumentSupported || !m.AuthorizationResponseISSParameterSupported || !m.SupportsGrant("refresh_token") ||
		m.SupportsGrant("implicit") || !reflect.DeepEqual(m.AuthMethods(), []string{"none"}) {
		t.Errorf("metadata not decoded as expected: %+v", m)
	}
	if got := res.ResourceMetadata.ScopesSupported; !reflect.DeepEqual(got, []string{"mcp"}) {
		t.Errorf("ScopesSupported = %q", got)
	}
}

func TestDiscoverSmallCapMessage(t *testing.T) {
	rs := newStub(t)
	rs.on("POST /mcp", unauthorized(`Bearer`))
	rs.on("/.well-known/oauth-protected-resource/mcp", serveJSON(prmDoc(rs.URL+"/mcp", "https://as.example")))
	_, err := (&Fetcher{MaxBytes: 100}).Discover(t.Context(), rs.URL+"/mcp")
	if err == nil || !strings.Contains(err.Error(), "metadata larger than 100 bytes") {
		t.Fatalf("err = %v, want one about 100 bytes", err)
	}
}

func TestDiscoverRefusesBeforeAnyRequest(t *testing.T) {
	for _, u := range []string{"http://mcp.example.com/mcp", "javascript:alert(1)", "https://user:pw@mcp.example.com/mcp", "mcp.example.com"} {
		res, err := (&Fetcher{HTTP: &http.Client{Transport: failTransport{t}}}).Discover(t.Context(), u)
		var e *InsecureEndpointError
		if !errors.As(err, &e) || e.Field != "server URL" {
			t.Errorf("Discover(%q) error = %v, want an InsecureEndpointError for the server URL", u, err)
		}
		if strings.Contains(err.Error(), "pw@") || len(res.Trace) != 1 || res.Trace[0].Method != "" {
			t.Errorf("Discover(%q): error %q trace %+v", u, err, res.Trace)
		}
	}
}

type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
	return nil, errors.New("no requests expected")
}

func TestDiscoverUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	res, err := (&Fetcher{}).Discover(t.Context(), "http://"+addr+"/mcp")
	var e *UnreachableError
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want an UnreachableError", err)
	}
	if len(res.Trace) != 1 || res.Trace[0].Err == "" {
		t.Errorf("trace = %+v, want the failed probe", res.Trace)
	}
}

func TestAuthServerMetadata(t *testing.T) {
	as := newStub(t)
	as.on("/tenant1/.well-known/openid-configuration", serveJSON(asDoc(as.URL+"/tenant1", as.URL+"/tenant1")))
	m, u, err := (&Fetcher{}).AuthServerMetadata(t.Context(), as.URL+"/tenant1")
	if err != nil || u != as.URL+"/tenant1/.well-known/openid-configuration" || m.TokenEndpoint != as.URL+"/tenant1/token" {
		t.Fatalf("AuthServerMetadata = %+v, %q, %v", m, u, err)
	}
	for _, issuer := range []string{"https://as.example/?q=1", "javascript:x", "http://as.example.com"} {
		if _, _, err := (&Fetcher{}).AuthServerMetadata(t.Context(), issuer); !errors.As(err, new(*InsecureEndpointError)) {
			t.Errorf("AuthServerMetadata(%q) error = %v, want an InsecureEndpointError", issuer, err)
		}
	}
	// A failed check returns no metadata from the exported function.
	bad := newStub(t)
	bad.on("/.well-known/oauth-authorization-server", serveJSON(asDoc("https://other.example", bad.URL)))
	if m, _, err := (&Fetcher{}).AuthServerMetadata(t.Context(), bad.URL); m != nil || !errors.As(err, new(*IssuerMismatchError)) {
		t.Errorf("AuthServerMetadata = %+v, %v; want nil, IssuerMismatchError", m, err)
	}
}

// TestValidateForBrowser: discovery accepts an authorization server without PKCE S256 or an
// authorization endpoint (a client-credentials server needs neither), and the browser flow's
// check refuses it.
func TestValidateForBrowser(t *testing.T) {
	tests := []struct {
		name   string
		change func(map[string]any)
		check  func(error) bool
		want   string
	}{
		{"no code_challenge_methods_supported", func(m map[string]any) { delete(m, "code_challenge_methods_supported") },
			func(err error) bool { return errors.Is(err, ErrNoS256) }, "no code_challenge_methods_supported"},
		{"plain only", set("code_challenge_methods_supported", []string{"plain"}),
			func(err error) bool { return errors.Is(err, ErrNoS256) }, "plain"},
		{"no authorization endpoint", func(m map[string]any) { delete(m, "authorization_endpoint") },
			func(err error) bool { return errors.As(err, new(*MissingFieldError)) }, "authorization_endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newStub(t)
			as.on("/.well-known/oauth-authorization-server", serveJSON(asDoc(as.URL, as.URL, tt.change)))
			m, _, err := (&Fetcher{}).AuthServerMetadata(t.Context(), as.URL)
			if err != nil {
				t.Fatalf("AuthServerMetadata: %v", err)
			}
			if err := m.ValidateForBrowser(); !tt.check(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ValidateForBrowser = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestMetadataDefaults(t *testing.T) {
	var m AuthServerMetadata
	if !m.SupportsGrant("authorization_code") || !m.SupportsGrant("implicit") || m.SupportsGrant("refresh_token") {
		t.Error("absent grant_types_supported must default to authorization_code and implicit (RFC 8414 §2)")
	}
	if !reflect.DeepEqual(m.AuthMethods(), []string{"client_secret_basic"}) {
		t.Error("absent token_endpoint_auth_methods_supported must default to client_secret_basic")
	}
	if m.SupportsS256() {
		t.Error("absent code_challenge_methods_supported must not count as S256")
	}
	var nilM *AuthServerMetadata
	if nilM.SupportsS256() || nilM.SupportsGrant("authorization_code") {
		t.Error("nil metadata supports nothing")
	}
}

// TestDiscoverDPoP: a DPoP challenge (the conformance suite's 401 has no Bearer one) counts for
// its resource_metadata like a Bearer one, and is kept as DPoPChallenge; the DPoP fields of both
// metadata documents are read.
func TestDiscoverDPoP(t *testing.T) {
	rs, as := newStub(t), newStub(t)
	// The challenge's resource_metadata is a URL no well-known rule would find.
	rs.on("POST /mcp", unauthorized(`DPoP resource_metadata="`+rs.URL+`/prm-elsewhere", algs="ES256"`))
	rs.on("/prm-elsewhere", serveJSON(map[string]any{
		"resource": rs.URL + "/mcp", "authorization_servers": []string{as.URL},
		"dpop_signing_alg_values_supported": []string{"ES256"}, "dpop_bound_access_tokens_required": true,
	}))
	as.on("/.well-known/oauth-authorization-server", serveJSON(asDoc(as.URL, as.URL, set("dpop_signing_alg_values_supported", []string{"ES256", "RS256"}))))
	res, err := (&Fetcher{}).Discover(t.Context(), rs.URL+"/mcp")
	if err != nil {
		t.Fatal(err)
	}
	if res.DPoPChallenge == nil || res.Challenge != res.DPoPChallenge || !reflect.DeepEqual(res.DPoPChallenge.Algs(), []string{"ES256"}) {
		t.Errorf("Challenge %+v, DPoPChallenge %+v", res.Challenge, res.DPoPChallenge)
	}
	if res.ResourceMetadataURL != rs.URL+"/prm-elsewhere" {
		t.Errorf("the DPoP challenge's resource_metadata was not used: %q", res.ResourceMetadataURL)
	}
	prm := res.ResourceMetadata
	if !prm.DPoPBoundAccessTokensRequired || !reflect.DeepEqual(prm.DPoPSigningAlgValuesSupported, []string{"ES256"}) {
		t.Errorf("resource metadata DPoP fields: %+v", prm)
	}
	if got := res.AuthServer.DPoPSigningAlgValuesSupported; !reflect.DeepEqual(got, []string{"ES256", "RS256"}) {
		t.Errorf("AS dpop_signing_alg_values_supported = %q", got)
	}

	// With both challenges, the Bearer one is Challenge and the DPoP one is still seen.
	rs.on("POST /mcp", unauthorized(`Bearer resource_metadata="`+rs.URL+`/prm-elsewhere", DPoP algs="ES256"`))
	res, err = (&Fetcher{}).Discover(t.Context(), rs.URL+"/mcp")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(res.Challenge.Scheme, "Bearer") || res.DPoPChallenge == nil {
		t.Errorf("Challenge %+v, DPoPChallenge %+v", res.Challenge, res.DPoPChallenge)
	}
}
