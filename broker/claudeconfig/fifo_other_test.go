//go:build !unix

package claudeconfig

import "errors"

// mkfifo fails: named pipes in a folder are a Unix thing.
func mkfifo(string) error { return errors.New("no named pipes in folders on this system") }
