package authserver

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// pendingAuth is a validated authorization request waiting for the user's
// decision on the consent page (or approved at once with AutoApprove).
type pendingAuth struct {
	client      *Client
	redirectURI string
	state       string
	challenge   string
	scopes      []string
	resource    string
	expiry      time.Time
	// user is who approves: the user signed in at the server (SignInAs), or the one the
	// consent form names.
	user string
	// noRefresh withholds the refresh token from the code grant (Mimic).
	noRefresh bool
}

// pkceChallenge matches an S256 code_challenge: base64url of 32 bytes.
var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// userName matches a user name the consent form may give: a subject that needs no escaping
// anywhere it goes (JWT claims, JSON, HTML), such as "alice" or "alice@example.com".
var userName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$`)

// handleAuthorize implements the authorization endpoint (RFC 6749 §4.1.1,
// OAuth 2.1 §4.1.1). Until the client and redirect_uri are known to be good,
// errors are shown as a page: redirecting to an unverified URI would make
// this server an open redirector (RFC 6749 §4.1.2.1).
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if s.opts.Deviations.StubAuthorize != 0 {
		s.stubAuthorize(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "Malformed request", "The authorization request could not be parsed.")
		return
	}
	q := r.Form
	s.record(r, EndpointAuthorize, q, "", q.Get("client_id"))

	client, err := s.lookupClient(r.Context(), q.Get("client_id"), true)
	if err != nil {
		s.errorPage(w, http.StatusBadRequest, "Unknown client", "This application is not registered with the server: "+err.Error()+".")
		return
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" || !redirectURIAllowed(client.RedirectURIs, redirectURI) {
		s.errorPage(w, http.StatusBadRequest, "Invalid redirect URI",
			"The redirect_uri does not exactly match one registered for this application, so the server will not send you back to it.")
		return
	}

	state := q.Get("state")
	fail := func(code, desc string) {
		s.redirect(w, r, redirectURI, state, url.Values{"error": {code}, "error_description": {desc}})
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	scopes := splitScopes(q.Get("scope"))
	resources := q["resource"]
	switch {
	case !slices.Contains(client.GrantTypes, GrantAuthorizationCode):
		fail("unauthorized_client", "the client is not registered for the authorization_code grant")
		return
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "response_type must be code")
		return
	case challenge == "":
		fail("invalid_request", "code_challenge is required (PKCE)")
		return
	case method != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
		return
	case !pkceChallenge.MatchString(challenge):
		fail("invalid_request", "code_challenge is not a valid S256 challenge")
		return
	case s.opts.Mimic.EntraScopes == "" && !subset(scopes, s.scopes):
		fail("invalid_scope", "the requested scope is not supported")
		return
	case len(resources) > 1:
		fail("invalid_target", "only one resource may be requested")
		return
	case len(resources) == 1 && !validResource(resources[0]):
		fail("invalid_target", "resource must be an absolute URI without a fragment")
		return
	case len(resources) == 0 && s.opts.RequireResource:
		fail("invalid_target", "the resource parameter is required")
		return
	case s.opts.Hostile.ErrorRedirect:
		fail("access_denied", "the server refuses every request (Hostile.ErrorRedirect)")
		return
	}
	var bound string // the resource the token is bound to, by a Mimic rule
	switch {
	case s.opts.Mimic.EntraScopes != "":
		var code, desc string
		if bound, code, desc = s.entraScopes(scopes, resources); code != "" {
			fail(code, desc)
			return
		}
	case s.opts.Mimic.Audience:
		bound = s.audienceOf(r, q)
	}
	scopes, refresh := s.offlineGrant(q, scopes)

	p := &pendingAuth{
		client:      client,
		redirectURI: redirectURI,
		state:       state,
		challenge:   challenge,
		scopes:      scopes,
		expiry:      s.now().Add(consentTTL),
		user:        s.signedIn(),
		noRefresh:   !refresh,
	}
	if len(resources) == 1 {
		p.resource = resources[0]
	}
	if bound != "" {
		p.resource = bound
	}
	if s.opts.AutoApprove {
		s.approve(w, r, p)
		return
	}
	id := randomToken()
	s.mu.Lock()
	s.pending[id] = p
	s.mu.Unlock()
	s.consentPage(w, r, id, p)
}

// handleDecision receives the consent form. The request id is single-use and
// unguessable, so a forged or replayed POST cannot approve anything.
func (s *Server) handleDecision(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "Malformed request", "The form could not be parsed.")
		return
	}
	s.record(r, EndpointDecision, r.PostForm, "", "")
	id := r.PostForm.Get("request_id")
	s.mu.Lock()
	p, ok := s.pending[id]
	delete(s.pending, id)
	s.mu.Unlock()
	if !ok || !s.now().Before(p.expiry) {
		s.errorPage(w, http.StatusBadRequest, "Request expired",
			"This sign-in request has expired or was already answered. Start the sign-in again from the application.")
		return
	}
	if r.PostForm.Has("user") {
		user := strings.TrimSpace(r.PostForm.Get("user"))
		if !userName.MatchString(user) {
			s.errorPage(w, http.StatusBadRequest, "Invalid user name",
				"A user name is 1 to 64 letters, digits and . _ @ + -, starting with a letter or digit. Start the sign-in again from the application.")
			return
		}
		p.user = user
	}
	switch r.PostForm.Get("decision") {
	case "allow":
		s.approve(w, r, p)
	case "deny":
		s.redirect(w, r, p.redirectURI, p.state, url.Values{
			"error": {"access_denied"}, "error_description": {"the user denied access"},
		})
	default:
		s.errorPage(w, http.StatusBadRequest, "Malformed request", "The form carried no decision.")
	}
}

// approve issues an authorization code for p and redirects to the client.
func (s *Server) approve(w http.ResponseWriter, r *http.Request, p *pendingAuth) {
	code := randomToken()
	s.mu.Lock()
	s.codes[code] = &authCode{
		clientID:    p.client.ID,
		redirectURI: p.redirectURI,
		challenge:   p.challenge,
		scopes:      p.scopes,
		resource:    p.resource,
		expiry:      s.now().Add(CodeTTL),
		subject:     p.user,
		noRefresh:   p.noRefresh,
	}
	s.stats.Authorizations++
	s.mu.Unlock()
	s.redirect(w, r, p.redirectURI, p.state, url.Values{"code": {code}})
}

// redirect sends the browser back to the client (RFC 6749 §4.1.2) with
// params, the state and, per RFC 9207, the issuer.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, redirectURI, state string, params url.Values) {
	u, err := url.Parse(redirectURI)
	if err != nil { // registered URIs were validated; defensive only
		s.errorPage(w, http.StatusInternalServerError, "Invalid redirect URI", "The registered redirect URI cannot be parsed.")
		return
	}
	q := u.Query() // a registered URI may carry its own query (RFC 6749 §3.1.2)
	for k, v := range params {
		q[k] = v
	}
	h := s.opts.Hostile
	switch {
	case h.WrongState:
		q.Set("state", "tampered-"+randomToken()[:12])
	case state != "":
		q.Set("state", state)
	}
	switch {
	case h.WrongISS:
		q.Set("iss", WrongIssuer)
	case s.opts.ISSParameter:
		q.Set("iss", s.declaredIssuer(r))
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// consentPage shows what the client asks for, with Allow and Deny buttons.
func (s *Server) consentPage(w http.ResponseWriter, r *http.Request, id string, p *pendingAuth) {
	name := p.client.Name
	if name == "" {
		name = p.client.ID
	}
	data := consentData{
		ClientName: name,
		ClientID:   p.client.ID,
		Scopes:     p.scopes,
		Resource:   p.resource,
		Action:     s.issuerPath + "/authorize/decision",
		RequestID:  id,
		Issuer:     s.issuerFor(r),
		User:       p.user,
	}
	writeHTML(w, http.StatusOK, consentTemplate, data)
}

// errorPage shows an error that must not be sent to a redirect URI.
func (s *Server) errorPage(w http.ResponseWriter, status int, title, message string) {
	writeHTML(w, status, errorTemplate, errorData{Title: title, Message: message, Status: fmt.Sprint(status)})
}

// redirectURIAllowed matches a redirect URI against the registered ones exactly, except that
// for loopback IP literals the port is ignored: native apps listen on whatever port is free,
// and RFC 8252 §7.3 requires authorization servers to allow any port there.
func redirectURIAllowed(registered []string, got string) bool {
	if slices.Contains(registered, got) {
		return true
	}
	g, err := url.Parse(got)
	if err != nil || g.Scheme != "http" || !isLoopbackIP(g.Hostname()) {
		return false
	}
	for _, r := range registered {
		u, err := url.Parse(r)
		if err == nil && u.Scheme == "http" && u.Hostname() == g.Hostname() && u.Path == g.Path && u.RawQuery == g.RawQuery {
			return true
		}
	}
	return false
}

func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
