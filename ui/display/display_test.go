package display

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		goos string
		env  map[string]string
		ok   bool
	}{
		{"linux", nil, false},
		{"linux", map[string]string{"DISPLAY": ":0"}, true},
		{"linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, true},
		{"freebsd", map[string]string{"DISPLAY": ""}, false},
		{"darwin", nil, true},
		{"windows", nil, true},
	}
	for _, tt := range tests {
		err := check(tt.goos, func(k string) string { return tt.env[k] })
		if tt.ok != (err == nil) {
			t.Errorf("%s %v: err = %v", tt.goos, tt.env, err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrNoDisplay) {
				t.Errorf("%v does not wrap ErrNoDisplay", err)
			}
			for _, want := range []string{"DISPLAY", "mcp-broker status", "mcp-broker login NAME"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the message does not mention %q: %v", want, err)
				}
			}
		}
	}
}
