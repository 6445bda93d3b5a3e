// Package oauth is the OAuth 2.1 client side of the broker: client registration (pre-registered,
// Client ID Metadata Document, RFC 7591 dynamic registration), the authorization request with PKCE
// and state (RFC 7636, RFC 9207), and the token endpoint (code exchange, refresh with rotation,
// client credentials, and the assertion grants: the JWT bearer grant of RFC 7523 and the token
// exchange of RFC 8693; the client authenticated by its secret or a signed assertion), always
// sending the RFC 8707 resource indicator and, for servers that bind tokens to a key, a DPoP
// proof (RFC 9449; see WithDPoP), and token revocation (RFC 7009) for sign-out. It reads the
// claims of OpenID Connect ID tokens it is handed, to file and renew them and to tell the
// person whose sign-in it is, without trusting them for anything; for the same purpose it asks
// the UserInfo endpoint (OpenID Connect) and token introspection (RFC 7662).
//
// It does no discovery (see package discovery) and stores nothing (see package broker): every
// function takes what it needs and returns values, which keeps each step testable on its own.
//
// golang.org/x/oauth2 builds the authorization URL with PKCE; every token request is our own:
// x/oauth2 cannot send `resource` on a refresh request, which MCP requires there too, nor
// authenticate with a client assertion (private_key_jwt, RFC 7523 §2.2, signed by package jws),
// nor send a request as JSON to a server that reads nothing else.
//
// Hand-written authorization servers bend the rules in a few common ways; those this package
// can work around safely it does, and reports (see Deviation): a token endpoint that reads only
// JSON, expires_in as a string or missing, token_type missing or in lower case, a registration
// answered 200 or with other redirect URIs than asked.
package oauth
