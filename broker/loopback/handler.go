package loopback

import (
	"context"
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
// answered without touching the flow. A forged callback gets the very page a stray request
// gets, so that a hostile page learns nothing from it.
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
	if !isResponse(q) {
		s.nothingHere(w, r)
		return
	}
	v, ok := s.judge(r.Context(), q, requestingHost(r), false)
	switch {
	case !ok:
		s.log.DebugContext(r.Context(), "loopback: callback after the sign-in finished ignored")
		s.page(w, r, http.StatusConflict, false, "This sign-in has already finished",
			"An answer for this sign-in had already arrived, so this one was ignored.")
	case v.forged:
		s.nothingHere(w, r)
	default:
		s.page(w, r, v.status, v.success, v.title, v.message)
		// outcome has room for this one value, so the send never blocks even if Wait has
		// given up; it is made after the page is written, so when Wait sees it and starts the
		// graceful shutdown, the response is already on its way.
		s.outcome <- v.outcome
	}
}

// nothingHere answers a request that is not a callback of this sign-in, including a forged one.
func (s *Server) nothingHere(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, http.StatusBadRequest, false, "Nothing to do here",
		"This address only receives the answer to a sign-in in progress, and this request is not one.")
}

// verdict is what judging a callback decided: a forgery to ignore, or the page to show and the
// outcome for Wait.
type verdict struct {
	forged  bool
	status  int
	success bool
	title   string
	message string
	outcome outcome
}

// isResponse reports whether a redirect's query looks like an authorization response at all.
func isResponse(q url.Values) bool {
	return q.Get("code") != "" || q.Get("error") != "" || q.Get("state") != ""
}

// judge decides about one callback, one at a time, whether the browser brought it or a person
// pasted it (Deliver). ok is false when an earlier callback has already decided the sign-in. A
// forgery leaves the sign-in undecided; from is the host of the page that sent it, if known. A
// pasted response with a wrong state is no web page's doing: it is not counted as a forgery.
func (s *Server) judge(ctx context.Context, q url.Values, from string, pasted bool) (v verdict, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.decided {
		return verdict{}, false
	}
	v = s.verdictFor(ctx, q)
	switch {
	case v.forged && pasted:
		s.log.DebugContext(ctx, "loopback: ignored a pasted sign-in response with a wrong state")
	case v.forged:
		s.noteForged(ctx, from)
	default:
		s.decided = true
	}
	return v, true
}

// verdictFor judges a callback: its state first (through check), since only a response that
// belongs to this sign-in may end it, then its form.
func (s *Server) verdictFor(ctx context.Context, q url.Values) verdict {
	if len(q["state"]) > 1 {
		// RFC 6749 §3.1 forbids it, so no authorization server sends it: it cannot be ours.
		return verdict{forged: true}
	}
	cb := Callback{
		Code:             q.Get("code"),
		State:            q.Get("state"),
		Iss:              q.Get("iss"),
		Error:            q.Get("error"),
		ErrorDescription: q.Get("error_description"),
		ErrorURI:         q.Get("error_uri"),
	}
	err := runCheck(s.check, cb)
	if errors.Is(err, ErrWrongState) {
		return verdict{forged: true} // logged by noteForged, bounded
	}
	s.log.DebugContext(ctx, "loopback: callback received", "callback", cb)
	if err != nil {
		s.log.DebugContext(ctx, "loopback: callback rejected", "error", err)
		return failed(http.StatusBadRequest, "Sign-in failed", err)
	}
	for _, p := range callbackParams {
		if len(q[p]) > 1 {
			err := fmt.Errorf("the sign-in response repeats the %s parameter, which OAuth forbids", p)
			s.log.DebugContext(ctx, "loopback: malformed callback", "error", err)
			return failed(http.StatusBadRequest, "Sign-in failed", err)
		}
	}
	if cb.Error != "" {
		return failed(http.StatusOK, "Sign-in was not completed", newProviderError(cb))
	}
	if cb.Code == "" {
		return failed(http.StatusBadRequest, "Sign-in failed", errors.New("the sign-in response carries no authorization code"))
	}
	return verdict{status: http.StatusOK, success: true, title: "You're signed in",
		message: "MCP Broker received your sign-in and is finishing it now.", outcome: outcome{cb: cb}}
}

// failed is the verdict for a callback of this sign-in that ends it with err, shown on the page.
func failed(status int, title string, err error) verdict {
	return verdict{status: status, title: title, message: err.Error(), outcome: outcome{err: err}}
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
