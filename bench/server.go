package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// Paths of the bench MCP server, as in internal/demo/mcpserver: Streamable HTTP at /mcp, legacy
// HTTP+SSE at /sse with messages POSTed to /message.
const (
	pathMCP     = "/mcp"
	pathSSE     = "/sse"
	pathMessage = "/message"
)

// maxBlob is the largest result the blob tool returns.
const maxBlob = 32 << 20

// tokenTTL is the access token lifetime: longer than any run, so no refresh happens while
// measuring (a refresh is not what the figures are about).
const tokenTTL = 24 * time.Hour

// servers are the in-repo authorization server and the bench MCP server, both on 127.0.0.1.
//
// The bench MCP server is internal/demo/mcpserver's shape (mcp-go behind a bearer check with an
// audience per transport, Protected Resource Metadata so that sign-in discovers the
// authorization server) with the tools a benchmark needs: echo for small calls, and blob, which
// returns a text of the size asked for, for the 1, 8 and 32 MiB figures.
type servers struct {
	as   *authserver.Server
	http *http.Server
	done chan struct{}
	base string // http://127.0.0.1:port
}

// startServers starts both servers. Close stops them.
func startServers() (*servers, error) {
	as := authserver.New(authserver.Options{AutoApprove: true, AccessTokenTTL: tokenTTL})
	if _, err := as.Start("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("starting the authorization server: %w", err)
	}
	ln, err := authserver.ListenLoopback("127.0.0.1:0")
	if err != nil {
		as.Close()
		return nil, fmt.Errorf("listening for the MCP server: %w", err)
	}
	s := &servers{as: as, done: make(chan struct{}), base: "http://" + ln.Addr().String()}
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln) // http.ErrServerClosed after Close
	}()
	return s, nil
}

// endpoint returns the MCP URL of a transport on the server at base: the Streamable HTTP
// endpoint or the SSE URL.
func endpoint(base string, t transport) string {
	if t == legacySSE {
		return base + pathSSE
	}
	return base + pathMCP
}

// Close stops both servers, cutting open streams.
func (s *servers) Close() {
	_ = s.http.Close()
	<-s.done
	_ = s.as.Close()
}

func (s *servers) routes() http.Handler {
	mcpSrv := newBenchMCP()
	streamable := server.NewStreamableHTTPServer(mcpSrv, server.WithEndpointPath(pathMCP))
	sse := server.NewSSEServer(mcpSrv, server.WithSSEEndpoint(pathSSE), server.WithMessageEndpoint(pathMessage))
	mux := http.NewServeMux()
	mux.Handle(pathMCP, s.protect(pathMCP, streamable))
	mux.Handle(pathSSE, s.protect(pathSSE, sse.SSEHandler()))
	mux.Handle(pathMessage, s.protect(pathSSE, sse.MessageHandler()))
	for _, ep := range []string{pathMCP, pathSSE} {
		mux.Handle(server.WellKnownProtectedResourcePath+ep, server.NewProtectedResourceMetadataHandler(server.ProtectedResourceMetadataConfig{
			Resource:               s.base + ep,
			AuthorizationServers:   []string{s.as.Issuer()},
			BearerMethodsSupported: []string{"header"},
			ResourceName:           "mcp-broker bench server",
		}))
	}
	return mux
}

// protect lets through requests whose bearer token the authorization server issued for this
// transport's resource, and answers the others 401 with a challenge that names the metadata.
func (s *servers) protect(endpoint string, next http.Handler) http.Handler {
	challenge := `Bearer resource_metadata="` + s.base + server.WellKnownProtectedResourcePath + endpoint + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		info, ok := s.as.Verify(strings.TrimSpace(token))
		if !strings.EqualFold(scheme, "Bearer") || !ok || info.Resource != s.base+endpoint {
			w.Header().Set("WWW-Authenticate", challenge)
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// payload is the text the blob tool slices its results from: printable ASCII that JSON carries
// as is, so an N-byte result is an N-byte string in every message.
var payload = strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_", maxBlob/64)

func newBenchMCP() *server.MCPServer {
	s := server.NewMCPServer("mcp-broker-bench", "1.0.0", server.WithToolCapabilities(false))
	s.AddTool(mcp.NewTool("echo",
		mcp.WithDescription("Returns the message it is given."),
		mcp.WithString("message", mcp.Required()),
	), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		msg, err := req.RequireString("message")
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		return mcp.NewToolResultText(msg), nil
	})
	s.AddTool(mcp.NewTool("blob",
		mcp.WithDescription("Returns a text of the given size in bytes (at most 32 MiB)."),
		mcp.WithNumber("bytes", mcp.Required()),
	), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		n, err := req.RequireFloat("bytes")
		if err != nil || n < 0 || n > maxBlob {
			return mcp.NewToolResultError("bytes must be a number from 0 to 33554432"), nil
		}
		return mcp.NewToolResultText(payload[:int(n)]), nil
	})
	return s
}

// serverProcess is the servers running in a child process of their own (this program with
// -server-child), so that the direct client, like Claude Code, talks to the server across
// processes, and the server's work (a 32 MiB result costs it several buffers) neither shares
// the measuring process's heap and threads nor competes with them inside one scheduler.
type serverProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	base   string
	issuer string
	exited chan struct{}
}

// serverHello is the line the child prints once it listens.
type serverHello struct {
	Base   string `json:"base"`
	Issuer string `json:"issuer"`
}

// startServerProcess starts the child and waits for its address. The child exits when its
// stdin closes (Close, or this process ending however it ends), or after lifetime.
func startServerProcess(ctx context.Context, lifetime time.Duration, stderr io.Writer) (*serverProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-server-child", "-timeout", lifetime.String())
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the server process: %w", err)
	}
	p := &serverProcess{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	hello := make(chan serverHello, 1)
	go func() {
		defer close(p.exited)
		var h serverHello
		if err := json.NewDecoder(stdout).Decode(&h); err == nil {
			hello <- h
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
	}()
	select {
	case h := <-hello:
		p.base, p.issuer = h.Base, h.Issuer
		return p, nil
	case <-p.exited:
		return nil, errors.New("the server process exited before listening")
	case <-ctx.Done():
		p.Close()
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		p.Close()
		return nil, errors.New("the server process did not start listening within 30 s")
	}
}

// Close ends the child: its stdin closes, and it is killed if it lingers.
func (p *serverProcess) Close() {
	_ = p.stdin.Close()
	select {
	case <-p.exited:
		return
	case <-time.After(5 * time.Second):
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// serveChild is the child's side: serve until stdin closes or lifetime passes.
func serveChild(lifetime time.Duration, stdout io.Writer) error {
	quietHeap()
	s, err := startServers()
	if err != nil {
		return err
	}
	defer s.Close()
	if err := json.NewEncoder(stdout).Encode(serverHello{Base: s.base, Issuer: s.as.Issuer()}); err != nil {
		return err
	}
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(eof)
	}()
	select {
	case <-eof:
	case <-time.After(lifetime):
	}
	return nil
}
