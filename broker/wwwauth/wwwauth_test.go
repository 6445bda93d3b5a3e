package wwwauth

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	type p = map[string]string
	tests := []struct {
		name   string
		values []string
		want   []Challenge
	}{
		{
			name:   "bearer with resource_metadata and scope",
			values: []string{`Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="files:read files:write"`},
			want: []Challenge{{Scheme: "Bearer", Params: p{
				"resource_metadata": "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
				"scope":             "files:read files:write",
			}}},
		},
		{
			name:   "several challenges in one header",
			values: []string{`Basic realm="x", Bearer resource_metadata="https://a.example/prm", scope="a b"`},
			want: []Challenge{
				{Scheme: "Basic", Params: p{"realm": "x"}},
				{Scheme: "Bearer", Params: p{"resource_metadata": "https://a.example/prm", "scope": "a b"}},
			},
		},
		{
			name:   "RFC 9110 example with escaped quotes and a token value",
			values: []string{`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`},
			want: []Challenge{
				{Scheme: "Newauth", Params: p{"realm": "apps", "type": "1", "title": `Login to "apps"`}},
				{Scheme: "Basic", Params: p{"realm": "simple"}},
			},
		},
		{
			name:   "several headers",
			values: []string{`Basic realm=x`, `Bearer error="invalid_token", error_description="expired"`},
			want: []Challenge{
				{Scheme: "Basic", Params: p{"realm": "x"}},
				{Scheme: "Bearer", Params: p{"error": "invalid_token", "error_description": "expired"}},
			},
		},
		{
			name:   "unquoted values",
			values: []string{`Bearer error=insufficient_scope, scope=read`},
			want:   []Challenge{{Scheme: "Bearer", Params: p{"error": "insufficient_scope", "scope": "read"}}},
		},
		{
			name:   "case-insensitive names are lowercased, scheme kept",
			values: []string{`bEaReR Resource_Metadata="u", SCOPE="s"`},
			want:   []Challenge{{Scheme: "bEaReR", Params: p{"resource_metadata": "u", "scope": "s"}}},
		},
		{
			name:   "token68 then a challenge with params",
			values: []string{`Basic YWxhZGRpbjpvcGVuc2VzYW1l, Bearer realm="r"`},
			want: []Challenge{
				{Scheme: "Basic", Token68: "YWxhZGRpbjpvcGVuc2VzYW1l"},
				{Scheme: "Bearer", Params: p{"realm": "r"}},
			},
		},
		{
			name:   "token68 with padding",
			values: []string{`Negotiate a87421000492aa874209af8bc028==`},
			want:   []Challenge{{Scheme: "Negotiate", Token68: "a87421000492aa874209af8bc028=="}},
		},
		{
			name:   "bare schemes",
			values: []string{`Bearer, Basic`},
			want:   []Challenge{{Scheme: "Bearer"}, {Scheme: "Basic"}},
		},
		{
			name:   "comma inside a quoted value",
			values: []string{`Bearer scope="a,b", error=x, Basic realm="q"`},
			want: []Challenge{
				{Scheme: "Bearer", Params: p{"scope": "a,b", "error": "x"}},
				{Scheme: "Basic", Params: p{"realm": "q"}},
			},
		},
		{
			name:   "escaped backslash and quote",
			values: []string{`Bearer realm="a\\b\"c"`},
			want:   []Challenge{{Scheme: "Bearer", Params: p{"realm": `a\b"c`}}},
		},
		{
			name:   "spaces around equals and empty quoted value",
			values: []string{`Bearer realm = "x" , scope=""`},
			want:   []Challenge{{Scheme: "Bearer", Params: p{"realm": "x", "scope": ""}}},
		},
		{
			name:   "duplicate parameter: first wins",
			values: []string{`Bearer scope="first", scope="second"`},
			want:   []Challenge{{Scheme: "Bearer", Params: p{"scope": "first"}}},
		},
		{
			name:   "missing comma between parameters is tolerated",
			values: []string{`Bearer realm="a" scope="b"`},
			want:   []Challenge{{Scheme: "Bearer", Params: p{"realm": "a", "scope": "b"}}},
		},
		{
			name:   "unterminated quoted string runs to the end",
			values: []string{`Bearer realm="abc, scope=x`},
			want:   []Challenge{{Scheme: "Bearer", Params: p{"realm": "abc, scope=x"}}},
		},
		{
			name:   "junk element skipped, parsing resumes after the comma",
			values: []string{`"quoted junk, still junk", =x, Bearer realm="r"`},
			want:   []Challenge{{Scheme: "Bearer", Params: p{"realm": "r"}}},
		},
		{
			name:   "junk after a value skipped",
			values: []string{`Bearer realm="r"garbage here, scope="s"`},
			want:   []Challenge{{Scheme: "Bearer", Params: p{"realm": "r", "scope": "s"}}},
		},
		{
			name:   "scheme glued to equals is no challenge",
			values: []string{`Bearer=x, Basic realm=y`},
			want:   []Challenge{{Scheme: "Basic", Params: p{"realm": "y"}}},
		},
		{name: "empty", values: []string{"", "  ", ",,,"}, want: nil},
		{name: "nil", values: nil, want: nil},
		{name: "only garbage", values: []string{`"`, `=`, "\x00\xff", `\"`}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.values)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %#v\nwant %#v", tt.values, got, tt.want)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	many := strings.Repeat("Basic realm=x, ", 100)
	if got := Parse([]string{many, "Bearer"}); len(got) != maxChallenges {
		t.Errorf("got %d challenges, want the cap %d", len(got), maxChallenges)
	}
	var params []string
	for i := range 100 {
		params = append(params, "p"+strings.Repeat("x", i)+"=v")
	}
	got := Parse([]string{"Bearer " + strings.Join(params, ", ") + ", Basic realm=y"})
	if len(got) != 2 || len(got[0].Params) != maxParams || got[1].Scheme != "Basic" {
		t.Errorf("got %d challenges, first with %d params; want 2 and %d, then Basic", len(got), len(got[0].Params), maxParams)
	}
}

