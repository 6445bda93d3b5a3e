package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// The relay's memory and CPU come from Linux's /proc: elsewhere those figures are left out.

// clockTick is the unit of utime and stime in /proc/PID/stat: USER_HZ, 100 on every Linux
// architecture Go supports.
const clockTick = 10 * time.Millisecond

// memory is a process's resident set: now, and its high-water mark; and of it now, the
// anonymous pages (RssAnon: heap, stacks, written data), the process's own. The rest of
// the resident set is the program's file pages, which every process of the same binary
// shares: a second bridge costs its anonymous pages, not its RSS.
type memory struct {
	rss, hwm, anon int64 // bytes
}

// readMemory reads VmRSS, VmHWM and RssAnon from /proc/PID/status.
func readMemory(pid int) (memory, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	for line := range bytes.Lines(data) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(name) {
		case "VmRSS":
			dst = &m.rss
		case "VmHWM":
			dst = &m.hwm
		case "RssAnon":
			dst = &m.anon
		default:
			continue
		}
		f := strings.Fields(string(value)) // "12345 kB"
		if len(f) != 2 || f[1] != "kB" {
			return memory{}, fmt.Errorf("/proc/%d/status: unexpected %s line %q", pid, name, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
		}
		*dst = kb << 10
	}
	if m.rss == 0 || m.hwm == 0 || m.anon == 0 {
		return memory{}, fmt.Errorf("/proc/%d/status: no VmRSS, VmHWM or RssAnon", pid)
	}
	return m, nil
}

// resetPeak resets the process's VmHWM to its current RSS (Linux 4.0 and later), so that the
// next readMemory reports the peak of what happens from now on.
func resetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// cpuTime reads the user plus system CPU time the process has used, all its threads together,
// from /proc/PID/stat.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc/PID/stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/PID/stat: %w", err)
	}
	return time.Duration(utime+stime) * clockTick, nil
}
