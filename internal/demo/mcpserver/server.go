package mcpserver

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/mark3labs/mcp-go/server"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
	"github.com/mcp-broker/mcp-broker/internal/demo/internal/localhttp"
)

// Verifier checks an access token; *authserver.Server satisfies it.
type Verifier interface {
	Verify(token string) (authserver.TokenInfo, bool)
}

// PRMMode says where Protected Resource Metadata is served and whether the
// 401 challenge points at it. The zero value is PRMPathAndChallenge.
type PRMMode int

const (
	// PRMPathAndChallenge serves the path-form PRM
	// (/.well-known/oauth-protected-resource/mcp and .../sse) and names it in
	// the challenge's resource_metadata. What current servers do.
	PRMPathAndChallenge PRMMode = iota
	// PRMPathOnly serves the path-form PRM but sends no resource_metadata,
	// so a client must find it by URL construction.
	PRMPathOnly
	// PRMRootOnly serves the /mcp resource's PRM at the root
	// (/.well-known/oauth-protected-resource) only, without resource_metadata
	// in the challenge.
	PRMRootOnly
	// PRMNone serves no PRM and a bare challenge, like servers of the
	// 2025-03-26 era: the client must look for the authorization server at
	// this server's origin (mount one with Options.Fallback).
	PRMNone
)

// String returns the mode's name.
func (m PRMMode) String() string {
	switch m {
	case PRMPathAndChallenge:
		return "path+challenge"
	case PRMPathOnly:
		return "path-only"
	case PRMRootOnly:
		return "root-only"
	case PRMNone:
		return "none"
	}
	return fmt.Sprintf("PRMMode(%d)", int(m))
}

// Paths of the endpoints, relative to the base URL.
const (
	PathMCP     = "/mcp"
	PathSSE     = "/sse"
	PathMessage = "/message"
	// PathPRM is the root well-known PRM path (RFC 9728 §3.1).
	PathPRM = server.WellKnownProtectedResourcePath
)

// WrongResourceURL is the `resource` of the PRM when Options.WrongResource
// is set.
const WrongResourceURL = "https://other.example.com/mcp"

// Options configures a Server.
type Options struct {
	// BaseURL is the scheme://host:port the server is reached at, used to
	// build resource and metadata URLs. Start and Serve set it; when the
	// Handler is mounted elsewhere and BaseURL is empty, it is derived from
	// each request.
	BaseURL string
	// Verifier checks bearer tokens. Required unless NoAuth.
	Verifier Verifier
	// AuthServers is the PRM authorization_servers (issuer URLs).
	AuthServers []string
	// Scopes is the PRM scopes_supported; empty omits it.
	Scopes []string
	// ChallengeScope is the scope= of the 401 challenge; empty omits it.
	ChallengeScope string
	// PRM says where metadata is served and whether the challenge names it.
	PRM PRMMode
	// WrongResource is hostile: the PRM names WrongResourceURL instead of
	// this server.
	WrongResource bool
	// StepUpScope, e.g. "mcp:admin", is required to call the admin_action
	// tool; without it the call is answered 403 insufficient_scope. Empty
	// means admin_action needs no extra scope.
	StepUpScope string
	// StepUpMissingOnly makes the 403 of a step-up name only StepUpScope, the scope the
	// operation lacks, as RFC 6750 §3.1 and MCP 2026-07-28 (SEP-2350) have servers do; the
	// client must add the scopes it holds itself. By default the 403 names the scopes held
	// plus StepUpScope, as earlier revisions advised.
	StepUpMissingOnly bool
	// OpenInitialize serves initialize and notifications on the Streamable HTTP endpoint
	// without a token, like servers that authorize per operation (the MCP conformance suite's
	// step-up server): a client's discovery probe, an initialize, then gets no challenge, and
	// only the first request that needs a token meets the 401 and its scope.
	OpenInitialize bool
	// NoAuth serves the MCP endpoints without any authorization and no PRM.
	NoAuth bool
	// DPoP makes the server accept DPoP-bound tokens (RFC 9449): "Authorization: DPoP" with a
	// proof for each request (its method and URL, the token's ath, the key the token is bound
	// to, a jti never seen before), a DPoP challenge beside the Bearer one in its 401s and
	// dpop_signing_alg_values_supported in its metadata. A bound token presented as a Bearer
	// token is refused, with or without this option.
	DPoP bool
	// DPoPOnly accepts DPoP-bound tokens only, like the MCP conformance suite's DPoP server:
	// its 401 has a DPoP challenge alone, and a Bearer token is refused. DPoPRequired says so
	// in the metadata too (dpop_bound_access_tokens_required); both imply DPoP.
	DPoPOnly, DPoPRequired bool
	// DPoPNonce makes the server want its nonce in proofs (RFC 9449 §9): a proof without the
	// current one is answered 401 DPoP error="use_dpop_nonce" with a DPoP-Nonce header.
	// RotateDPoPNonce changes it. It implies DPoP.
	DPoPNonce bool
	// BehindProxy lets requests name the server by any host, not only a loopback one, as they
	// do when a proxy forwards them to this server on 127.0.0.1 (the corporate-proxy tests).
	// It turns off mcp-go's DNS rebinding protection, which refuses a Host header that is not
	// a loopback name on a loopback connection: never set it for a server a browser can reach.
	BehindProxy bool
	// Fallback, if set, serves every path this server does not, typically
	// an authorization server's Handler, so that both share one origin (the
	// 2025-03-26 discovery rule, and a one-port demo).
	Fallback http.Handler
}

