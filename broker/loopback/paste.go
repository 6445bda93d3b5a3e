package loopback

import (
	"context"
	"errors"
	"fmt"
	"net/url"
)

var (
	// ErrNotRedirect matches (errors.Is) Deliver's error when the pasted text is not an
	// authorization response sent to this server's redirect URI.
	ErrNotRedirect = errors.New("not the address of this sign-in's redirect")

	// ErrDecided is Deliver's error when the sign-in already had its answer.
	ErrDecided = errors.New("this sign-in has already finished")
)

// notRedirectError says what makes pasted text other than this sign-in's redirect; it
// matches ErrNotRedirect.
type notRedirectError struct{ reason string }

func (e *notRedirectError) Error() string        { return e.reason }
func (e *notRedirectError) Is(target error) bool { return target == ErrNotRedirect }

// Deliver hands Wait an authorization response that a person pasted: the address the browser
// ended on when it could not reach this server, because it runs on another machine (the
// person signs in over SSH, or into a container). The response is judged as if the browser had
// brought it: its scheme, host, port and path must be exactly those of RedirectURI, and then
// it goes through the very checks of a callback (Check first, so state and iss; then its form),
// and the first response that is not a forgery decides the sign-in, pasted or not.
//
// Deliver returns nil when the pasted response decided the sign-in: Wait returns what it
// decided (a code, or an error). Otherwise the sign-in goes on and the error says why this one
// did not count: it matches ErrNotRedirect for text that is not this server's redirect (its
// message, such as "it does not start with http://127.0.0.1:PORT/callback", is for a person),
// ErrWrongState for a response to another sign-in, ErrDecided when an answer had already
// arrived, or ctx's error. Deliver waits for Wait to have started. The pasted text holds the
// authorization code: no error or log line repeats it.
func (s *Server) Deliver(ctx context.Context, pasted string) error {
	q, err := s.redirectQuery(pasted)
	if err != nil {
		return err
	}
	select {
	case <-s.ready:
	case <-ctx.Done():
		return fmt.Errorf("delivering the pasted sign-in response: %w", ctx.Err())
	}
	v, ok := s.judge(ctx, q, "", true)
	switch {
	case !ok:
		return ErrDecided
	case v.forged:
		return fmt.Errorf("the pasted address: %w", ErrWrongState)
	}
	// outcome has room for this one value (see serveHTTP).
	s.outcome <- v.outcome
	return nil
}

// redirectQuery returns the query of pasted when it is an authorization response sent to
// RedirectURI: scheme http, host 127.0.0.1 and this port, this path, no user information or
// fragment (which a browser's address bar would not show for our redirect), and a code, error
// or state. Its errors name what is wrong, never the text.
func (s *Server) redirectQuery(pasted string) (url.Values, error) {
	u, err := url.Parse(pasted)
	if err != nil {
		return nil, &notRedirectError{"it is not a web address"}
	}
	want, _ := url.Parse(s.RedirectURI())
	switch {
	case u.Scheme != want.Scheme || u.Host != want.Host || u.Path != want.Path || u.User != nil || u.Opaque != "":
		return nil, &notRedirectError{"it does not start with " + s.RedirectURI()}
	case u.Fragment != "" || u.RawFragment != "":
		return nil, &notRedirectError{"it has a fragment (#…), which this sign-in's redirect never has"}
	}
	q := u.Query() // as the handler reads r.URL.Query()
	if !isResponse(q) {
		return nil, &notRedirectError{"it carries no sign-in response (no code, error or state)"}
	}
	return q, nil
}
