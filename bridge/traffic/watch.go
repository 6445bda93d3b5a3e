package traffic

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/status"
)

// Watched reports whether someone watches the traffic folder dir at now: its watching file
// was touched less than three seconds before.
func Watched(dir string, now time.Time) bool {
	fi, err := os.Stat(filepath.Join(dir, watchingFile))
	return err == nil && now.Sub(fi.ModTime()) < fresh
}

// Watch marks the traffic folder dir (created private: see status.Ensure) as watched until ctx
// ends, touching its watching file every second so that bridges write their events. It
// returns once the mark is made; the touching goes on in the background, and when ctx ends
// the mark is removed, so that bridges stop writing within a second. Several watchers may
// watch at once: one that stops takes the mark away until another touches it again, within
// a second; a watcher that dies leaves a mark that lapses after three.
func Watch(ctx context.Context, dir string) error {
	if err := status.Ensure(dir); err != nil {
		return err
	}
	if err := touch(dir); err != nil {
		return err
	}
	go func() {
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				_ = os.Remove(filepath.Join(dir, watchingFile))
				return
			case <-t.C:
				_ = touch(dir) // a failure now is seen as the bridges stop writing
			}
		}
	}()
	return nil
}

// touch marks dir as watched now: it writes a byte to the watching file through the file it
// opened, which sets the file's modification time. Setting it by path (Chtimes) failed when
// a watcher that stopped removed the file between the open and the call; a write to the open
// file cannot, and a mark removed just after is made again at the next touch.
func touch(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, watchingFile), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("marking the traffic as watched: %w", err)
	}
	_, err = f.Write([]byte{'\n'})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("marking the traffic as watched: %w", err)
	}
	return nil
}

// Reader reads the bridges' events files in a traffic folder, each call to Next giving what
// was written since the last one.
type Reader struct {
	dir     string
	offsets map[string]int64
	started bool
}

// NewReader returns a Reader of the traffic folder dir.
func NewReader(dir string) *Reader { return &Reader{dir: dir, offsets: map[string]int64{}} }

// Next returns the events written since the last call (on the first call, every event the
// files hold, rotated ones included), oldest first. A missing folder holds no events.
func (r *Reader) Next() ([]Event, error) {
	entries, err := os.ReadDir(r.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the traffic folder: %w", err)
	}
	first := !r.started
	r.started = true
	var out []Event
	for _, e := range entries {
		name := e.Name()
		rotated := strings.HasSuffix(name, ".jsonl.1")
		if e.IsDir() || !(strings.HasSuffix(name, ".jsonl") || rotated && first) {
			continue
		}
		events, err := r.read(filepath.Join(r.dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, events...)
	}
	slices.SortStableFunc(out, func(a, b Event) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// read returns the complete lines of path after its offset.
func (r *Reader) read(path string) ([]Event, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // its bridge ended
	}
	if err != nil {
		return nil, fmt.Errorf("reading the traffic: %w", err)
	}
	defer f.Close()
	off := r.offsets[path]
	if fi, err := f.Stat(); err == nil && fi.Size() < off {
		off = 0 // rotated: a new file
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, fmt.Errorf("reading the traffic: %w", err)
	}
	var out []Event
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			break // EOF, or a line still being written: read it next time
		}
		off += int64(len(line))
		var e Event
		if json.Unmarshal(line, &e) == nil {
			out = append(out, e)
		}
	}
	r.offsets[path] = off
	return out, nil
}
