// Package opener opens the user's web browser at an authorization URL.
//
// The broker talks to the browser through the one-method [Opener] interface so that the
// sign-in flow can be tested without a desktop: [Recorder] and [Browser] are fakes for tests,
// [System] is the real thing, built on github.com/pkg/browser.
//
// Opening a browser is best effort. When it fails (no desktop, no xdg-open, SSH session) the
// error wraps [ErrNoBrowser] and the caller prints the URL for the user to open by hand.
// [Unavailable] tells beforehand, from the environment, when a browser opened here would not
// be in front of the person (an SSH session, no display), so that a caller can offer a way
// of signing in that needs no browser here.
package opener

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// Opener opens url in the user's browser. Open returns once the browser has been asked to
// show the page, not when the user has finished with it: the result of a sign-in arrives
// elsewhere (at the loopback server).
type Opener interface {
	Open(ctx context.Context, url string) error
}

// ErrNoBrowser is wrapped by the errors of an Opener that could not start a browser.
// Callers that see it print the URL and ask the user to open it themselves.
var ErrNoBrowser = errors.New("no web browser could be opened")

// ErrBadURL is wrapped by [CheckURL]'s errors: the URL is not one MCP Broker will hand to a browser.
var ErrBadURL = errors.New("not a web address that can be opened in a browser")

// CheckURL accepts only absolute http and https URLs with a host, and nothing that a browser
// or an OS URL handler could turn into something else: no javascript:, data:, file:, vbscript:
// or custom schemes (the URL comes from a remote authorization server's metadata, so it is
// untrusted), no user info (https://trusted@evil.example reads like the wrong host), and no
// spaces or control characters. No shell is ever involved in opening a URL, but the OS handler
// (xdg-open, open, ShellExecute) still interprets what it is given, so the URL must be plain.
func CheckURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("empty URL: %w", ErrBadURL)
	}
	if i := strings.IndexFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }); i >= 0 {
		return fmt.Errorf("URL contains a space or control character: %w", ErrBadURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the URL; keep it out of the message, as a URL may carry state.
		return fmt.Errorf("URL does not parse: %w", ErrBadURL)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return fmt.Errorf("URL is not absolute: %w", ErrBadURL)
	default:
		return fmt.Errorf("URL scheme %q is not http or https: %w", u.Scheme, ErrBadURL)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("URL has no host: %w", ErrBadURL)
	}
	if u.User != nil {
		return fmt.Errorf("URL carries user information before the host: %w", ErrBadURL)
	}
	return nil
}
