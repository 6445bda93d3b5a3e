package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/hint"
	"github.com/mcp-broker/mcp-broker/broker/loopback"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/broker/opener"
	"github.com/mcp-broker/mcp-broker/broker/provider"
)

// LoginOptions tune a sign-in.
type LoginOptions struct {
	// NoBrowser prints the URL instead of opening a browser.
	NoBrowser bool
	// ChallengeScope is the scope parameter of the challenge (RFC 6750 §3) with which the
	// server refused the request that made this sign-in necessary: a bridge's 401, handed on
	// to its own sign-in or, through its status file, to the tray's. It comes first in the MCP
	// scope selection order (see chooseScope). Discovery's own probe often sees no challenge:
	// servers that authorize per operation let initialize through, and a server of the
	// 2026-07-28 revision answers an initialize 400.
	ChallengeScope string
	// IfNeeded skips the sign-in when, once the server's lock is held, a usable token is
	// stored whose credential value is not Rejected: another process (a second bridge, the
	// tray) signed in while this one waited, and a second browser tab would be one too many.
	IfNeeded bool
	// Rejected is the credential value (Credential.Value) the caller saw refused; with
	// IfNeeded, a stored token with this value does not count as usable.
	Rejected string
	// AcceptNewIssuer lets a pre-registered client be used with an authorization server other
	// than the one it was first used with, which then becomes its own (see
	// IssuerChangedError). Only a person who knows the move is genuine sets it.
	AcceptNewIssuer bool
	// Device signs in with the device authorization grant (RFC 8628) rather than the browser
	// flow: Prompt shows an address and a code, which the person enters on any device (see
	// deviceLogin). It fails when the authorization server does not offer the grant.
	Device bool
	// DeviceIfOffered uses the device authorization grant when the authorization server offers
	// it, and the browser flow when it does not: for a process that knows no browser can be
	// opened before the person (the bridge on a machine without a display, or over SSH).
	DeviceIfOffered bool
	// OnDeviceCode, when set, is also told what Prompt shows of a device sign-in, as soon as it
	// is known: the bridge repeats it in its placeholder tool's answer.
	OnDeviceCode func(DeviceCode)
	// Paste, when set, carries the lines a person pastes while a browser sign-in waits: the
	// address the browser ended on, when it could not reach this machine's loopback server
	// (the browser runs on another machine). The first line that is this sign-in's answer
	// counts as the browser's redirect would, after the same checks (loopback.Server.Deliver);
	// whichever comes first, the redirect or the paste, decides. The sender owns the channel;
	// Login stops reading it when it returns.
	Paste <-chan string

	// stepUp marks the sign-in of a step-up (see StepUp): ChallengeScope is then the scope of
	// an insufficient_scope challenge, which adds to the scopes held.
	stepUp bool
}

// LoginResult describes a finished sign-in, without secrets.
type LoginResult struct {
	Server   string
	Issuer   string
	ClientID string
	Scopes   []string
	Expiry   string // RFC 3339, empty when the token does not expire
	// DPoP is true when the token is bound to this broker's DPoP key (RFC 9449).
	DPoP bool
	// Account is whose the sign-in is, when the server said (see Account); nil otherwise.
	Account *Account
	// SameAccountAs names the other servers at this URL signed in as the same Account: a
	// sign-in meant for another account that got the one the browser was still signed in to.
	SameAccountAs []string
	// NoRefreshToken is set when a browser sign-in brought an access token that expires and no
	// refresh token: a person must sign in again when it expires (State says it in words).
	NoRefreshToken bool
	// State is where the server's sign-in stands now, in the words of every audience.
	State SignInState
}

// Login signs in to the named server and stores the tokens. For OAuth servers it runs the
// browser flow, or the device flow (opts.Device, opts.DeviceIfOffered); for client-credentials
// and workload servers it requests a token; for enterprise servers it gets one through the identity provider, signing in there first when
// needed; bearer and unauthenticated servers have nothing to sign in to. Nothing is stored
// unless the whole sign-in succeeds.
func (b *Broker) Login(ctx context.Context, name string, opts LoginOptions) (*LoginResult, error) {
	res, err := b.login(ctx, name, opts)
	return res, wrap(OpSignIn, name, err)
}

