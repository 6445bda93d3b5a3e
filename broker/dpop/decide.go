package dpop

import (
	"slices"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/jws"
)

// Alg is the one proof algorithm the broker signs with: ES256, which RFC 9449 implementations
// must all verify in practice, on a P-256 key it makes itself.
const Alg = jws.ES256

// Support is what a server's discovery documents and challenge say about DPoP.
type Support struct {
	// AuthServerAlgs is the authorization server's dpop_signing_alg_values_supported
	// (RFC 9449 §5.1): it binds tokens to proofs made with these.
	AuthServerAlgs []string
	// ResourceAlgs is the resource metadata's dpop_signing_alg_values_supported (RFC 9728 §2):
	// the resource accepts DPoP-bound tokens with proofs made with these.
	ResourceAlgs []string
	// ResourceRequires is the resource metadata's dpop_bound_access_tokens_required.
	ResourceRequires bool
	// Challenged: the resource's 401 carried a DPoP challenge (RFC 9449 §7.1), so it accepts
	// DPoP-bound tokens; ChallengeAlgs is its algs parameter (nil when it names none).
	Challenged    bool
	ChallengeAlgs []string
}

// SupportOf reads Support from what discovery found.
func SupportOf(res *discovery.Result) Support {
	var s Support
	if res == nil {
		return s
	}
	if as := res.AuthServer; as != nil {
		s.AuthServerAlgs = as.DPoPSigningAlgValuesSupported
	}
	if prm := res.ResourceMetadata; prm != nil {
		s.ResourceAlgs, s.ResourceRequires = prm.DPoPSigningAlgValuesSupported, prm.DPoPBoundAccessTokensRequired
	}
	if ch := res.DPoPChallenge; ch != nil {
		s.Challenged, s.ChallengeAlgs = true, ch.Algs()
	}
	return s
}

// AuthServerIssues reports whether the authorization server says it binds tokens to ES256
// proofs.
func (s Support) AuthServerIssues() bool { return slices.Contains(s.AuthServerAlgs, Alg) }

// ResourceAccepts reports whether the resource says it accepts DPoP-bound tokens with ES256
// proofs: it requires them, its metadata lists ES256, or its challenge is a DPoP one that
// names ES256 or no algorithm at all.
func (s Support) ResourceAccepts() bool {
	return s.ResourceRequires || slices.Contains(s.ResourceAlgs, Alg) ||
		(s.Challenged && (len(s.ChallengeAlgs) == 0 || slices.Contains(s.ChallengeAlgs, Alg)))
}

// Decide says whether a sign-in to a server configured with mode asks for DPoP-bound tokens,
// and why, in words for people (doctor, the log).
//
// On and off are the person's word. Auto uses DPoP when the resource requires it, or when both
// sides say they support it: the authorization server lists ES256 and the resource accepts
// DPoP tokens. Support on the authorization server alone is not enough, and that is what keeps
// auto safe: many authorization servers (Keycloak, Auth0, Okta) advertise DPoP for all their
// clients, and a token bound at one of them is refused by a resource server that knows only
// Bearer tokens. A resource that accepts DPoP with an authorization server that does not
// advertise it gets Bearer tokens, which it accepts too.
//
// A proof sent to an authorization server that does not bind tokens is ignored there: it
// answers with a Bearer token, which is then presented as one. So "on" never breaks a sign-in.
func Decide(mode config.DPoPMode, s Support) (use bool, why string) {
	switch mode {
	case config.DPoPOff:
		return false, "DPoP is turned off for this server (--dpop off): tokens are Bearer tokens"
	case config.DPoPOn:
		if !s.AuthServerIssues() {
			return true, "DPoP is turned on for this server (--dpop on), though the authorization server does not advertise ES256 DPoP proofs: if it answers with a Bearer token, that is used as one"
		}
		return true, "DPoP is turned on for this server (--dpop on)"
	}
	switch {
	case s.ResourceRequires:
		return true, "the resource requires DPoP-bound tokens (dpop_bound_access_tokens_required): tokens are bound to a key of this broker"
	case s.ResourceAccepts() && s.AuthServerIssues():
		return true, "the authorization server binds tokens to ES256 proofs and the resource accepts DPoP-bound tokens: tokens are bound to a key of this broker"
	case s.AuthServerIssues():
		return false, "the authorization server supports DPoP but the resource does not say it accepts DPoP-bound tokens: tokens are Bearer tokens (--dpop on binds them)"
	case s.ResourceAccepts():
		return false, "the resource accepts DPoP-bound tokens but the authorization server does not advertise ES256 DPoP proofs: tokens are Bearer tokens (--dpop on tries)"
	}
	return false, "neither the authorization server nor the resource advertises DPoP: tokens are Bearer tokens"
}
