package bridge

import (
	"os"

	"golang.org/x/sys/unix"
)

// pipeSize is the buffer the bridge asks for on its stdin and stdout pipes: 1 MiB, the most
// an unprivileged process may set (/proc/sys/fs/pipe-max-size) on a default Linux.
const pipeSize = 1 << 20

// growPipes enlarges the kernel buffers of the client's pipes, when they are pipes. With the
// default 64 KiB a 32 MiB answer crosses stdout in 512 writes, each of which waits for the
// client to read; with 1 MiB, in 32. The kernel allocates the pages as data arrives, so a quiet
// pipe costs nothing more. Best effort: a failure (a socket, a lower limit) changes nothing.
func growPipes(ends ...any) {
	for _, end := range ends {
		f, ok := end.(*os.File)
		if !ok {
			continue
		}
		fi, err := f.Stat()
		if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			continue
		}
		rc, err := f.SyscallConn()
		if err != nil {
			continue
		}
		_ = rc.Control(func(fd uintptr) {
			if size, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && size < pipeSize {
				_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeSize)
			}
		})
	}
}
