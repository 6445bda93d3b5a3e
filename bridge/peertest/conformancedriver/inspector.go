package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// placeholderRounds bounds the Inspector's tools/list invocations that get the bridge's
// placeholder (each starts a bridge that looks for a token the previous one signed in for).
const placeholderRounds = 5

// inspector is the MCP Inspector CLI as a host: an ordinary one, built on the MCP TypeScript
// SDK. Each invocation starts `mcp-broker bridge --url`, makes one request, prints its result
// as JSON and ends, closing the bridge's stdin, as a user's script would. It answers
// elicitation with cancel and never retries an input_required result, so it takes no part in
// the scenarios that test the host (bridge/peertest lists them).
type inspector struct {
	launcher string // the Inspector CLI's launcher script
	bin      string // mcp-broker
	w        workspace
	sc       scenario
}

// runInspector drives the bridge through the Inspector CLI only: tools/list until the
// server's tools come, then the tools/call the scenario needs (toolCalls).
func runInspector(ctx context.Context, bin string, w workspace, sc scenario) error {
	launcher := os.Getenv(envInspector)
	if launcher == "" {
		return fmt.Errorf("set %s to the Inspector CLI's launcher script", envInspector)
	}
	ins := inspector{launcher: launcher, bin: bin, w: w, sc: sc}
	defer copyLog(w.bridgeLog)
	tools, err := ins.listTools(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, call := range toolCalls(sc.context, tools) {
		args := call.Arguments
		if len(args) == 0 {
			args = json.RawMessage(`{}`)
		}
		res, err := ins.invoke(ctx, "--method", "tools/call", "--tool-name", call.Name, "--tool-args-json", string(args))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		logf("tools/call %s -> %s", call.Name, truncate(res))
		if toolFailed(res) {
			errs = append(errs, fmt.Errorf("tools/call %s: the tool reported an error: %s", call.Name, truncate(res)))
		}
	}
	return errors.Join(errs...)
}

// listTools asks for the tools until the server's come. A bridge that has no token yet
// signs in and answers with its placeholder when that takes a while; a user runs the command
// again, and the next bridge finds the token.
func (ins inspector) listTools(ctx context.Context) ([]tool, error) {
	for range placeholderRounds {
		res, err := ins.invoke(ctx, "--method", "tools/list")
		if err != nil {
			return nil, err
		}
		tools, err := decodeTools(res)
		if err != nil {
			return nil, err
		}
		if !isPlaceholder(tools) {
			logf("tools: %v", toolNames(tools))
			return tools, nil
		}
		logf("the bridge lists its placeholder %s: asking again", tools[0].Name)
	}
	return nil, fmt.Errorf("tools/list: still the bridge's placeholder after %d invocations", placeholderRounds)
}

// era is the Inspector's --protocol-era for the run: modern (server/discover, _meta on every
// request) from 2026-07-28; otherwise legacy (initialize), which is also its default.
func (ins inspector) era() string {
	if ins.sc.stateless() {
		return "modern"
	}
	return "legacy"
}

// invoke runs the Inspector CLI once with args, the bridge as its stdio server, and returns
// the result it printed. The Inspector gives a stdio server only a few basic variables (HOME,
// PATH, USER…) and what -e adds: the broker's own settings go through -e, and the bridge
// logs to a file, since -q drops a server's stderr.
func (ins inspector) invoke(ctx context.Context, args ...string) (json.RawMessage, error) {
	argv := []string{ins.launcher, "--cli", "--format", "json", "-q", "--connect-timeout", "20000",
		"--protocol-era", ins.era()}
	for _, kv := range append(ins.w.bridgeEnv, "MCP_BROKER_LOG_FILE="+ins.w.bridgeLog) {
		argv = append(argv, "-e", kv)
	}
	argv = append(append(argv, args...), "--", ins.bin, "bridge", "--url", ins.sc.serverURL)
	what := strings.Join(args[:min(len(args), 4)], " ")
	cmd := exec.CommandContext(ctx, "node", argv...)
	cmd.Env = ins.w.env
	cmd.WaitDelay = exitWait
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	logf("inspector %s: %s in %s", what, exitStatus(err), time.Since(start).Round(time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("inspector %s: %w\nstdout: %s\nstderr: %s", what, err, truncate(stdout.Bytes()), truncate(stderr.Bytes()))
	}
	var out struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || len(out.Result) == 0 {
		return nil, fmt.Errorf("inspector %s: no result in its output (%v): %s", what, err, truncate(stdout.Bytes()))
	}
	return out.Result, nil
}

// exitStatus words a finished command's error for the log.
func exitStatus(err error) string {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return "exit 0"
	case errors.As(err, &exit):
		return fmt.Sprintf("exit %d", exit.ExitCode())
	}
	return err.Error()
}
