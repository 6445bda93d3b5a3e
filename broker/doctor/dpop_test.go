package doctor

import (
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// dpopServer is a protected MCP server whose 401 challenge, resource metadata and
// authorization server say what the arguments say about DPoP.
func dpopServer(t *testing.T, challengeValue string, prmExtra map[string]any, asAlgs []string) string {
	rs, rsMux := server(t)
	as, asMux := server(t)
	rsMux.HandleFunc("POST /mcp", challenge(strings.ReplaceAll(challengeValue, "PRM", rs.URL+"/.well-known/oauth-protected-resource/mcp")))
	prm := map[string]any{"resource": rs.URL + "/mcp", "authorization_servers": []string{as.URL}}
	for k, v := range prmExtra {
		prm[k] = v
	}
	rsMux.HandleFunc("GET /.well-known/oauth-protected-resource/mcp", jsonDoc(prm))
	asMux.HandleFunc("GET /.well-known/oauth-authorization-server", jsonDoc(authServerDoc(as.URL, func(m map[string]any) {
		if asAlgs != nil {
			m["dpop_signing_alg_values_supported"] = asAlgs
		}
	})))
	return rs.URL + "/mcp"
}

// TestDPoPFinding: doctor says what each side says of DPoP and what mcp-broker will do, for
// the server's setting; a server silent about it, set to auto, gets no DPoP line at all.
func TestDPoPFinding(t *testing.T) {
	es := []string{"ES256"}
	tests := []struct {
		name      string
		challenge string
		prm       map[string]any
		asAlgs    []string
		mode      config.DPoPMode
		want      Severity // -1: no finding
		detail    []string
	}{
		{"silent server", `Bearer resource_metadata="PRM"`, nil, nil, config.DPoPAuto, -1, nil},
		{"the conformance suite's server", `DPoP resource_metadata="PRM"`, nil, es, config.DPoPAuto, OK,
			[]string{"binds tokens to proofs signed with ES256", "its 401 has a DPoP challenge", "mcp-broker: the authorization server binds tokens"}},
		{"DPoP at the authorization server only", `Bearer resource_metadata="PRM"`, nil, []string{"ES256", "PS256"}, config.DPoPAuto, Info,
			[]string{"does not say it accepts", "tokens are Bearer tokens"}},
		{"a resource that requires it, turned off", `Bearer resource_metadata="PRM", DPoP algs="ES256"`, map[string]any{"dpop_bound_access_tokens_required": true}, es, config.DPoPOff, Warn,
			[]string{"requires DPoP-bound tokens", "turned off"}},
		{"a silent server, turned on", `Bearer resource_metadata="PRM"`, nil, nil, config.DPoPOn, Info,
			[]string{"does not advertise DPoP", "turned on"}},
		{"an authorization server without ES256", `DPoP resource_metadata="PRM"`, nil, []string{"PS256"}, config.DPoPAuto, Info,
			[]string{"signs with ES256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := dpopServer(t, tt.challenge, tt.prm, tt.asAlgs)
			r := RunFor(t.Context(), nil, Setup{Server: config.Server{Name: "s", URL: u, Auth: config.AuthOAuth, DPoP: tt.mode}})
			if tt.mode == config.DPoPAuto {
				// doctor URL judges by the default setting, auto, and says the same.
				if got, want := findings(Run(t.Context(), nil, u))[itemDPoP], findings(r)[itemDPoP]; got != want {
					t.Errorf("doctor URL says %+v, doctor NAME %+v", got, want)
				}
			}
			f, ok := findings(r)[itemDPoP]
			if tt.want < 0 {
				if ok {
					t.Errorf("a DPoP finding for a server silent about it: %+v", f)
				}
				return
			}
			if !ok || f.Severity != tt.want {
				t.Fatalf("DPoP finding %+v, want severity %v", f, tt.want)
			}
			for _, sub := range tt.detail {
				if !strings.Contains(f.Detail, sub) {
					t.Errorf("detail %q lacks %q", f.Detail, sub)
				}
			}
		})
	}
}
