package claudeconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// This file edits a JSON document as text: it finds, on a document already known to be valid,
// the byte ranges of the objects on the way to "mcpServers", and splices one member in (or one
// value over). Everything outside the splice stays byte for byte as it was; the spliced text
// copies the indentation, the separators and the line endings of its surroundings.

// Status says what a file holds under the entry's name.
type Status string

// The statuses of an entry's name in its target.
const (
	// StatusNew: no entry of that name; Add inserts it.
	StatusNew Status = "new"
	// StatusSame: an entry of that name that is already mcp-broker's entry; Add does nothing.
	StatusSame Status = "same"
	// StatusDifferent: another entry of that name; Add replaces it only with Replace.
	StatusDifferent Status = "different"
)

// edit is the outcome of planning an addition on one document.
type edit struct {
	status  Status
	out     []byte // the new document; nil for StatusSame, and for StatusDifferent without replace
	current []byte // the entry already there (raw), for StatusSame and StatusDifferent
}

// plan describes one addition: the entry for name in the object that keys lead to, with the
// objects on the way created (from skeletons) where they are missing.
type plan struct {
	keys  []string
	name  string
	entry Server
	// skeletons holds, by depth (0 is the top level), the members a new object at that depth
	// starts with; the member on the path to the entry is filled in where its key is listed,
	// else appended.
	skeletons map[int]ordered
}

// utf8BOM is kept in front of a document that has one; JSON parsers do not take it.
var utf8BOM = []byte("\xef\xbb\xbf")

// apply plans the addition on data (the file's content; nil or blank for a missing or empty
// file). A document that is not valid JSON, or has a non-object on the path to the entry, gives
// a *FileError without Path, which the caller fills in.
func (p plan) apply(data []byte, replace bool) (edit, error) {
	start := 0
	if bytes.HasPrefix(data, utf8BOM) {
		start = len(utf8BOM)
	}
	body := data[start:]
	if isBlank(body) {
		out := append(bytes.Clone(data[:start]), renderJSON(p.object(0), "", "  ", "\n", false)...)
		return edit{status: StatusNew, out: append(out, '\n')}, nil
	}
	if !json.Valid(body) {
		off, msg := syntaxError(body)
		return edit{}, newFileError(body, off, msg)
	}
	st := detectStyle(data, start)
	open := skipWS(data, start)
	if data[open] != '{' {
		return edit{}, newFileError(body, open-start, "the top level is not a JSON object")
	}
	obj := parseObject(data, open)
	for depth, key := range p.keys {
		m, ok := obj.last(data, key)
		if !ok {
			text := st.member(data, obj, key, p.object(depth+1))
			return edit{status: StatusNew, out: st.insert(data, obj, text)}, nil
		}
		if data[m.valStart] != '{' {
			return edit{}, newFileError(body, m.valStart-start, fmt.Sprintf("%s is %s, not an object", pathString(p.keys[:depth+1]), kind(data[m.valStart])))
		}
		obj = parseObject(data, m.valStart)
	}
	m, ok := obj.last(data, p.name)
	if !ok {
		text := st.member(data, obj, p.name, p.entry)
		return edit{status: StatusNew, out: st.insert(data, obj, text)}, nil
	}
	current := data[m.valStart:m.valEnd]
	if sameEntry(current, p.entry) {
		return edit{status: StatusSame, current: current}, nil
	}
	e := edit{status: StatusDifferent, current: current}
	if replace {
		value := st.value(data, m.keyStart, obj, p.entry)
		e.out = splice(data, m.valStart, m.valEnd, value)
	}
	return e, nil
}

// object returns the object to create at depth, as the value of keys[depth-1]: at depth
// len(keys), the "mcpServers" object holding the entry alone; above it, the skeleton of that
// depth with the object below filled in.
func (p plan) object(depth int) ordered {
	if depth == len(p.keys) {
		return ordered{{p.name, p.entry}}
	}
	child := p.object(depth + 1)
	obj := append(ordered(nil), p.skeletons[depth]...)
	for i := range obj {
		if obj[i].k == p.keys[depth] {
			obj[i].v = child
			return obj
		}
	}
	return append(obj, kv{p.keys[depth], child})
}

