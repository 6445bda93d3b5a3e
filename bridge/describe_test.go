package bridge

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/hint"
)

// TestDescribeEndsWithTheAdvice: the answer to the client says what failed and then the next
// step, in the words Options.Advise gives (the command line's); without Advise, no advice.
func TestDescribeEndsWithTheAdvice(t *testing.T) {
	srv := config.Server{Name: "studio", URL: "https://mcp.example.com/mcp?key=hunter2"}
	signIn := &broker.OpError{Op: broker.OpCredential, Server: "studio", Err: &broker.SignInRequiredError{Server: "studio", Reason: "not signed in"}}
	locked := &broker.OpError{Op: broker.OpCredential, Server: "studio", Err: hint.With(errors.New("the keychain is locked"), hint.UnlockKeychain)}
	advise := func(err error) string {
		if h := hint.Of(err); h != hint.None {
			return fmt.Sprintf("Do %v.", h)
		}
		return ""
	}
	tests := []struct {
		err    error
		advise func(error) string
		want   string
	}{
		{signIn, advise, "mcp-broker: studio: sign-in required (not signed in). Do SignIn."},
		{locked, advise, `mcp-broker: the MCP server "studio" (https://mcp.example.com/mcp?REDACTED): studio: the keychain is locked. Do UnlockKeychain.`},
		{errors.New("boom"), advise, `mcp-broker: the MCP server "studio" (https://mcp.example.com/mcp?REDACTED): boom`},
		{signIn, nil, "mcp-broker: studio: sign-in required (not signed in)"},
	}
	for _, tt := range tests {
		b := &bridge{name: srv.Name, opts: Options{Server: srv, Advise: tt.advise}}
		if got := b.describe(tt.err); got != tt.want {
			t.Errorf("describe(%v) = %q, want %q", tt.err, got, tt.want)
		}
		if strings.Contains(b.describe(tt.err), "hunter2") {
			t.Error("the description shows the URL's query")
		}
	}
}
