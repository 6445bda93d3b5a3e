// Package mcpserver is a real MCP server (mark3labs/mcp-go) behind OAuth
// bearer-token authorization, for integration tests and for the
// `mcp-broker demo` command.
//
// It serves Streamable HTTP at /mcp and the legacy HTTP+SSE transport at
// /sse (messages POSTed to /message), both guarded by a middleware that does
// what the MCP authorization spec asks of a resource server: it takes the
// token from the Authorization header only, verifies it with a Verifier
// (an *authserver.Server), checks its audience (RFC 8707 resource), answers
// 401 with a WWW-Authenticate challenge pointing at the Protected Resource
// Metadata (RFC 9728), and answers 403 insufficient_scope for a tool that
// needs more scope (step-up).
//
// # Resources and audiences
//
// Each transport is its own protected resource, named by the URL a client
// is configured with:
//
//   - Streamable HTTP: resource = base + "/mcp", PRM at
//     /.well-known/oauth-protected-resource/mcp;
//   - legacy SSE: resource = base + "/sse" (covering both /sse and
//     /message), PRM at /.well-known/oauth-protected-resource/sse.
//
// A client that canonicalises its configured URL therefore finds a PRM whose
// `resource` equals it exactly (RFC 9728 §3.3), and a token obtained for one
// transport is refused by the other (audience check). PRMRootOnly serves
// only the /mcp document, at the root well-known URL; the SSE transport has
// no discoverable metadata in that mode.
//
// With Options.DPoP (or DPoPOnly, DPoPRequired) it also takes DPoP-bound
// tokens (RFC 9449): the DPoP scheme with a proof checked for every request,
// and its nonce on demand (DPoPNonce).
//
// The tools are echo, add, whoami (reports the token's client, subject,
// scopes and resource) and admin_action (needs Options.StepUpScope); there
// is one prompt (greeting) and one resource (demo://readme).
//
// The server binds loopback addresses only. Hostile switches (WrongResource)
// exist to test a client's checks.
package mcpserver