func TestBearer(t *testing.T) {
	tests := []struct {
		name          string
		headers       []string
		wantNil       bool
		wantRM, wantS string
		wantErr       string
	}{
		{name: "none", wantNil: true},
		{name: "basic only", headers: []string{`Basic realm="x"`}, wantNil: true},
		{
			name:    "second header, lower-case scheme",
			headers: []string{`Basic realm="x"`, `bearer resource_metadata="https://a/prm", scope="s", error="insufficient_scope"`},
			wantRM:  "https://a/prm", wantS: "s", wantErr: "insufficient_scope",
		},
		{
			name:    "first of two bearer challenges",
			headers: []string{`Bearer scope="one", Bearer scope="two"`},
			wantS:   "one",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.headers {
				h.Add("Www-Authenticate", v)
			}
			c := Bearer(h)
			if (c == nil) != tt.wantNil {
				t.Fatalf("Bearer = %#v, want nil: %v", c, tt.wantNil)
			}
			if c.ResourceMetadata() != tt.wantRM || c.Scope() != tt.wantS || c.ErrorCode() != tt.wantErr {
				t.Errorf("got resource_metadata=%q scope=%q error=%q, want %q %q %q",
					c.ResourceMetadata(), c.Scope(), c.ErrorCode(), tt.wantRM, tt.wantS, tt.wantErr)
			}
		})
	}
}

// TestDPoP: the DPoP challenge is read apart from the Bearer one beside it (RFC 9449 §7.2: a
// server may send both), with its algs; OAuth takes whichever of the two comes first.
func TestDPoP(t *testing.T) {
	tests := []struct {
		name       string
		headers    []string
		wantDPoP   bool
		wantErr    string
		wantAlgs   []string
		wantRM     string
		wantOAuth  string // the scheme OAuth picks, "" for nil
		wantBearer bool
	}{
		{name: "none", headers: []string{`Basic realm="x"`}},
		{
			name:     "the conformance suite's challenge",
			headers:  []string{`DPoP resource_metadata="https://a/.well-known/oauth-protected-resource/mcp"`},
			wantDPoP: true, wantRM: "https://a/.well-known/oauth-protected-resource/mcp", wantOAuth: "DPoP",
		},
		{
			name:     "a nonce challenge",
			headers:  []string{`DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`},
			wantDPoP: true, wantErr: "use_dpop_nonce", wantOAuth: "DPoP",
		},
		{
			name:     "RFC 9449 §7.2: Bearer and DPoP in one header",
			headers:  []string{`Bearer, DPoP algs="ES256 PS256"`},
			wantDPoP: true, wantAlgs: []string{"ES256", "PS256"}, wantOAuth: "Bearer", wantBearer: true,
		},
		{
			name:     "the error of one scheme is not the other's",
			headers:  []string{`Bearer error="invalid_token"`, `dpop algs=ES256`},
			wantDPoP: true, wantAlgs: []string{"ES256"}, wantOAuth: "Bearer", wantBearer: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.headers {
				h.Add("Www-Authenticate", v)
			}
			d := DPoP(h)
			if (d != nil) != tt.wantDPoP {
				t.Fatalf("DPoP = %#v, want one: %v", d, tt.wantDPoP)
			}
			if d.ErrorCode() != tt.wantErr || d.ResourceMetadata() != tt.wantRM || !reflect.DeepEqual(d.Algs(), tt.wantAlgs) {
				t.Errorf("DPoP error=%q resource_metadata=%q algs=%q, want %q %q %q", d.ErrorCode(), d.ResourceMetadata(), d.Algs(), tt.wantErr, tt.wantRM, tt.wantAlgs)
			}
			if (Bearer(h) != nil) != tt.wantBearer {
				t.Errorf("Bearer = %v, want one: %v", Bearer(h), tt.wantBearer)
			}
			got := ""
			if o := OAuth(h); o != nil {
				got = o.Scheme
			}
			if !strings.EqualFold(got, tt.wantOAuth) {
				t.Errorf("OAuth picked %q, want %q", got, tt.wantOAuth)
			}
		})
	}
}