// sameEntry reports whether the raw entry in a file is the entry Add would write. A missing
// "type" means stdio to Claude Code.
func sameEntry(raw []byte, want Server) bool {
	var have, wantV any
	if err := json.Unmarshal(raw, &have); err != nil {
		return false
	}
	if m, ok := have.(map[string]any); ok {
		if _, ok := m["type"]; !ok {
			m["type"] = "stdio"
		}
	}
	b, err := marshal(want)
	if err != nil {
		return false
	}
	if err := json.Unmarshal(b, &wantV); err != nil {
		return false
	}
	return reflect.DeepEqual(have, wantV)
}

// style is how a document is laid out, so that new text looks like the old.
type style struct {
	pretty bool   // one member per line (else everything on one line)
	unit   string // one level of indentation, e.g. "  " or "\t"; never empty
	eol    string // "\n" or "\r\n"
	spaced bool   // compact documents: `"a": 1, "b": 2` rather than `"a":1,"b":2`
}

// detectStyle reads the layout from the top-level object: Claude Code writes two spaces and
// "\n", which is also what an empty document gets.
func detectStyle(data []byte, start int) style {
	st := style{pretty: true, unit: "  ", eol: "\n", spaced: true}
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		st.eol = "\r\n"
	}
	open := skipWS(data, start)
	if at(data, open) != '{' {
		return st
	}
	root := parseObject(data, open)
	if len(root.members) == 0 {
		return st
	}
	first := root.members[0]
	st.spaced = bytes.ContainsAny(data[first.keyEnd:first.valStart], " \t")
	indent, ok := indentAt(data, first.keyStart)
	if !ok {
		st.pretty = false
		return st
	}
	if unit, ok := strings.CutPrefix(indent, lineIndent(data, open)); ok && unit != "" {
		st.unit = unit
	}
	return st
}

// member returns the text of a new member key: v for obj, laid out like obj's members.
func (st style) member(data []byte, obj object, key string, v any) []byte {
	keyJSON := quoteJSON(key)
	var b []byte
	if len(obj.members) > 0 {
		m := obj.members[0]
		if indent, ok := indentAt(data, m.keyStart); ok {
			b = append(b, keyJSON+": "...)
			return append(b, renderJSON(v, indent, st.unit, st.eol, false)...)
		}
		b = append(b, keyJSON...)
		b = append(b, colon(data, m)...)
		return append(b, renderJSON(v, "", "", st.eol, hasSpace(data[m.keyEnd:m.valStart]))...)
	}
	b = append(b, keyJSON...)
	if st.pretty {
		b = append(b, ": "...)
		return append(b, renderJSON(v, lineIndent(data, obj.open)+st.unit, st.unit, st.eol, false)...)
	}
	if st.spaced {
		b = append(b, ": "...)
	} else {
		b = append(b, ':')
	}
	return append(b, renderJSON(v, "", "", st.eol, st.spaced)...)
}

// value returns the text of v replacing the value of the member whose key starts at keyStart in
// obj.
func (st style) value(data []byte, keyStart int, obj object, v any) []byte {
	if indent, ok := indentAt(data, keyStart); ok {
		return renderJSON(v, indent, st.unit, st.eol, false)
	}
	m := obj.members[0]
	return renderJSON(v, "", "", st.eol, hasSpace(data[m.keyEnd:m.valStart]))
}

