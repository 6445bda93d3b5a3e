package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
)

// wireError is an error a fake peer answers with.
type wireError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// peer plays the bridge and the server behind it for a host under test: it reads what the
// host writes, records it, and answers each request with handle's result or error.
type peer struct {
	mu   sync.Mutex
	seen []message // every message the host sent, in order
	raw  [][]byte  // the same, as written
}

// startHost connects a host for sc to a peer that answers with handle, and returns both.
func startHost(t *testing.T, sc scenario, handle func(m message) (any, *wireError)) (*host, *peer) {
	t.Helper()
	hostR, peerW := io.Pipe()
	peerR, hostW := io.Pipe()
	t.Cleanup(func() { hostW.Close(); peerW.Close() })
	p := &peer{}
	h := newHost(sc)
	h.c = newClient(hostW, hostR, h.answer)
	go func() { // ends when the host's side closes, in Cleanup
		defer peerW.Close()
		sc := bufio.NewScanner(peerR)
		for sc.Scan() {
			var m message
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("the host wrote %q: %v", sc.Bytes(), err)
				return
			}
			p.mu.Lock()
			p.seen = append(p.seen, m)
			p.raw = append(p.raw, bytes.Clone(sc.Bytes()))
			p.mu.Unlock()
			if len(m.ID) == 0 || m.Method == "" {
				continue
			}
			result, werr := handle(m)
			answer := map[string]any{"jsonrpc": "2.0", "id": m.ID}
			if werr != nil {
				answer["error"] = werr
			} else {
				answer["result"] = result
			}
			b, _ := json.Marshal(answer)
			if _, err := peerW.Write(append(b, '\n')); err != nil {
				return
			}
		}
	}()
	return h, p
}

// methods lists the methods of the messages the host sent.
func (p *peer) methods() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.seen {
		out = append(out, m.Method)
	}
	return out
}

// requests returns the requests the host sent for method.
func (p *peer) requests(method string) []message {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []message
	for _, m := range p.seen {
		if m.Method == method {
			out = append(out, m)
		}
	}
	return out
}

// oneTool answers as a server with one tool that works.
func oneTool(m message) (any, *wireError) {
	switch m.Method {
	case "initialize", "server/discover":
		return map[string]any{"protocolVersion": "x", "capabilities": map[string]any{"tools": map[string]any{}}}, nil
	case "tools/list":
		return map[string]any{"tools": []any{map[string]any{"name": "add", "inputSchema": map[string]any{
			"type": "object", "properties": map[string]any{"a": map[string]any{"type": "number"}}}}}}, nil
	case "tools/call":
		return map[string]any{"content": []any{map[string]any{"type": "text", "text": "ok"}}}, nil
	}
	return nil, &wireError{Code: codeMethodNotFound, Message: "no " + m.Method}
}

// metaVersion is the protocol version a request's _meta names, "" without _meta.
func metaVersion(t *testing.T, m message) string {
	t.Helper()
	var p struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	if err := json.Unmarshal(m.Params, &p); err != nil {
		t.Fatalf("%s params %s: %v", m.Method, m.Params, err)
	}
	if p.Meta == nil {
		return ""
	}
	for _, k := range []string{metaClientCapabilities, metaClientInfo} {
		if len(p.Meta[k]) == 0 {
			t.Errorf("%s: _meta without %s: %s", m.Method, k, m.Params)
		}
	}
	var v string
	_ = json.Unmarshal(p.Meta[metaProtocolVersion], &v)
	return v
}

// TestHostEras: up to 2025-11-25 the host opens a session with initialize at the run's version
// and sends no _meta; from 2026-07-28 it sends no initialize, starts with server/discover, and
// every request carries the version, capabilities and client info in _meta.
func TestHostEras(t *testing.T) {
	tests := []struct {
		version string
		methods []string
	}{
		{"2025-06-18", []string{"initialize", "notifications/initialized", "tools/list", "tools/call"}},
		{"2026-07-28", []string{"server/discover", "tools/list", "tools/call"}},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			sc := scenario{name: "tools_call", version: tt.version}
			h, p := startHost(t, sc, oneTool)
			if err := h.run(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := p.methods(); !slices.Equal(got, tt.methods) {
				t.Fatalf("the host sent %v, want %v", got, tt.methods)
			}
			for _, m := range p.requests("tools/call") {
				if got, want := metaVersion(t, m), map[bool]string{true: tt.version}[sc.stateless()]; got != want {
					t.Errorf("tools/call _meta version %q, want %q", got, want)
				}
			}
			if init := p.requests("initialize"); len(init) == 1 {
				var params struct {
					ProtocolVersion string `json:"protocolVersion"`
				}
				_ = json.Unmarshal(init[0].Params, &params)
				if params.ProtocolVersion != tt.version || metaVersion(t, init[0]) != "" {
					t.Errorf("initialize %s, want protocolVersion %s and no _meta", init[0].Params, tt.version)
				}
			}
		})
	}
}

