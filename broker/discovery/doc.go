// Package discovery finds out how an MCP server wants its clients to sign in,
// following the order the MCP authorization specification prescribes:
//
//  1. probe the server without a token and read the Bearer (or DPoP) challenge
//     of its 401 (RFC 9110 §11.6.1, RFC 6750 §3, RFC 9449 §7.1; parsed by
//     package wwwauth);
//  2. fetch its Protected Resource Metadata (RFC 9728): the challenge's
//     resource_metadata URL, else the path-form well-known URL, else the root one
//     (a resource_metadata URL is fetched only on the server's origin or over
//     https, and never on this machine for a server elsewhere: a refused one is
//     recorded in the Trace, and the well-known URLs are used);
//  3. check that the metadata names this server as its resource (RFC 9728 §3.3);
//  4. fetch the authorization server's metadata (RFC 8414, OpenID Connect
//     Discovery) and check that its issuer is exactly the one asked for (a
//     trailing slash more or less, which many servers get wrong, is the one
//     difference accepted, and noted for doctor to warn about);
//  5. for servers of the 2025-03-26 generation, which publish no resource
//     metadata, fall back to the server's origin as the authorization server;
//  6. refuse an authorization server that does not advertise PKCE S256, or
//     whose endpoints are not https (loopback hosts excepted).
//
// It is written by hand rather than taken from go-sdk's oauthex so that every
// request goes through one Fetcher that caps bodies, follows only same-origin
// redirects and records a Trace that `mcp-broker doctor` shows to people.
//
// Nothing here sends or sees a secret: discovery requests carry no token.
package discovery
