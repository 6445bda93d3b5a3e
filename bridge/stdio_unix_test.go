//go:build unix

package bridge_test

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mcp-broker/mcp-broker/bridge"
	"github.com/mcp-broker/mcp-broker/broker/config"
)

// TestRunOnOSPipes runs the bridge on real pipes, as a launched bridge runs on its stdin and
// stdout (the other tests use io.Pipe): stdin read through the poller relays requests, big
// answers included, with one thread for Go code once the session is up; and when the client
// closes stdin the bridge exits in time and leaves the pipe and GOMAXPROCS as they were.
func TestRunOnOSPipes(t *testing.T) {
	t.Setenv("GOMAXPROCS", "")
	m := demoServer(t)
	srv := config.Server{Name: "demo", URL: m.URL(), Transport: config.TransportStreamableHTTP}
	b := newBroker(t, srv, "", nil)

	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer inR.Close()
	defer outR.Close()
	fdFlags := func(set bool) int { // with Control: Fd() would make the pipe blocking itself
		t.Helper()
		rc, err := inR.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var flags int
		cerr := rc.Control(func(fd uintptr) {
			if set {
				err = unix.SetNonblock(int(fd), false)
			}
			flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0)
		})
		if cerr != nil || err != nil {
			t.Fatal(cerr, err)
		}
		return flags
	}
	fdFlags(true) // blocking, as an inherited stdin is (os.Pipe's are not)
	procs := runtime.GOMAXPROCS(0)

	done := make(chan error, 1)
	go func() {
		done <- bridge.Run(context.Background(), bridge.Options{Server: srv, Broker: b, In: inR, Out: outW, Log: newTestLogger(t)})
		outW.Close()
	}()
	lines := bufio.NewReaderSize(outR, 1<<20)
	answer := func(id string) string {
		t.Helper()
		for {
			line, err := lines.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the bridge's stdout: %v", err)
			}
			if strings.Contains(line, `"id":`+id+`,`) {
				return line
			}
		}
	}
	send := func(line string) {
		t.Helper()
		if _, err := inW.WriteString(line + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	send(initializeMsg)
	if got := answer("0"); !strings.Contains(got, "mcp-broker-demo") {
		t.Errorf("initialize: %.200s", got)
	}
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	// Once relaying, one thread runs Go code (stdin_unix.go).
	waitFor(t, func() bool { return runtime.GOMAXPROCS(0) == 1 })
	long := strings.Repeat("x", 3<<20) // more than one read of the pipe each way
	send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"` + long + `"}}}`)
	if got := answer("1"); !strings.Contains(got, long) {
		t.Errorf("echo of 3 MiB: %d bytes back", len(got))
	}

	start := time.Now()
	inW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("exit took %s after stdin closed", took)
		}
	case <-time.After(wait):
		t.Fatal("the bridge did not exit after stdin closed")
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("GOMAXPROCS = %d after Run, want %d back", got, procs)
	}
	if flags := fdFlags(false); flags&unix.O_NONBLOCK != 0 {
		t.Errorf("stdin left non-blocking after Run (flags %#x)", flags)
	}
}
