package loopback

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// maxForgedLogged bounds the log lines forged callbacks cause: a hostile page can send
// thousands, and each must not cost a line. After this many one line says logging stopped, and
// Wait logs the total at the end.
const maxForgedLogged = 20

// noteForged counts a forged callback and logs it, with nothing from its query (a forger's
// values are noise, and a mistaken real one would be a secret): only from, the host of the page
// that sent it, when the browser said. s.mu is held.
func (s *Server) noteForged(ctx context.Context, from string) {
	s.forged++
	switch {
	case s.forged <= maxForgedLogged:
		var attrs []any
		if h := from; h != "" {
			attrs = append(attrs, "from", h)
		}
		s.log.WarnContext(ctx, "loopback: ignored a callback with a wrong state; a web page may be interfering with the sign-in", attrs...)
	case s.forged == maxForgedLogged+1:
		s.log.WarnContext(ctx, "loopback: more callbacks with a wrong state arrived; no longer logging them one by one")
	}
}

// logForgedTotal logs how many forged callbacks arrived, when there were more than were logged
// one by one.
func (s *Server) logForgedTotal(ctx context.Context) {
	s.mu.Lock()
	n := s.forged
	s.mu.Unlock()
	if n > maxForgedLogged {
		s.log.WarnContext(ctx, "loopback: callbacks with a wrong state were ignored during the sign-in", "count", n)
	}
}

// requestingHost returns the host of the page that made the browser send r, from its Referer
// or else its Origin, sanitized; "" when the browser sent neither (its referrer policy often
// strips the Referer of a request from https to our http).
func requestingHost(r *http.Request) string {
	for _, h := range []string{"Referer", "Origin"} {
		u, err := url.Parse(r.Header.Get(h))
		if err != nil {
			continue
		}
		if host := sanitize(strings.ToLower(u.Hostname()), 100); host != "" {
			return host
		}
	}
	return ""
}
