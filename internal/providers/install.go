package providers

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-broker/mcp-broker/internal/testenv"
)

// EnvDir overrides where scripts/install-providers.sh put the providers.
const EnvDir = "MCP_BROKER_PROVIDERS_DIR"

// stampSources are the files, under testdata/providers and in this order, whose hash
// scripts/install-providers.sh writes into the build's stamp: a build of other sources is
// stale.
var stampSources = []string{"hydra/go.mod", "hydra/go.sum", "zitadel/go.mod", "zitadel/go.sum", "zitadel/main.go"}

// Install is one build of the providers.
type Install struct {
	// Dir is the install folder.
	Dir string
	// Hydra is the ory/hydra binary.
	Hydra string
	// ZitadelOP is the zitadel/oidc example OpenID provider (testdata/providers/zitadel).
	ZitadelOP string
}

// Require returns the current build of the providers. Without one (or with a stale one) it
// skips t, or fails it when CI=true: there a missing provider is a broken environment.
func Require(t testing.TB) *Install {
	t.Helper()
	in, missing, err := find()
	switch {
	case err != nil:
		t.Fatal(err)
	case missing != "" && testenv.InCI():
		t.Fatalf("%s (CI=true: the provider tests must run; `make test` builds the providers)", missing)
	case missing != "":
		t.Skip(missing)
	}
	return in
}

// find looks for the build: missing says why there is none usable.
func find() (in *Install, missing string, err error) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return nil, "no home folder to find the providers in: set " + EnvDir, nil
			}
			cache = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(cache, "mcp-broker-providers")
	}
	want, err := sourceHash()
	if err != nil {
		return nil, "", err
	}
	got, err := os.ReadFile(filepath.Join(dir, ".installed"))
	switch {
	case err != nil:
		return nil, fmt.Sprintf("the authorization servers are not built in %s: run scripts/install-providers.sh", dir), nil
	case strings.TrimSpace(string(got)) != want:
		return nil, fmt.Sprintf("the authorization servers in %s are stale: run scripts/install-providers.sh", dir), nil
	}
	in = &Install{Dir: dir, Hydra: filepath.Join(dir, "bin", "hydra"), ZitadelOP: filepath.Join(dir, "bin", "zitadel-op")}
	return in, "", nil
}

// sourceHash is what scripts/install-providers.sh writes into the stamp.
func sourceHash() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, f := range stampSources {
		b, err := os.ReadFile(filepath.Join(root, "testdata", "providers", f))
		if err != nil {
			return "", fmt.Errorf("reading the providers' pins: %w", err)
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ModuleRoot returns the folder of this module's go.mod, found upwards from the working
// folder (a test runs in its package's folder).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/mcp-broker/mcp-broker\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the mcp-broker module")
		}
		dir = parent
	}
}
