// Package bridge is `mcp-broker bridge`: a stdio MCP server, as Claude Code launches it, that
// relays every message to one remote MCP server over HTTP with the broker's credential.
//
// The relay is lossless: it reads one JSON-RPC message per line, looks only at the envelope
// (package jsonrpc) and forwards the original bytes both ways, so ids are never renumbered and
// params and results never re-encoded; unknown methods, notifications, batches,
// server-to-client requests and the client's answers all pass, with no timeout of ours. One
// exception, which the 2026-07-28 revision makes of every client on Streamable HTTP: a tool
// whose x-mcp-header is invalid is taken out of the tools list the client gets (the rest of
// the answer keeps its bytes; a list that loses nothing is relayed as it came), and a call to
// it is refused. The bridge learns each tool's designated parameters from the lists it relays
// (package paramheaders; the table is in state.go) for the transport to put them in
// Mcp-Param-* headers. The other exception is the user's: the tools the server's settings
// hide (hidden_tools, read_only in config.json) leave the tools/list answers the same way,
// calls of them are refused, and a change of those settings reaches the bridge through a
// watch on config.json and the client through notifications/tools/list_changed
// (toolsettings.go, package toolpolicy).
//
// Around the relay, the bridge keeps the client from waiting on a person or a slow server:
//
//   - initialize is answered within a second whatever the upstream state: with the server's own
//     answer when it comes quickly, else with the last answer that server gave (cached per
//     server) or a minimal one. When the real session comes up later, the bridge initializes
//     upstream with the client's own parameters, swallows that answer, and tells the client
//     with notifications/{tools,prompts,resources}/list_changed.
//   - Without a credential, the bridge signs in: when the tray runs it publishes "needs sign-in"
//     in its status file and the tray notifies the user; otherwise it opens the browser itself.
//     Either sign-in asks for the scope the server's 401 named (the status file carries it).
//     Meanwhile tools/list gets, after a couple of seconds, one tool that explains the situation
//     (and starts the sign-in when called), and every other request waits for the session, so
//     a tool call made during sign-in gets its real result.
//   - A server that is down gets each request answered at once with an error naming the server
//     and the cause, while the bridge reconnects with backoff; a lost legacy stream fails the
//     requests in flight on it with an error that says so.
//   - A server whose URL is changed in the configuration while the bridge runs gets nothing more:
//     the bridge compares the configured URL with its own whenever it reads a credential and
//     every two seconds besides (a cached credential can last most of a token's life), and
//     on a change stops relaying and answers every request with an error that says to restart
//     it, so that a sign-in made for the new URL never reaches the old one (urlchange.go).
//
// The state behind all this is kept in named parts (the client's initialize, the upstream
// session, the sign-in, the placeholder tool), each with an explicit state value whose states
// and transitions are listed in state.go; the status file's state is read from them.
//
// The bridge exits within a second of stdin closing or its context ending, even with requests
// in flight: it ends the upstream session (DELETE, bounded) and removes its status file.
//
// It is built to cost little beside the client: on Unix it reads its own stdin through Go's
// network poller and, once the session is up, runs Go code on one thread (stdin_unix.go);
// each message's work goes to a worker that keeps its stack for the next; after a big message
// it collects garbage at once, and gives the memory back when big messages stop (memory.go).
// `make bench` measures it against a direct client and mcp-remote (bench/results.md).
package bridge