// Hits counts what the authorization middleware did. It never holds a token.
type Hits struct {
	// Unauthorized counts 401 answers.
	Unauthorized int
	// Forbidden counts 403 (insufficient_scope) answers.
	Forbidden int
	// Authorized counts requests let through to the MCP handlers.
	Authorized int
	// LastAuthorizationOK tells whether the most recent request to a
	// protected endpoint carried a valid bearer token for it.
	LastAuthorizationOK bool
	// TokenInQuery counts requests with an access_token query parameter,
	// which is never accepted (tokens go in the header only).
	TokenInQuery int
	// DPoPAuthorized counts requests let through with a DPoP-bound token and a valid proof.
	DPoPAuthorized int
	// DPoPNonceChallenges counts 401 use_dpop_nonce answers.
	DPoPNonceChallenges int
	// BadProofs counts requests refused for their DPoP proof (missing, invalid, replayed).
	BadProofs int
}

// Server is the demo MCP server. Its methods are safe for concurrent use.
type Server struct {
	opts     Options
	mcp      *server.MCPServer
	sessions *sessionManager
	handler  http.Handler

	mu      sync.Mutex
	baseURL string
	hits    Hits
	dpop    dpopState
	// run serves the handler on a loopback listener (Serve, Close).
	run localhttp.Server
}

// New returns a server configured by opts. It does not listen: call Start,
// or mount Handler.
func New(opts Options) *Server {
	s := &Server{
		opts:     opts,
		mcp:      newMCPServer(),
		sessions: newSessionManager(),
		baseURL:  strings.TrimSuffix(opts.BaseURL, "/"),
	}
	s.handler = s.routes()
	return s
}

func (s *Server) routes() http.Handler {
	streamable := server.NewStreamableHTTPServer(s.mcp,
		server.WithEndpointPath(PathMCP),
		server.WithSessionIdManager(s.sessions),
		server.WithDisableLocalhostProtection(s.opts.BehindProxy),
	)
	sse := server.NewSSEServer(s.mcp,
		server.WithSSEEndpoint(PathSSE),
		server.WithMessageEndpoint(PathMessage),
		server.WithSSEDisableLocalhostProtection(s.opts.BehindProxy),
		// No base URL: the endpoint event carries a relative URL
		// ("/message?sessionId=…"), which clients must resolve against the
		// SSE URL, as many servers send it.
	)
	mux := http.NewServeMux()
	mux.Handle(PathMCP, s.protect(PathMCP, streamable))
	mux.Handle(PathSSE, s.protect(PathSSE, sse.SSEHandler()))
	mux.Handle(PathMessage, s.protect(PathSSE, sse.MessageHandler()))
	if !s.opts.NoAuth {
		switch s.opts.PRM {
		case PRMPathAndChallenge, PRMPathOnly:
			mux.Handle(PathPRM+PathMCP, s.prmHandler(PathMCP))
			mux.Handle(PathPRM+PathSSE, s.prmHandler(PathSSE))
		case PRMRootOnly:
			mux.Handle(PathPRM, s.prmHandler(PathMCP))
		}
	}
	fallback := s.opts.Fallback
	if fallback == nil {
		fallback = http.NotFoundHandler()
	}
	mux.Handle("/", fallback)
	return mux
}

