package providers

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// stopTimeout bounds a provider's graceful stop at cleanup; then it is killed.
const stopTimeout = 10 * time.Second

// process is a provider's running process.
type process struct {
	cmd    *exec.Cmd
	output *testenv.SyncBuffer // stdout and stderr, interleaved
	exited chan struct{}       // closed once the process has been waited for
	err    error               // its exit, once exited is closed
}

// start starts bin with args and env (added to a minimal environment of ours: no proxy, no
// telemetry, a private HOME), and stops it when t's cleanup runs, showing its output when t
// failed. extraOut, if not nil, gets its standard output too.
func start(t testing.TB, bin string, args, env []string, extraOut io.Writer) *process {
	t.Helper()
	p := &process{output: &testenv.SyncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = t.TempDir()
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + p.cmd.Dir}, env...)
	p.cmd.Stderr = p.output
	p.cmd.Stdout = p.output
	if extraOut != nil {
		p.cmd.Stdout = io.MultiWriter(p.output, extraOut)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", filepath.Base(bin), err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(stopTimeout):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(bin), lastLines(p.output.String(), 80))
		}
	})
	return p
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	end := len(s)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' && i != len(s)-1 {
			n--
			if n == 0 {
				return s[i+1 : end]
			}
		}
	}
	return s
}
