package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const (
	// placeholderPrefix starts the name of the one tool the bridge lists while the server
	// cannot answer yet (signing in, connecting): a host waits for the real list then.
	placeholderPrefix = "sign_in_"
	// maxInputRounds bounds the retries of one tools/call the server answers input_required.
	maxInputRounds = 4

	// JSON-RPC error codes the host acts on.
	codeMethodNotFound     = -32601
	codeUnsupportedVersion = -32022 // 2026-07-28: the server does not speak the version asked for

	// The 2026-07-28 _meta keys every request carries.
	metaProtocolVersion    = "io.modelcontextprotocol/protocolVersion"
	metaClientCapabilities = "io.modelcontextprotocol/clientCapabilities"
	metaClientInfo         = "io.modelcontextprotocol/clientInfo"
)

// clientInfo and clientCapabilities are what the driver says of itself: roots and
// elicitation, like Claude Code.
var (
	clientInfo         = map[string]any{"name": "mcp-broker-conformance-driver", "version": "1.0.0"}
	clientCapabilities = map[string]any{"roots": map[string]any{}, "elicitation": map[string]any{}}
)

// runDriver starts the bridge, plays the host on its stdio, then closes stdin as Claude Code
// does at the end and sees the bridge leave by itself.
func runDriver(ctx context.Context, bin string, w workspace, sc scenario) error {
	cmd := exec.CommandContext(ctx, bin, "bridge", "--url", sc.serverURL)
	cmd.Env = w.env
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = exitWait
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the bridge: %w", err)
	}
	h := newHost(sc)
	h.c = newClient(stdin, stdout, h.answer)
	sessionErr := h.run(ctx)

	stdin.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var exitErr error
	select {
	case err := <-exited:
		if err != nil {
			exitErr = fmt.Errorf("the bridge exited with %w", err)
		}
	case <-time.After(exitWait):
		_ = cmd.Process.Kill()
		<-exited
		exitErr = fmt.Errorf("the bridge did not exit within %s of stdin EOF", exitWait)
	}
	return errors.Join(sessionErr, exitErr)
}

// host is the driver playing a host that does everything the suite asks of one.
type host struct {
	c              *client
	sc             scenario
	version        string          // the protocol version in use
	retriedVersion bool            // the one retry after −32022 was made
	serverCaps     json.RawMessage // from initialize or server/discover
}

func newHost(sc scenario) *host { return &host{sc: sc, version: sc.version} }

