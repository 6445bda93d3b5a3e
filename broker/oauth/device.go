package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/mcp-broker/mcp-broker/broker/dpop"
)

// GrantDeviceCode is the grant type of the device authorization grant (RFC 8628 §3.4).
const GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// Bounds on what a device authorization response may ask of us.
const (
	// DefaultDeviceInterval is the polling interval when the server names none (RFC 8628 §3.2).
	DefaultDeviceInterval = 5 * time.Second
	// slowDownStep is what each slow_down adds to the interval (RFC 8628 §3.5).
	slowDownStep = 5 * time.Second
	// defaultDeviceLifetime stands in for a missing expires_in (REQUIRED, yet some leave it out).
	defaultDeviceLifetime = 10 * time.Minute
	// maxDeviceLifetime caps expires_in: a person signs in within minutes, and the caller's
	// sign-in lock is held until the code expires.
	maxDeviceLifetime = time.Hour
	// maxDeviceInterval caps the interval a server asks for and the backoff after network
	// errors; slow_down adds to it regardless, as RFC 8628 §3.5 says it must.
	maxDeviceInterval = time.Minute
	// maxUserCode bounds the user code a person is asked to type.
	maxUserCode = 64
)

// DeviceAuthorization is a device authorization response (RFC 8628 §3.2): what the person is
// shown (the user code and where to enter it), and the device code this client polls the token
// endpoint with. DeviceCode is a secret of the attempt: String leaves it out.
type DeviceAuthorization struct {
	DeviceCode string
	// UserCode is the code the person enters at VerificationURI; printable, at most 64 runes.
	UserCode string
	// VerificationURI is where to enter it; VerificationURIComplete, when the server sends one,
	// carries the code already (RFC 8628 §3.3.1).
	VerificationURI         string
	VerificationURIComplete string
	// Expiry is when the codes expire (expires_in after the response arrived).
	Expiry time.Time
	// Interval is the time to wait between polls (RFC 8628 §3.2; DefaultDeviceInterval when
	// the server names none).
	Interval time.Duration
	// Scope and Resource are what was asked for: the token request repeats the resource, and a
	// token response without scope grants the scope requested.
	Scope    string
	Resource string
}

// String describes the authorization without its device code.
func (d *DeviceAuthorization) String() string {
	return fmt.Sprintf("oauth.DeviceAuthorization{user_code:%q verification_uri:%q expiry:%s interval:%s}",
		d.UserCode, d.VerificationURI, d.Expiry.Format(time.RFC3339), d.Interval)
}

// GoString is String, so that %#v is safe too.
func (d *DeviceAuthorization) GoString() string { return d.String() }

// DeviceAuthorizationError is an error response of the device authorization endpoint
// (RFC 8628 §3.2, in the form of RFC 6749 §5.2), or an answer that is not a device
// authorization response at all.
type DeviceAuthorizationError struct {
	Status      int
	Code        string // e.g. "unauthorized_client"; empty when the server sent no error code
	Description string // sanitized error_description
}

func (e *DeviceAuthorizationError) Error() string {
	msg := "the device authorization endpoint refused the request"
	switch {
	case e.Code != "":
		msg += ": " + e.Code
	case e.Status != 0:
		msg += fmt.Sprintf(": HTTP %d", e.Status)
	}
	if e.Description != "" {
		msg += " (" + e.Description + ")"
	}
	return msg
}

// Errors that end a device sign-in as the authorization server decided (RFC 8628 §3.5).
var (
	// ErrDeviceDenied: the person (or the server's policy) refused the sign-in (access_denied).
	ErrDeviceDenied = errors.New("the sign-in was refused at the authorization server (access_denied)")
	// ErrDeviceExpired: the code expired before the sign-in was approved (expired_token, or
	// its lifetime ran out here).
	ErrDeviceExpired = errors.New("the sign-in code expired before the sign-in was approved")
)

