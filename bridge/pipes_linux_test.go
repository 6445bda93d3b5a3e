package bridge

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestGrowPipes: the client's pipes get a 1 MiB buffer where the system allows it; what is not
// a pipe is left alone.
func TestGrowPipes(t *testing.T) {
	data, err := os.ReadFile("/proc/sys/fs/pipe-max-size")
	if err != nil {
		t.Skip("no /proc/sys/fs/pipe-max-size:", err)
	}
	if limit, _ := strconv.Atoi(strings.TrimSpace(string(data))); limit < pipeSize {
		t.Skipf("pipe-max-size is %d here, below %d", limit, pipeSize)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	growPipes(r, w, strings.NewReader("not a file"))
	rc, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var size int
	if cerr := rc.Control(func(fd uintptr) { size, err = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) }); cerr != nil || err != nil {
		t.Fatal(cerr, err)
	}
	if size != pipeSize {
		t.Errorf("pipe buffer = %d bytes, want %d", size, pipeSize)
	}
}
