package broker

import (
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// TestSentTo: a server configured to be sent the ID token gets it in the access token's place,
// due at the first of the two expiries; with no ID token stored there is nothing fresh to send;
// any other server gets the grant as it is.
func TestSentTo(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	grant := &storedToken{AccessToken: "at", TokenType: "DPoP", IssuedAt: now, Expiry: now.Add(time.Hour), IDToken: "idt", IDExpiry: now.Add(10 * time.Minute)}
	id := config.Server{Name: "s", SendToken: "id"}

	if got := grant.sentTo(config.Server{Name: "s"}); got != grant {
		t.Errorf("the access token's server got %+v", got)
	}
	got := grant.sentTo(id)
	if c := bearer(got); c.Value != "Bearer idt" || !c.Expiry.Equal(now.Add(10*time.Minute)) {
		t.Errorf("credential %+v", c)
	}
	if !got.fresh(now.Add(5*time.Minute)) || got.fresh(now.Add(10*time.Minute)) {
		t.Error("the ID token is renewed by its own expiry")
	}
	if grant.AccessToken != "at" || grant.TokenType != "DPoP" {
		t.Error("sentTo changed the stored grant")
	}
	later := *grant
	later.IDExpiry = now.Add(2 * time.Hour)
	if got := later.sentTo(id); !got.Expiry.Equal(now.Add(time.Hour)) {
		t.Errorf("expiry %v, want the access token's, the earlier", got.Expiry)
	}
	none := *grant
	none.IDToken = ""
	if none.sentTo(id).fresh(now) {
		t.Error("a grant without an ID token is fresh for a server sent the ID token")
	}
}
