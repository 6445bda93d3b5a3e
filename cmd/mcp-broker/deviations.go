package main

import (
	"fmt"
	"io"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
)

// printDeviations prints, under the status table, what each server's authorization server
// does against the rules and what mcp-broker does about it (oauth.Deviation), and which
// expiry times are assumed: nothing when every server keeps to the rules.
func printDeviations(w io.Writer, servers []broker.ServerStatus) error {
	var lines []string
	for _, s := range servers {
		if s.ExpiryAssumed && s.Expiry != nil {
			lines = append(lines, fmt.Sprintf("  %s: expires at %s by assumption: the server does not say; renewed then, or sooner if the server refuses the token",
				s.Name, s.Expiry.Local().Format(time.TimeOnly)))
		}
		for _, d := range s.Deviations {
			lines = append(lines, fmt.Sprintf("  %s: %s", s.Name, d.Describe()))
		}
	}
	if len(lines) == 0 {
		return nil
	}
	if _, err := fmt.Fprintln(w, "\nServers that bend the rules (mcp-broker works around it):"); err != nil {
		return err
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// learnedDeviations are the deviations status shows for the named server, for doctor; none
// when the status cannot be read (doctor still diagnoses).
func learnedDeviations(configPath, name string) []oauth.Deviation {
	st, err := broker.ReadStatus(configPath, time.Now())
	if err != nil {
		return nil
	}
	for _, s := range st {
		if s.Name == name {
			return s.Deviations
		}
	}
	return nil
}

// recordedStatus is the status of the named server, for doctor to say what the broker recorded
// of its sign-ins (the last renewal that failed, when to sign in again), and when it was read;
// nil when the status cannot be read (doctor still diagnoses).
func recordedStatus(configPath, name string) (*broker.ServerStatus, time.Time) {
	now := time.Now()
	st, err := broker.ReadStatus(configPath, now)
	if err != nil {
		return nil, now
	}
	for _, s := range st {
		if s.Name == name {
			return &s, now
		}
	}
	return nil, now
}
