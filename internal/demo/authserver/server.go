package authserver

import (
	"crypto/ecdsa"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/demo/internal/localhttp"
)

// Server is an in-memory OAuth 2.1 authorization server. All methods are safe
// for concurrent use.
type Server struct {
	opts        Options
	issuerPath  string // "" or "/tenant1"
	scopes      []string
	authMethods []string
	signingAlgs []string // with Options.PrivateKeyJWT
	cimdClient  *http.Client
	handler     http.Handler

	mu       sync.Mutex
	baseURL  string
	ttl      time.Duration
	clients  map[string]*Client
	codes    map[string]*authCode
	access   map[string]*accessToken
	refresh  map[string]*refreshToken
	families []*family
	pending  map[string]*pendingAuth
	jtis     map[string]time.Time // client assertion ids seen, until they expire
	stats    Stats
	requests []Request
	dpop     dpopState
	// user is who is signed in at the server, as a browser session would say: the user
	// every authorization is approved for, unless the consent page names another
	// (SignInAs).
	user string
	// outage is the HTTP status the token endpoint answers every request with (SetTokenOutage);
	// 0 while it works.
	outage int

	// devices are the device codes issued (Options.Device); userCodes maps their user codes
	// to them.
	devices   map[string]*deviceAuth
	userCodes map[string]string

	// key signs the JWTs this server issues (ID tokens, ID-JAGs, SignJWT).
	key signingKey
	// trusted are the issuers whose assertions the JWT bearer grant takes, with their keys.
	trusted map[string]*ecdsa.PublicKey
	// jagClients maps an ID-JAG audience (an authorization server's issuer) to the client id
	// the ID-JAG names there (SetIDJAGClient).
	jagClients map[string]string

	// run serves the handler on a loopback listener (Serve, Close).
	run localhttp.Server
}

// closeGrace is how long Close lets requests in flight finish.
const closeGrace = 5 * time.Second

// New returns a server configured by opts (see Options for the defaults of
// zero values). It does not listen: call Start, or mount Handler.
func New(opts Options) *Server {
	s := &Server{
		opts:        opts,
		issuerPath:  normalizeIssuerPath(opts.Issuer),
		scopes:      slices.Clone(opts.Scopes),
		authMethods: slices.Clone(opts.AuthMethods),
		cimdClient:  opts.CIMDClient,
		baseURL:     strings.TrimSuffix(opts.BaseURL, "/"),
		ttl:         opts.AccessTokenTTL,
		clients:     map[string]*Client{},
		codes:       map[string]*authCode{},
		access:      map[string]*accessToken{},
		refresh:     map[string]*refreshToken{},
		pending:     map[string]*pendingAuth{},
		devices:     map[string]*deviceAuth{},
		userCodes:   map[string]string{},
		key:         newSigningKey(),
		trusted:     map[string]*ecdsa.PublicKey{},
		jagClients:  map[string]string{},
		jtis:        map[string]time.Time{},
		user:        DemoSubject,
	}
	if len(s.scopes) == 0 {
		s.scopes = slices.Clone(DefaultScopes)
	}
	if len(s.authMethods) == 0 {
		s.authMethods = slices.Clone(DefaultAuthMethods)
	}
	if opts.PrivateKeyJWT {
		if !slices.Contains(s.authMethods, AuthPrivateKeyJWT) {
			s.authMethods = append(s.authMethods, AuthPrivateKeyJWT)
		}
		s.signingAlgs = slices.Clone(opts.SigningAlgs)
		if len(s.signingAlgs) == 0 {
			s.signingAlgs = []string{"ES256", "RS256"}
		}
	}
	if s.cimdClient == nil {
		s.cimdClient = &http.Client{Timeout: 10 * time.Second}
	}
	if s.ttl <= 0 {
		s.ttl = DefaultAccessTokenTTL
	}
	s.handler = s.routes()
	return s
}

// normalizeIssuerPath turns "tenant1/" or "/tenant1" into "/tenant1" and "/"
// into "", so that issuer = base + path never has a trailing slash.
func normalizeIssuerPath(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return "/" + p
}

// routes builds the mux. Endpoints live under the issuer path, as they do on
// multi-tenant servers.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	p := s.issuerPath
	if !s.opts.NoMetadata {
		for _, path := range s.metadataPaths() {
			mux.HandleFunc("GET "+path, s.handleMetadata)
		}
	}
	mux.HandleFunc(p+"/authorize", s.handleAuthorize)
	mux.HandleFunc("POST "+p+"/authorize/decision", s.handleDecision)
	mux.HandleFunc("POST "+p+"/token", s.handleToken)
	if !s.opts.NoRevocation {
		mux.HandleFunc("POST "+p+"/revoke", s.handleRevoke)
	}
	if !s.opts.DisableDCR {
		mux.HandleFunc("POST "+p+"/register", s.handleRegister)
	}
	if s.opts.UserInfo {
		mux.HandleFunc(p+"/userinfo", s.handleUserInfo)
	}
	if s.opts.Introspection {
		mux.HandleFunc("POST "+p+"/introspect", s.handleIntrospect)
	}
	if s.opts.Device.Enabled {
		mux.HandleFunc("POST "+p+"/device_authorization", s.handleDeviceAuthorization)
		mux.HandleFunc("GET "+p+"/device", s.handleDevicePage)
		mux.HandleFunc("POST "+p+"/device", s.handleDevicePage)
		mux.HandleFunc("POST "+p+"/device/decision", s.handleDeviceDecision)
	}
	return mux
}

