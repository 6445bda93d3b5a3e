package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
)

// TestPrintDeviations: status lists, under its table, each server's deviations in words and an
// assumed expiry, and nothing at all for servers that keep to the rules.
func TestPrintDeviations(t *testing.T) {
	var b bytes.Buffer
	if err := printDeviations(&b, []broker.ServerStatus{{Name: "fine"}}); err != nil || b.Len() != 0 {
		t.Fatalf("printed %q, %v for a server without deviations", b.String(), err)
	}
	at := time.Date(2026, 12, 6, 15, 4, 0, 0, time.Local)
	err := printDeviations(&b, []broker.ServerStatus{
		{Name: "fine"},
		{Name: "hand", ExpiryAssumed: true, Expiry: &at, Deviations: []oauth.Deviation{oauth.DeviationJSONBody, oauth.DeviationNoExpiresIn}},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Servers that bend the rules", "hand: expires at 15:04:00 by assumption", "hand: the token endpoint reads only JSON bodies", "hand: the token response says nothing usable"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "fine:") {
		t.Errorf("a server without deviations is listed:\n%s", out)
	}
}