// run is the host's whole session: open it, load skills when the server has them, list the
// tools and make the calls the scenario needs.
func (h *host) run(ctx context.Context) error {
	if err := h.open(ctx); err != nil {
		return err
	}
	if err := h.skills(ctx); err != nil {
		return err
	}
	tools, err := h.listTools(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, call := range toolCalls(h.sc.context, tools) {
		res, err := h.callTool(ctx, call)
		var re *rpcError
		switch {
		case errors.As(err, &re) && re.code == codeMethodNotFound:
			// A server may list tools and implement no tools/call (json-schema-ref-no-deref
			// checks only what the host does with tools/list): the bridge relayed the answer,
			// which is all it can do.
			logf("tools/call %s: the server has no tools/call (%v): nothing for the bridge to do", call.Name, err)
		case err != nil:
			errs = append(errs, err)
		default:
			logf("tools/call %s -> %s", call.Name, truncate(res))
			if toolFailed(res) {
				errs = append(errs, fmt.Errorf("tools/call %s: the tool reported an error: %s", call.Name, truncate(res)))
			}
		}
	}
	return errors.Join(errs...)
}

// open starts talking to the server in the run's era: up to 2025-11-25 a session (initialize,
// then notifications/initialized); from 2026-07-28 there is no session, and server/discover
// asks for the server's capabilities.
func (h *host) open(ctx context.Context) error {
	start := time.Now()
	if h.sc.stateless() {
		res, err := h.request(ctx, "server/discover", nil)
		if err != nil {
			return err
		}
		logf("server/discover answered in %s: %s", time.Since(start).Round(time.Millisecond), truncate(res))
		h.serverCaps = capabilities(res)
		return nil
	}
	res, err := h.request(ctx, "initialize", map[string]any{
		"protocolVersion": h.version,
		"capabilities":    clientCapabilities,
		"clientInfo":      clientInfo,
	})
	if err != nil {
		return err
	}
	logf("initialize answered in %s: %s", time.Since(start).Round(time.Millisecond), truncate(res))
	h.serverCaps = capabilities(res)
	return h.c.notify("notifications/initialized")
}

// capabilities is the capabilities member of an initialize or server/discover result.
func capabilities(res json.RawMessage) json.RawMessage {
	var r struct {
		Capabilities json.RawMessage `json:"capabilities"`
	}
	_ = json.Unmarshal(res, &r)
	return r.Capabilities
}

// request sends a request in the run's era. From 2026-07-28 every request carries the
// protocol version and the client's capabilities and identity in _meta (there is no session
// to remember them). A server that does not speak the version answers −32022 with the
// versions it supports: the host retries once with one of those it speaks, as the spec asks
// (request-metadata refuses the first request to see that).
func (h *host) request(ctx context.Context, method string, params map[string]any) (json.RawMessage, error) {
	for {
		res, err := h.c.call(ctx, method, h.withMeta(params))
		var re *rpcError
		if !errors.As(err, &re) || re.code != codeUnsupportedVersion || !h.sc.stateless() || h.retriedVersion {
			return res, err
		}
		v := statelessSupported(re.data)
		if v == "" {
			return res, err
		}
		logf("%s: the server does not speak %s (−32022): retrying with %s", method, h.version, v)
		h.version, h.retriedVersion = v, true
	}
}

// withMeta returns params with the stateless _meta added, or params as they are in a session.
func (h *host) withMeta(params map[string]any) map[string]any {
	if !h.sc.stateless() {
		if params == nil {
			return map[string]any{}
		}
		return params
	}
	out := map[string]any{}
	for k, v := range params {
		out[k] = v
	}
	out["_meta"] = map[string]any{
		metaProtocolVersion:    h.version,
		metaClientCapabilities: clientCapabilities,
		metaClientInfo:         clientInfo,
	}
	return out
}

// statelessSupported picks, from a −32022 error's data.supported, the newest version the
// driver can speak without a session ("" if none).
func statelessSupported(data json.RawMessage) string {
	var d struct {
		Supported []string `json:"supported"`
	}
	_ = json.Unmarshal(data, &d)
	best := ""
	for _, v := range d.Supported {
		if v >= statelessVersion && v > best {
			best = v
		}
	}
	return best
}

// answer replies to a server-to-client request as Claude Code would.
func (h *host) answer(m message) {
	if result, ok := hostAnswer(m.Method, m.Params); ok {
		h.c.reply(m.ID, result)
		return
	}
	h.c.replyError(m.ID, codeMethodNotFound, "method not found: "+m.Method)
}

// hostAnswer is the host's answer to a request from the server, sent on its own (stateful)
// or named in an input_required result (SEP-2322): roots, a form accepted as offered, a
// canned completion. ok is false for a method the host does not serve.
func hostAnswer(method string, params json.RawMessage) (result any, ok bool) {
	switch method {
	case "ping":
		return map[string]any{}, true
	case "roots/list":
		wd, _ := os.Getwd()
		return map[string]any{"roots": []map[string]string{{"uri": "file://" + filepath.ToSlash(wd), "name": "project"}}}, true
	case "elicitation/create":
		return map[string]any{"action": "accept", "content": elicitationDefaults(params)}, true
	case "sampling/createMessage":
		return map[string]any{"role": "assistant", "model": "conformance-driver",
			"content": map[string]string{"type": "text", "text": "a canned answer"}, "stopReason": "endTurn"}, true
	}
	return nil, false
}

// elicitationDefaults fills the form of an elicitation/create with each field's default, as a
// user who accepts the form unchanged (SEP-1034).
func elicitationDefaults(params json.RawMessage) map[string]any {
	var p struct {
		RequestedSchema struct {
			Properties map[string]struct {
				Default json.RawMessage `json:"default"`
			} `json:"properties"`
		} `json:"requestedSchema"`
	}
	out := map[string]any{}
	if err := json.Unmarshal(params, &p); err != nil {
		return out
	}
	for name, prop := range p.RequestedSchema.Properties {
		if len(prop.Default) > 0 {
			out[name] = prop.Default
		}
	}
	return out
}

// tool is the part of a tools/list entry a host uses; the input schema stays as received.
type tool struct {
	Name        string          `json:"name"`
	InputSchema json.RawMessage `json:"inputSchema"`
}

// listTools fetches the server's tools. While the bridge lists only its placeholder (the
// server is not reachable yet: a sign-in runs), it waits for list_changed and asks again.
func (h *host) listTools(ctx context.Context) ([]tool, error) {
	for {
		res, err := h.request(ctx, "tools/list", nil)
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
		logf("the bridge lists its placeholder %s: waiting for the server's tools", tools[0].Name)
		select {
		case <-h.c.changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("tools/list: the server's tools never came: %w", ctx.Err())
		}
	}
}

// decodeTools reads a tools/list result.
func decodeTools(res json.RawMessage) ([]tool, error) {
	var r struct {
		Tools []tool `json:"tools"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return nil, fmt.Errorf("tools/list: %w", err)
	}
	return r.Tools, nil
}

// isPlaceholder reports whether a tool list is the bridge's placeholder alone.
func isPlaceholder(tools []tool) bool {
	return len(tools) == 1 && strings.HasPrefix(tools[0].Name, placeholderPrefix)
}

func toolNames(tools []tool) []string {
	names := make([]string, len(tools))
	for i, t := range tools {
		names[i] = t.Name
	}
	return names
}

// toolCalls are the calls a host makes: exactly those the scenario's context names when it
// names some (http-custom-headers checks the headers of those very arguments), else one call
// of each tool listed, with arguments made up from its schema, or handed back for the echo
// tool (echoArguments).
func toolCalls(sc scenarioContext, tools []tool) []toolCall {
	if len(sc.ToolCalls) > 0 {
		return sc.ToolCalls
	}
	calls := make([]toolCall, 0, len(tools))
	for _, t := range tools {
		args, ok := echoArguments(t, tools)
		if !ok {
			args, _ = json.Marshal(arguments(t))
		}
		calls = append(calls, toolCall{Name: t.Name, Arguments: args})
	}
	return calls
}

// echoTool and echoedTool: json-schema-2020-12-preservation asks the host to call
// json_schema_echo with the input schema it received for json_schema_2020_12_tool, verbatim.
// The server compares it with what it sent ($schema, $defs, composition and conditional
// keywords, anchors), which shows the schema crossed the bridge intact.
const (
	echoTool   = "json_schema_echo"
	echoedTool = "json_schema_2020_12_tool"
)

// echoArguments returns the echo tool's arguments: {"schema": <the echoed tool's input
// schema, as received>}. ok is false for any other tool, or when the echoed tool is absent.
func echoArguments(t tool, tools []tool) (json.RawMessage, bool) {
	if t.Name != echoTool {
		return nil, false
	}
	i := slices.IndexFunc(tools, func(t tool) bool { return t.Name == echoedTool })
	if i < 0 || len(tools[i].InputSchema) == 0 {
		return nil, false
	}
	args, err := json.Marshal(map[string]json.RawMessage{"schema": tools[i].InputSchema})
	return args, err == nil
}

// arguments makes up arguments for a tool from its input schema: each property's default, its
// first enum value, or a small value of its type (distinct numbers 1, 2, 3…).
func arguments(t tool) map[string]any {
	var schema struct {
		Properties map[string]struct {
			Type    any             `json:"type"`
			Default json.RawMessage `json:"default"`
			Enum    []any           `json:"enum"`
		} `json:"properties"`
	}
	_ = json.Unmarshal(t.InputSchema, &schema)
	args := map[string]any{}
	n := 0
	for _, name := range slices.Sorted(maps.Keys(schema.Properties)) {
		p := schema.Properties[name]
		switch typ, _ := p.Type.(string); {
		case len(p.Default) > 0:
			args[name] = p.Default
		case len(p.Enum) > 0:
			args[name] = p.Enum[0]
		case typ == "number" || typ == "integer":
			n++
			args[name] = n
		case typ == "boolean":
			args[name] = true
		case typ == "array":
			args[name] = []any{}
		case typ == "object":
			args[name] = map[string]any{}
		default:
			args[name] = "test"
		}
	}
	return args
}

// callTool calls a tool as a host of multi round-trip requests (SEP-2322, 2026-07-28) does:
// while the server answers input_required, the host fulfils the requests it names, as it
// answers the same requests sent on their own, and calls again under a new id with the
// answers and the requestState exactly as received: opaque, never parsed or re-encoded.
func (h *host) callTool(ctx context.Context, call toolCall) (json.RawMessage, error) {
	args := call.Arguments
	if len(args) == 0 {
		args = json.RawMessage(`{}`)
	}
	params := map[string]any{"name": call.Name, "arguments": args}
	for round := 1; ; round++ {
		res, err := h.request(ctx, "tools/call", params)
		if err != nil {
			return nil, err
		}
		var r struct {
			ResultType    string `json:"resultType"`
			InputRequests map[string]struct {
				Method string          `json:"method"`
				Params json.RawMessage `json:"params"`
			} `json:"inputRequests"`
			RequestState json.RawMessage `json:"requestState"`
		}
		if err := json.Unmarshal(res, &r); err != nil {
			return nil, fmt.Errorf("tools/call %s: %w", call.Name, err)
		}
		if r.ResultType != "input_required" {
			return res, nil
		}
		if round == maxInputRounds {
			return nil, fmt.Errorf("tools/call %s: still input_required after %d rounds", call.Name, round)
		}
		responses := map[string]any{}
		for key, req := range r.InputRequests {
			answer, ok := hostAnswer(req.Method, req.Params)
			if !ok {
				return nil, fmt.Errorf("tools/call %s: input request %s is %s, which this host does not serve", call.Name, key, req.Method)
			}
			responses[key] = answer
		}
		params = map[string]any{"name": call.Name, "arguments": args, "inputResponses": responses}
		if len(r.RequestState) > 0 {
			params["requestState"] = r.RequestState
		}
		logf("tools/call %s: input_required: answering %d input request(s) and calling again", call.Name, len(responses))
	}
}

// toolFailed reports whether a tools/call result says the tool failed.
func toolFailed(res json.RawMessage) bool {
	var r struct {
		IsError bool `json:"isError"`
	}
	_ = json.Unmarshal(res, &r)
	return r.IsError
}
