package ui_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// ArtifactsEnv names the folder where the tests leave their screenshots; `make test` sets it
// so the pictures outlive the run. Unset, they go to the test's temporary folder.
const ArtifactsEnv = "MCP_BROKER_ARTIFACTS"

// artifactsDir returns the folder for the test's screenshots.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(ArtifactsEnv)
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot saves the whole X screen as name in the artifacts folder (ImageMagick's import),
// and returns its path.
func screenshot(t *testing.T, name string) string {
	t.Helper()
	imp := testenv.RequireTool(t, "import", "apt-get install imagemagick")
	path := filepath.Join(artifactsDir(t), name)
	if out, err := exec.CommandContext(t.Context(), imp, "-window", "root", path).CombinedOutput(); err != nil {
		t.Fatalf("taking the screenshot %s: %v\n%s", name, err, out)
	}
	t.Logf("screenshot: %s", path)
	return path
}
