//go:build unix

package status

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nobody is the uid (and gid) of the unprivileged account the tests hand folders and processes
// to when they run as root, as CI does.
const nobody = 65534

// trayHelperEnv makes the test binary run trayHelper instead of the tests: a process of another
// user, for TestTrayPidOfAnotherUser.
const trayHelperEnv = "MCP_BROKER_STATUS_TRAY_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(trayHelperEnv) == "1" {
		os.Exit(trayHelper())
	}
	os.Exit(m.Run())
}

// announced returns a private runtime folder in which this process announced itself as the
// tray, checking that the announcement is seen, so that a test that then sees none proves
// something.
func announced(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mcp-broker")
	withdraw, err := AnnounceTray(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = withdraw() })
	if !TrayRunning(dir) {
		t.Fatal("the announced tray is not seen")
	}
	return dir
}

// writeTray writes a tray file naming pid in dir, as a tray would.
func writeTray(t *testing.T, dir string, pid int) {
	t.Helper()
	data, _ := json.Marshal(Tray{PID: pid, Started: time.Now()})
	if err := os.WriteFile(filepath.Join(dir, trayFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTrayInAFolderOthersControl checks that tray.json counts only in a runtime folder that
// Ensure would accept: ours, closed to others, not a symlink. In any other folder someone else
// may have planted it, to keep bridges from opening the browser for a sign-in.
func TestTrayInAFolderOthersControl(t *testing.T) {
	t.Run("mode 0777", func(t *testing.T) {
		dir := announced(t)
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		if TrayRunning(dir) {
			t.Error("a tray file in a folder anyone may write counts")
		}
	})
	t.Run("mode 0755", func(t *testing.T) {
		dir := announced(t)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if TrayRunning(dir) {
			t.Error("a tray file in a folder others may read counts")
		}
	})
	t.Run("owned by another user", func(t *testing.T) {
		dir := announced(t)
		other := nobody
		if os.Getuid() == nobody {
			other = nobody - 1
		}
		if err := os.Chown(dir, other, other); err != nil {
			// Only root can give a folder away. CI runs as root, so there this never skips.
			if os.Getuid() != 0 && os.Getenv("CI") == "" {
				t.Skipf("cannot hand the folder to another user when not root: %v", err)
			}
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chown(dir, os.Getuid(), os.Getgid()) })
		if TrayRunning(dir) {
			t.Error("a tray file in another user's folder counts")
		}
	})
	t.Run("folder is a symlink", func(t *testing.T) {
		dir := announced(t)
		link := filepath.Join(t.TempDir(), "mcp-broker")
		if err := os.Symlink(dir, link); err != nil {
			t.Fatal(err)
		}
		if TrayRunning(link) {
			t.Error("a tray file reached through a symlinked folder counts")
		}
	})
	t.Run("parent folder of ours open to others", func(t *testing.T) {
		parent := filepath.Join(t.TempDir(), "mcp-broker-test")
		dir := filepath.Join(parent, "runtime")
		if _, err := AnnounceTray(dir); err != nil {
			t.Fatal(err)
		}
		if !TrayRunning(dir) {
			t.Fatal("the announced tray is not seen")
		}
		if err := os.Chmod(parent, 0o777); err != nil {
			t.Fatal(err)
		}
		if TrayRunning(dir) {
			t.Error("a tray file under a runtime folder anyone may write counts")
		}
	})
	t.Run("tray file is a symlink", func(t *testing.T) {
		dir := announced(t)
		elsewhere := filepath.Join(t.TempDir(), "tray.json")
		writeTray(t, filepath.Dir(elsewhere), os.Getpid())
		path := filepath.Join(dir, trayFile)
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(elsewhere, path); err != nil {
			t.Fatal(err)
		}
		if TrayRunning(dir) {
			t.Error("a tray file that is a symlink counts")
		}
	})
}

// TestTrayPidOfAnotherUser checks that a tray file naming a process we may not signal (EPERM:
// another user's, typically a recycled pid) does not count as a running tray: our tray is
// always ours to signal.
func TestTrayPidOfAnotherUser(t *testing.T) {
	t.Run("injected errors", func(t *testing.T) {
		dir := announced(t)
		real := signalZero
		t.Cleanup(func() { signalZero = real })
		for _, tt := range []struct {
			err  error
			want bool
		}{
			{nil, true},
			{syscall.EPERM, false},
			{syscall.ESRCH, false},
		} {
			signalZero = func(int) error { return tt.err }
			if got := TrayRunning(dir); got != tt.want {
				t.Errorf("with kill(pid, 0) = %v: TrayRunning = %v, want %v", tt.err, got, tt.want)
			}
		}
	})
	t.Run("real EPERM", func(t *testing.T) {
		if os.Getuid() != 0 {
			// Not root: pid 1 belongs to root, and signalling it fails with EPERM.
			if err := syscall.Kill(1, 0); !errors.Is(err, syscall.EPERM) {
				t.Fatalf("kill(1, 0) = %v, want EPERM: the test proves nothing here", err)
			}
			dir := announced(t)
			writeTray(t, dir, 1)
			if TrayRunning(dir) {
				t.Error("a tray file naming pid 1 counts")
			}
			return
		}
		// Root may signal anyone: let a process of another user look, for real.
		out := runAsNobody(t)
		if want := "kill1=operation not permitted self=true pid1=false"; out != want {
			t.Errorf("as another user: %q, want %q", out, want)
		}
	})
}

// runAsNobody runs trayHelper in a copy of the test binary as uid nobody and returns its output.
func runAsNobody(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary sits in a folder only we may enter: copy it where nobody can run it.
	dir, err := os.MkdirTemp("", "status-tray-helper-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyExe := filepath.Join(dir, "status.test")
	src, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(copyExe, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), copyExe)
	cmd.Env = []string{trayHelperEnv + "=1", "TMPDIR=" + os.TempDir(), "PATH=/usr/bin:/bin"}
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as uid %d: %v\n%s", nobody, err, out)
	}
	return strings.TrimSpace(string(out))
}

// trayHelper runs in a process of another user than pid 1's: it announces itself as the tray in
// a runtime folder of its own, then names pid 1 in the tray file, and prints what TrayRunning
// said each time, and what kill(1, 0) returned.
func trayHelper() int {
	dir, err := os.MkdirTemp("", "mcp-broker-")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer os.RemoveAll(dir)
	if _, err := AnnounceTray(dir); err != nil {
		fmt.Println(err)
		return 1
	}
	self := TrayRunning(dir)
	data, _ := json.Marshal(Tray{PID: 1, Started: time.Now()})
	if err := os.WriteFile(filepath.Join(dir, trayFile), data, 0o600); err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Printf("kill1=%v self=%v pid1=%v\n", syscall.Kill(1, 0), self, TrayRunning(dir))
	return 0
}
