package toolpolicy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

const (
	roTool   = `{"name":"ro","description":"R", "inputSchema":{"type":"object"},"annotations":{ "readOnlyHint": true }}`
	rwTool   = `{"name":"rw","inputSchema":{"type":"object","properties":{}},"annotations":{"readOnlyHint":false,"destructiveHint":true}}`
	bareTool = `{"name":"bare"}`
)

func list(tools ...string) string {
	return `{"jsonrpc":"2.0","id":3,"result":{"tools":[` + strings.Join(tools, " , ") + `],"nextCursor":null}}`
}

func TestApply(t *testing.T) {
	in := list(roTool, rwTool, bareTool, `"odd"`)
	for _, tt := range []struct {
		name   string
		policy Policy
	}{
		{"nothing hidden", Policy{}},
		{"hidden by name", Policy{Hidden: []string{"rw", "absent"}}},
		{"read-only", Policy{ReadOnly: true}},
		{"both", Policy{Hidden: []string{"ro"}, ReadOnly: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, tools, err := Apply([]byte(in), tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			if len(tools) != 3 || !tools[0].ReadOnly || tools[1].ReadOnly || tools[2].ReadOnly || tools[0].Bytes != len(roTool) ||
				tools[1].SchemaBytes != len(`{"type":"object","properties":{}}`) || string(tools[0].Annotations) != `{"readOnlyHint":true}` {
				t.Errorf("tools = %+v", tools)
			}
			var kept []string
			for _, tool := range tools {
				if !tt.policy.Hides(tool.Name, tool.ReadOnly) {
					kept = append(kept, tool.Name)
				}
			}
			if tt.policy.Empty() && string(out) != in {
				t.Errorf("nothing hidden: %s", out)
			}
			for _, name := range []string{"ro", "rw", "bare"} {
				shown := strings.Contains(string(out), `"name":"`+name+`"`)
				if want := strings.Contains(strings.Join(kept, ","), name); shown != want {
					t.Errorf("%s shown = %v, want %v: %s", name, shown, want, out)
				}
			}
			if !strings.Contains(string(out), `"odd"`) || !strings.HasSuffix(string(out), `],"nextCursor":null}}`) {
				t.Errorf("the rest of the answer changed: %s", out)
			}
		})
	}
	if out, tools, err := Apply([]byte(`{"jsonrpc":"2.0","id":3,"error":{"code":1,"message":"m"}}`), Policy{ReadOnly: true}); err != nil || tools != nil || !strings.Contains(string(out), "error") {
		t.Errorf("an error answer: %s %v %v", out, tools, err)
	}
	if _, _, err := Apply([]byte(`{"result":{"tools":[],"tools":[]}}`), Policy{}); err == nil {
		t.Error("an answer with tools twice was read")
	}
}

func TestPolicy(t *testing.T) {
	p := FromServer(config.Server{HiddenTools: []string{"a", "b"}, ReadOnly: true})
	if p.Empty() || !p.Equal(Policy{Hidden: []string{"b", "a"}, ReadOnly: true}) || p.Equal(Policy{Hidden: []string{"a"}, ReadOnly: true}) || p.Equal(Policy{Hidden: []string{"a", "b"}}) {
		t.Errorf("policy %+v", p)
	}
	if !(Policy{}).Empty() || (Policy{}).Hides("x", false) || !p.Hides("a", true) || !p.Hides("c", false) || p.Hides("c", true) {
		t.Error("Hides")
	}
	if EstimateTokens(0) != 0 || EstimateTokens(1) != 1 || EstimateTokens(400) != 100 {
		t.Error("EstimateTokens")
	}
}

// The Seen file is private to the user, and read back as written.
func TestSeen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tools")
	if _, err := Load(dir, "s"); !errors.Is(err, ErrNotSeen) {
		t.Errorf("Load before Save: %v", err)
	}
	s := Seen{Server: "s", Saved: time.Now().UTC().Truncate(time.Second), Tools: []Tool{{Name: "t", ReadOnly: true, Bytes: 9}}}
	if err := Save(dir, s); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "s.json"): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v; want %v", path, err, want)
		}
	}
	got, err := Load(dir, "s")
	if err != nil || !got.SameTools(s) || !got.Saved.Equal(s.Saved) {
		t.Errorf("Load = %+v, %v", got, err)
	}
	if err := Save(dir, Seen{Server: "../x"}); err == nil {
		t.Error("saved under a name that is not a server name")
	}
}