// insert returns data with the member text added at the end of obj.
func (st style) insert(data []byte, obj object, text []byte) []byte {
	if len(obj.members) == 0 {
		var b []byte
		if st.pretty {
			outer := lineIndent(data, obj.open)
			b = append(b, st.eol+outer+st.unit...)
			b = append(b, text...)
			b = append(b, st.eol+outer...)
		} else {
			b = text
		}
		return splice(data, obj.open+1, obj.close, b)
	}
	last := obj.members[len(obj.members)-1]
	var b []byte
	if indent, ok := indentAt(data, obj.members[0].keyStart); ok {
		b = append(b, ","+st.eol+indent...)
	} else if commaSpaced(data, obj, st) {
		b = append(b, ", "...)
	} else {
		b = append(b, ',')
	}
	b = append(b, text...)
	return splice(data, last.valEnd, last.valEnd, b)
}

// commaSpaced reports whether members of the one-line object obj are separated by ", " rather
// than ",": as its first two are, or as the document's style says when it has one member.
func commaSpaced(data []byte, obj object, st style) bool {
	if len(obj.members) > 1 {
		return hasSpace(data[obj.members[0].valEnd:obj.members[1].keyStart])
	}
	return st.spaced
}

// colon returns the separator between a key and its value in a one-line object, ":" or ": "
// as member m has it.
func colon(data []byte, m member) string {
	if hasSpace(data[m.keyEnd:m.valStart]) {
		return ": "
	}
	return ":"
}

func hasSpace(b []byte) bool { return bytes.ContainsAny(b, " \t\r\n") }

// splice returns data with data[from:to] replaced by text, in a new slice.
func splice(data []byte, from, to int, text []byte) []byte {
	out := make([]byte, 0, len(data)-(to-from)+len(text))
	out = append(out, data[:from]...)
	out = append(out, text...)
	return append(out, data[to:]...)
}

// indentAt returns the whitespace in front of pos when nothing else precedes it on its line.
func indentAt(data []byte, pos int) (string, bool) {
	ls := bytes.LastIndexByte(data[:pos], '\n')
	if ls < 0 {
		return "", false
	}
	ws := data[ls+1 : pos]
	if len(bytes.Trim(ws, " \t")) != 0 {
		return "", false
	}
	return string(ws), true
}

// lineIndent returns the leading whitespace of the line pos is on.
func lineIndent(data []byte, pos int) string {
	ls := bytes.LastIndexByte(data[:pos], '\n') + 1
	end := ls
	for end < pos && (data[end] == ' ' || data[end] == '\t') {
		end++
	}
	return string(data[ls:end])
}

// object is the layout of one JSON object in a document.
type object struct {
	open, close int // offsets of '{' and '}'
	members     []member
}

// member is the layout of one member: data[keyStart:keyEnd] is the quoted key,
// data[valStart:valEnd] the value.
type member struct {
	keyStart, keyEnd, valStart, valEnd int
}

// last returns the last member named key: with duplicate keys, JSON.parse (and so Claude Code)
// keeps the last.
func (o object) last(data []byte, key string) (member, bool) {
	for i := len(o.members) - 1; i >= 0; i-- {
		m := o.members[i]
		var k string
		if json.Unmarshal(data[m.keyStart:m.keyEnd], &k) == nil && k == key {
			return m, true
		}
	}
	return member{}, false
}

// parseObject lays out the object whose '{' is at data[open]. The document must be valid JSON:
// the scanner does not check the grammar, it only finds where things are (at never reads past
// the end, so a mistake cannot panic).
func parseObject(data []byte, open int) object {
	o := object{open: open}
	i := skipWS(data, open+1)
	if at(data, i) == '}' {
		o.close = i
		return o
	}
	for i < len(data) {
		m := member{keyStart: i, keyEnd: skipString(data, i)}
		i = skipWS(data, m.keyEnd) // at ':'
		i = skipWS(data, i+1)      // at the value
		m.valStart, m.valEnd = i, skipValue(data, i)
		o.members = append(o.members, m)
		i = skipWS(data, m.valEnd)
		if at(data, i) != ',' {
			break
		}
		i = skipWS(data, i+1)
	}
	o.close = min(i, len(data)-1)
	return o
}

func at(data []byte, i int) byte {
	if i < 0 || i >= len(data) {
		return 0
	}
	return data[i]
}

