package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/httpclient"
)

// maxRegistrationResponse caps an RFC 7591 response.
const maxRegistrationResponse = 256 << 10

// ClientName is how this program names itself to authorization servers.
const ClientName = "MCP Broker"

// RegistrationParams describes a dynamic registration (RFC 7591 §2).
type RegistrationParams struct {
	Endpoint string // the AS registration_endpoint
	Issuer   string
	// AuthMethods is the AS's token_endpoint_auth_methods_supported.
	AuthMethods []string
	// GrantTypes is the AS's grant_types_supported; refresh_token is asked for only when it is
	// listed or the list is absent, since some servers refuse registrations naming a grant they
	// do not offer.
	GrantTypes  []string
	RedirectURI string // the exact loopback redirect URI; empty for a client-credentials client
	Scope       string
	// ClientCredentials registers a confidential client for the client-credentials grant
	// instead of a public client for the browser flow.
	ClientCredentials bool
	SoftwareVersion   string

	// Device registers a client for the device authorization grant (RFC 8628) instead of the
	// browser flow: no redirect URI, a public client where the server allows one.
	Device bool
}

// registrationRequest is the RFC 7591 client metadata we send.
type registrationRequest struct {
	ClientName              string   `json:"client_name"`
	ApplicationType         string   `json:"application_type,omitempty"`
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	Scope                   string   `json:"scope,omitempty"`
	SoftwareID              string   `json:"software_id,omitempty"`
	SoftwareVersion         string   `json:"software_version,omitempty"`
}

