package testenv

import (
	"net"
	"testing"
)

// FreeAddrs returns n distinct 127.0.0.1 addresses ("127.0.0.1:port") that were free a moment
// ago: all are held at once while they are picked, so no two are the same. For a test that
// must start something on the same ports twice, or give ports on a command line.
func FreeAddrs(t testing.TB, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs
}
