package hint_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/hint"
)

// typed is an error type of its own that carries a hint, as broker.SignInRequiredError does.
type typed struct{}

func (typed) Error() string   { return "typed" }
func (typed) Hint() hint.Hint { return hint.SignIn }

func TestOfFindsTheHint(t *testing.T) {
	base := errors.New("reading x: permission denied")
	tests := []struct {
		name string
		err  error
		want hint.Hint
	}{
		{"nil", nil, hint.None},
		{"none attached", base, hint.None},
		{"attached", hint.With(base, hint.TryAgain), hint.TryAgain},
		{"attached, then wrapped", fmt.Errorf("storing: %w", hint.With(base, hint.FileStore)), hint.FileStore},
		{"a type's own", fmt.Errorf("x: %w", typed{}), hint.SignIn},
		{"the outer one wins", hint.With(fmt.Errorf("x: %w", typed{}), hint.StoreToken), hint.StoreToken},
		{"in a join", errors.Join(base, hint.With(base, hint.Diagnose)), hint.Diagnose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hint.Of(tt.err); got != tt.want {
				t.Errorf("Of(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestWithKeepsTheError(t *testing.T) {
	if hint.With(nil, hint.SignIn) != nil {
		t.Error("With(nil) is not nil")
	}
	cause := fmt.Errorf("opening x: %w", fs.ErrNotExist)
	err := hint.With(cause, hint.TryAgain)
	if err.Error() != cause.Error() {
		t.Errorf("text %q, want the cause's %q", err, cause)
	}
	if !errors.Is(err, fs.ErrNotExist) || errors.Unwrap(err) != cause {
		t.Error("the cause is not wrapped")
	}
}

func TestAllHaveNames(t *testing.T) {
	all := hint.All()
	if len(all) == 0 || all[0] != hint.SignIn {
		t.Fatalf("All() = %v", all)
	}
	seen := map[string]bool{}
	for _, h := range all {
		s := h.String()
		if h == hint.None || s == "" || s == "Hint(invalid)" || seen[s] {
			t.Errorf("hint %d has name %q", int(h), s)
		}
		seen[s] = true
	}
	if s := hint.Hint(-1).String(); s != "Hint(invalid)" {
		t.Errorf("Hint(-1) = %q", s)
	}
}

// TestOfTrustCA: an x509 unknown-authority error, however deep in a request's error, is TrustCA
// unless something above it carries a hint of its own.
func TestOfTrustCA(t *testing.T) {
	unknown := &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}
	deep := fmt.Errorf("requesting metadata: %w", &url.Error{Op: "Get", URL: "https://mcp.example.com", Err: unknown})
	if got := hint.Of(deep); got != hint.TrustCA {
		t.Errorf("Of(%v) = %v, want TrustCA", deep, got)
	}
	if got := hint.Of(hint.With(deep, hint.TryAgain)); got != hint.TryAgain {
		t.Errorf("an attached hint: Of = %v, want TryAgain", got)
	}
	other := &tls.CertificateVerificationError{Err: x509.HostnameError{}}
	if got := hint.Of(other); got != hint.None {
		t.Errorf("a certificate for another host: Of = %v, want None", got)
	}
}
