package redact

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp"},
		{"http://127.0.0.1:8123/mcp?api_key=SECRET123", "http://127.0.0.1:8123/mcp?REDACTED"},
		{"https://mcp.example.com/mcp?sk-SECRET123", "https://mcp.example.com/mcp?REDACTED"},
		{"https://mcp.example.com/mcp?", "https://mcp.example.com/mcp?REDACTED"},
		{"https://user:SECRET123@mcp.example.com:8443/a/b", "https://mcp.example.com:8443/a/b"},
		{"https://mcp.example.com/mcp#SECRET123", "https://mcp.example.com/mcp"},
		{"https://u:p@mcp.example.com/mcp?k=SECRET123#f", "https://mcp.example.com/mcp?REDACTED"},
		{"https://mcp.example.com/a%20b?x=SECRET123", "https://mcp.example.com/a%20b?REDACTED"},
		// Not URLs url.Parse accepts: cut by their characters.
		{"http://[::1/mcp?key=SECRET123", "http://[::1/mcp?REDACTED"},
		{"https://user:SECRET123@bad host/mcp?x=y", "https://bad host/mcp?REDACTED"},
		{"mailto:SECRET123@example.com", "example.com"},
		{"", ""},
	} {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(URL(tt.in), "SECRET123") {
			t.Errorf("URL(%q) keeps the secret", tt.in)
		}
	}
}

func TestText(t *testing.T) {
	const raw = "http://127.0.0.1:8123/mcp?api_key=SECRET123&b=two"
	for _, tt := range []struct{ in, want string }{
		{`Post "` + raw + `": dial tcp: connection refused`, `Post "http://127.0.0.1:8123/mcp?REDACTED": dial tcp: connection refused`},
		{"the server at " + raw + " is down", "the server at http://127.0.0.1:8123/mcp?REDACTED is down"},
		{"GET /mcp?api_key=SECRET123&b=two: 404", "GET /mcp?REDACTED: 404"},
		{"the key SECRET123 was refused; b=two", "the key REDACTED was refused; b=two"},
		{"nothing to hide", "nothing to hide"},
	} {
		if got := Text(tt.in, raw); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// The URL as net/url prints it (escapes normalized) is found too.
	odd := "http://127.0.0.1:8123/m%7ecp?api_key=SECRET123"
	if got := Text(`Get "http://127.0.0.1:8123/m~cp?api_key=SECRET123": EOF`, odd); strings.Contains(got, "SECRET123") {
		t.Errorf("Text kept the secret: %q", got)
	}
	// Short values and user names are not hunted on their own; with their '@' they go.
	if got := Text("user u at https://u@h.example/ or two", "https://u@h.example/?b=two"); got != "user u at https://h.example/ or two" {
		t.Errorf("Text = %q", got)
	}
	// A URL with nothing secret changes nothing.
	if got := Text("at https://a.example/mcp", "https://a.example/mcp"); got != "at https://a.example/mcp" {
		t.Errorf("Text = %q", got)
	}
}

func TestHandler(t *testing.T) {
	const raw = "https://mcp.example.com/mcp?api_key=SECRET123"
	var buf strings.Builder
	log := slog.New(Handler(slog.NewTextHandler(&buf, nil), raw)).With("url", raw).WithGroup("g")
	log.Info("opening "+raw, "err", errors.New(`Post "`+raw+`": refused`), "n", 3,
		slog.Group("inner", "u", raw), "any", []string{raw})
	out := buf.String()
	if strings.Contains(out, "SECRET123") {
		t.Errorf("the log line keeps the secret: %s", out)
	}
	for _, want := range []string{"msg=\"opening https://mcp.example.com/mcp?REDACTED\"", "url=https://mcp.example.com/mcp?REDACTED", "g.n=3", "g.inner.u="} {
		if !strings.Contains(out, want) {
			t.Errorf("the log line lacks %q: %s", want, out)
		}
	}
	// Nothing to hide: the handler is the one given.
	h := slog.NewTextHandler(&buf, nil)
	if Handler(h, "https://mcp.example.com/mcp") != slog.Handler(h) {
		t.Error("Handler wrapped a handler for a URL without secrets")
	}
}
