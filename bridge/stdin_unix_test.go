//go:build unix

package bridge

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// nonblocking reports f's O_NONBLOCK. Not with f.Fd(): on a file the poller knows (as
// os.Pipe's are), Fd switches the descriptor to blocking mode.
func nonblocking(t *testing.T, f *os.File) bool {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	if cerr := rc.Control(func(fd uintptr) { flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0) }); cerr != nil || err != nil {
		t.Fatal(cerr, err)
	}
	return flags&unix.O_NONBLOCK != 0
}

// setBlocking makes f blocking, as an inherited stdin is (os.Pipe's pipes are not).
func setBlocking(t *testing.T, f *os.File) {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if cerr := rc.Control(func(fd uintptr) { err = unix.SetNonblock(int(fd), false) }); cerr != nil || err != nil {
		t.Fatal(cerr, err)
	}
}

// TestOwnStdinPipe: a pipe is read through the poller while the bridge owns it; undo ends a
// read in progress and puts back the pipe's mode, and the pipe itself stays open.
func TestOwnStdinPipe(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	setBlocking(t, pr)

	r, undo := ownStdin(pr)
	if r == nil {
		t.Fatal("a pipe was not taken over")
	}
	if !nonblocking(t, pr) {
		t.Error("stdin is still blocking: reads would not go through the poller")
	}
	if _, err := pw.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "hello\n" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}

	// A read in progress ends when the bridge lets go.
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(buf)
		done <- err
	}()
	waitParkedInRead(t, "TestOwnStdinPipe") // nothing to read yet: it waits in the poller
	undo()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("the pending read ended with %v, want os.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("undo did not end the pending read")
	}
	if nonblocking(t, pr) {
		t.Error("stdin left non-blocking after undo")
	}
	// fd 0 (here pr) is still open and usable.
	if _, err := pw.Write([]byte("again\n")); err != nil {
		t.Fatal(err)
	}
	if n, err := pr.Read(buf); err != nil || string(buf[:n]) != "again\n" {
		t.Errorf("the original descriptor after undo: %q, %v", buf[:n], err)
	}

}

// waitParkedInRead waits until a goroutine started by the test named test is parked in the
// poller, waiting for a file to become readable: its stack, which the runtime shows, is the
// observable state.
func waitParkedInRead(t *testing.T, test string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 1<<20)
	for {
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "[IO wait") && strings.Contains(g, "(*pollDesc).waitRead") && strings.Contains(g, "."+test+".func") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the read never blocked in the poller")
		}
		runtime.Gosched()
	}
}

// TestOwnStdinLeavesOthers: only a pipe or a socket is taken over.
func TestOwnStdinLeavesOthers(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "stdin"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, tt := range []struct {
		name string
		in   io.Reader
	}{
		{"not a file", bytes.NewReader(nil)},
		{"a regular file", file},
	} {
		if r, undo := ownStdin(tt.in); r != nil || undo != nil {
			t.Errorf("%s: taken over", tt.name)
		}
	}
}

// TestOneThread: one thread for Go code, undone on request, unless GOMAXPROCS is the user's.
func TestOneThread(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	t.Setenv("GOMAXPROCS", "")
	undo := oneThread()
	if got := runtime.GOMAXPROCS(0); undo == nil || got != 1 {
		t.Errorf("GOMAXPROCS = %d, want 1", got)
	}
	if undo != nil {
		undo()
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("GOMAXPROCS = %d after undo, want %d back", got, procs)
	}

	t.Setenv("GOMAXPROCS", "2")
	if undo := oneThread(); undo != nil || runtime.GOMAXPROCS(0) != procs {
		t.Errorf("GOMAXPROCS changed to %d although the environment sets it", runtime.GOMAXPROCS(0))
		if undo != nil {
			undo()
		}
	}
}
