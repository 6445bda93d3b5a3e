package wwwauth

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParse checks that the parser never panics and that its output is
// sane: bounded, well-formed names, and stable when written back out in
// canonical form and parsed again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`Bearer resource_metadata="https://a.example/.well-known/oauth-protected-resource", scope="a b"`,
		`Basic realm="x", Bearer error="invalid_token", error_description="The token \"expired\""`,
		`Negotiate abc==, Basic realm=simple`,
		`Bearer realm="unterminated`,
		`"x", =, Bearer=1`,
	} {
		f.Add(s, "")
	}
	f.Add(`Basic realm=x`, `Bearer scope=read`)
	f.Fuzz(func(t *testing.T, a, b string) {
		got := Parse([]string{a, b})
		if len(got) > maxChallenges {
			t.Fatalf("%d challenges, more than the cap %d", len(got), maxChallenges)
		}
		for _, c := range got {
			if c.Scheme == "" || !allTchar(c.Scheme) {
				t.Fatalf("scheme %q is not a token", c.Scheme)
			}
			if len(c.Params) > maxParams {
				t.Fatalf("%d params, more than the cap %d", len(c.Params), maxParams)
			}
			if c.Token68 != "" && c.Params != nil {
				t.Fatalf("challenge has both a token68 and params: %#v", c)
			}
			for k := range c.Params {
				if k == "" || !allTchar(k) || k != strings.ToLower(k) {
					t.Fatalf("param name %q is not a lowercase token", k)
				}
			}
		}
		// Round trip: what we parsed, written canonically, parses the same.
		if again := Parse([]string{formatChallenges(got)}); !reflect.DeepEqual(again, got) && len(got) > 0 {
			t.Fatalf("round trip changed the result:\n first %#v\nsecond %#v\n  text %q", got, again, formatChallenges(got))
		}
	})
}

func allTchar(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

// formatChallenges writes challenges the way RFC 9110 spells them, every
// value quoted.
func formatChallenges(cs []Challenge) string {
	var parts []string
	for _, c := range cs {
		s := c.Scheme
		switch {
		case c.Token68 != "":
			s += " " + c.Token68
		case len(c.Params) > 0:
			var ps []string
			for k, v := range c.Params {
				v = strings.ReplaceAll(v, `\`, `\\`)
				v = strings.ReplaceAll(v, `"`, `\"`)
				ps = append(ps, k+`="`+v+`"`)
			}
			s += " " + strings.Join(ps, ", ")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}
