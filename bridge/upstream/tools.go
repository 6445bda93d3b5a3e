package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
	"github.com/mcp-broker/mcp-broker/bridge/paramheaders"
)

// The tools of a stateless (2026-07-28) connection, whose requests carry the Mcp-Param-*
// headers a tool designates with x-mcp-header (SEP-2243, basic/transports/streamable-http
// "Custom Headers from Tool Parameters"). The table of designations is Options.Tools.

// codeHeaderMismatch is the 2026-07-28 error a server answers (with HTTP 400) when a
// request's headers do not match its body, or a header it needs is missing.
const codeHeaderMismatch = -32020

// maxRelistPages bounds the pages of the tools list fetched again after a HeaderMismatch.
const maxRelistPages = 20

// relistID starts the ids of the tools/list requests the transport sends by itself: a
// prefix no client uses keeps their answers apart from the client's (as replayID does).
const relistID = "mcp-broker-relist-"

// listTools sends the client's tools/list and hands its answer to the table, which returns
// what the client gets: the same bytes, or the list without the tools it rejected.
func (c *streamable) listTools(ctx context.Context, msg []byte, env jsonrpc.Envelope) error {
	ch, cancel := c.expect(env.IDKey())
	defer cancel()
	err := c.send(ctx, msg, env)
	select {
	case answer := <-ch:
		out := c.opts.Tools.Listed(answer)
		if oenv, perr := jsonrpc.Parse(out); perr == nil {
			c.opts.OnMessage(out, oenv)
		}
	default: // no answer: err says why
	}
	return err
}

// callTool sends the client's tools/call with the Mcp-Param-* headers of the arguments the
// tool designates. A tool the table rejected is not called: the client gets an error that
// says why. When the server answers HeaderMismatch, the designations the bridge knows may be
// out of date (the tool is new or has changed since the client listed the tools): the
// specification says the client SHOULD list the tools again and retry, which this does once,
// when the list changed what the call needs; otherwise the client gets the server's answer.
func (c *streamable) callTool(ctx context.Context, msg []byte, env jsonrpc.Envelope) error {
	params, rejected := c.opts.Tools.Params(env.ToolName)
	relisted := false
	for {
		if rejected != nil {
			c.refuseCall(env, rejected)
			return nil
		}
		if c.ctx.Err() != nil {
			return errClosed
		}
		resp, err := c.post(ctx, msg, env, "", "", paramheaders.Values(msg, params)...)
		if err != nil {
			return err
		}
		if resp.StatusCode < 300 {
			return c.handle(ctx, resp, env)
		}
		body := readErrorBody(resp)
		if resp.StatusCode == http.StatusBadRequest && !relisted && errorCode(body) == codeHeaderMismatch {
			relisted = true
			c.log.Info("the server says the headers of a tool call do not match its body (HeaderMismatch); listing the tools again", "tool", env.ToolName)
			if err := c.relist(ctx, msg, env.ToolName, params); err != nil {
				c.log.Warn("listing the tools again after a HeaderMismatch", "err", err)
			} else if now, why := c.opts.Tools.Params(env.ToolName); why != nil || !paramheaders.Equal(now, params) {
				params, rejected = now, why
				continue
			}
		}
		_, err = c.errorBody(resp, body)
		return err
	}
}

// refuseCall answers a call to a tool that was left out of the client's list.
func (c *streamable) refuseCall(env jsonrpc.Envelope, why error) {
	c.log.Warn("not calling a tool left out of tools/list", "tool", env.ToolName, "reason", why)
	answer := jsonrpc.ErrorResponse(env.ID, jsonrpc.CodeInvalidParams,
		fmt.Sprintf("mcp-broker: the tool %q is not available: the server defines it with an invalid x-mcp-header (%v), so it was left out of tools/list", env.ToolName, why), nil)
	if aenv, err := jsonrpc.Parse(answer); err == nil {
		c.opts.OnMessage(answer, aenv)
	}
}

// relist fetches the tools list again, page by page, for the table to learn the tools'
// current designations, until those of tool differ from before or the list ends. Its requests
// carry the _meta of the client's call (the protocol version and capabilities every stateless
// request needs), without its progress token; their answers are not for the client.
func (c *streamable) relist(ctx context.Context, call []byte, tool string, before []paramheaders.Param) error {
	var m struct {
		Params struct {
			Meta map[string]json.RawMessage `json:"_meta"`
		} `json:"params"`
	}
	_ = json.Unmarshal(call, &m)
	delete(m.Params.Meta, "progressToken")
	var cursor json.RawMessage
	for range maxRelistPages {
		answer, err := c.ownRequest(ctx, "tools/list", toolsListParams(m.Params.Meta, cursor))
		if err != nil {
			return err
		}
		c.opts.Tools.Listed(answer)
		if now, why := c.opts.Tools.Params(tool); why != nil || !paramheaders.Equal(now, before) {
			return nil
		}
		var page struct {
			Result struct {
				NextCursor json.RawMessage `json:"nextCursor"`
			} `json:"result"`
		}
		if json.Unmarshal(answer, &page) != nil || len(page.Result.NextCursor) == 0 || string(page.Result.NextCursor) == "null" {
			return nil
		}
		cursor = page.Result.NextCursor
	}
	return nil
}

// toolsListParams builds the params of a tools/list.
func toolsListParams(meta map[string]json.RawMessage, cursor json.RawMessage) map[string]any {
	params := map[string]any{}
	if len(meta) > 0 {
		params["_meta"] = meta
	}
	if cursor != nil {
		params["cursor"] = cursor
	}
	return params
}

// ownRequest sends a request of the transport's own on a stateless connection and returns the
// server's answer (a result or a JSON-RPC error), which the client never sees.
func (c *streamable) ownRequest(ctx context.Context, method string, params any) ([]byte, error) {
	id := strconv.Quote(relistID + strconv.FormatUint(c.ownIDs.Add(1), 10))
	msg, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": json.RawMessage(id), "method": method, "params": params})
	if err != nil {
		return nil, fmt.Errorf("building %s: %w", method, err)
	}
	env, err := jsonrpc.Parse(msg)
	if err != nil {
		return nil, fmt.Errorf("building %s: %w", method, err)
	}
	ch, cancel := c.expect(env.IDKey())
	defer cancel()
	resp, err := c.post(ctx, msg, env, "", "")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		_, err = c.readError(resp) // a JSON-RPC error answer goes to ch
	} else {
		err = c.handle(ctx, resp, env)
	}
	select {
	case answer := <-ch:
		return answer, nil
	default:
	}
	if err == nil {
		err = errors.New("no answer")
	}
	return nil, fmt.Errorf("%s: %w", method, err)
}

// errorCode returns the code of a JSON-RPC error answer, 0 for anything else.
func errorCode(body []byte) int {
	var r struct {
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &r) != nil || r.Error == nil {
		return 0
	}
	return r.Error.Code
}