// TestHostRetriesUnsupportedVersion: a −32022 answer with the versions the server supports is
// retried once, with the newest stateless one; a second −32022, or one naming none the host
// speaks, ends the run with the error.
func TestHostRetriesUnsupportedVersion(t *testing.T) {
	refuse := func(supported ...string) *wireError {
		return &wireError{Code: codeUnsupportedVersion, Message: "unsupported", Data: map[string]any{"supported": supported}}
	}
	tests := []struct {
		name      string
		refusals  []*wireError // answers to the first requests, in order
		versions  []string     // the _meta versions the requests carry
		wantError bool
	}{
		{"retried once", []*wireError{refuse("2025-11-25", "2026-07-28")}, []string{"2026-07-28", "2026-07-28", "2026-07-28", "2026-07-28"}, false},
		{"the newest stateless version", []*wireError{refuse("2026-07-28", "2026-12-01")}, []string{"2026-07-28", "2026-12-01", "2026-12-01", "2026-12-01"}, false},
		{"refused twice", []*wireError{refuse("2026-07-28"), refuse("2026-07-28")}, []string{"2026-07-28", "2026-07-28"}, true},
		{"nothing stateless supported", []*wireError{refuse("2025-11-25")}, []string{"2026-07-28"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			refusals := tt.refusals
			h, p := startHost(t, scenario{name: "request-metadata", version: "2026-07-28"}, func(m message) (any, *wireError) {
				mu.Lock()
				defer mu.Unlock()
				if len(refusals) > 0 {
					r := refusals[0]
					refusals = refusals[1:]
					return nil, r
				}
				return oneTool(m)
			})
			err := h.run(t.Context())
			var re *rpcError
			if tt.wantError != (err != nil) || (err != nil && (!errors.As(err, &re) || re.code != codeUnsupportedVersion)) {
				t.Fatalf("run = %v, want an error: %t", err, tt.wantError)
			}
			var got []string
			p.mu.Lock()
			seen := slices.Clone(p.seen)
			p.mu.Unlock()
			for _, m := range seen {
				got = append(got, metaVersion(t, m))
			}
			if !slices.Equal(got, tt.versions) {
				t.Errorf("the requests named versions %v, want %v", got, tt.versions)
			}
		})
	}
}

