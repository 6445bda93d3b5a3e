// Package authserver is a small, in-memory OAuth 2.1 authorization server for
// integration tests and for the `mcp-broker demo` command.
//
// It implements what an MCP client meets in the wild, and nothing more:
//
//   - Authorization Server Metadata (RFC 8414) and its OpenID Connect
//     discovery aliases, for issuers with or without a path;
//   - Dynamic Client Registration (RFC 7591), pre-registered clients
//     (RegisterClient) and Client ID Metadata Documents (https URL client ids);
//   - the authorization code grant with mandatory PKCE S256, an optional
//     consent page, RFC 8707 resource indicators and RFC 9207 `iss`;
//   - rotating refresh tokens with reuse detection: presenting a refresh
//     token that was already rotated revokes every token of that grant, as
//     real servers do. That is exactly what makes two concurrent refreshes
//     with one refresh token dangerous, and tests rely on it;
//   - the client_credentials grant for confidential clients;
//   - the assertion grants, each switched on by an option: the JWT bearer grant
//     (RFC 7523) for workloads and enterprise clients, taking JWTs from
//     issuers it trusts, and, playing a company's identity provider, ID tokens
//     (OpenID Connect) and their token exchange (RFC 8693) for ID-JAGs
//     (enterprise-managed authorization, SEP-990), signed ES256;
//   - the device authorization grant (RFC 8628), switched on by
//     Options.Device: device and user codes, the page where a person enters a
//     user code and allows or denies, and polling with authorization_pending,
//     slow_down, access_denied and expired_token;
//   - token revocation (RFC 7009): revoking a refresh token revokes its grant;
//   - DPoP (RFC 9449), when Options.DPoP is set: tokens bound to the key of the token
//     request's proof, a nonce on demand (Options.DPoPNonce);
//   - who a token is for, where a switch offers it: an OpenID Connect UserInfo
//     endpoint (Options.UserInfo) and token introspection (RFC 7662,
//     Options.Introspection);
//   - token endpoint client authentication exactly as registered
//     (none, client_secret_basic, client_secret_post, and with
//     Options.PrivateKeyJWT private_key_jwt: RFC 7523 client assertions
//     checked by the rules of RFC 10070, for clients registered with a
//     public key).
//
// Tokens are opaque random strings kept in memory; a resource server checks
// them with Verify (the demo MCP server does). Switches in Hostile make the
// server misbehave in one precise way each, so that a client's security checks
// can be tested against a real HTTP server; switches in Deviations make it bend
// the rules the way hand-written servers do (a token endpoint that reads only
// JSON, expires_in as a string or missing, token_type missing or in lower case,
// a registration answered 200 or with redirect URIs of its own, an issuer with a
// trailing slash, an authorization endpoint that is only a stub), so that a
// client's tolerance of them can be; switches in Mimic make it follow one real
// identity provider's rule each (Entra ID's scopes without resource, Auth0's
// audience, Google's access_type=offline, an OpenID provider's offline_access
// with prompt=consent, Okta's closed registration), so that a client's provider
// profiles can be.
//
// A person's grant is for the user signed in at the server: DemoSubject,
// another name typed on the consent page, or the one SignInAs set, so a test
// can sign two accounts in to one server.
//
// The server only listens on loopback addresses: Start refuses anything else.
// It is a test and demo tool, not a production authorization server: there
// are no passwords, no persistence and no rate limits.
package authserver
