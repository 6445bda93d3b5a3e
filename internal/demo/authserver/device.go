package authserver

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DeviceOptions switch on and tune the device authorization grant (RFC 8628), with which a
// person signs a device in from another one. With Enabled the server advertises
// device_authorization_endpoint and the device_code grant, issues device codes at
// /device_authorization to clients registered for that grant, and serves /device, the page
// where a person enters a user code (verification_uri_complete fills it in) and allows or
// denies the sign-in. The token endpoint answers polls as RFC 8628 §3.5 says:
// authorization_pending until the person decides, slow_down to a poll that comes sooner than
// the interval (which then grows by five seconds for good), access_denied, expired_token.
type DeviceOptions struct {
	Enabled bool
	// CodeTTL is how long device and user codes live; zero means DefaultDeviceCodeTTL.
	CodeTTL time.Duration
	// Interval is the polling interval the server asks for, in whole seconds; zero means
	// DefaultDeviceInterval.
	Interval time.Duration
	// SlowDown answers slow_down to the first SlowDown polls of each device code, however late
	// they come, as a busy server may.
	SlowDown int
	// NoCompleteURI leaves verification_uri_complete (OPTIONAL) out of the responses.
	NoCompleteURI bool
}

// Defaults of DeviceOptions.
const (
	DefaultDeviceCodeTTL  = 10 * time.Minute
	DefaultDeviceInterval = 5 * time.Second
)

// userCodeAlphabet is the character set RFC 8628 §6.1 suggests for user codes: consonants
// only (no words, no vowels to mistype), upper case, 20 of them.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// deviceState is where a device code stands.
type deviceState int

const (
	devicePending deviceState = iota
	deviceApproved
	deviceDenied
	deviceUsed // its token was issued
)

// deviceAuth is an issued device code and what it is for.
type deviceAuth struct {
	client   *Client
	userCode string
	scopes   []string
	resource string
	expiry   time.Time
	state    deviceState
	subject  string // who approved it
	// interval is the least time between two polls; it grows with each slow_down.
	interval time.Duration
	// lastPoll is when the code was issued, then when it was last polled.
	lastPoll  time.Time
	slowDowns int // slow_downs forced by DeviceOptions.SlowDown so far
}

// deviceCodeTTL and deviceInterval apply the defaults of DeviceOptions.
func (s *Server) deviceCodeTTL() time.Duration {
	if d := s.opts.Device.CodeTTL; d > 0 {
		return d
	}
	return DefaultDeviceCodeTTL
}

func (s *Server) deviceInterval() time.Duration {
	if d := s.opts.Device.Interval.Round(time.Second); d > 0 {
		return d
	}
	return DefaultDeviceInterval
}

// deviceAuthorizationResponse is the RFC 8628 §3.2 answer.
type deviceAuthorizationResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete,omitempty"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// handleDeviceAuthorization implements the device authorization endpoint (RFC 8628 §3.1):
// the client authenticates as at the token endpoint.
func (s *Server) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	form, client, ok := s.clientRequest(w, r, EndpointDeviceAuthorization)
	if !ok {
		return
	}
	scopes := splitScopes(form.Get("scope"))
	if !slices.Contains(client.GrantTypes, GrantDeviceCode) {
		writeOAuthError(w, r, "unauthorized_client", "the client is not registered for the device_code grant")
		return
	}
	if !subset(scopes, s.scopes) {
		writeOAuthError(w, r, "invalid_scope", "the requested scope is not supported")
		return
	}
	resource, terr := s.requestedResource(form)
	if terr != nil {
		writeOAuthError(w, r, terr.code, terr.desc)
		return
	}
	deviceCode, userCode := randomToken(), newUserCode()
	now := s.now()
	d := &deviceAuth{
		client: client, userCode: userCode, scopes: scopes, resource: resource,
		expiry: now.Add(s.deviceCodeTTL()), interval: s.deviceInterval(), lastPoll: now,
	}
	s.mu.Lock()
	s.devices[deviceCode] = d
	s.userCodes[userCode] = deviceCode
	s.stats.DeviceAuthorizations++
	s.mu.Unlock()
	verify := s.issuerFor(r) + "/device"
	resp := deviceAuthorizationResponse{
		DeviceCode: deviceCode, UserCode: userCode, VerificationURI: verify,
		ExpiresIn: int64(s.deviceCodeTTL() / time.Second), Interval: int64(d.interval / time.Second),
	}
	if !s.opts.Device.NoCompleteURI {
		resp.VerificationURIComplete = verify + "?user_code=" + url.QueryEscape(userCode)
	}
	writeJSON(w, http.StatusOK, resp)
}

