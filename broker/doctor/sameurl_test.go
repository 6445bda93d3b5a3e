package doctor

import (
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// TestSameURL: doctor NAME warns when other servers are configured with the server's URL, and
// names them; without them, or for a bare URL, there is no such finding.
func TestSameURL(t *testing.T) {
	u := oauthServer(t, func(rs string) string { return rs + "/mcp" }, nil)
	srv := config.Server{Name: "work", URL: u, Auth: config.AuthOAuth}
	for _, c := range []struct {
		sameURLAs []string
		want      string // "" for no finding
	}{
		{[]string{"personal"}, "personal is configured with this URL too"},
		{[]string{"personal", "test"}, "personal and test are configured with this URL too"},
		{[]string{"a", "b", "c"}, "a, b and c are configured"},
		{nil, ""},
	} {
		r := RunFor(t.Context(), nil, Setup{Server: srv, SameURLAs: c.sameURLAs})
		f, ok := findings(r)[itemSameURL]
		switch {
		case c.want == "" && ok:
			t.Errorf("%v: finding %+v, want none", c.sameURLAs, f)
		case c.want != "" && (!ok || f.Severity != Warn || !strings.Contains(f.Detail, c.want) || !strings.Contains(f.Detail, "own client registration and tokens")):
			t.Errorf("%v: finding %+v, want a warning saying %q", c.sameURLAs, f, c.want)
		case c.want != "" && r.Blocking():
			t.Errorf("%v: a shared URL blocks", c.sameURLAs)
		}
	}
	if _, ok := findings(Run(t.Context(), nil, u))[itemSameURL]; ok {
		t.Error("doctor URL says something about other servers")
	}
}