type registrationResponse struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret"`
	ClientSecretExpiresAt   int64    `json:"client_secret_expires_at"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	Error                   string   `json:"error"`
	ErrorDescription        string   `json:"error_description"`
}

// Register performs RFC 7591 dynamic client registration, as a native application (OpenID
// Connect's application_type) either way. A browser-flow client registers as a public client
// ("none") when the AS allows it; a client-credentials client registers as confidential. The
// returned Client carries the method the AS actually granted, and the redirect URI to use:
// the one asked for, or when the server registered only others, the first of them a loopback
// receiver can serve (DeviationOtherRedirectURI; a *RedirectURIsError when there is none).
func Register(ctx context.Context, hc *http.Client, p RegistrationParams) (*Client, error) {
	if p.Endpoint == "" {
		return nil, errors.New("the authorization server offers no dynamic client registration")
	}
	req := registrationRequest{
		ClientName: ClientName,
		// This program runs on the user's machine, a desktop and command-line application, which
		// OpenID Connect Dynamic Client Registration calls native; left out, it means web, and
		// an OpenID provider then refuses the loopback redirect URI. MCP 2026-07-28 has clients
		// always send it, the machine clients of the client-credentials grant included.
		ApplicationType: "native",
		SoftwareID:      "mcp-broker",
		SoftwareVersion: p.SoftwareVersion,
		Scope:           p.Scope,
	}
	var err error
	if p.ClientCredentials {
		req.GrantTypes = []string{"client_credentials"}
		req.ResponseTypes = []string{}
		req.TokenEndpointAuthMethod, err = ChooseAuthMethod(p.AuthMethods, ProofSecret)
	} else {
		if p.Device {
			req.GrantTypes = []string{GrantDeviceCode}
			req.ResponseTypes = []string{}
		} else {
			req.RedirectURIs = []string{p.RedirectURI}
			req.GrantTypes = []string{"authorization_code"}
			req.ResponseTypes = []string{"code"}
		}
		if len(p.GrantTypes) == 0 || slices.Contains(p.GrantTypes, "refresh_token") {
			req.GrantTypes = append(req.GrantTypes, "refresh_token")
		}
		req.TokenEndpointAuthMethod, err = ChooseAuthMethod(p.AuthMethods, ProofNone)
		if err != nil {
			// Some servers only register confidential native clients; the secret they issue
			// is kept in the keychain like any other.
			req.TokenEndpointAuthMethod, err = ChooseAuthMethod(p.AuthMethods, ProofSecret)
		}
	}
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding the registration request: %w", err)
	}
	// The registration counts as a credentialed request: its answer is a client secret we will
	// send to the token endpoint, which another origin has no business issuing (and an RFC 7591
	// initial access token, should we send one, goes in Authorization).
	r, err := http.NewRequestWithContext(httpclient.WithCredential(ctx), http.MethodPost, p.Endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building the registration request: %w", err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json")
	now := time.Now()
	resp, err := guard(hc).Do(r)
	if err != nil {
		return nil, fmt.Errorf("registering with the authorization server: %w", redactURLError(err))
	}
	defer resp.Body.Close()
	raw, err := readBody(resp, maxRegistrationResponse, "registration response")
	if err != nil {
		return nil, err
	}
	var rr registrationResponse
	jsonErr := json.Unmarshal(raw, &rr)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		msg := fmt.Sprintf("the authorization server refused the client registration (HTTP %d", resp.StatusCode)
		if rr.Error != "" {
			msg += ": " + sanitize(rr.Error, 64)
		}
		if rr.ErrorDescription != "" {
			msg += ", " + sanitize(rr.ErrorDescription, 200)
		}
		return nil, errors.New(msg + ")")
	}
	if jsonErr != nil {
		return nil, fmt.Errorf("the registration response is not valid JSON: %w", jsonErr)
	}
	if rr.ClientID == "" {
		return nil, errors.New("the registration response has no client_id")
	}
	c := &Client{
		ID:           rr.ClientID,
		Secret:       rr.ClientSecret,
		AuthMethod:   rr.TokenEndpointAuthMethod,
		RedirectURI:  p.RedirectURI,
		Issuer:       p.Issuer,
		Kind:         KindDynamic,
		RegisteredAt: now,
		GrantTypes:   rr.GrantTypes,
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = req.GrantTypes
	}
	if c.AuthMethod == "" {
		c.AuthMethod = req.TokenEndpointAuthMethod
	}
	if rr.ClientSecretExpiresAt > 0 {
		c.SecretExpiresAt = time.Unix(rr.ClientSecretExpiresAt, 0)
	}
	if c.AuthMethod != AuthNone && c.Secret == "" {
		return nil, fmt.Errorf("the authorization server registered a %s client without a client_secret", c.AuthMethod)
	}
	if resp.StatusCode == http.StatusOK {
		c.Deviations = append(c.Deviations, DeviationRegistration200)
	}
	if p.RedirectURI != "" {
		switch {
		case len(rr.RedirectURIs) == 0:
			c.Deviations = append(c.Deviations, DeviationNoRedirectURIs)
		case !slices.Contains(rr.RedirectURIs, p.RedirectURI):
			// The server will send the browser only to what it registered: never to ours, then.
			uri := receivableRedirect(rr.RedirectURIs)
			if uri == "" {
				return nil, &RedirectURIsError{Asked: p.RedirectURI, Registered: rr.RedirectURIs}
			}
			c.RedirectURI = uri
			c.Deviations = append(c.Deviations, DeviationOtherRedirectURI)
		}
	}
	return c, nil
}

// RedirectURIsError refuses a registration whose server ignored the redirect URI asked for and
// registered others, none of them a loopback URI this program can receive the sign-in on: the
// authorization code would go to whoever listens there.
type RedirectURIsError struct {
	Asked      string   // the loopback redirect URI asked for
	Registered []string // what the server registered instead, as it wrote them
}

func (e *RedirectURIsError) Error() string {
	shown := make([]string, 0, 3)
	for _, u := range e.Registered[:min(len(e.Registered), 3)] {
		shown = append(shown, sanitize(u, 120))
	}
	if len(e.Registered) > len(shown) {
		shown = append(shown, "…")
	}
	return fmt.Sprintf("the authorization server ignored the redirect URI asked for (%s) and registered %s instead, where mcp-broker cannot receive the sign-in: signing in would send the authorization code elsewhere",
		e.Asked, strings.Join(shown, ", "))
}

// receivableRedirect returns the first of uris a loopback receiver can serve: http on
// 127.0.0.1 or localhost (RFC 8252 §7.3), with a port and without a query or fragment; "" when
// there is none.
func receivableRedirect(uris []string) string {
	for _, raw := range uris {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			continue
		}
		if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" {
			continue
		}
		if port, err := strconv.Atoi(u.Port()); err != nil || port < 1 || port > 65535 {
			continue
		}
		return raw
	}
	return ""
}

// Expired reports whether the registration's client secret has expired (RFC 7591 §3.2.1), in
// which case the client must register again.
func (c *Client) Expired(now time.Time) bool {
	return !c.SecretExpiresAt.IsZero() && !now.Before(c.SecretExpiresAt)
}
