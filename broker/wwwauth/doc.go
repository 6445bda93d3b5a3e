// Package wwwauth parses the WWW-Authenticate header (RFC 9110 §11.6.1) and reads the Bearer
// and DPoP challenges in it (RFC 6750 §3, RFC 9449 §7.1, RFC 9728 §5.1): the scope and resource
// metadata a server asks for when it refuses a request, and the nonce a DPoP server wants.
//
// It is a leaf package of its own because two layers read that header: discovery, on the 401
// of its probe, and the bridge's HTTP layer, on a 403 insufficient_scope mid-session. Neither
// has to import the other for it.
package wwwauth
