package loopback

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mcp-broker/mcp-broker/assets"
)

// contentSecurityPolicy allows the embedded pages' inline CSS and nothing else: no scripts,
// no fetches, no framing, no form posts.
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// callbackParams are the query parameters of an authorization response (RFC 6749 §4.1.2,
// §4.1.2.1; RFC 9207). RFC 6749 §3.1 forbids repeating any of them.
var callbackParams = []string{"code", "state", "iss", "error", "error_description", "error_uri"}

// serveHTTP answers every request the loopback server gets. Only a GET on the exact path that
// carries code, error or state is a callback; everything else (a favicon, a probe, a HEAD) is
// answered without touching the flow.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	if r.URL.Path != s.path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	if q.Get("code") == "" && q.Get("error") == "" && q.Get("state") == "" {
		s.page(w, r, http.StatusBadRequest, false, "Nothing to do here",
			"This address only receives the answer to a sign-in in progress, and this request is not one.")
		return
	}
	won := false
	s.first.Do(func() {
		won = true
		// outcome has room for this one value, so the send never blocks even if Wait has
		// given up; it is made after the page is written, so when Wait sees it and starts
		// the graceful shutdown, the response is already on its way.
		s.outcome <- s.handleFirst(w, r, q)
	})
	if !won {
		s.log.DebugContext(r.Context(), "loopback: callback after the first one ignored")
		s.page(w, r, http.StatusConflict, false, "This sign-in has already finished",
			"An answer for this sign-in had already arrived, so this one was ignored.")
	}
}

// handleFirst judges the first callback, writes its page, and returns what Wait reports.
func (s *Server) handleFirst(w http.ResponseWriter, r *http.Request, q url.Values) outcome {
	ctx := r.Context()
	for _, p := range callbackParams {
		if len(q[p]) > 1 {
			err := fmt.Errorf("the sign-in response repeats the %s parameter, which OAuth forbids", p)
			s.log.DebugContext(ctx, "loopback: malformed callback", "error", err)
			s.page(w, r, http.StatusBadRequest, false, "Sign-in failed", err.Error())
			return outcome{err: err}
		}
	}
	cb := Callback{
		Code:             q.Get("code"),
		State:            q.Get("state"),
		Iss:              q.Get("iss"),
		Error:            q.Get("error"),
		ErrorDescription: q.Get("error_description"),
		ErrorURI:         q.Get("error_uri"),
	}
	s.log.DebugContext(ctx, "loopback: callback received", "callback", cb)
	if err := runCheck(s.check, cb); err != nil {
		s.log.DebugContext(ctx, "loopback: callback rejected", "error", err)
		s.page(w, r, http.StatusBadRequest, false, "Sign-in failed", err.Error())
		return outcome{err: err}
	}
	if cb.Error != "" {
		perr := newProviderError(cb)
		s.page(w, r, http.StatusOK, false, "Sign-in was not completed", perr.Error())
		return outcome{err: perr}
	}
	if cb.Code == "" {
		err := errors.New("the sign-in response carries no authorization code")
		s.page(w, r, http.StatusBadRequest, false, "Sign-in failed", err.Error())
		return outcome{err: err}
	}
	s.page(w, r, http.StatusOK, true, "You're signed in",
		"MCP Broker received your sign-in and is finishing it now.")
	return outcome{cb: cb}
}

// runCheck calls check, turning a panic into an error so that a buggy check fails the sign-in
// instead of leaving Wait to time out. The panic value is not reported: it could hold the code.
func runCheck(check Check, cb Callback) (err error) {
	defer func() {
		if recover() != nil {
			err = errors.New("internal error: the sign-in check failed unexpectedly")
		}
	}()
	return check(cb)
}

// page writes one of the embedded callback pages.
func (s *Server) page(w http.ResponseWriter, r *http.Request, status int, ok bool, title, message string) {
	body, err := assets.CallbackPage(ok, title, capitalize(message))
	if err != nil {
		s.log.ErrorContext(r.Context(), "loopback: rendering the callback page", "error", err)
		http.Error(w, title+": "+message, http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // a browser that went away is no concern of the flow
}

func setSecurityHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
}

// newProviderError builds the error for an error response, sanitized for terminals and pages.
func newProviderError(cb Callback) *ProviderError {
	e := &ProviderError{
		Code:        sanitize(cb.Error, 64),
		Description: sanitize(cb.ErrorDescription, 200),
	}
	if uri := sanitize(cb.ErrorURI, 500); uri == cb.ErrorURI {
		if u, err := url.Parse(uri); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			e.URI = uri
		}
	}
	return e
}

// sanitize makes text from the network safe to print: invalid UTF-8 and non-printable runes
// (control characters, bidi overrides, odd spaces) become spaces, runs of spaces collapse, and
// the result is cut to max runes with an ellipsis.
func sanitize(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = ' '
		}
		b.WriteRune(r)
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	if utf8.RuneCountInString(out) > max {
		out = string([]rune(out)[:max-1]) + "…"
	}
	return out
}

// capitalize turns an error message (lowercase by Go convention) into a sentence for a page.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsLower(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// String describes the callback without its code (and without the state, which is not needed
// to debug anything and ties a log line to a session), so that fmt's %v and %+v are safe.
func (c Callback) String() string {
	return fmt.Sprintf("loopback.Callback{code:%s state:%s iss:%q error:%q}",
		present(c.Code), present(c.State), sanitize(c.Iss, 200), sanitize(c.Error, 64))
}

// GoString is String, so that %#v is safe too.
func (c Callback) GoString() string { return c.String() }

// LogValue implements slog.LogValuer with the same redaction as String.
func (c Callback) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("has_code", c.Code != ""),
		slog.Bool("has_state", c.State != ""),
		slog.String("iss", sanitize(c.Iss, 200)),
		slog.String("error", sanitize(c.Error, 64)),
	)
}

func present(v string) string {
	if v == "" {
		return "none"
	}
	return "redacted"
}
