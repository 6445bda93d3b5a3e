// Package upstream is the bridge's HTTP side: the client halves of the MCP Streamable HTTP
// transport (2025-03-26 to 2025-11-25, and the stateless requests of 2026-07-28) and of the
// legacy HTTP+SSE transport (2024-11-05), written for relaying rather than for an SDK.
//
// A relay has needs an SDK client does not: every message travels as the exact bytes the
// client sent or the server answered (ids are never renumbered, params and results never
// re-encoded), server-to-client requests and their answers pass through with no timeout of
// ours, and whatever the server sends that we do not understand is passed on. So a Conn takes
// raw messages in Send and hands raw messages to Options.OnMessage, looking only at the
// envelope (package jsonrpc) to know when a request's answer has arrived.
//
// What the transports do by themselves:
//   - the credential on every HTTP request (POSTs, the GET stream, DELETE, the legacy stream
//     and its POSTs), never in the URL, and never to another origin: a redirect that leaves
//     the server's origin is refused (package httpclient); for a DPoP-bound token a proof made
//     for each request, retried with the server's nonce on a 401 use_dpop_nonce; any other
//     401 refreshes once and retries, a 403 insufficient_scope asks for more scope (step-up)
//     and retries (see Credentials);
//   - Streamable HTTP sessions: Mcp-Session-Id and MCP-Protocol-Version after initialize, a
//     session 404 answered by initializing again with the client's own initialize (the answer
//     swallowed) and retrying, the optional GET stream (404/405 meaning none), resumption of a
//     broken stream with Last-Event-ID after the server's retry: delay, DELETE on Close;
//   - stateless requests (2026-07-28): Mcp-Method, Mcp-Name and MCP-Protocol-Version mirrored
//     from the body, and on tools/call the Mcp-Param-* headers of the arguments the tool
//     designates with x-mcp-header (Options.Tools, the table its owner keeps; every answer to
//     tools/list goes through it, which takes out the tools it rejects); a call to a rejected
//     tool is answered with the reason and not sent; a HeaderMismatch (400, -32020) to a call
//     lists the tools again, with the transport's own requests, and retries once when that
//     changed the headers the call needs (tools.go);
//   - legacy HTTP+SSE: the endpoint event (relative URLs resolved against the stream's URL,
//     other origins refused so the credential never leaves the server), POSTs answered 202
//     with the answers on the stream; a lost stream ends the Conn (Lost), and the owner opens
//     a new one;
//   - auto: POST initialize, and on 400, 404 or 405 try the legacy GET (401 and 403 are
//     authorization matters and never cause a fallback).
package upstream
