package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/broker"
)

// TestConfiguration: each kind of material the suite hands the client becomes the commands a
// user would run for it, the server added under the URL's server name, with every secret on
// stdin or in a private file and none in argv; a scenario with no material configures nothing.
func TestConfiguration(t *testing.T) {
	const url = "http://localhost:1234/mcp"
	add := "servers add " + broker.URLServerName(url) + " " + url
	type command struct{ args, stdin string } // args with {add} for `servers add NAME URL`, {dir} for the run's folder
	tests := []struct {
		name     string
		scenario string
		ctx      scenarioContext
		want     []command
	}{
		{"dynamic registration", "auth/metadata-default", scenarioContext{}, nil},
		{"client id metadata document", "auth/basic-cimd", scenarioContext{}, []command{{"{add} --client-metadata-url " + cimdClientID, ""}}},
		{"pre-registered", "auth/pre-registration", scenarioContext{ClientID: "id", ClientSecret: "s3cret"},
			[]command{{"{add} --client-id id --client-secret-stdin", "s3cret\n"}}},
		{"client credentials", "auth/client-credentials-basic", scenarioContext{ClientID: "id", ClientSecret: "s3cret"},
			[]command{{"{add} --auth client-credentials --client-id id --client-secret-stdin", "s3cret\n"}}},
		{"private_key_jwt", "auth/client-credentials-jwt", scenarioContext{ClientID: "id", PrivateKeyPEM: "-----BEGIN PRIVATE KEY-----\n", SigningAlgorithm: "ES256"},
			[]command{{"{add} --auth client-credentials --client-id id --private-key-stdin --signing-alg ES256", "-----BEGIN PRIVATE KEY-----\n"}}},
		{"workload identity", "auth/wif-jwt-bearer", scenarioContext{ClientID: "id", ValidJWT: "eyJ.x.y"},
			[]command{{"{add} --auth workload --client-id id --assertion-file {dir}/workload.jwt", ""}}},
		{"enterprise", "auth/enterprise-managed-authorization", scenarioContext{ClientID: "id", ClientSecret: "s3cret", IDPIDToken: "eyJ.i.d",
			IDPIssuer: "http://localhost:9", IDPClientID: "idp", IDPTokenEndpoint: "http://localhost:9/token"}, []command{
			{"idp add corp --issuer http://localhost:9 --client-id idp", ""},
			{"{add} --auth enterprise --idp corp --client-id id --client-secret-stdin", "s3cret\n"},
			{"idp login corp --id-token-stdin", "eyJ.i.d\n"},
		}},
		{"tool calls only", "http-custom-headers", scenarioContext{ToolCalls: []toolCall{{Name: "x"}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := workspace{dir: t.TempDir()}
			cmds, err := configuration(w, scenario{name: tt.scenario, serverURL: url, context: tt.ctx})
			if err != nil {
				t.Fatal(err)
			}
			if len(cmds) != len(tt.want) {
				t.Fatalf("configuration = %q, want %d command(s)", cmds, len(tt.want))
			}
			for i, c := range cmds {
				want := strings.Fields(strings.NewReplacer("{add}", add, "{dir}", w.dir).Replace(tt.want[i].args))
				if !slices.Equal(c.args, want) || c.stdin != tt.want[i].stdin {
					t.Errorf("command %d = %q with stdin %q, want %q with %q", i, c.args, c.stdin, want, tt.want[i].stdin)
				}
				for _, secret := range []string{tt.ctx.ClientSecret, tt.ctx.PrivateKeyPEM, tt.ctx.ValidJWT, tt.ctx.IDPIDToken} {
					if secret != "" && strings.Contains(strings.Join(c.args, " "), secret) {
						t.Errorf("a secret is in argv: %q", c.args)
					}
				}
			}
			if tt.ctx.ValidJWT != "" {
				path := filepath.Join(w.dir, "workload.jwt")
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := os.ReadFile(path)
				if fi.Mode().Perm() != 0o600 || strings.TrimSpace(string(b)) != tt.ctx.ValidJWT {
					t.Errorf("the workload's JWT file: mode %v, %q; want the JWT, 0600", fi.Mode(), b)
				}
			}
		})
	}
}
