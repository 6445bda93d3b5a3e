package opener

import (
	"context"
	"fmt"
	"io"

	"github.com/pkg/browser"
)

// browserSlot serialises use of pkg/browser. Its Stdout and Stderr are package globals that
// every call reads, so each Open sets them to its own writer and holds the slot until the
// command has finished. (A sync.Once that set them once would pin the first caller's writer for
// the life of the process, and tests use several.) The slot is a channel, not a mutex, so that a
// waiting Open can give up when its context ends.
//
// Nothing else in MCP Broker may call pkg/browser directly: it would race with these globals
// and, by default, write to os.Stdout, which in the bridge is the MCP protocol stream.
var browserSlot = make(chan struct{}, 1)

// systemOpener is the Opener returned by System.
type systemOpener struct {
	out io.Writer
}

// System returns the Opener that starts the user's default browser through pkg/browser
// (xdg-open and friends on Linux and the BSDs, open on macOS, ShellExecute on Windows).
//
// Whatever the helper command prints, on stdout or stderr, goes to stderr, never to our
// stdout: in the bridge, stdout carries the MCP protocol and one stray line corrupts it. Pass
// os.Stderr itself where possible: an *os.File is handed to the child as is, whereas any other
// writer makes os/exec copy through a pipe and wait until every process holding that pipe exits,
// and a browser started by xdg-open may inherit it and live for hours. A nil stderr discards
// the output.
func System(stderr io.Writer) Opener {
	return systemOpener{out: stderr}
}

// Open checks url with [CheckURL] and then asks the OS to open it. Errors from the OS side wrap
// [ErrNoBrowser]. If ctx ends first, Open returns the context's error at once; the helper
// command, which pkg/browser gives no way to cancel, is left to finish in a goroutine that
// exits with it.
func (o systemOpener) Open(ctx context.Context, url string) error {
	if err := CheckURL(url); err != nil {
		return fmt.Errorf("opening the browser: %w", err)
	}
	select {
	case browserSlot <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("opening the browser: %w", ctx.Err())
	}
	done := make(chan error, 1)
	go func() {
		defer func() { <-browserSlot }()
		browser.Stdout = o.out
		browser.Stderr = o.out
		done <- browser.OpenURL(url)
	}()
	select {
	case err := <-done:
		if err != nil {
			// The underlying error names the helper (xdg-open, exit status ...), never the URL.
			return fmt.Errorf("opening the browser: %w: %w", ErrNoBrowser, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("opening the browser: %w", ctx.Err())
	}
}
