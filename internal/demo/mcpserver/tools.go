package mcpserver

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// Version is the demo server's reported version.
const Version = "1.0.0"

// ServerName is the name the server reports in initialize.
const ServerName = "mcp-broker-demo"

type tokenInfoKey struct{}

// withTokenInfo stores the verified token's info in ctx. mcp-go derives the
// context of every tool call from the HTTP request's (Streamable POST or SSE
// message POST), so the middleware's value reaches the handlers without an
// HTTP context function.
func withTokenInfo(ctx context.Context, info authserver.TokenInfo) context.Context {
	return context.WithValue(ctx, tokenInfoKey{}, info)
}

// TokenInfoFromContext returns the info of the token that authorized the
// request being handled, if any (none with Options.NoAuth).
func TokenInfoFromContext(ctx context.Context) (authserver.TokenInfo, bool) {
	info, ok := ctx.Value(tokenInfoKey{}).(authserver.TokenInfo)
	return info, ok
}

// newMCPServer builds the MCP server with its tools, prompt and resource.
func newMCPServer() *server.MCPServer {
	s := server.NewMCPServer(ServerName, Version,
		server.WithToolCapabilities(false),
		server.WithPromptCapabilities(false),
		server.WithResourceCapabilities(false, false),
		server.WithInstructions("Demo server of mcp-broker: try the echo, add and whoami tools."),
		server.WithRecovery(),
	)
	s.AddTool(mcp.NewTool("echo",
		mcp.WithDescription("Returns the message it is given."),
		mcp.WithString("message", mcp.Description("Text to echo back"), mcp.Required()),
	), handleEcho)
	s.AddTool(mcp.NewTool("add",
		mcp.WithDescription("Adds two numbers."),
		mcp.WithNumber("a", mcp.Description("First addend"), mcp.Required()),
		mcp.WithNumber("b", mcp.Description("Second addend"), mcp.Required()),
	), handleAdd)
	s.AddTool(mcp.NewTool("whoami",
		mcp.WithDescription("Tells which client, user, scopes and resource the access token was issued for."),
	), handleWhoami)
	s.AddTool(mcp.NewTool(stepUpTool,
		mcp.WithDescription("A privileged action; may need an extra scope (step-up authorization)."),
	), handleAdminAction)
	s.AddPrompt(mcp.NewPrompt("greeting",
		mcp.WithPromptDescription("Greets someone by name."),
		mcp.WithArgument("name", mcp.ArgumentDescription("Who to greet"), mcp.RequiredArgument()),
	), handleGreeting)
	s.AddResource(mcp.NewResource("demo://readme", "readme",
		mcp.WithResourceDescription("What this server is."),
		mcp.WithMIMEType("text/plain"),
	), handleReadme)
	return s
}

func handleEcho(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	msg, err := req.RequireString("message")
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	return mcp.NewToolResultText(msg), nil
}

func handleAdd(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	a, errA := req.RequireFloat("a")
	b, errB := req.RequireFloat("b")
	if errA != nil || errB != nil {
		return mcp.NewToolResultError("a and b must be numbers"), nil
	}
	return mcp.NewToolResultText(strconv.FormatFloat(a+b, 'g', -1, 64)), nil
}

// WhoAmI is the structured result of the whoami tool.
type WhoAmI struct {
	ClientID string   `json:"client_id"`
	Subject  string   `json:"subject"`
	Scopes   []string `json:"scopes"`
	Resource string   `json:"resource"`
}

func handleWhoami(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	info, ok := TokenInfoFromContext(ctx)
	if !ok {
		return mcp.NewToolResultStructured(WhoAmI{Subject: "anonymous", Scopes: []string{}}, "anonymous (no authorization)"), nil
	}
	who := WhoAmI{ClientID: info.ClientID, Subject: info.Subject, Scopes: info.Scopes, Resource: info.Resource}
	if who.Scopes == nil {
		who.Scopes = []string{}
	}
	text := fmt.Sprintf("client_id=%s subject=%s scopes=%s resource=%s",
		who.ClientID, who.Subject, strings.Join(who.Scopes, " "), who.Resource)
	return mcp.NewToolResultStructured(who, text), nil
}

func handleAdminAction(_ context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	return mcp.NewToolResultText("admin action done"), nil
}

func handleGreeting(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	name := req.Params.Arguments["name"]
	if name == "" {
		name = "there"
	}
	return mcp.NewGetPromptResult("A friendly greeting", []mcp.PromptMessage{
		mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent("Say hello to "+name+".")),
	}), nil
}

func handleReadme(_ context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
	return []mcp.ResourceContents{mcp.TextResourceContents{
		URI:      req.Params.URI,
		MIMEType: "text/plain",
		Text:     "This is the mcp-broker demo MCP server. Every request needs an OAuth access token.",
	}}, nil
}
