// Package paramheaders reads the x-mcp-header designations of MCP tools (SEP-2243, protocol
// revision 2026-07-28): a server marks a parameter in a tool's inputSchema with
// "x-mcp-header": "Region", and a client calling that tool over Streamable HTTP mirrors the
// argument into an Mcp-Param-Region header, so that load balancers and gateways can route on
// it without reading the body.
//
// It has these jobs, for both directions of the bridge's traffic:
//
//   - Check validates one inputSchema against the specification's constraints (a non-empty
//     HTTP token, unique regardless of case, only on string, integer and boolean parameters,
//     only on parameters reached from the root through "properties" alone) and returns the
//     designated parameters, or why the tool must be rejected.
//   - ReadList reads an answer to tools/list: every tool's designations, and the answer
//     without the rejected tools (the specification says a client MUST leave them out of the
//     list). An answer in which nothing is rejected comes back as the very bytes read, and
//     otherwise only the tools array is rebuilt, from the kept tools' own bytes: the bridge
//     stays a lossless relay.
//   - Cut is ReadList's surgery for any reason: it takes out of a tools/list answer the tools a
//     function rejects (the bridge's per-server tool settings), keeping every other byte.
//   - Values reads the designated arguments of a tools/call request as header text, before
//     the transport's encoding (plain, or =?base64?…?= for what a header cannot carry).
//
// The specification's text is in basic/transports/streamable-http ("Custom Headers from Tool
// Parameters") and server/tools ("x-mcp-header") of the 2026-07-28 revision. The package
// never follows a $ref: an annotation behind one is not reached through properties alone,
// which makes the tool invalid.
//
// It imports only the standard library.
package paramheaders
