package paramheaders

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// keyword is the schema keyword that designates a parameter.
const keyword = "x-mcp-header"

// HeaderPrefix starts the name of every header that carries a designated parameter.
const HeaderPrefix = "Mcp-Param-"

// Param is one tool parameter the server designated for a header.
type Param struct {
	// Path is the chain of "properties" keys from the inputSchema's root to the parameter: its
	// value is read at the same path in the call's arguments.
	Path []string
	// Name is the x-mcp-header value: the header is Mcp-Param-<Name>.
	Name string
	// Type is the parameter's declared type: "string", "integer" or "boolean".
	Type string
}

// Mentions reports whether JSON text may hold an x-mcp-header member at all: it names the
// keyword, or holds a \u escape that could spell it. Most tools lists and schemas mention
// neither, and need no decoding.
func Mentions(text []byte) bool {
	return bytes.Contains(text, []byte(keyword)) || bytes.Contains(text, []byte(`\u`))
}

// Header returns the name of the header that carries the parameter.
func (p Param) Header() string { return HeaderPrefix + p.Name }

// Equal reports whether two lists of parameters are the same designations.
func Equal(a, b []Param) bool {
	return slices.EqualFunc(a, b, func(x, y Param) bool {
		return x.Name == y.Name && x.Type == y.Type && slices.Equal(x.Path, y.Path)
	})
}

// Check returns the parameters a tool's inputSchema designates for headers, in the order of
// their paths, or an error that says why the designations are invalid (and so, by the
// specification, the whole tool). A schema without x-mcp-header, or that is not a JSON object,
// designates nothing and is valid.
func Check(inputSchema []byte) ([]Param, error) {
	if !Mentions(inputSchema) {
		return nil, nil
	}
	var root any
	if err := json.Unmarshal(inputSchema, &root); err != nil {
		return nil, fmt.Errorf("reading the inputSchema: %w", err)
	}
	c := checker{seen: map[string]Param{}}
	if err := c.walk(root, "", nil, true); err != nil {
		return nil, err
	}
	slices.SortFunc(c.params, func(a, b Param) int { return slices.Compare(a.Path, b.Path) })
	return c.params, nil
}

// checker walks one schema.
type checker struct {
	params []Param
	seen   map[string]Param // by lowercased name
}

// Keywords whose values are schemas (JSON Schema 2020-12, and draft-07 where it differs). An
// x-mcp-header found through any of them, other than a chain of properties from the root, is
// misplaced. Keywords whose values are data (const, enum, default, examples) and unknown
// keywords hold no schemas, so an "x-mcp-header" member inside them is not an annotation.
var (
	oneSchema = []string{"additionalItems", "additionalProperties", "contains", "contentSchema",
		"else", "if", "items", "not", "propertyNames", "then", "unevaluatedItems", "unevaluatedProperties"}
	schemaArrays = []string{"allOf", "anyOf", "items", "oneOf", "prefixItems"}
	schemaMaps   = []string{"$defs", "definitions", "dependencies", "dependentSchemas", "patternProperties", "properties"}
)

// walk checks the schema node found at pointer (a JSON pointer into the inputSchema). path is
// the chain of properties keys that led to it while reachable: reached from the root through
// properties alone.
func (c *checker) walk(node any, pointer string, path []string, reachable bool) error {
	obj, ok := node.(map[string]any)
	if !ok {
		return nil // a boolean schema, or not a schema at all
	}
	if v, ok := obj[keyword]; ok {
		if err := c.annotation(obj, v, pointer, path, reachable); err != nil {
			return err
		}
	}
	for _, k := range oneSchema {
		if v, ok := obj[k]; ok {
			if err := c.walk(v, pointer+"/"+escape(k), nil, false); err != nil {
				return err
			}
		}
	}
	for _, k := range schemaArrays {
		if a, ok := obj[k].([]any); ok {
			for i, v := range a {
				if err := c.walk(v, fmt.Sprintf("%s/%s/%d", pointer, escape(k), i), nil, false); err != nil {
					return err
				}
			}
		}
	}
	for _, k := range schemaMaps {
		m, ok := obj[k].(map[string]any)
		if !ok {
			continue
		}
		for _, name := range sortedKeys(m) {
			p := pointer + "/" + escape(k) + "/" + escape(name)
			if k == "properties" && reachable {
				if err := c.walk(m[name], p, append(slices.Clip(path), name), true); err != nil {
					return err
				}
				continue
			}
			if err := c.walk(m[name], p, nil, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// annotation checks the x-mcp-header value v of the schema obj at pointer.
func (c *checker) annotation(obj map[string]any, v any, pointer string, path []string, reachable bool) error {
	at := pointer
	if at == "" {
		at = "the schema root"
	}
	if !reachable {
		return fmt.Errorf("the x-mcp-header at %s is not reached from the schema root through properties alone", at)
	}
	if len(path) == 0 {
		return fmt.Errorf("the x-mcp-header at %s is not on a parameter", at)
	}
	name, ok := v.(string)
	switch {
	case !ok:
		return fmt.Errorf("the x-mcp-header at %s is not a string", at)
	case name == "":
		return fmt.Errorf("the x-mcp-header at %s is empty", at)
	}
	for _, r := range name {
		if !isTchar(r) {
			return fmt.Errorf("the x-mcp-header %q at %s holds %q, which an HTTP header name cannot", name, at, r)
		}
	}
	typ, _ := obj["type"].(string)
	switch typ {
	case "string", "integer", "boolean":
	case "":
		return fmt.Errorf("the x-mcp-header %q at %s is on a parameter without a single declared type; only string, integer and boolean parameters can be mirrored", name, at)
	default:
		return fmt.Errorf("the x-mcp-header %q at %s is on a parameter of type %s; only string, integer and boolean parameters can be mirrored", name, at, typ)
	}
	lower := strings.ToLower(name)
	if first, dup := c.seen[lower]; dup {
		return fmt.Errorf("the x-mcp-header %q at %s repeats %q of /properties/%s (header names are case-insensitive)", name, at, first.Name, strings.Join(escapeAll(first.Path), "/properties/"))
	}
	p := Param{Path: slices.Clone(path), Name: name, Type: typ}
	c.seen[lower] = p
	c.params = append(c.params, p)
	return nil
}

// isTchar reports whether r may appear in an HTTP field name (RFC 9110 section 5.6.2).
func isTchar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// escape makes a key a JSON pointer token (RFC 6901).
func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func escapeAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = escape(s)
	}
	return out
}
