// Package dpop makes the broker's OAuth tokens sender-constrained with Demonstrating Proof of
// Possession (RFC 9449, MCP's SEP-1932). A proof is a small JWT signed with a key the broker
// keeps in the secret store: sent with a token request, it makes the authorization server bind
// the token to the key (token_type "DPoP", cnf.jkt); sent with every request that presents the
// token, it shows the server that the sender holds the key, so a token copied from a log or a
// proxy is useless on its own.
//
// The pieces, each used by several callers:
//   - Prover signs proofs: htm and htu for the one request, iat, a new jti every time, ath when
//     a token goes with it, and the server's nonce when it asked for one.
//   - Nonces remembers the nonce each origin last supplied in a DPoP-Nonce header (RFC 9449
//     §8 for authorization servers, §9 for resource servers).
//   - Transport adds a proof to every token request and keeps the nonces the authorization
//     server supplies, for the request its caller makes again after use_dpop_nonce.
//   - Decide is the rule that chooses whether a server gets DPoP at all (see its comment).
//
// Signing is package jws's; this package only decides what a proof says. A proof holds no
// secret, but it is a credential for a minute: never log one.
package dpop
