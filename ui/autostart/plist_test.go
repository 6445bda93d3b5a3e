package autostart

import (
	"strings"
	"testing"
)

func TestRenderPlistGolden(t *testing.T) {
	e := Default()
	data, err := renderPlist(e, "/Applications/MCP Broker.app/Contents/MacOS/mcp-broker")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "launchagent.plist", data)

	dict, err := parsePlistDict(data)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"Label": AppID, "RunAtLoad": "true", "ProgramArguments": "array", "LimitLoadToSessionType": "Aqua"} {
		if dict[k] != want {
			t.Errorf("%s = %q, want %q", k, dict[k], want)
		}
	}
	if disabled, err := plistDisabled(data); err != nil || disabled {
		t.Errorf("a fresh agent reads as disabled=%v (%v)", disabled, err)
	}
}

func TestRenderPlistEscapes(t *testing.T) {
	e := Default()
	e.Args = []string{"--x=<a&b>"}
	data, err := renderPlist(e, `/Users/ana/R&D <"tools">/mcp-broker`)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.Contains(s, "<string>/Users/ana/R&amp;D &lt;&#34;tools&#34;&gt;/mcp-broker</string>") || !strings.Contains(s, "<string>--x=&lt;a&amp;b&gt;</string>") {
		t.Errorf("not escaped:\n%s", s)
	}
	if _, err := parsePlistDict(data); err != nil {
		t.Errorf("the escaped plist does not parse: %v", err)
	}
	if _, err := renderPlist(e, "/tmp/a\nb"); err == nil {
		t.Error("a control character was accepted")
	}
}

func TestPlistDisabled(t *testing.T) {
	const head = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">`
	tests := []struct {
		name     string
		in       string
		disabled bool
		wantErr  bool
	}{
		{name: "disabled", in: head + "<dict><key>Label</key><string>x</string><key>Disabled</key><true/></dict></plist>", disabled: true},
		{name: "disabled false", in: head + "<dict><key>Disabled</key><false/><key>RunAtLoad</key><true/></dict></plist>"},
		{name: "nested dicts and arrays", in: head + "<dict><key>EnvironmentVariables</key><dict><key>Disabled</key><true/></dict><key>A</key><array><true/></array></dict></plist>"},
		{name: "integer and data", in: head + "<dict><key>Nice</key><integer>1</integer><key>D</key><data>AAAA</data><key>Disabled</key><true/></dict></plist>", disabled: true},
		{name: "binary plist", in: "bplist00\xd1\x01\x02"},
		{name: "empty", in: "", wantErr: true},
		{name: "not xml", in: "Label = x", wantErr: true},
		{name: "truncated", in: head + "<dict><key>Disabled</key>", wantErr: true},
		{name: "key without value", in: head + "<dict><key>Disabled</key></dict></plist>", wantErr: true},
		{name: "value without key", in: head + "<dict><true/></dict></plist>", wantErr: true},
		{name: "array at top", in: head + "<array></array></plist>", wantErr: true},
		{name: "other root", in: "<html><dict></dict></html>", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			disabled, err := plistDisabled([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if disabled != tt.disabled {
				t.Errorf("disabled = %v, want %v", disabled, tt.disabled)
			}
		})
	}
}