// skipWS returns the offset of the first non-whitespace byte (JSON's four) from i.
func skipWS(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the offset just past the string whose quote is at data[i].
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// skipValue returns the offset just past the value starting at data[i]. It walks nested
// objects and arrays with a counter rather than recursion, so depth cannot exhaust the stack.
func skipValue(data []byte, i int) int {
	switch at(data, i) {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(data)
	}
	for i < len(data) && !strings.ContainsRune(",]} \t\r\n", rune(data[i])) {
		i++
	}
	return i
}

// isBlank reports whether b holds only JSON whitespace: Claude Code takes an empty file for an
// empty configuration, and so does the writer.
func isBlank(b []byte) bool { return skipWS(b, 0) == len(b) }

// kind names the JSON type of the value starting with c, for an error.
func kind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// pathString writes keys the way a person reads them: projects["/repo"].mcpServers.
func pathString(keys []string) string {
	var b strings.Builder
	for i, k := range keys {
		if isIdent(k) {
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		} else {
			b.WriteString("[" + quoteJSON(k) + "]")
		}
	}
	return b.String()
}

func isIdent(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// syntaxError returns where and why data is not valid JSON: the offset of the offending byte
// (or the end, when the document stops short) and encoding/json's message.
func syntaxError(data []byte) (int, string) {
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		if err == nil {
			return 0, "not valid JSON"
		}
		return 0, err.Error()
	}
	off := int(se.Offset)
	if off > len(data) {
		off = len(data)
	}
	// Offset counts the offending byte; point at it, except past the end.
	if off > 0 && !strings.HasPrefix(se.Error(), "unexpected end") {
		off--
	}
	return off, se.Error()
}

// lineCol turns a byte offset into a 1-based line and column (in characters).
func lineCol(data []byte, off int) (int, int) {
	off = min(max(off, 0), len(data))
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	ls := bytes.LastIndexByte(data[:off], '\n') + 1
	return line, 1 + utf8.RuneCount(data[ls:off])
}

// kv is one member of an ordered object.
type kv struct {
	k string
	v any
}

// ordered is a JSON object that keeps its members' order (a Go map sorts them).
type ordered []kv

// MarshalJSON writes the members in order.
func (o ordered) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, quoteJSON(m.k)...)
		b = append(b, ':')
		v, err := marshal(m.v)
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// marshal is json.Marshal without HTML escaping: a path with '&' stays readable.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// quoteJSON returns s as a JSON string.
func quoteJSON(s string) string {
	b, _ := marshal(s) // a string always marshals
	return string(b)
}

// renderJSON returns v as JSON: with unit set, one member per line indented by unit, every line
// after the first starting with prefix (the value continues a line that is already indented);
// with unit "", on one line, with a space after ':' and ',' when spaced.
func renderJSON(v any, prefix, unit, eol string, spaced bool) []byte {
	compact, err := marshal(v)
	if err != nil {
		// Only our own types are rendered here, and they always marshal.
		compact = []byte("null")
	}
	if unit == "" {
		if !spaced {
			return compact
		}
		return spaceOut(compact)
	}
	var buf bytes.Buffer
	_ = json.Indent(&buf, compact, prefix, unit) // compact is valid JSON
	out := buf.Bytes()
	if eol != "\n" {
		// JSON strings cannot hold a raw newline, so every '\n' is a line break.
		out = bytes.ReplaceAll(out, []byte("\n"), []byte(eol))
	}
	return out
}

// spaceOut adds a space after every ':' and ',' outside strings of compact JSON.
func spaceOut(compact []byte) []byte {
	out := make([]byte, 0, len(compact)+len(compact)/8)
	for i := 0; i < len(compact); i++ {
		c := compact[i]
		if c == '"' {
			end := skipString(compact, i)
			out = append(out, compact[i:end]...)
			i = end - 1
			continue
		}
		out = append(out, c)
		if c == ':' || c == ',' {
			out = append(out, ' ')
		}
	}
	return out
}
