package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/mcp-broker/mcp-broker/broker"
)

// cimdClientID is the client ID metadata document URL auth/basic-cimd expects.
const cimdClientID = "https://conformance-test.local/client-metadata.json"

// brokerCommand is one mcp-broker invocation that configures the server ahead of the bridge.
// Secrets go on its stdin, never in argv, as a user is told to pass them.
type brokerCommand struct {
	args  []string
	stdin string
}

// configure runs the commands a user would run for the scenario's material before starting
// the bridge. The server is added under the URL's server name (broker.URLServerName), so that
// `bridge --url` finds it. A scenario with nothing to configure leaves the broker empty: the
// bridge adds the URL itself and registers dynamically.
func configure(ctx context.Context, bin string, w workspace, sc scenario) error {
	cmds, err := configuration(w, sc)
	if err != nil {
		return err
	}
	for _, c := range cmds {
		logf("configuring: mcp-broker %s", strings.Join(c.args, " "))
		cmd := exec.CommandContext(ctx, bin, c.args...)
		cmd.Env = w.env
		cmd.Stdin = strings.NewReader(c.stdin)
		cmd.Stdout = os.Stderr
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("mcp-broker %s: %w", c.args[0], err)
		}
	}
	return nil
}

// configuration picks the commands by the kind of material the context carries: one function
// per kind, each the configuration a user would write for it.
func configuration(w workspace, sc scenario) ([]brokerCommand, error) {
	c := sc.context
	switch {
	case c.IDPIDToken != "":
		return configureEnterprise(w, sc)
	case c.PrivateKeyPEM != "":
		return configureClientCredentialsJWT(w, sc)
	case c.ValidJWT != "":
		return configureWorkload(w, sc)
	case strings.HasPrefix(sc.name, "auth/client-credentials") && c.ClientID != "" && c.ClientSecret != "":
		return configureClientCredentials(w, sc)
	case c.ClientID != "":
		return configurePreRegistered(w, sc)
	case sc.name == "auth/basic-cimd":
		return configureCIMD(w, sc)
	}
	return nil, nil
}

// serversAdd is `mcp-broker servers add NAME URL` with the given flags.
func serversAdd(sc scenario, flags ...string) []string {
	return append([]string{"servers", "add", broker.URLServerName(sc.serverURL), sc.serverURL}, flags...)
}

// configurePreRegistered: auth/pre-registration hands the client an id (and a secret) the
// authorization server knows, which has no registration endpoint.
func configurePreRegistered(_ workspace, sc scenario) ([]brokerCommand, error) {
	if sc.context.ClientSecret == "" {
		return []brokerCommand{{args: serversAdd(sc, "--client-id", sc.context.ClientID)}}, nil
	}
	return []brokerCommand{{
		args:  serversAdd(sc, "--client-id", sc.context.ClientID, "--client-secret-stdin"),
		stdin: sc.context.ClientSecret + "\n",
	}}, nil
}

// configureCIMD: auth/basic-cimd expects the client to name itself by its client ID metadata
// document URL.
func configureCIMD(_ workspace, sc scenario) ([]brokerCommand, error) {
	return []brokerCommand{{args: serversAdd(sc, "--client-metadata-url", cimdClientID)}}, nil
}

// configureClientCredentials: auth/client-credentials-basic is a machine client with a
// secret (the client credentials grant, no browser).
func configureClientCredentials(_ workspace, sc scenario) ([]brokerCommand, error) {
	return []brokerCommand{{
		args:  serversAdd(sc, "--auth", "client-credentials", "--client-id", sc.context.ClientID, "--client-secret-stdin"),
		stdin: sc.context.ClientSecret + "\n",
	}}, nil
}

// configureClientCredentialsJWT: auth/client-credentials-jwt is a machine client that
// authenticates with a JWT signed by its private key (private_key_jwt, RFC 7523 §2.2): the
// context carries client_id, private_key_pem (PKCS#8) and signing_algorithm. The PEM goes on
// stdin.
func configureClientCredentialsJWT(_ workspace, sc scenario) ([]brokerCommand, error) {
	flags := []string{"--auth", "client-credentials", "--client-id", sc.context.ClientID, "--private-key-stdin"}
	if sc.context.SigningAlgorithm != "" {
		flags = append(flags, "--signing-alg", sc.context.SigningAlgorithm)
	}
	return []brokerCommand{{args: serversAdd(sc, flags...), stdin: sc.context.PrivateKeyPEM}}, nil
}

// configureWorkload: auth/wif-jwt-bearer is a workload whose platform hands it a JWT (a
// projected token file, say), exchanged with the jwt-bearer grant (RFC 7523 §2.1): the
// context carries client_id and valid_jwt. The JWT goes to a 0600 file in the run's private
// folder, as a platform would project it; the broker reads it for each token.
func configureWorkload(w workspace, sc scenario) ([]brokerCommand, error) {
	jwtFile := filepath.Join(w.dir, "workload.jwt")
	if err := os.WriteFile(jwtFile, []byte(sc.context.ValidJWT+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("writing the workload's JWT: %w", err)
	}
	return []brokerCommand{{args: serversAdd(sc, "--auth", "workload", "--client-id", sc.context.ClientID, "--assertion-file", jwtFile)}}, nil
}

// configureEnterprise: auth/enterprise-managed-authorization (SEP-990) signs the user in once
// at the company's identity provider and trades that ID token for each server's token: the
// context carries the IdP (idp_issuer, idp_token_endpoint), the broker's client there
// (idp_client_id), the user's ID token (idp_id_token), and the client at the MCP
// authorization server (client_id, client_secret). The identity provider, then the server
// with its client there, then the sign-in: from the ID token the suite hands over, on stdin,
// since its identity provider has no sign-in page.
func configureEnterprise(_ workspace, sc scenario) ([]brokerCommand, error) {
	c := sc.context
	return []brokerCommand{
		{args: []string{"idp", "add", enterpriseIdP, "--issuer", c.IDPIssuer, "--client-id", c.IDPClientID}},
		{args: serversAdd(sc, "--auth", "enterprise", "--idp", enterpriseIdP, "--client-id", c.ClientID, "--client-secret-stdin"), stdin: c.ClientSecret + "\n"},
		{args: []string{"idp", "login", enterpriseIdP, "--id-token-stdin"}, stdin: c.IDPIDToken + "\n"},
	}, nil
}

// enterpriseIdP is the name the driver gives the company's identity provider.
const enterpriseIdP = "corp"