// TestCallToolInputRequired: an input_required result (SEP-2322) is answered as a host: the
// input requests fulfilled, the call made again under a new id with inputResponses, and
// requestState echoed byte for byte, or left out when the server sent none.
func TestCallToolInputRequired(t *testing.T) {
	// A state whose bytes change if it is parsed and encoded again.
	const state = `"{\"nonce\": \"a b\",  \"n\": 1.50, \"u\": \"\u00e9\"}"`
	tests := []struct {
		name  string
		state string // the requestState as sent, raw JSON; "" for none
	}{
		{"with state", state},
		{"without state", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, p := startHost(t, scenario{name: "sep-2322-client-request-state", version: "2026-07-28"}, func(m message) (any, *wireError) {
				if m.Method != "tools/call" {
					return oneTool(m)
				}
				var params struct {
					InputResponses json.RawMessage `json:"inputResponses"`
				}
				_ = json.Unmarshal(m.Params, &params)
				if params.InputResponses != nil {
					return map[string]any{"resultType": "complete", "content": []any{}}, nil
				}
				r := map[string]any{"resultType": "input_required", "inputRequests": map[string]any{
					"confirm": map[string]any{"method": "elicitation/create", "params": map[string]any{"message": "sure?",
						"requestedSchema": map[string]any{"type": "object", "properties": map[string]any{
							"ok": map[string]any{"type": "boolean", "default": true}}}}}}}
				if tt.state != "" {
					r["requestState"] = json.RawMessage(tt.state)
				}
				return r, nil
			})
			if err := h.run(t.Context()); err != nil {
				t.Fatal(err)
			}
			calls := p.requests("tools/call")
			if len(calls) != 2 || bytes.Equal(calls[0].ID, calls[1].ID) {
				t.Fatalf("tools/call sent %d times (%v); want twice, under two ids", len(calls), calls)
			}
			var retry struct {
				Name           string                     `json:"name"`
				InputResponses map[string]json.RawMessage `json:"inputResponses"`
				RequestState   json.RawMessage            `json:"requestState"`
			}
			if err := json.Unmarshal(calls[1].Params, &retry); err != nil {
				t.Fatal(err)
			}
			if retry.Name != "add" || !strings.Contains(string(retry.InputResponses["confirm"]), `"action":"accept"`) ||
				!strings.Contains(string(retry.InputResponses["confirm"]), `"ok":true`) {
				t.Errorf("the retry's params %s, want the tool and confirm accepted with its default", calls[1].Params)
			}
			p.mu.Lock()
			raw := string(p.raw[len(p.raw)-1])
			p.mu.Unlock()
			switch {
			case tt.state == "" && retry.RequestState != nil:
				t.Errorf("the retry carries requestState %s, but none was sent", retry.RequestState)
			case tt.state != "" && !strings.Contains(raw, `"requestState":`+tt.state):
				t.Errorf("the retry %s does not echo requestState %s byte for byte", raw, tt.state)
			}
		})
	}
}

// TestHostToolErrors: a tools/call answered "method not found" is not the run's failure (the
// server has no tools/call); another error, or a tool that reports one, is.
func TestHostToolErrors(t *testing.T) {
	tests := []struct {
		name    string
		answer  func() (any, *wireError)
		wantErr string
	}{
		{"no tools/call", func() (any, *wireError) { return nil, &wireError{Code: codeMethodNotFound, Message: "no"} }, ""},
		{"another error", func() (any, *wireError) { return nil, &wireError{Code: -32603, Message: "broken"} }, "error -32603: broken"},
		{"the tool failed", func() (any, *wireError) { return map[string]any{"isError": true}, nil }, "the tool reported an error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := startHost(t, scenario{version: "2025-11-25"}, func(m message) (any, *wireError) {
				if m.Method == "tools/call" {
					return tt.answer()
				}
				return oneTool(m)
			})
			err := h.run(t.Context())
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("run = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestToolCalls: the calls the context names, exactly; else one per tool, the echo tool given
// the echoed tool's input schema as received.
func TestToolCalls(t *testing.T) {
	schema := `{"$schema":"https://json-schema.org/draft/2020-12/schema","$defs":{"a":{"$anchor":"x"}},"allOf":[{"if":{}}]}`
	tools := []tool{
		{Name: echoedTool, InputSchema: json.RawMessage(schema)},
		{Name: echoTool, InputSchema: json.RawMessage(`{"type":"object","properties":{"schema":{"type":"object"}}}`)},
		{Name: "plain", InputSchema: json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"}}}`)},
	}
	calls := toolCalls(scenarioContext{}, tools)
	got := map[string]string{}
	for _, c := range calls {
		got[c.Name] = string(c.Arguments)
	}
	want := map[string]string{echoedTool: `{}`, echoTool: `{"schema":` + schema + `}`, "plain": `{"n":1}`}
	if len(got) != len(want) {
		t.Fatalf("toolCalls = %v, want %v", got, want)
	}
	for name, args := range want {
		if got[name] != args {
			t.Errorf("%s called with %s, want %s", name, got[name], args)
		}
	}

	named := []toolCall{{Name: "x", Arguments: json.RawMessage(`{"region":"us-west1","verbose":null}`)}}
	if got := toolCalls(scenarioContext{ToolCalls: named}, tools); !slices.EqualFunc(got, named, func(a, b toolCall) bool {
		return a.Name == b.Name && bytes.Equal(a.Arguments, b.Arguments)
	}) {
		t.Errorf("with toolCalls in the context: %v, want exactly %v", got, named)
	}
}
