package autostart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// This file holds the property list format of the macOS LaunchAgent. It has
// no build tag so that its tests (a golden file) run everywhere.

// binaryPlistMagic starts a binary property list, which tools such as Xcode
// or `plutil -convert binary1` may leave behind.
const binaryPlistMagic = "bplist"

// renderPlist returns the LaunchAgent that runs binary with e.Args at login:
// RunAtLoad, and only in graphical (Aqua) sessions, since a menu bar app has
// nothing to do in an SSH session. There is no KeepAlive: a user who quits
// the app means it.
func renderPlist(e Entry, binary string) ([]byte, error) {
	argv := append([]string{binary}, e.Args...)
	for _, s := range append([]string{e.ID}, argv...) {
		for _, r := range s {
			// XML 1.0 cannot carry most control characters at all.
			if r < 0x20 && r != '\t' || r == 0x7f {
				return nil, fmt.Errorf("building the launch agent: %q contains a control character", s)
			}
		}
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
`)
	str := func(indent, s string) {
		b.WriteString(indent + "<string>")
		_ = xml.EscapeText(&b, []byte(s)) // writes to a bytes.Buffer: cannot fail
		b.WriteString("</string>\n")
	}
	b.WriteString("\t<key>Label</key>\n")
	str("\t", e.ID)
	b.WriteString("\t<key>ProgramArguments</key>\n\t<array>\n")
	for _, a := range argv {
		str("\t\t", a)
	}
	b.WriteString("\t</array>\n")
	b.WriteString("\t<key>RunAtLoad</key>\n\t<true/>\n")
	b.WriteString("\t<key>LimitLoadToSessionType</key>\n")
	str("\t", "Aqua")
	b.WriteString("\t<key>ProcessType</key>\n")
	str("\t", "Interactive")
	b.WriteString("</dict>\n</plist>\n")
	return b.Bytes(), nil
}

// plistDisabled reports whether a LaunchAgent carries Disabled=true, which
// makes launchd skip it. A binary property list cannot be read here; it
// counts as not disabled (it exists, so it most likely starts something).
func plistDisabled(data []byte) (bool, error) {
	if bytes.HasPrefix(data, []byte(binaryPlistMagic)) {
		return false, nil
	}
	dict, err := parsePlistDict(data)
	if err != nil {
		return false, err
	}
	return dict["Disabled"] == "true", nil
}

// parsePlistDict reads the top-level dictionary of an XML property list into
// key -> value, where a value is the text of a <string> (or <integer>,
// <real>, <date>, <data>), "true" or "false" for booleans, and the element
// name ("array", "dict") for containers, whose content is skipped.
func parsePlistDict(data []byte) (map[string]string, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	// Find <plist><dict>.
	depth, inPlist := 0, false
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("no <plist><dict> found")
			}
			return nil, fmt.Errorf("not a property list: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			depth++
			switch {
			case depth == 1 && se.Name.Local == "plist":
				inPlist = true
			case depth == 2 && inPlist && se.Name.Local == "dict":
				return readDict(dec)
			default:
				return nil, fmt.Errorf("not a property list: unexpected <%s>", se.Name.Local)
			}
		}
	}
}

// readDict reads the children of a <dict> whose start tag was just read.
func readDict(dec *xml.Decoder) (map[string]string, error) {
	out := map[string]string{}
	key, haveKey := "", false
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not a property list: %w", err)
		}
		switch t := tok.(type) {
		case xml.EndElement: // </dict>
			if haveKey {
				return nil, fmt.Errorf("not a property list: key %q has no value", key)
			}
			return out, nil
		case xml.StartElement:
			var v string
			switch t.Name.Local {
			case "true", "false":
				v = t.Name.Local
				err = dec.Skip()
			case "array", "dict":
				v = t.Name.Local
				err = dec.Skip()
			default:
				var s string
				err = dec.DecodeElement(&s, &t)
				v = strings.TrimSpace(s)
			}
			if err != nil {
				return nil, fmt.Errorf("not a property list: %w", err)
			}
			switch {
			case t.Name.Local == "key" && !haveKey:
				key, haveKey = v, true
			case t.Name.Local == "key":
				return nil, fmt.Errorf("not a property list: key %q has no value", key)
			case !haveKey:
				return nil, fmt.Errorf("not a property list: <%s> without a key", t.Name.Local)
			default:
				out[key] = v
				haveKey = false
			}
		}
	}
}