// prmHandler serves the metadata of the resource at endpoint (PathMCP or
// PathSSE). It is public: a client reads it before it has a token.
func (s *Server) prmHandler(endpoint string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resource := s.baseFor(r) + endpoint
		if s.opts.WrongResource {
			resource = WrongResourceURL
		}
		cfg := server.ProtectedResourceMetadataConfig{
			Resource:               resource,
			AuthorizationServers:   s.opts.AuthServers,
			ScopesSupported:        s.opts.Scopes,
			BearerMethodsSupported: []string{"header"},
			ResourceName:           "mcp-broker demo server",
		}
		if s.dpopEnabled() && !s.opts.DPoPOnly {
			// The conformance suite's server (DPoPOnly) says it only in its challenge.
			cfg.DPoPSigningAlgValuesSupported = dpopAlgs
		}
		if s.opts.DPoPRequired {
			required := true
			cfg.DPoPSigningAlgValuesSupported, cfg.DPoPBoundAccessTokensRequired = dpopAlgs, &required
		}
		server.NewProtectedResourceMetadataHandler(cfg).ServeHTTP(w, r)
	})
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on addr (a loopback address; empty means "127.0.0.1:0")
// and serves in the background until Close. It returns the base URL.
func (s *Server) Start(addr string) (baseURL string, err error) {
	return localhttp.Start(addr, s.Serve)
}

// Serve serves on ln, which must be bound to a loopback address, in the
// background until Close, and returns the base URL. Use it to learn the
// address before building an authorization server that shares it.
func (s *Server) Serve(ln net.Listener) (baseURL string, err error) {
	// s.mu is held until baseURL is set, so a request answered before that
	// cannot see an empty base URL.
	s.mu.Lock()
	defer s.mu.Unlock()
	base, err := s.run.Serve(ln, s.handler)
	if err != nil {
		return "", err
	}
	s.baseURL = base
	return base, nil
}

// Close stops the server and waits for its accept loop to exit. Open SSE
// streams are cut (their connections are closed), not drained. It is safe
// to call more than once.
func (s *Server) Close() error {
	if err := s.run.Close(0); err != nil {
		return fmt.Errorf("closing MCP server: %w", err)
	}
	return nil
}

// URL is the Streamable HTTP endpoint (base + "/mcp"), which is also that
// transport's resource identifier; "" before the base URL is known.
func (s *Server) URL() string { return s.urlFor(PathMCP) }

// SSEURL is the legacy SSE endpoint (base + "/sse"), which is also that
// transport's resource identifier; "" before the base URL is known.
func (s *Server) SSEURL() string { return s.urlFor(PathSSE) }

// PRMURL is the path-form metadata URL of the resource at endpoint
// (PathMCP or PathSSE), as named in the challenge.
func (s *Server) PRMURL(endpoint string) string { return s.urlFor(PathPRM + endpoint) }

func (s *Server) urlFor(path string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.baseURL == "" {
		return ""
	}
	return s.baseURL + path
}

// Hits returns a copy of the middleware counters.
func (s *Server) Hits() Hits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

// ExpireSessions forgets every Streamable HTTP session, as a restarted server
// would: the next request carrying an old Mcp-Session-Id gets 404, and the
// client must initialize again. It returns how many sessions were dropped.
func (s *Server) ExpireSessions() int { return s.sessions.expireAll() }

// baseFor is the base URL to use when answering r.
func (s *Server) baseFor(r *http.Request) string {
	s.mu.Lock()
	b := s.baseURL
	s.mu.Unlock()
	if b != "" {
		return b
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
