package autostart

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// This file holds the Desktop Entry format (freedesktop Desktop Entry
// Specification 1.5) for the XDG autostart entry. It has no build tag so that
// its tests run everywhere.

// desktopGroup is the group every desktop entry starts with.
const desktopGroup = "Desktop Entry"

// renderDesktop returns the autostart desktop entry that runs binary with
// e.Args.
func renderDesktop(e Entry, binary string) ([]byte, error) {
	exec, err := execLine(append([]string{binary}, e.Args...))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("[" + desktopGroup + "]\n")
	line := func(k, v string) { b.WriteString(k + "=" + escapeValue(v) + "\n") }
	line("Type", "Application")
	// 1.4: nothing here needs 1.5, and the desktop-file-validate of Debian 12 and Ubuntu 22.04
	// (desktop-file-utils 0.26) rejects a version it does not know.
	line("Version", "1.4")
	line("Name", e.Name)
	if e.Comment != "" {
		line("Comment", e.Comment)
	}
	line("Exec", exec)
	if e.Icon != "" {
		line("Icon", e.Icon)
	}
	line("Terminal", "false")
	// GNOME's Startup Applications switch; writing it true re-enables an
	// entry switched off there.
	line("X-GNOME-Autostart-enabled", "true")
	return b.Bytes(), nil
}

// execReserved are the characters that oblige an Exec argument to be quoted
// (spec, "The Exec key").
const execReserved = " \t\n\"'\\><~|&;$*?#()`"

// execLine builds the value of the Exec key for argv, before the file-level
// escaping of escapeValue. An argument with a reserved character is put in
// double quotes, with ", `, $ and \ escaped by a backslash inside them; a
// literal % is written %% everywhere, since % starts a field code. Control
// characters cannot be expressed reliably and are refused.
func execLine(argv []string) (string, error) {
	if len(argv) == 0 || argv[0] == "" {
		return "", errors.New("building the desktop entry: no program")
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		for _, r := range a {
			if r < 0x20 || r == 0x7f {
				return "", fmt.Errorf("building the desktop entry: %q contains a control character", a)
			}
		}
		if a != "" && !strings.ContainsAny(a, execReserved) {
			quoted[i] = strings.ReplaceAll(a, "%", "%%")
			continue
		}
		var q strings.Builder
		q.WriteByte('"')
		for _, r := range a {
			switch r {
			case '"', '`', '$', '\\':
				q.WriteByte('\\')
				q.WriteRune(r)
			case '%':
				q.WriteString("%%")
			default:
				q.WriteRune(r)
			}
		}
		q.WriteByte('"')
		quoted[i] = q.String()
	}
	return strings.Join(quoted, " "), nil
}

// escapeValue applies the escapes of string values (spec, "Possible value
// types"): backslash, newline, tab and carriage return, and a leading space
// that a reader would otherwise trim. The Exec quoting above is applied
// first, so a literal backslash in a quoted argument ends up as four.
func escapeValue(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == ' ' && i == 0:
			b.WriteString(`\s`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unescapeValue reverses escapeValue; unknown escapes are kept as they are.
func unescapeValue(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' || i+1 == len(v) {
			b.WriteByte(v[i])
			continue
		}
		i++
		switch v[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 's':
			b.WriteByte(' ')
		default:
			b.WriteByte('\\')
			b.WriteByte(v[i])
		}
	}
	return b.String()
}

// parseDesktop returns the keys of the [Desktop Entry] group, values
// unescaped. Localized keys (Name[fr]) are kept under their full name. It
// fails on what is not a desktop entry: text before the first group, a line
// that is neither a comment, a group header nor key=value, or no
// [Desktop Entry] group at all.
func parseDesktop(data []byte) (map[string]string, error) {
	keys := map[string]string{}
	group, seen := "", false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			group = line[1 : len(line)-1]
			if group == desktopGroup {
				if seen {
					return nil, fmt.Errorf("line %d: a second [%s] group", n, desktopGroup)
				}
				seen = true
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || group == "" {
			return nil, fmt.Errorf("line %d is not a key=value line inside a group", n)
		}
		if group == desktopGroup {
			keys[strings.TrimSpace(k)] = unescapeValue(strings.TrimLeft(v, " \t"))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !seen {
		return nil, fmt.Errorf("no [%s] group", desktopGroup)
	}
	return keys, nil
}

// desktopStarts reports whether a parsed autostart entry starts its program:
// Hidden=true means "as if it did not exist" (the autostart spec's way to
// switch off an entry), X-GNOME-Autostart-enabled=false is how GNOME's
// Startup Applications (and most desktops after it) switch one off.
func desktopStarts(keys map[string]string) bool {
	return !isTrue(keys["Hidden"]) && !isFalse(keys["X-GNOME-Autostart-enabled"])
}

// isTrue and isFalse read booleans as GLib does: true/false, also 1/0.
func isTrue(v string) bool  { return v == "true" || v == "1" }
func isFalse(v string) bool { return v == "false" || v == "0" }

// hiddenDesktop is the user entry that switches off a system-wide autostart
// entry of the same id (spec: Hidden=true in a more important folder).
func hiddenDesktop(e Entry) []byte {
	return []byte("[" + desktopGroup + "]\nType=Application\nName=" + escapeValue(e.Name) + "\nHidden=true\n")
}
