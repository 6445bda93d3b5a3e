// Package config reads and writes mcp-broker's non-secret configuration: the
// list of MCP servers with their URL, auth mode, transport, client id and
// scopes, and how every server is reached (the proxy, a CA file). Secrets
// never appear here, a proxy's password included; they live in package
// secrets.
//
// The file is JSON under the user config folder (see Dir), written
// atomically (temp file, fsync, rename) with mode 0600 in a 0700 folder, and
// changed by Update under a cross-process lock so two processes adding
// servers at the same time cannot lose one.
package config
