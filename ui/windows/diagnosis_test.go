package windows

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/mcp-broker/mcp-broker/broker/doctor"
	hints "github.com/mcp-broker/mcp-broker/broker/hint"
)

func TestDiagnosis(t *testing.T) {
	a := test.NewTempApp(t)
	runs := 0
	d := ShowDiagnosis(a, "studio", "https://mcp.example.com/mcp", func(context.Context) (*doctor.Report, error) {
		runs++
		return goodReport, nil
	})
	t.Cleanup(func() { d.Window().Close(); wait(t, &d.bg) })
	wait(t, &d.bg)
	d.Window().Resize(fyne.NewSize(620, 760))
	assertMarkup(t, "diagnosis.xml", d.Window())

	content := d.Window().Content()
	for _, want := range []string{
		"No blocking problems; 1 warning.",
		"grant types",
		"authorization_code\nno refresh_token: you will sign in again whenever the access token expires",
	} {
		if !hasText(content, want) {
			t.Errorf("no %q among %q", want, texts(content))
		}
	}

	test.Tap(d.copy)
	var want strings.Builder
	if err := goodReport.WriteText(&want); err != nil {
		t.Fatal(err)
	}
	if got := a.Clipboard().Content(); got != want.String() {
		t.Errorf("copied report:\n%s\nwant:\n%s", got, want.String())
	}

	test.Tap(d.again)
	wait(t, &d.bg)
	if runs != 2 {
		t.Errorf("diagnosis ran %d times after Run again, want 2", runs)
	}
}

func TestDiagnosisError(t *testing.T) {
	a := test.NewTempApp(t)
	d := ShowDiagnosis(a, "studio", "https://mcp.example.com/mcp", func(context.Context) (*doctor.Report, error) {
		return nil, errors.New("no server named studio is configured")
	})
	t.Cleanup(func() { d.Window().Close(); wait(t, &d.bg) })
	wait(t, &d.bg)
	want := "The diagnosis could not run. No server named studio is configured."
	if !hasText(d.Window().Content(), want) {
		t.Errorf("no %q among %q", want, texts(d.Window().Content()))
	}
	if !d.copy.Disabled() {
		t.Error("Copy report enabled without a report")
	}
}

// Closing the window cancels the diagnosis in flight.
func TestDiagnosisCloseCancels(t *testing.T) {
	a := test.NewTempApp(t)
	started := make(chan struct{})
	var ctxErr error
	d := ShowDiagnosis(a, "studio", "https://mcp.example.com/mcp", func(ctx context.Context) (*doctor.Report, error) {
		close(started)
		<-ctx.Done()
		ctxErr = ctx.Err()
		return nil, ctx.Err()
	})
	<-started
	d.Window().Close()
	wait(t, &d.bg)
	if ctxErr == nil {
		t.Error("the diagnosis was not cancelled")
	}
}

// TestDiagnosisNetworkAndTrust: the report says how the server is reached, and a certificate
// of an unknown authority gets the tray's next step (its hint), not a command.
func TestDiagnosisNetworkAndTrust(t *testing.T) {
	a := test.NewTempApp(t)
	rep := &doctor.Report{
		ServerURL: "https://mcp.example.com/mcp",
		Network:   []string{"through the proxy http://proxy.example.com:3128 (HTTPS_PROXY)"},
		Findings: []doctor.Finding{
			{Item: "server", Severity: doctor.Fail, Detail: "cannot reach the MCP server: x509: certificate signed by unknown authority"},
			{Item: "TLS", Severity: doctor.Fail, Detail: "the certificate of mcp.example.com is signed by \"Corp CA\", an authority this computer does not trust", Hint: hints.TrustCA},
		},
	}
	d := ShowDiagnosis(a, "studio", rep.ServerURL, func(context.Context) (*doctor.Report, error) { return rep, nil })
	t.Cleanup(func() { d.Window().Close(); wait(t, &d.bg) })
	wait(t, &d.bg)
	content := d.Window().Content()
	for _, want := range []string{"Through the proxy http://proxy.example.com:3128 (HTTPS_PROXY)", advice(hints.TrustCA, runtime.GOOS, place{})} {
		if !hasText(content, want) {
			t.Errorf("no %q among %q", want, texts(content))
		}
	}
}
