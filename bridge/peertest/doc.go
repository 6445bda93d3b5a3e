// Package peertest runs the real third-party MCP peers against `mcp-broker bridge`: the
// official conformance suite, 0.1.16 and 0.2.0-alpha.12 (with the driver in
// bridge/peertest/conformancedriver, which plays the host itself or through the MCP Inspector
// CLI), the Claude Code CLI, and the MCP Inspector CLI, against the reference
// server-everything and the in-repo OAuth-protected demo server, all on 127.0.0.1. Claude
// Code also runs a prompt (`claude -p`) against a fake Anthropic API on 127.0.0.1
// (ANTHROPIC_BASE_URL), whose requests show the tools it offers the model (tools_test.go).
//
// The peers come from npm, pinned in testdata/peers, installed by scripts/install-peers.sh
// into a cache folder ($MCP_BROKER_PEERS_DIR, default ~/.cache/mcp-broker-peers). Without that
// install the tests skip, except under CI=true, where they fail: there a missing peer is a
// broken environment. The package holds only tests, behind the build tag `peers`:
//
//	scripts/install-peers.sh && scripts/with-desktop.sh go test -tags peers -v ./bridge/peertest
//
// `make test` runs them as its step `peers` (scripts/test.sh), after the npm install of step
// `npm`, and prints the conformance pass counts.
package peertest
