package demo

import (
	"net"
	"strings"
	"testing"
)

// TestListenFallsBackFromABusyDefault takes the place of the default ports,
// which the test must not depend on being free.
func TestListenFallsBackFromABusyDefault(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, busyPort, _ := net.SplitHostPort(busy.Addr().String())

	tests := []struct {
		name, addr, def string
		wantErr         bool
		wantNote        bool
	}{
		{name: "default free", def: "127.0.0.1:0"},
		{name: "default busy", def: busy.Addr().String(), wantNote: true},
		{name: "default unusable", def: "192.0.2.1:80", wantNote: true},
		{name: "explicit busy", addr: busy.Addr().String(), def: "127.0.0.1:0", wantErr: true},
		{name: "explicit free", addr: "127.0.0.1:0", def: busy.Addr().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, note, err := listen(tt.addr, tt.def, "MCP server")
			if tt.wantErr {
				if err == nil {
					ln.Close()
					t.Fatal("listen succeeded")
				}
				if !strings.Contains(err.Error(), "starting the demo MCP server") {
					t.Errorf("error %q does not say what failed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			if ln.Addr().String() == busy.Addr().String() {
				t.Error("listening on the busy address")
			}
			if (note != "") != tt.wantNote {
				t.Errorf("note %q, want one: %v", note, tt.wantNote)
			}
			if tt.name == "default busy" && (!strings.Contains(note, "port "+busyPort+" is taken") || !strings.Contains(note, ln.Addr().String())) {
				t.Errorf("note %q must name the busy port and the new address", note)
			}
		})
	}
}
