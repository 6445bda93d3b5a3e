package broker_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The bridge must start in milliseconds on a machine without a display, and
// broker/ must cross-compile without cgo: neither may link Fyne or GL. These
// tests enforce it for broker/... and bridge/... (once bridge/ exists).

// bannedPrefixes are import paths that broker/ and bridge/ must never
// depend on, directly or not, in their code or their tests.
var bannedPrefixes = []string{
	"fyne.io/",          // the GUI toolkit and its systray
	"github.com/go-gl/", // the GL and GLFW bindings under Fyne
}

// headlessPatterns returns the go package patterns of the headless tree,
// relative to the module root.
func headlessPatterns(t *testing.T, root string) []string {
	t.Helper()
	patterns := []string{"./broker/..."}
	if fi, err := os.Stat(filepath.Join(root, "bridge")); err == nil && fi.IsDir() {
		patterns = append(patterns, "./bridge/...")
	}
	return patterns
}

// moduleRoot returns the directory of go.mod; tests run in their package's
// directory, which moves as packages do.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("not inside a Go module")
	}
	return filepath.Dir(gomod)
}

// listedPackage is the part of `go list -json` the ban needs.
type listedPackage struct {
	ImportPath string
	Deps       []string
	Error      *struct{ Err string }
	DepsErrors []*struct{ Err string }
}

// decodePackages reads the stream of JSON objects `go list -json` prints.
func decodePackages(r io.Reader) ([]listedPackage, error) {
	var pkgs []listedPackage
	dec := json.NewDecoder(r)
	for {
		var p listedPackage
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			return pkgs, nil
		}
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, p)
	}
}

// bannedDeps maps each package to the banned packages it depends on.
func bannedDeps(pkgs []listedPackage) map[string][]string {
	bad := map[string][]string{}
	for _, p := range pkgs {
		for _, d := range p.Deps {
			if slices.ContainsFunc(bannedPrefixes, func(prefix string) bool { return strings.HasPrefix(d, prefix) }) {
				bad[p.ImportPath] = append(bad[p.ImportPath], d)
			}
		}
	}
	return bad
}

func TestBannedDepsDetects(t *testing.T) {
	tests := []struct {
		name string
		pkgs []listedPackage
		want map[string][]string
	}{
		{
			name: "clean",
			pkgs: []listedPackage{{ImportPath: "m/broker", Deps: []string{"fmt", "github.com/zalando/go-keyring"}}},
			want: map[string][]string{},
		},
		{
			name: "fyne through a dependency",
			pkgs: []listedPackage{
				{ImportPath: "m/broker", Deps: []string{"fmt"}},
				{ImportPath: "m/bridge [m/bridge.test]", Deps: []string{"fyne.io/fyne/v2", "fyne.io/systray", "github.com/go-gl/gl/v2.1/gl"}},
			},
			want: map[string][]string{"m/bridge [m/bridge.test]": {"fyne.io/fyne/v2", "fyne.io/systray", "github.com/go-gl/gl/v2.1/gl"}},
		},
		{
			name: "a look-alike is not banned",
			pkgs: []listedPackage{{ImportPath: "m/broker", Deps: []string{"example.com/fyne.io/x"}}},
			want: map[string][]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bannedDeps(tt.pkgs)
			if len(got) != len(tt.want) {
				t.Fatalf("bannedDeps = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if !slices.Equal(got[k], v) {
					t.Errorf("bannedDeps[%q] = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

// goList runs `go list -e -json=... ARGS...` in root and fails t on any
// package or dependency error: an unresolved import could hide a banned one.
func goList(t *testing.T, root string, args ...string) []listedPackage {
	t.Helper()
	args = append([]string{"list", "-e", "-json=ImportPath,Deps,Error,DepsErrors"}, args...)
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	pkgs, err := decodePackages(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("decoding go list output: %v", err)
	}
	// Guard against a vacuous pass: the listing must contain the broker.
	if !slices.ContainsFunc(pkgs, func(p listedPackage) bool { return p.ImportPath == "github.com/mcp-broker/mcp-broker/broker" }) {
		t.Fatalf("go list did not list the broker package; got %d packages", len(pkgs))
	}
	for _, p := range pkgs {
		if p.Error != nil {
			t.Errorf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		for _, e := range p.DepsErrors {
			t.Errorf("go list: %s: dependency: %s", p.ImportPath, e.Err)
		}
	}
	return pkgs
}

// TestNoGUIImports checks the dependency graph of the headless tree,
// including its tests, with the go command itself.
func TestNoGUIImports(t *testing.T) {
	root := moduleRoot(t)
	pkgs := goList(t, root, append([]string{"-test"}, headlessPatterns(t, root)...)...)
	for pkg, deps := range bannedDeps(pkgs) {
		t.Errorf("%s depends on %s: the headless tree must not link the GUI", pkg, strings.Join(deps, ", "))
	}
}

// testOnlyDriver is the browser driver that test-support packages (such as
// internal/testenv/chrometest) link. Those packages never ship, and its
// protocol bindings take minutes per OS to compile cold, so the cross build
// leaves them out; the import ban still covers them.
const testOnlyDriver = "github.com/chromedp/chromedp"

// TestCrossCompile builds the headless tree without cgo for the three
// desktop systems, as the release does.
func TestCrossCompile(t *testing.T) {
	root := moduleRoot(t)
	var targets []string
	for _, p := range goList(t, root, headlessPatterns(t, root)...) {
		if p.ImportPath == testOnlyDriver || slices.Contains(p.Deps, testOnlyDriver) {
			t.Logf("not cross-compiled (test support): %s", p.ImportPath)
			continue
		}
		targets = append(targets, p.ImportPath)
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		t.Run(goos, func(t *testing.T) {
			t.Parallel()
			// -o os.DevNull: the go command compiles and links
			// everything, and writes nothing.
			args := append([]string{"build", "-o", os.DevNull}, targets...)
			cmd := exec.CommandContext(t.Context(), "go", args...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("CGO_ENABLED=0 GOOS=%s go build ...: %v\n%s", goos, err, out)
			}
		})
	}
}
