package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/hint"
)

// TestNextStepWordsEveryHint: every hint has a sentence on the command line, and the steps that
// are commands of ours show the exact command, for the server the error is about.
func TestNextStepWordsEveryHint(t *testing.T) {
	commands := map[hint.Hint]string{
		hint.SignIn:                "`mcp-broker login studio`",
		hint.AcceptNewIssuer:       "`mcp-broker login studio --accept-new-issuer`",
		hint.StoreToken:            "`mcp-broker servers add studio URL --auth bearer --token-stdin`",
		hint.ClientID:              "`mcp-broker servers add studio URL --client-id ID`",
		hint.ClientIDOrMetadataURL: "--client-metadata-url",
		hint.ClientSecret:          "`mcp-broker servers add studio URL --auth client-credentials --client-id ID --client-secret-stdin`",
		hint.NoAuth:                "`mcp-broker servers add studio URL --auth none`",
		hint.AddServer:             "`mcp-broker servers add studio URL`",
		hint.Diagnose:              "`mcp-broker doctor https://mcp.example.com/mcp?REDACTED`",
		hint.StartKeychain:         "MCP_BROKER_SECRET_STORE=file",
		hint.CreateKeyring:         "MCP_BROKER_SECRET_STORE=file",
		hint.FileStore:             "MCP_BROKER_SECRET_STORE=file",
		hint.SignInIdP:             "`mcp-broker idp login studio`",
		hint.WorkloadAssertion:     "`mcp-broker servers add studio URL --auth workload --client-id ID --assertion-file PATH`",
		hint.PrivateKey:            "`mcp-broker servers add studio URL --auth client-credentials --client-id ID --private-key-stdin < key.pem`",
		hint.PreRegisteredClient:   "`mcp-broker servers add studio URL --client-id ID --client-secret-stdin`",
	}
	for _, h := range hint.All() {
		for _, goos := range []string{"linux", "darwin", "windows"} {
			got := nextStep(h, "studio", "https://mcp.example.com/mcp?key=hunter2", goos)
			if got == "" || !strings.HasSuffix(got, ".") || strings.ToUpper(got[:1]) != got[:1] {
				t.Errorf("%v on %s: %q is not a sentence", h, goos, got)
			}
			if want, ok := commands[h]; ok && !strings.Contains(got, want) {
				t.Errorf("%v on %s: %q does not show %s", h, goos, got, want)
			}
			if strings.Contains(got, "hunter2") {
				t.Errorf("%v: %q shows the URL's query", h, got)
			}
		}
	}
	if got := nextStep(hint.UnlockKeychain, "", "", "darwin"); !strings.Contains(got, "security unlock-keychain") {
		t.Errorf("unlock on macOS: %q", got)
	}
	if got := nextStep(hint.SignIn, "", "", "linux"); got != "Run `mcp-broker login NAME`." {
		t.Errorf("sign in without a server: %q", got)
	}
	if got := nextStep(hint.None, "studio", "", "linux"); got != "" {
		t.Errorf("no hint: %q", got)
	}
}

// TestAdviceFindsTheServer: the hint and the server come from the error, however wrapped.
func TestAdviceFindsTheServer(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&broker.OpError{Op: broker.OpCredential, Server: "studio", Err: &broker.SignInRequiredError{Server: "studio"}}, "Run `mcp-broker login studio`."},
		{fmt.Errorf("starting: %w", &broker.OpError{Op: broker.OpSignIn, Server: "s2", Err: hint.With(errors.New("x"), hint.ClientSecret)}), "mcp-broker servers add s2 URL --auth client-credentials"},
		{&broker.UnknownServerError{Name: "nope"}, "`mcp-broker servers add nope URL`"},
		{&broker.OpError{Op: broker.OpCredential, Server: "wiki", Err: &broker.IdPSignInRequiredError{IdP: "corp"}}, "`mcp-broker idp login corp`"},
		{&broker.OpError{Op: broker.OpIdP, Server: "corp", Err: hint.With(errors.New("x"), hint.SignInIdP)}, "`mcp-broker idp login corp`"},
		{hint.With(errors.New("the keychain did not answer"), hint.TryAgain), "Try again."},
		{errors.New("no hint"), ""},
	}
	for _, tt := range tests {
		got := advice(tt.err)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("advice(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestRunPrintsTheNextStep: the error on one line, the command to run on the next.
func TestRunPrintsTheNextStep(t *testing.T) {
	r := newCLI(t).run("", "login", "nope")
	want := "mcp-broker: no server named \"nope\" is configured\nSee `mcp-broker servers list`, or add it with `mcp-broker servers add nope URL`.\n"
	if r.code != exitError || !strings.HasSuffix(r.stderr, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant exit %d, ending with:\n%s", r.code, r.stderr, exitError, want)
	}
}

// TestUsageErrorsByType: cobra's argument and flag checks return the CLI's usageError, so
// every mistake in the command line exits 2 with the pointer to --help, whatever cobra's words.
func TestUsageErrorsByType(t *testing.T) {
	c := newCLI(t)
	tests := [][]string{
		{"login"},
		{"login", "a", "b"},
		{"frobnicate"},
		{"status", "extra"},
		{"servers", "add", "x"},
		{"servers", "frob"},
		{"claude", "add"},
		{"--bogus"},
		{"status", "--bogus"},
		{"bridge", "--max-message", "many"},
		{"completion", "bash"},
	}
	for _, args := range tests {
		r := c.run("", args...)
		if r.code != exitUsage || !strings.HasSuffix(r.stderr, "\nRun `mcp-broker --help` for usage.\n") {
			t.Errorf("mcp-broker %v: exit %d, stderr %q; want exit %d and the pointer to --help", args, r.code, r.stderr, exitUsage)
		}
	}
	// Every command's argument check is the CLI's, so none can slip through as exit 1.
	var check func(c *cobra.Command)
	check = func(c *cobra.Command) {
		if c.Args == nil {
			t.Errorf("%s has no argument check", c.CommandPath())
		} else if err := c.Args(c, []string{"a", "b", "c", "d"}); err != nil && !errors.As(err, new(usageError)) {
			t.Errorf("%s: the argument check returned %T, not a usageError", c.CommandPath(), err)
		}
		for _, sub := range c.Commands() {
			check(sub)
		}
	}
	check((&app{}).rootCmd())
}
