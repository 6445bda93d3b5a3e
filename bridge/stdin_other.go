//go:build !unix

package bridge

import "io"

// ownStdin leaves the client's side as it is: the poller cannot wait for a console or an
// anonymous pipe on Windows, so reads block (see stdin_unix.go for what Unix does instead).
func ownStdin(io.Reader) (io.ReadCloser, func()) { return nil, nil }

// oneThread changes nothing: without the poller on stdin, one thread would be worse than two
// (see stdin_unix.go).
func oneThread() func() { return nil }
