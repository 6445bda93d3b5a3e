package opener

// Unavailable says why a browser opened on this machine would not be in front of the person
// signing in, or "" when it may be. In an SSH session (SSH_CONNECTION is set) the person sits
// at another machine, whatever this one can display. On Linux and the BSDs, where browsers
// open in an X11 or Wayland session, neither DISPLAY nor WAYLAND_DISPLAY means there is none:
// a server, a container. (macOS and Windows open browsers without either.) getenv reads the
// environment; goos is runtime.GOOS.
//
// It is a guess from the environment, for choosing how to ask for a sign-in (a code to enter
// on another device rather than a browser tab here); opening is still tried where it is used.
func Unavailable(getenv func(string) string, goos string) string {
	if getenv("SSH_CONNECTION") != "" {
		return "an SSH session (SSH_CONNECTION is set)"
	}
	switch goos {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly", "solaris", "illumos":
		if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
			return "no graphical session (neither DISPLAY nor WAYLAND_DISPLAY is set)"
		}
	}
	return ""
}
