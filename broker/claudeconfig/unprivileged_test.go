package claudeconfig

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// envUnprivilegedDir names the folder a test re-run by runUnprivileged works in; set, it tells
// the test that it is that child.
const envUnprivilegedDir = "MCP_BROKER_TEST_UNPRIVILEGED_DIR"

// nobody is the uid and gid of the unprivileged user (Debian's nobody and nogroup).
const nobody = 65534

// runUnprivileged runs the test name again, in a child process of this test binary, as the
// unprivileged user nobody, through util-linux's setpriv: for tests that root passes without
// testing anything, because root writes anywhere. The child runs in a copy of the package's
// testdata, works in a folder it owns, named by envUnprivilegedDir, and must pass the test (not
// skip it). Only root can call it.
func runUnprivileged(t *testing.T, name string) {
	t.Helper()
	setpriv := testenv.RequireTool(t, "setpriv", "apt-get install util-linux")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The child must reach its binary and folder: /tmp is searchable by everyone, the test's
	// own temporary folders (0700) and go test's build folder are not.
	base, err := os.MkdirTemp("", "claudeconfig-unprivileged")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, filepath.Base(exe))
	copyFile(t, exe, bin, 0o755)
	// The child runs in a copy of the package folder, for its testdata.
	pkg := filepath.Join(base, "pkg")
	if err := os.CopyFS(filepath.Join(pkg, "testdata"), os.DirFS("testdata")); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(base, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(work, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--",
		bin, "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Dir = pkg
	cmd.Env = append(os.Environ(), envUnprivilegedDir+"="+work, "HOME="+work, "TMPDIR="+work, "GOCOVERDIR=")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: "+name+" ")) {
		t.Fatalf("%s as uid %d: %v (want it to pass)\n%s", name, nobody, err, out)
	}
}

// copyFile copies src to a new file dst with mode.
func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
