// Package providers runs real authorization servers that this project did not write on
// 127.0.0.1, for tests of the whole sign-in against them: ory/hydra v2 with a login and
// consent app of ours in front of its admin API (as hydra is deployed), and the OpenID
// provider example of zitadel/oidc v3. It also holds what a resource server needs to trust
// their tokens: token introspection (hydra) and JWT access tokens checked with the
// provider's JWKS (zitadel), behind the Verifier of internal/demo/mcpserver.
//
// The servers are Go programs built from modules pinned in testdata/providers, each its
// own module so that their dependencies stay out of the product's go.mod, by
// scripts/install-providers.sh into a cache folder ($MCP_BROKER_PROVIDERS_DIR, default
// ~/.cache/mcp-broker-providers). Require finds that build; without it the tests skip,
// except under CI=true, where they fail. The tests of the package sit behind the build tag
// `providers`:
//
//	scripts/install-providers.sh && go test -tags providers -v ./internal/providers
//
// `make test` runs them as its step `providers` (scripts/test.sh).
package providers
