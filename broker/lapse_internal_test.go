package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/oauth"
)

// TestFailureReason: a renewal that did not get through is worded from the error's kind, its
// OAuth error code or its HTTP status, never from the server's own text.
func TestFailureReason(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("requesting a token: %w", dial), "the sign-in server could not be reached"},
		{fmt.Errorf("requesting a token: %w", &net.DNSError{Err: "timeout", IsTimeout: true}), "the sign-in server did not answer in time"},
		{&oauth.TokenError{Grant: "refresh_token", Status: 503}, "the sign-in server answered HTTP 503"},
		{&oauth.TokenError{Grant: "refresh_token", Status: 400, Code: "temporarily_unavailable", Description: "try later, token abc"}, "the sign-in server answered temporarily_unavailable"},
		{&oauth.TokenError{Grant: "refresh_token", Status: 400, Code: "Bad things: see <html>"}, "the sign-in server answered HTTP 400"},
		{context.DeadlineExceeded, "the sign-in server did not answer in time"},
		{errors.New("the token response is larger than 1048576 bytes"), "the sign-in server's answer could not be used"},
	}
	for _, tt := range tests {
		if got := failureReason(tt.err); got != tt.want {
			t.Errorf("failureReason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
