// Command mcp-broker signs in to remote, OAuth-protected MCP servers and keeps their tokens in
// the OS keychain, so that MCP clients such as Claude Code can use them through a plain stdio
// entry. This file is the command line; the work is done by package broker.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, processEnv())
	stop()
	os.Exit(code)
}