// AuthorizeDevice starts a device sign-in (RFC 8628 §3.1): it asks the device authorization
// endpoint for a device code and a user code, for scope (empty omits it) and the RFC 8707
// resource (empty omits it; MCP always sends it). The client authenticates as registered, as
// at the token endpoint (RFC 8628 §3.1, RFC 6749 §2.3). now is when the request is sent, on the
// caller's clock: the response's expires_in counts from it.
func AuthorizeDevice(ctx context.Context, hc *http.Client, endpoint string, c *Client, scope, resource string, now time.Time) (*DeviceAuthorization, error) {
	form := url.Values{}
	if scope != "" {
		form.Set("scope", scope)
	}
	if resource != "" {
		form.Set("resource", resource)
	}
	// As a form, or as JSON for servers that read nothing else (see send).
	resp, _, err := send(ctx, hc, endpoint, c, form)
	if err != nil {
		return nil, fmt.Errorf("requesting a sign-in code: %w", err)
	}
	defer resp.Body.Close()
	body, err := readBody(resp, maxTokenResponse, "device authorization response")
	if err != nil {
		return nil, err
	}
	var dj struct {
		DeviceCode              string      `json:"device_code"`
		UserCode                string      `json:"user_code"`
		VerificationURI         string      `json:"verification_uri"`
		VerificationURL         string      `json:"verification_url"` // Google's spelling
		VerificationURIComplete string      `json:"verification_uri_complete"`
		ExpiresIn               json.Number `json:"expires_in"`
		Interval                json.Number `json:"interval"`
		Error                   string      `json:"error"`
		Description             string      `json:"error_description"`
	}
	jsonErr := json.Unmarshal(body, &dj)
	if resp.StatusCode < 200 || resp.StatusCode > 299 || dj.Error != "" {
		return nil, &DeviceAuthorizationError{Status: resp.StatusCode, Code: sanitize(dj.Error, 64), Description: sanitize(dj.Description, 200)}
	}
	if jsonErr != nil {
		return nil, errors.New("the device authorization endpoint answered with something that is not a JSON device authorization response")
	}
	if dj.VerificationURI == "" {
		dj.VerificationURI = dj.VerificationURL
	}
	switch {
	case dj.DeviceCode == "":
		return nil, errors.New("the device authorization response has no device_code")
	case dj.UserCode == "":
		return nil, errors.New("the device authorization response has no user_code")
	case dj.VerificationURI == "":
		return nil, errors.New("the device authorization response has no verification_uri")
	case len([]rune(dj.UserCode)) > maxUserCode || strings.IndexFunc(dj.UserCode, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		// It is printed for a person to type: no escape sequences, no novels.
		return nil, errors.New("the device authorization response has a user_code that cannot be shown (too long, or not printable)")
	}
	da := &DeviceAuthorization{
		DeviceCode: dj.DeviceCode, UserCode: dj.UserCode,
		VerificationURI: dj.VerificationURI, VerificationURIComplete: dj.VerificationURIComplete,
		Expiry:   now.Add(seconds(dj.ExpiresIn, defaultDeviceLifetime, maxDeviceLifetime)),
		Interval: seconds(dj.Interval, DefaultDeviceInterval, maxDeviceInterval),
		Scope:    scope, Resource: resource,
	}
	return da, nil
}

// seconds reads a whole number of seconds (a JSON number, or a string holding one, as some
// servers send), or def when it is missing or not positive, capped at max.
func seconds(n json.Number, def, max time.Duration) time.Duration {
	s, err := n.Int64()
	if err != nil || s <= 0 {
		return def
	}
	if s > int64(max/time.Second) {
		return max
	}
	return time.Duration(s) * time.Second
}

// DevicePoll is the clock of PollDeviceToken; the zero value is the real one. Tests share a
// fake clock between it and an authorization server, so that intervals and expiry can be
// checked without waiting for them.
type DevicePoll struct {
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Wait returns after d, or ctx's error when ctx ends first; nil waits on a timer.
	Wait func(ctx context.Context, d time.Duration) error
}

func (p DevicePoll) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p DevicePoll) wait(ctx context.Context, d time.Duration) error {
	if p.Wait != nil {
		return p.Wait(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// PollDeviceToken polls the token endpoint with the device code (RFC 8628 §3.4) until the
// person has approved the sign-in, refused it, or the code expired, and returns the token. It
// waits the interval before each request; authorization_pending means poll on, slow_down adds
// five seconds to the interval for good (§3.5), and a request that fails on the network
// doubles it (§3.5 asks to back off). access_denied ends with an error matching
// ErrDeviceDenied, expired_token (or the code's lifetime running out here) with one matching
// ErrDeviceExpired; any other error response is a *TokenError. The client authenticates as
// registered; the resource of the device authorization is sent again (RFC 8707 §2.2). With a
// ctx made by WithDPoP each poll carries a DPoP proof, and a use_dpop_nonce answer is polled
// again with the server's nonce (RFC 9449 §8).
func PollDeviceToken(ctx context.Context, hc *http.Client, tokenURL string, c *Client, da *DeviceAuthorization, clock DevicePoll) (*Token, error) {
	interval := da.Interval
	if interval <= 0 {
		interval = DefaultDeviceInterval
	}
	for {
		if clock.now().Add(interval).After(da.Expiry) {
			return nil, ErrDeviceExpired
		}
		if err := clock.wait(ctx, interval); err != nil {
			return nil, err
		}
		form := url.Values{"grant_type": {GrantDeviceCode}, "device_code": {da.DeviceCode}}
		if da.Resource != "" {
			form.Set("resource", da.Resource)
		}
		now := clock.now()
		resp, how, err := send(ctx, tokenClient(ctx, hc), tokenURL, c, form)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			interval = min(2*interval, maxDeviceInterval)
			continue
		}
		tok, err := parseTokenResponse(resp, "device_code", now)
		resp.Body.Close()
		var te *TokenError
		if errors.As(err, &te) && how == refusedBoth {
			te.AlsoAsJSON = true
		}
		switch {
		case err == nil:
			if tok.Scope == "" {
				tok.Scope = da.Scope
			}
			if how == sentJSON {
				tok.Deviations = addDeviation(tok.Deviations, DeviationJSONBody)
			}
			return bound(ctx, tok), nil
		case !errors.As(err, &te):
			return nil, err
		case te.Code == "authorization_pending":
		case te.Code == dpop.ErrUseNonce:
			// The proofs' transport keeps the nonce the server gave: the next poll carries it.
		case te.Code == "slow_down":
			interval += slowDownStep
		case te.Code == "access_denied":
			return nil, withDescription(ErrDeviceDenied, te.Description)
		case te.Code == "expired_token":
			return nil, withDescription(ErrDeviceExpired, te.Description)
		default:
			return nil, err
		}
	}
}

// withDescription adds the server's error_description (sanitized already) to err.
func withDescription(err error, desc string) error {
	if desc == "" {
		return err
	}
	return fmt.Errorf("%w: %s", err, desc)
}
