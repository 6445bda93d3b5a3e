package paramheaders

import (
	"reflect"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		want   []Param
		why    string // a part of the error; "" for a valid schema
	}{
		{name: "no designation", schema: `{"type":"object","properties":{"q":{"type":"string"}}}`},
		{name: "no schema", schema: ``},
		{name: "not an object", schema: `true`},
		{
			name:   "the specification's example",
			schema: `{"type":"object","properties":{"region":{"type":"string","description":"d","x-mcp-header":"Region"},"query":{"type":"string"}},"required":["region","query"]}`,
			want:   []Param{{Path: []string{"region"}, Name: "Region", Type: "string"}},
		},
		{
			name: "every primitive, sorted by path",
			schema: `{"type":"object","properties":{
				"verbose":{"type":"boolean","x-mcp-header":"Verbose"},
				"priority":{"type":"integer","x-mcp-header":"Priority"},
				"method_val":{"type":"string","x-mcp-header":"Method"}}}`,
			want: []Param{
				{Path: []string{"method_val"}, Name: "Method", Type: "string"},
				{Path: []string{"priority"}, Name: "Priority", Type: "integer"},
				{Path: []string{"verbose"}, Name: "Verbose", Type: "boolean"},
			},
		},
		{
			name:   "nested through properties",
			schema: `{"type":"object","properties":{"target":{"type":"object","properties":{"zone":{"type":"string","x-mcp-header":"Zone"}}}}}`,
			want:   []Param{{Path: []string{"target", "zone"}, Name: "Zone", Type: "string"}},
		},
		{
			name:   "every token character",
			schema: "{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-header\":\"Az09!#$%&'*+-.^_`|~\"}}}",
			want:   []Param{{Path: []string{"a"}, Name: "Az09!#$%&'*+-.^_`|~", Type: "string"}},
		},
		{
			name:   "the keyword spelled with an escape",
			schema: `{"properties":{"a":{"type":"string","x-mcp-h\u0065ader":"A"}}}`,
			want:   []Param{{Path: []string{"a"}, Name: "A", Type: "string"}},
		},
		{
			name:   "a property named x-mcp-header is a property",
			schema: `{"properties":{"x-mcp-header":{"type":"object"}}}`,
		},
		{
			name:   "data keywords hold no annotations",
			schema: `{"properties":{"a":{"type":"object","default":{"x-mcp-header":"A"},"examples":[{"x-mcp-header":""}],"const":{"x-mcp-header":1},"enum":[{"x-mcp-header":1}]}}}`,
		},

		// The ten invalid tools of conformance 0.2's http-invalid-tool-headers.
		{name: "empty", schema: `{"type":"object","properties":{"value":{"type":"string","x-mcp-header":""}}}`, why: "at /properties/value is empty"},
		{name: "on an object", schema: `{"type":"object","properties":{"data":{"type":"object","x-mcp-header":"Data"}}}`, why: "of type object"},
		{name: "on an array", schema: `{"type":"object","properties":{"items":{"type":"array","items":{"type":"string"},"x-mcp-header":"Items"}}}`, why: "of type array"},
		{name: "on null", schema: `{"type":"object","properties":{"nil":{"type":"null","x-mcp-header":"Nil"}}}`, why: "of type null"},
		{
			name:   "twice in the same case",
			schema: `{"type":"object","properties":{"field1":{"type":"string","x-mcp-header":"Region"},"field2":{"type":"string","x-mcp-header":"Region"}}}`,
			why:    `"Region" at /properties/field2 repeats "Region" of /properties/field1`,
		},
		{
			name:   "twice in another case",
			schema: `{"type":"object","properties":{"field1":{"type":"string","x-mcp-header":"MyField"},"field2":{"type":"string","x-mcp-header":"myfield"}}}`,
			why:    `"myfield" at /properties/field2 repeats "MyField"`,
		},
		{name: "a space", schema: `{"properties":{"value":{"type":"string","x-mcp-header":"My Region"}}}`, why: `holds ' '`},
		{name: "a colon", schema: `{"properties":{"value":{"type":"string","x-mcp-header":"Region:Primary"}}}`, why: `holds ':'`},
		{name: "non-ASCII", schema: `{"properties":{"value":{"type":"string","x-mcp-header":"Région"}}}`, why: `holds 'é'`},
		{name: "a control character", schema: `{"properties":{"value":{"type":"string","x-mcp-header":"Region\t1"}}}`, why: `holds '\t'`},

		// The rest of the specification's constraints.
		{name: "CR LF", schema: `{"properties":{"value":{"type":"string","x-mcp-header":"A\r\nB: c"}}}`, why: `holds '\r'`},
		{name: "number", schema: `{"properties":{"f":{"type":"number","x-mcp-header":"F"}}}`, why: "of type number"},
		{name: "no declared type", schema: `{"properties":{"f":{"x-mcp-header":"F"}}}`, why: "without a single declared type"},
		{name: "a list of types", schema: `{"properties":{"f":{"type":["string","null"],"x-mcp-header":"F"}}}`, why: "without a single declared type"},
		{name: "not a string", schema: `{"properties":{"f":{"type":"string","x-mcp-header":7}}}`, why: "is not a string"},
		{name: "on the root", schema: `{"type":"string","x-mcp-header":"Root"}`, why: "at the schema root is not on a parameter"},
		{name: "duplicate across levels", schema: `{"properties":{"a":{"type":"string","x-mcp-header":"X"},"b":{"type":"object","properties":{"c":{"type":"integer","x-mcp-header":"x"}}}}}`, why: `repeats "X" of /properties/a`},
		{name: "under items", schema: `{"properties":{"list":{"type":"array","items":{"type":"string","x-mcp-header":"L"}}}}`, why: "/properties/list/items is not reached"},
		{name: "under draft-07 items", schema: `{"properties":{"list":{"type":"array","items":[{"type":"string","x-mcp-header":"L"}]}}}`, why: "/properties/list/items/0 is not reached"},
		{name: "under prefixItems", schema: `{"properties":{"list":{"type":"array","prefixItems":[{"type":"string","x-mcp-header":"L"}]}}}`, why: "/properties/list/prefixItems/0"},
		{name: "under anyOf", schema: `{"properties":{"a":{"anyOf":[{"type":"string","x-mcp-header":"A"},{"type":"null"}]}}}`, why: "/properties/a/anyOf/0 is not reached"},
		{name: "under oneOf at the root", schema: `{"oneOf":[{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}]}`, why: "/oneOf/0/properties/a is not reached"},
		{name: "under allOf", schema: `{"allOf":[{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}]}`, why: "/allOf/0/properties/a"},
		{name: "under not", schema: `{"not":{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}}`, why: "/not/properties/a"},
		{name: "under if", schema: `{"if":{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}}`, why: "/if/properties/a"},
		{name: "under then", schema: `{"then":{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}}`, why: "/then/properties/a"},
		{name: "under else", schema: `{"else":{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}}`, why: "/else/properties/a"},
		{name: "behind $ref, in $defs", schema: `{"properties":{"a":{"$ref":"#/$defs/A"}},"$defs":{"A":{"type":"string","x-mcp-header":"A"}}}`, why: "/$defs/A is not reached"},
		{name: "in definitions", schema: `{"definitions":{"A":{"type":"string","x-mcp-header":"A"}}}`, why: "/definitions/A"},
		{name: "under additionalProperties", schema: `{"additionalProperties":{"type":"string","x-mcp-header":"A"}}`, why: "/additionalProperties is not reached"},
		{name: "under patternProperties", schema: `{"patternProperties":{"^a/b$":{"type":"string","x-mcp-header":"A"}}}`, why: "/patternProperties/^a~1b$ is not reached"},
		{name: "under dependentSchemas", schema: `{"dependentSchemas":{"a":{"properties":{"b":{"type":"string","x-mcp-header":"B"}}}}}`, why: "/dependentSchemas/a/properties/b"},
		{name: "under propertyNames", schema: `{"propertyNames":{"type":"string","x-mcp-header":"A"}}`, why: "/propertyNames"},
		{name: "under contains", schema: `{"properties":{"l":{"type":"array","contains":{"type":"string","x-mcp-header":"A"}}}}`, why: "/properties/l/contains"},
		{name: "nested under items", schema: `{"properties":{"l":{"type":"array","items":{"type":"object","properties":{"a":{"type":"string","x-mcp-header":"A"}}}}}}`, why: "/properties/l/items/properties/a is not reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Check([]byte(tt.schema))
			switch {
			case tt.why == "" && err != nil:
				t.Fatalf("Check: %v, want valid", err)
			case tt.why != "" && (err == nil || !strings.Contains(err.Error(), tt.why)):
				t.Fatalf("Check: %v, want an error with %q", err, tt.why)
			case tt.why != "" && got != nil:
				t.Errorf("an invalid schema designates %v", got)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParamHeader(t *testing.T) {
	if got := (Param{Name: "Method"}).Header(); got != "Mcp-Param-Method" {
		t.Errorf("Header = %q", got)
	}
}

func TestEqual(t *testing.T) {
	a := []Param{{Path: []string{"a", "b"}, Name: "B", Type: "string"}}
	for _, tt := range []struct {
		b    []Param
		want bool
	}{
		{[]Param{{Path: []string{"a", "b"}, Name: "B", Type: "string"}}, true},
		{[]Param{{Path: []string{"a"}, Name: "B", Type: "string"}}, false},
		{[]Param{{Path: []string{"a", "b"}, Name: "b", Type: "string"}}, false},
		{[]Param{{Path: []string{"a", "b"}, Name: "B", Type: "integer"}}, false},
		{nil, false},
	} {
		if got := Equal(a, tt.b); got != tt.want {
			t.Errorf("Equal(%v, %v) = %v", a, tt.b, got)
		}
	}
	if !Equal(nil, []Param{}) {
		t.Error("no designations differ from none")
	}
}