// login is Login, with errors that do not name the server: see OpError.
func (b *Broker) login(ctx context.Context, name string, opts LoginOptions) (*LoginResult, error) {
	ctx = b.learning(ctx, name)
	srv, err := b.server(name)
	if err != nil {
		return nil, err
	}
	if opts.Device && srv.Auth != config.AuthOAuth && srv.Auth != "" {
		return nil, fmt.Errorf("signing in with a code is for servers a person signs in to (auth oauth), and this one is configured for %s", srv.Auth)
	}
	var tok *storedToken
	switch srv.Auth {
	case config.AuthNone:
		return nil, errors.New("the server is configured without authorization: there is nothing to sign in to")
	case config.AuthBearer:
		return nil, hint.With(errors.New("the server uses a static token: there is nothing to sign in to"), hint.StoreToken)
	case config.AuthClientCredentials:
		err = b.withServerLock(ctx, name, lockWait, func() error {
			tok, err = b.clientCredentialsSignIn(ctx, srv, opts)
			return err
		})
	case config.AuthWorkload:
		err = b.withServerLock(ctx, name, lockWait, func() error {
			if tok = b.reusable(ctx, srv, opts); tok != nil {
				return nil
			}
			tok, err = b.workloadGrant(ctx, srv, nil, opts)
			return err
		})
	case config.AuthEnterprise:
		tok, err = b.enterpriseSignIn(ctx, srv, opts)
	default:
		// The lock spans the whole browser (or device) flow: a second process signing in to
		// the same server waits instead of opening a second tab.
		err = b.withServerLock(ctx, name, b.signInTimeout+lockWait, func() error {
			if tok = b.reusable(ctx, srv, opts); tok != nil {
				return nil
			}
			tok, err = b.personLogin(ctx, srv, opts)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	res := &LoginResult{Server: name, Issuer: tok.Issuer, ClientID: tok.ClientID, Scopes: strings.Fields(tok.Scope), DPoP: tok.DPoPJKT != "", Account: tok.Account,
		State: StateSignedIn}
	res.SameAccountAs = b.sameAccountAs(srv, tok.Issuer, tok.Account)
	if !tok.Expiry.IsZero() {
		res.Expiry = tok.Expiry.Format("2006-01-02T15:04:05Z07:00")
	}
	switch {
	case srv.Auth == config.AuthEnterprise:
		res.State = StateSignedInIdP
	case srv.Auth == config.AuthOAuth && !tok.Expiry.IsZero():
		// Said now, not at the expiry: the person can still look for a setting that brings one.
		// (A grant another process stored may keep its refresh token in an item of its own.)
		if rt, err := b.refreshToken(ctx, name, tok); err == nil && rt == "" {
			res.NoRefreshToken, res.State = true, StateSignedInNoRefresh
		}
	}
	return res, nil
}

// discover runs discovery and insists on an authorization server.
func (b *Broker) discover(ctx context.Context, srv config.Server) (*discovery.Result, error) {
	res, err := b.fetcher().Discover(ctx, srv.URL)
	trace(ctx, srv.Name, StepDiscovery, err)
	if err != nil {
		return nil, err
	}
	if res.AuthServer == nil {
		if !res.AuthRequired {
			return nil, hint.With(errors.New("the server answered without asking for authorization and names no authorization server: it needs no sign-in"), hint.NoAuth)
		}
		return nil, hint.With(errors.New("the server asks for authorization but names no authorization server"), hint.Diagnose)
	}
	return res, nil
}

// personLogin signs a person in: with the device grant when asked to (or allowed to, and the
// authorization server offers it), else through the browser.
func (b *Broker) personLogin(ctx context.Context, srv config.Server, opts LoginOptions) (*storedToken, error) {
	res, err := b.discover(ctx, srv)
	if err != nil {
		return nil, err
	}
	if opts.Device || opts.DeviceIfOffered && res.AuthServer.OffersDeviceGrant() {
		return b.deviceLogin(ctx, srv, res, opts)
	}
	return b.browserLogin(ctx, srv, res, opts)
}

func (b *Broker) browserLogin(ctx context.Context, srv config.Server, res *discovery.Result, opts LoginOptions) (*storedToken, error) {
	as := res.AuthServer
	prof, _ := provider.Resolve(srv.Provider, as.Issuer, as.AuthorizationEndpoint, as.TokenEndpoint)
	if err := as.ValidateForBrowser(); err != nil && !undeclaredS256(prof, as, err) {
		return nil, err
	}
	if err := b.checkIssuer(srv, as.Issuer, opts.AcceptNewIssuer); err != nil {
		return nil, err
	}
	sreq := signInRequest(prof, srv, res, b.heldScopes(ctx, srv.Name, as.Issuer), opts)
	scope := sreq.Scope
	// Before the browser opens: a key that cannot be stored fails the sign-in now.
	tokenCtx, err := b.dpopForSignIn(ctx, srv, res)
	if err != nil {
		return nil, err
	}

	plan, err := b.planClient(ctx, srv, as, prof)
	if err != nil {
		return nil, err
	}
	wait := loopback.WithTimeout(b.signInTimeout)
	var ln *loopback.Server
	if plan.client != nil && plan.client.RedirectURI != "" && !ownRedirect(plan.client.RedirectURI) {
		// The authorization server registered a redirect URI of its own for this client, and
		// sends the browser nowhere else.
		ln, err = listenAt(ctx, plan.client.RedirectURI, wait)
	} else {
		ln, err = loopback.Listen(ctx, plan.port, callbackPath, wait)
		if errors.Is(err, loopback.ErrPortInUse) && plan.port != 0 {
			if plan.client.Kind == oauth.KindDynamic {
				// Our registered port is taken: register again with a new one rather than fail.
				plan = &clientPlan{register: true}
			}
			// Pre-registered and metadata-document clients use loopback redirect URIs, where the
			// authorization server must accept any port (RFC 8252 §7.3).
			ln, err = loopback.Listen(ctx, 0, callbackPath, wait)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("starting the sign-in callback server: %w", err)
	}
	defer func() { ln.Close() }()

	client := plan.client
	if plan.register {
		client, err = oauth.Register(ctx, b.http, oauth.RegistrationParams{
			Endpoint: as.RegistrationEndpoint, Issuer: as.Issuer, AuthMethods: as.AuthMethods(),
			GrantTypes: as.GrantTypesSupported, RedirectURI: ln.RedirectURI(), Scope: scope, SoftwareVersion: b.version,
		})
		trace(ctx, srv.Name, StepRegistration, err)
		if err != nil {
			var other *oauth.RedirectURIsError
			if errors.As(err, &other) {
				// Only a client registered by hand, with our loopback redirect URI, can help.
				err = hint.With(err, hint.ClientID)
			}
			return nil, err
		}
		if client.RedirectURI != ln.RedirectURI() {
			// It ignored ours and registered a loopback redirect URI of its own
			// (oauth.DeviationOtherRedirectURI): the sign-in comes back there, or not at all.
			ln.Close()
			if ln, err = listenAt(ctx, client.RedirectURI, wait); err != nil {
				return nil, fmt.Errorf("starting the sign-in callback server: %w", err)
			}
		}
	}
	if client.RedirectURI == "" || ownRedirect(client.RedirectURI) {
		client.RedirectURI = ln.RedirectURI()
	}

	req, err := oauth.NewAuthRequest(oauth.AuthRequestParams{
		AuthorizationEndpoint: as.AuthorizationEndpoint, Issuer: as.Issuer,
		RequireISS: as.AuthorizationResponseISSParameterSupported, Client: client,
		RedirectURI: client.RedirectURI, Scope: scope, Resource: sreq.Resource, Params: sreq.AuthParams,
	})
	if err != nil {
		return nil, err
	}
	if err := opener.CheckURL(req.URL); err != nil {
		return nil, fmt.Errorf("refusing to open the authorization URL: %w", err)
	}
	// The browser opens while the callback server already serves: an opener that returns only
	// when the browser quits (a text browser in the terminal) must not keep the callback
	// unanswered, and with it the browser, waiting on each other.
	openCtx, stopOpening := context.WithCancel(ctx)
	opening := b.askForBrowser(openCtx, srv.Name, req.URL, opts.NoBrowser, otherWays(srv.Name, as, ln.RedirectURI(), opts.Paste != nil))
	defer func() {
		stopOpening()
		<-opening
	}()

	waitCtx, cancel := context.WithTimeout(ctx, b.signInTimeout)
	defer cancel()
	if opts.Paste != nil {
		pasting := b.readPasted(waitCtx, ln, opts.Paste)
		defer func() {
			cancel()
			<-pasting
		}()
	}
	cb, err := ln.Wait(waitCtx, func(cb loopback.Callback) error {
		err := req.CheckRedirect(cb.State, cb.Iss)
		if errors.Is(err, oauth.ErrStateMismatch) {
			// Any web page can send the browser to our port: not our answer, so wait on.
			return loopback.ErrWrongState
		}
		return err
	})
	trace(ctx, srv.Name, StepAuthorization, err)
	if err != nil {
		if waitCtx.Err() != nil && ctx.Err() == nil {
			return nil, b.noRedirect(ctx, as)
		}
		return nil, err
	}
	tok, err := oauth.Exchange(tokenCtx, b.http, as.TokenEndpoint, client, req, cb.Code)
	trace(ctx, srv.Name, StepToken, err)
	if err != nil {
		return nil, err
	}
	if srv.SendToken == provider.TokenID && tok.IDToken == "" {
		return nil, hint.With(errors.New("the authorization server returned no ID token, and the server is configured to be sent the ID token"), hint.Diagnose)
	}
	return b.saveSignIn(ctx, srv, res, client, tok)
}

// saveSignIn stores what a person's sign-in (in the browser or with a device code) to srv
// brought: the client it was made with, then the grant tok, of the account it learns (see
// identify), signed in now.
func (b *Broker) saveSignIn(ctx context.Context, srv config.Server, res *discovery.Result, client *oauth.Client, tok *oauth.Token) (*storedToken, error) {
	if err := b.saveClient(ctx, srv.Name, client); err != nil {
		return nil, err
	}
	as := res.AuthServer
	acct := b.identify(ctx, srv.Name, as, client, tok)
	// The grant is filed under the server's resource whether or not the requests named it: it
	// is the URL the token belongs to (see checkTokenURL), and what a refresh may name.
	return b.saveGrant(ctx, srv.Name, tok, as.Issuer, as.TokenEndpoint, res.Resource, client.ID, true, acct, b.now())
}

// signInSettings are the server's escape hatches, as package provider reads them.
func signInSettings(srv config.Server) provider.Settings {
	return provider.Settings{
		AuthParams: srv.AuthParams, NoResource: srv.NoResource, NoResourceOnRefresh: srv.NoResourceOnRefresh,
		FixedScopes: len(srv.Scopes) > 0, SendIDToken: srv.SendToken == provider.TokenID,
	}
}

// signInRequest is what a browser sign-in asks for: the scopes of the MCP selection order (see
// mcpScopes) and the server's resource, with the provider profile's departures and the server's
// settings applied (package provider), in this one place.
func signInRequest(prof provider.Profile, srv config.Server, res *discovery.Result, held []string, opts LoginOptions) provider.Request {
	var as provider.AuthServer
	if m := res.AuthServer; m != nil {
		as = provider.AuthServer{OpenID: m.OpenIDProvider(), ScopesSupported: m.ScopesSupported, GrantTypesSupported: m.GrantTypesSupported}
	}
	return prof.Request(mcpScopes(srv, res, held, opts), res.Resource, as, signInSettings(srv))
}

// undeclaredS256 reports whether err, as's refusal for the browser sign-in, is only that its
// metadata is silent on PKCE, at a provider whose profile documents S256 (Entra ID, Cognito): a
// document that lists other methods without S256 is refused all the same.
func undeclaredS256(prof provider.Profile, as *discovery.AuthServerMetadata, err error) bool {
	return prof.UndeclaredS256 && errors.Is(err, discovery.ErrNoS256) && len(as.CodeChallengeMethodsSupported) == 0
}

// askForBrowser tells the person what is happening and, unless told not to, opens the browser
// in the background; the channel it returns closes once the opener has returned (it returns
// early when ctx ends). A browser that cannot be opened is not an error: the URL is printed
// and we keep waiting. others (see otherWays) follows a URL printed for the person to open.
func (b *Broker) askForBrowser(ctx context.Context, name, authURL string, noBrowser bool, others string) <-chan struct{} {
	done := make(chan struct{})
	if noBrowser || b.opener == nil {
		fmt.Fprintf(b.prompt, "To sign in to %s, open this URL in a browser:\n\n  %s\n\n%sWaiting for you to finish (up to %s; Ctrl-C cancels)…\n", name, authURL, others, b.signInTimeout)
		close(done)
		return done
	}
	fmt.Fprintf(b.prompt, "Opening your browser to sign in to %s…\nIf it does not open, visit:\n\n  %s\n\nWaiting for you to finish (up to %s; Ctrl-C cancels)…\n", name, authURL, b.signInTimeout)
	go func() {
		defer close(done)
		if err := b.opener.Open(ctx, authURL); err != nil && ctx.Err() == nil {
			fmt.Fprintf(b.prompt, "Could not open a browser (%v): open the URL above yourself.\n%s", err, others)
		}
	}()
	return done
}

// otherWays tells a person who opens the sign-in URL by hand what else works when the
// browser is on another machine: pasting the address it ends on back here (when paste is
// read), and signing in with a code, when the authorization server offers that.
func otherWays(name string, as *discovery.AuthServerMetadata, redirectURI string, paste bool) string {
	var b strings.Builder
	if paste {
		fmt.Fprintf(&b, "If your browser is on another machine, it ends on a page that cannot be reached (%s…):\ncopy that page's whole address from the address bar, paste it here and press Enter.\n", redirectURI)
	}
	if as.OffersDeviceGrant() {
		fmt.Fprintf(&b, "Or sign in with a code on any device instead: mcp-broker login %s --device\n", name)
	}
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// readPasted delivers the lines of paste to ln until one decides the sign-in, paste closes or
// ctx ends (Login's wait is over); the channel it returns closes when it has stopped. It tells
// the person why a line did not count, never repeating the line: it holds the code.
func (b *Broker) readPasted(ctx context.Context, ln *loopback.Server, paste <-chan string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			var line string
			var ok bool
			select {
			case <-ctx.Done():
				return
			case line, ok = <-paste:
			}
			if !ok {
				return
			}
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			err := ln.Deliver(ctx, line)
			switch {
			case err == nil, errors.Is(err, loopback.ErrDecided), ctx.Err() != nil:
				return
			case errors.Is(err, loopback.ErrWrongState):
				fmt.Fprintln(b.prompt, "That address answers another sign-in (its state is not this one's), perhaps an earlier attempt: paste the address this sign-in's page ended on.")
			default:
				fmt.Fprintf(b.prompt, "That cannot be this sign-in's answer: %v. Paste the whole address the browser ended on.\n", err)
			}
		}
	}()
	return done
}

// clientCredentialsLogin gets a client-credentials token without a person: see
// clientCredentialsSignIn.
func (b *Broker) clientCredentialsLogin(ctx context.Context, srv config.Server) (*storedToken, error) {
	return b.clientCredentialsSignIn(ctx, srv, LoginOptions{})
}

// clientCredentialsSignIn discovers the authorization server and gets a token with the
// client-credentials grant (of opts, AcceptNewIssuer and the challenge's scope count).
func (b *Broker) clientCredentialsSignIn(ctx context.Context, srv config.Server, opts LoginOptions) (*storedToken, error) {
	res, err := b.discover(ctx, srv)
	if err != nil {
		return nil, err
	}
	as := res.AuthServer
	scope := chooseScope(srv, res, b.heldScopes(ctx, srv.Name, as.Issuer), opts)
	var client *oauth.Client
	switch {
	case srv.ClientID != "":
		if err := b.checkIssuer(srv, as.Issuer, opts.AcceptNewIssuer); err != nil {
			return nil, err
		}
		client, err = b.loadClient(ctx, srv, as.Issuer)
		if err != nil {
			return nil, err
		}
		switch client.Proof() {
		case oauth.ProofKey:
			if err := checkKeyAuth(as, client); err != nil {
				return nil, err
			}
		case oauth.ProofNone:
			return nil, hint.With(errors.New("the client-credentials grant needs a client secret"), hint.ClientSecret)
		default:
			if info, ok := b.registration(srv.Name, as.Issuer); !ok || info.AuthMethod == "" {
				if client.AuthMethod, err = oauth.ChooseAuthMethod(as.AuthMethods(), oauth.ProofSecret); err != nil {
					return nil, err
				}
			}
		}
	default:
		if c, lerr := b.loadClient(ctx, srv, as.Issuer); lerr == nil && !c.Expired(b.now()) {
			client = c
		} else {
			// Servers that register machine clients hand out a client id and secret here.
			client, err = oauth.Register(ctx, b.http, oauth.RegistrationParams{
				Endpoint: as.RegistrationEndpoint, Issuer: as.Issuer, AuthMethods: as.AuthMethods(),
				Scope: scope, ClientCredentials: true, SoftwareVersion: b.version,
			})
			trace(ctx, srv.Name, StepRegistration, err)
			if err != nil {
				// Or the person gives a client of their own.
				return nil, hint.With(err, hint.ClientSecret)
			}
		}
	}
	tokenCtx, err := b.dpopForSignIn(ctx, srv, res)
	if err != nil {
		return nil, err
	}
	tok, err := oauth.ClientCredentials(tokenCtx, b.http, as.TokenEndpoint, client, scope, res.Resource)
	trace(ctx, srv.Name, StepToken, err)
	if err != nil {
		return nil, err
	}
	if err := b.saveClient(ctx, srv.Name, client); err != nil {
		return nil, err
	}
	return b.saveToken(ctx, srv.Name, tok, as.Issuer, as.TokenEndpoint, res.Resource, client.ID)
}

// checkKeyAuth checks that the authorization server takes the client assertions client's key
// signs: private_key_jwt among its methods, the key's algorithm among its signing algorithms
// (each list counts only when the server publishes it).
func checkKeyAuth(as *discovery.AuthServerMetadata, client *oauth.Client) error {
	method, err := oauth.ChooseAuthMethod(as.TokenEndpointAuthMethodsSupported, oauth.ProofKey)
	if err != nil {
		return hint.With(err, hint.Diagnose)
	}
	if algs := as.TokenEndpointAuthSigningAlgValuesSupported; !client.Key.Supported(algs) {
		return hint.With(fmt.Errorf("the authorization server does not accept %s client assertions (token_endpoint_auth_signing_alg_values_supported: %v)",
			client.Key.Algorithm(), algs), hint.PrivateKey)
	}
	client.AuthMethod = method
	return nil
}

// heldScopes returns the scopes granted to the server's stored token when it is from the
// authorization server issuer (nil otherwise: scopes of another server mean nothing here).
func (b *Broker) heldScopes(ctx context.Context, name, issuer string) []string {
	if old, err := b.loadToken(ctx, name); err == nil && old != nil && old.Issuer == issuer {
		return strings.Fields(old.Scope)
	}
	return nil
}

// chooseScope picks the scopes a grant without a browser requests (client credentials,
// workload): mcpScopes, with offline_access when the authorization server lists it. A browser
// sign-in asks for mcpScopes through its provider profile instead (see signInRequest), which
// decides how a refresh token is asked for.
func chooseScope(srv config.Server, res *discovery.Result, held []string, opts LoginOptions) string {
	scopes := mcpScopes(srv, res, held, opts)
	if len(scopes) > 0 && res.AuthServer != nil && slices.Contains(res.AuthServer.ScopesSupported, "offline_access") {
		scopes = union(scopes, []string{"offline_access"})
	}
	return strings.Join(scopes, " ")
}

// mcpScopes picks the scopes to request.
//
// A step-up asks for the scopes held plus the scopes challenged, and nothing else (SEP-2350, MCP
// 2026-07-28): the server names only what the operation lacks (RFC 6750 §3.1), so a client that
// asked for the challenged scopes alone would lose what it holds, and the resource metadata's
// scopes_supported is no part of what was asked.
//
// Any other sign-in follows the MCP scope selection order (2025-11-25): the user's configured
// scopes; else the scope of the challenge that made the sign-in necessary (opts.ChallengeScope,
// from the request the server refused, or else the challenge discovery's own probe got); else
// every scope the resource metadata lists; else none. The scopes held, when the token is from
// the same authorization server, are added, so that signing in again never loses access.
//
// What asks for a refresh token (offline_access, a provider's own parameters) is the caller's
// to add.
func mcpScopes(srv config.Server, res *discovery.Result, held []string, opts LoginOptions) []string {
	challenged := strings.Fields(opts.ChallengeScope)
	var scopes []string
	switch {
	case opts.stepUp && len(held) > 0:
		scopes = union(held, challenged)
	case len(srv.Scopes) > 0:
		scopes = srv.Scopes
	case len(challenged) > 0:
		scopes = challenged
	case res.Challenge != nil && res.Challenge.Scope() != "":
		scopes = strings.Fields(res.Challenge.Scope())
	case res.ResourceMetadata != nil && len(res.ResourceMetadata.ScopesSupported) > 0:
		scopes = res.ResourceMetadata.ScopesSupported
	}
	return union(scopes, held)
}

// union returns the distinct scopes of all lists, in first-seen order.
func union(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}