// Handler returns the server's HTTP handler, for mounting on another server
// (set Options.BaseURL then, or let it be derived from each request).
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on addr (a loopback address such as "127.0.0.1:0"; empty
// means that) and serves in the background until Close. It returns the base
// URL, e.g. "http://127.0.0.1:43123"; the issuer is that plus Options.Issuer.
func (s *Server) Start(addr string) (baseURL string, err error) {
	return localhttp.Start(addr, s.Serve)
}

// Serve serves on ln, which must be bound to a loopback address, in the
// background until Close. It lets a caller learn the address before building
// the servers that need it. It returns the base URL.
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

// Close stops the server started by Start or Serve and waits for it to exit,
// giving requests in flight a few seconds to finish. It is safe to call more
// than once.
func (s *Server) Close() error {
	if err := s.run.Close(closeGrace); err != nil {
		return fmt.Errorf("closing authorization server: %w", err)
	}
	return nil
}

// Issuer returns the issuer URL (base URL plus Options.Issuer), or "" while
// the base URL is unknown (not started, no Options.BaseURL).
func (s *Server) Issuer() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.baseURL == "" {
		return ""
	}
	return s.baseURL + s.issuerPath
}

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

// issuerFor is the issuer as seen by the client that sent r.
func (s *Server) issuerFor(r *http.Request) string { return s.baseFor(r) + s.issuerPath }

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Requests returns a copy of every request received so far to the endpoints
// Request lists, oldest first, secrets redacted.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Form = cloneValues(r.Form)
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// SetAccessTokenTTL changes the lifetime of access tokens issued from now on.
func (s *Server) SetAccessTokenTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		d = DefaultAccessTokenTTL
	}
	s.ttl = d
}

// RegisterClient pre-registers a client, replacing any with the same ID. See
// Client for the defaults of empty fields.
func (s *Server) RegisterClient(c Client) {
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.GrantTypes = slices.Clone(c.GrantTypes)
	if c.AuthMethod == "" {
		switch {
		case c.PublicKey != nil:
			c.AuthMethod = AuthPrivateKeyJWT
		case c.Secret != "":
			c.AuthMethod = AuthClientSecretBasic
		default:
			c.AuthMethod = AuthNone
		}
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = &c
}

// SignInAs makes user the person signed in at the server, as if they had signed in there in
// the browser: every authorization from now on is approved for them (the consent page offers
// their name, which the person may change). "" means DemoSubject again. It is how a test
// signs two accounts in to one server, one after the other.
func (s *Server) SignInAs(user string) {
	if user == "" {
		user = DemoSubject
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user = user
}

// signedIn is the user SignInAs set.
func (s *Server) signedIn() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user
}

// SetTokenOutage makes the token endpoint answer every request with the HTTP status (such as
// 503) and no token until it is called with 0, as a token service that is down does.
func (s *Server) SetTokenOutage(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outage = status
}

// tokenOutage is the status SetTokenOutage set.
func (s *Server) tokenOutage() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outage
}

// RevokeAll revokes every access and refresh token issued so far, as if the
// user signed out everywhere. Clients then meet invalid_token at the
// resource server and invalid_grant when refreshing.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.families {
		f.revoked = true
	}
}

// record appends a request record.
func (s *Server) record(r *http.Request, endpoint string, form map[string][]string, method, clientID string) {
	h := http.Header{}
	for _, k := range []string{"Mcp-Protocol-Version", "Content-Type", "Accept"} {
		if v := r.Header.Values(k); len(v) > 0 {
			h[k] = slices.Clone(v)
		}
	}
	rec := Request{
		Endpoint:   endpoint,
		Method:     r.Method,
		Form:       redact(form),
		AuthMethod: method,
		ClientID:   clientID,
		Header:     h,
		Time:       s.now(),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, rec)
}

// ListenLoopback listens on addr, which must name a loopback host
// ("127.0.0.1:0", "[::1]:8080", "localhost:0"); empty means "127.0.0.1:0".
// Demo servers never listen on other interfaces.
func ListenLoopback(addr string) (net.Listener, error) { return localhttp.Listen(addr) }
