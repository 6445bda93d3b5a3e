package loopback

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestTimeoutMessage(t *testing.T) {
	if got, want := (timeoutError{DefaultTimeout}).Error(), "timed out after 5m0s waiting for the browser sign-in"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := (timeoutError{90 * time.Second}).Error(), "timed out after 1m30s waiting for the browser sign-in"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestLaterCallbackGetsFinishedPage drives the handler directly, so that the second callback
// certainly arrives after the first has been handled.
func TestLaterCallbackGetsFinishedPage(t *testing.T) {
	s, err := Listen(t.Context(), 0, "/callback")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	calls := 0
	s.check = func(Callback) error { calls++; return nil }
	serve := func(query string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		s.serveHTTP(rec, httptest.NewRequest(http.MethodGet, "/callback?"+query, nil))
		return rec
	}
	if rec := serve("code=one&state=s"); rec.Code != http.StatusOK {
		t.Fatalf("first callback: %d", rec.Code)
	}
	rec := serve("code=two&state=s")
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "This sign-in has already finished") {
		t.Errorf("second callback: %d %q", rec.Code, rec.Body.String())
	}
	if calls != 1 {
		t.Errorf("check ran %d times, want 1", calls)
	}
	if o := <-s.outcome; o.err != nil || o.cb.Code != "one" {
		t.Errorf("outcome = %v, %v; want the first callback", o.cb, o.err)
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"plain text", 200, "plain text"},
		{"  spaced\t\tout \n", 200, "spaced out"},
		{"bell\a esc\x1b[0m", 200, "bell esc [0m"},
		{"bidi\u202eevil", 200, "bidi evil"},
		{"bad \xff utf8", 200, "bad utf8"},
		{"héllo wörld", 200, "héllo wörld"},
		{"abcdef", 4, "abc…"},
		{"abcd", 4, "abcd"},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in, tt.max); got != tt.want {
			t.Errorf("sanitize(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}