// newUserCode returns eight characters of userCodeAlphabet as XXXX-XXXX: about 34 bits, which
// RFC 8628 §5.1 deems enough against guessing within a code's life, with rate limits.
func newUserCode() string {
	var b strings.Builder
	for i, c := range randomBytes(8) {
		if i == 4 {
			b.WriteByte('-')
		}
		// 256 is not a multiple of 20: the first 240 values map evenly, so draw again above.
		for c >= 240 {
			c = randomByte()
		}
		b.WriteByte(userCodeAlphabet[int(c)%len(userCodeAlphabet)])
	}
	return b.String()
}

func randomByte() byte {
	var b [1]byte
	_, _ = rand.Read(b[:])
	return b[0]
}

// normalizeUserCode turns what a person typed into a user code: upper case, and the dash
// (or spaces) in whichever place, as RFC 8628 §6.1 asks servers to accept.
func normalizeUserCode(typed string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		if strings.ContainsRune(userCodeAlphabet, r) {
			b.WriteRune(r)
		}
	}
	code := b.String()
	if len(code) != 8 {
		return ""
	}
	return code[:4] + "-" + code[4:]
}

// lookupUserCode returns the pending device code a person's user code names, or "".
func (s *Server) lookupUserCode(typed string) (string, *deviceAuth) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dc, ok := s.userCodes[normalizeUserCode(typed)]
	if !ok {
		return "", nil
	}
	d := s.devices[dc]
	if d == nil || d.state != devicePending || !s.now().Before(d.expiry) {
		return "", nil
	}
	return dc, d
}

// handleDevicePage serves the verification page (RFC 8628 §3.3): GET shows the form to enter
// the user code (filled in from ?user_code=, the complete URI); POST looks the code up and
// shows what the device asks for, with Allow and Deny.
func (s *Server) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "Malformed request", "The form could not be parsed.")
		return
	}
	if r.Method == http.MethodGet {
		writeHTML(w, http.StatusOK, deviceCodeTemplate, deviceCodeData{
			Action: s.issuerPath + "/device", UserCode: normalizeUserCode(r.Form.Get("user_code")),
		})
		return
	}
	_, d := s.lookupUserCode(r.PostForm.Get("user_code"))
	if d == nil {
		writeHTML(w, http.StatusBadRequest, deviceCodeTemplate, deviceCodeData{
			Action: s.issuerPath + "/device", Problem: "That code is not valid, or it has expired or been used. Check the code your device shows.",
		})
		return
	}
	name := d.client.Name
	if name == "" {
		name = d.client.ID
	}
	writeHTML(w, http.StatusOK, consentTemplate, consentData{
		ClientName: name, ClientID: d.client.ID, Scopes: d.scopes, Resource: d.resource,
		Action: s.issuerPath + "/device/decision", RequestID: d.userCode, Issuer: s.issuerFor(r),
	})
}

// handleDeviceDecision receives Allow or Deny for a user code (sent as the consent form's
// request_id), for the user signed in at the server (SignInAs): whoever holds the code decides.
func (s *Server) handleDeviceDecision(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "Malformed request", "The form could not be parsed.")
		return
	}
	s.record(r, EndpointDecision, r.PostForm, "", "")
	decision := r.PostForm.Get("decision")
	if decision != "allow" && decision != "deny" {
		s.errorPage(w, http.StatusBadRequest, "Malformed request", "The form carried no decision.")
		return
	}
	s.mu.Lock()
	dc, ok := s.userCodes[normalizeUserCode(r.PostForm.Get("request_id"))]
	d := s.devices[dc]
	answered := ok && d != nil && d.state == devicePending && s.now().Before(d.expiry)
	if answered {
		d.state, d.subject = deviceApproved, s.user
		if decision == "deny" {
			d.state = deviceDenied
		}
	}
	s.mu.Unlock()
	switch {
	case !answered:
		s.errorPage(w, http.StatusBadRequest, "Request expired",
			"This sign-in code has expired or was already answered. Start the sign-in again on your device.")
	case decision == "allow":
		writeHTML(w, http.StatusOK, deviceDoneTemplate, deviceDoneData{Title: "Device signed in",
			Message: "You allowed the sign-in. You can close this page: your device is finishing it."})
	default:
		writeHTML(w, http.StatusOK, deviceDoneTemplate, deviceDoneData{Title: "Sign-in denied",
			Message: "You denied the sign-in. Your device will say so."})
	}
}

