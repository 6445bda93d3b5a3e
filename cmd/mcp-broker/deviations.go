package main

import (
	"fmt"
	"io"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
)

// printDeviations prints, under the status table, what each server's authorization server
// does against the rules and what mcp-broker does about it (oauth.Deviation), and which
// expiry times are assumed: nothing when every server keeps to the rules.
func printDeviations(w io.Writer, servers []broker.ServerStatus) error {
	var lines []string
	for _, s := range servers {
		if s.ExpiryAssumed && s.Expiry != nil {
			lines = append(lines, fmt.Sprintf("%s: expires at %s by assumption: the server does not say; renewed then, or sooner if the server refuses the token",
				s.Name, s.Expiry.Local().Format(time.TimeOnly)))
		}
		for _, d := range s.Deviations {
			lines = append(lines, fmt.Sprintf("%s: %s", s.Name, d.Describe()))
		}
	}
	return printSection(w, "Servers that bend the rules (mcp-broker works around it)", lines)
}
