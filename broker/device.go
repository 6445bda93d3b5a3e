package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/provider"
)

// DeviceCode is what a person needs to finish a device sign-in (RFC 8628 §3.3) on another
// device: where to go and the code to enter there. It holds no secret: the code only lets the
// person who signs in there approve this sign-in.
type DeviceCode struct {
	Server string
	// UserCode is the code to enter; VerificationURI, where.
	UserCode        string
	VerificationURI string
	// VerificationURIComplete, when the authorization server sends one, carries the code
	// already: opening it is enough. Empty otherwise.
	VerificationURIComplete string
	// Expiry is when the code expires.
	Expiry time.Time
}

// deviceLogin signs in with the device authorization grant (RFC 8628): it asks the
// authorization server for a device code and a user code, shows the person where to enter the
// code (on Prompt, and to opts.OnDeviceCode), and polls the token endpoint until they have
// approved or refused, or the code expired. The broker's rules apply where they can: the
// scope choice, the resource indicator on both requests (RFC 8707), the client choice (a
// client you registered, a metadata document, else a dynamic registration for this grant),
// the issuer pinning of a pre-registered client, DPoP where it is used, and learning whose the
// sign-in is. PKCE and the RFC 9207 iss do not apply:
// no authorization code and no redirect travel through a browser.
func (b *Broker) deviceLogin(ctx context.Context, srv config.Server, res *discovery.Result, opts LoginOptions) (*storedToken, error) {
	as := res.AuthServer
	if err := as.ValidateForDevice(); err != nil {
		return nil, hint.With(err, hint.Diagnose)
	}
	if err := b.checkIssuer(srv, as.Issuer, opts.AcceptNewIssuer); err != nil {
		return nil, err
	}
	// The provider's profile shapes the request as it does the browser's (scopes qualified, the
	// resource left out where the provider refuses it); the device request has no room for the
	// authorization parameters, which go to a browser.
	prof, _ := provider.Resolve(srv.Provider, as.Issuer, as.AuthorizationEndpoint, as.TokenEndpoint)
	sreq := signInRequest(prof, srv, res, b.heldScopes(ctx, srv.Name, as.Issuer), opts)
	scope := sreq.Scope
	// Before the code is shown: a DPoP key that cannot be stored fails the sign-in now.
	tokenCtx, err := b.dpopForSignIn(ctx, srv, res)
	if err != nil {
		return nil, err
	}
	client, err := b.deviceClient(ctx, srv, as, scope)
	if err != nil {
		return nil, err
	}
	da, err := oauth.AuthorizeDevice(ctx, b.http, as.DeviceAuthorizationEndpoint, client, scope, sreq.Resource, b.now())
	if err != nil {
		trace(ctx, srv.Name, StepAuthorization, err)
		return nil, err
	}
	code, err := deviceCodeFor(srv.Name, da)
	if err != nil {
		return nil, err
	}
	b.showDeviceCode(code)
	if opts.OnDeviceCode != nil {
		opts.OnDeviceCode(code)
	}
	tok, err := oauth.PollDeviceToken(tokenCtx, b.http, as.TokenEndpoint, client, da, b.devicePoll)
	switch {
	case errors.Is(err, oauth.ErrDeviceExpired), errors.Is(err, oauth.ErrDeviceDenied):
		// The person refused, or never came: the authorization failed, no token was due.
		trace(ctx, srv.Name, StepAuthorization, err)
		return nil, hint.With(err, hint.TryAgain)
	case err != nil:
		// The poll's answer cannot tell an approval from none: only the token's step failed.
		trace(ctx, srv.Name, StepToken, err)
		return nil, err
	}
	trace(ctx, srv.Name, StepAuthorization, nil)
	trace(ctx, srv.Name, StepToken, nil)
	return b.saveSignIn(ctx, srv, res, client, tok)
}

// deviceClient chooses the client of a device sign-in, in the MCP order: a client the person
// registered (who must have allowed it the device grant), a Client ID Metadata Document, a
// dynamic registration we hold for this issuer that was made for the device grant, else a new
// one (no redirect URI; a public client where the server allows one). A registration for the
// browser flow is not reused: servers refuse a grant a client was not registered for.
func (b *Broker) deviceClient(ctx context.Context, srv config.Server, as *discovery.AuthServerMetadata, scope string) (*oauth.Client, error) {
	issuer := as.Issuer
	if srv.ClientID != "" {
		return b.preRegisteredClient(ctx, srv, as)
	}
	if srv.ClientMetadataURL != "" && as.ClientIDMetadataDocumentSupported {
		return &oauth.Client{ID: srv.ClientMetadataURL, Issuer: issuer, Kind: oauth.KindMetadataDoc, AuthMethod: oauth.AuthNone}, nil
	}
	if c, err := b.loadClient(ctx, srv, issuer); err == nil && c.Kind == oauth.KindDynamic && !c.Expired(b.now()) && c.CanUse(oauth.GrantDeviceCode) {
		return c, nil
	} else if err != nil && !errors.Is(err, ErrSignInRequired) {
		return nil, err
	}
	if as.RegistrationEndpoint == "" {
		next := hint.ClientID
		if as.ClientIDMetadataDocumentSupported {
			next = hint.ClientIDOrMetadataURL
		}
		return nil, hint.With(fmt.Errorf("the authorization server %s offers no dynamic client registration", issuer), next)
	}
	c, err := oauth.Register(ctx, b.http, oauth.RegistrationParams{
		Endpoint: as.RegistrationEndpoint, Issuer: issuer, AuthMethods: as.AuthMethods(),
		GrantTypes: as.GrantTypesSupported, Scope: scope, SoftwareVersion: b.version, Device: true,
	})
	trace(ctx, srv.Name, StepRegistration, err)
	return c, err
}

// deviceCodeFor checks what a device authorization response asks the person to open: web
// addresses a browser may be sent to (opener.CheckURL), over https unless on a loopback host
// (discovery.CheckEndpoint), as every other address of the authorization server. A
// verification_uri_complete that fails is left out; a verification_uri that fails ends the
// sign-in, since there is nothing else to show.
func deviceCodeFor(name string, da *oauth.DeviceAuthorization) (DeviceCode, error) {
	check := func(u string) error {
		if err := opener.CheckURL(u); err != nil {
			return err
		}
		return discovery.CheckEndpoint(u)
	}
	if err := check(da.VerificationURI); err != nil {
		return DeviceCode{}, hint.With(fmt.Errorf("refusing the device sign-in's verification_uri: %w", err), hint.Diagnose)
	}
	code := DeviceCode{Server: name, UserCode: da.UserCode, VerificationURI: da.VerificationURI, Expiry: da.Expiry}
	if da.VerificationURIComplete != "" && check(da.VerificationURIComplete) == nil {
		code.VerificationURIComplete = da.VerificationURIComplete
	}
	return code, nil
}

// showDeviceCode tells the person, on Prompt, where to go and which code to enter.
func (b *Broker) showDeviceCode(c DeviceCode) {
	fmt.Fprintf(b.prompt, "To sign in to %s, open this address in a browser on any device (a phone will do):\n\n  %s\n\nand enter the code:\n\n  %s\n\n", c.Server, c.VerificationURI, c.UserCode)
	if c.VerificationURIComplete != "" {
		fmt.Fprintf(b.prompt, "Or open this address, which carries the code:\n\n  %s\n\n", c.VerificationURIComplete)
	}
	fmt.Fprintf(b.prompt, "Waiting for you to finish (the code expires in %s; Ctrl-C cancels)…\n", c.Expiry.Sub(b.now()).Round(time.Second))
}