// grantDeviceCode answers a poll of the token endpoint (RFC 8628 §3.4, §3.5).
func (s *Server) grantDeviceCode(client *Client, form url.Values) (tokenResponse, *tokenError) {
	if !s.opts.Device.Enabled {
		return tokenResponse{}, errf("unsupported_grant_type", "the device_code grant is not enabled")
	}
	if !slices.Contains(client.GrantTypes, GrantDeviceCode) {
		return tokenResponse{}, errf("unauthorized_client", "the client may not use the device_code grant")
	}
	code := form.Get("device_code")
	if code == "" {
		return tokenResponse{}, errf("invalid_request", "device_code is required")
	}
	resource, terr := s.requestedResource(form)
	if terr != nil {
		return tokenResponse{}, terr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[code]
	if !ok || d.client.ID != client.ID {
		return tokenResponse{}, errf("invalid_grant", "the device code is invalid")
	}
	now := s.now()
	early := now.Sub(d.lastPoll) < d.interval
	d.lastPoll = now
	switch {
	case d.state == deviceUsed:
		return tokenResponse{}, errf("invalid_grant", "the device code was already used")
	case !now.Before(d.expiry):
		return tokenResponse{}, errf("expired_token", "the device code has expired")
	case d.state == deviceDenied:
		return tokenResponse{}, errf("access_denied", "the user denied the sign-in")
	case early || d.slowDowns < s.opts.Device.SlowDown:
		if !early {
			d.slowDowns++
		}
		d.interval += 5 * time.Second
		s.stats.SlowDowns++
		return tokenResponse{}, errf("slow_down", "polling too often: wait %s between requests", d.interval)
	case d.state == devicePending:
		return tokenResponse{}, errf("authorization_pending", "the user has not decided yet")
	case d.resource != "" && resource != "" && resource != d.resource:
		return tokenResponse{}, errf("invalid_target", "resource differs from the device authorization request")
	}
	if d.resource != "" {
		resource = d.resource
	}
	d.state = deviceUsed
	f := s.newFamilyLocked(client.ID, d.subject)
	s.stats.DeviceCodeGrants++
	return s.issueLocked(f, d.scopes, d.scopes, resource, s.refreshAllowed(client)), nil
}

// DecideDevice does over HTTP what a person does on the verification page of a device
// sign-in, for tests that drive no browser: it enters userCode at verificationURI (the
// page's form) and answers Allow (allow) or Deny. hc nil means http.DefaultClient.
func DecideDevice(ctx context.Context, hc *http.Client, verificationURI, userCode string, allow bool) error {
	if hc == nil {
		hc = http.DefaultClient
	}
	post := func(u string, form url.Values, want string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			return fmt.Errorf("POST %s answered %d without %q", u, resp.StatusCode, want)
		}
		return nil
	}
	base, _, _ := strings.Cut(verificationURI, "?")
	if err := post(base, url.Values{"user_code": {userCode}}, `id="allow"`); err != nil {
		return fmt.Errorf("entering the user code: %w", err)
	}
	decision, want := "deny", "Sign-in denied"
	if allow {
		decision, want = "allow", "Device signed in"
	}
	if err := post(base+"/decision", url.Values{"request_id": {normalizeUserCode(userCode)}, "decision": {decision}}, want); err != nil {
		return fmt.Errorf("answering the sign-in: %w", err)
	}
	return nil
}
