package doctor

import (
	"strings"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/dpop"
)

// dpop says what the server's two sides say of DPoP (RFC 9449) and what mcp-broker does with
// it (dpop.Decide), for the server's setting (`doctor NAME`) or the default one (`doctor URL`).
// A server that says nothing of it, set the default way, gets no finding: it is the common
// case, and there is nothing to know.
func (d *diagnosis) dpop() {
	var mode config.DPoPMode
	if d.setup != nil {
		mode = d.setup.Server.DPoP
	}
	s := dpop.SupportOf(d.res)
	advertised := len(s.AuthServerAlgs) > 0 || len(s.ResourceAlgs) > 0 || s.ResourceRequires || s.Challenged
	if !advertised && (mode == "" || mode == config.DPoPAuto) {
		return
	}
	var lines []string
	if len(s.AuthServerAlgs) > 0 {
		lines = append(lines, "authorization server: binds tokens to proofs signed with "+strings.Join(s.AuthServerAlgs, ", "))
	} else {
		lines = append(lines, "authorization server: does not advertise DPoP (no dpop_signing_alg_values_supported)")
	}
	switch {
	case s.ResourceRequires:
		lines = append(lines, "resource: requires DPoP-bound tokens (dpop_bound_access_tokens_required)")
	case len(s.ResourceAlgs) > 0:
		lines = append(lines, "resource: accepts DPoP-bound tokens with proofs signed with "+strings.Join(s.ResourceAlgs, ", "))
	case s.Challenged && len(s.ChallengeAlgs) > 0:
		lines = append(lines, "resource: its 401 has a DPoP challenge, for proofs signed with "+strings.Join(s.ChallengeAlgs, ", "))
	case s.Challenged:
		lines = append(lines, "resource: its 401 has a DPoP challenge: it accepts DPoP-bound tokens")
	default:
		lines = append(lines, "resource: does not say it accepts DPoP-bound tokens")
	}
	use, why := dpop.Decide(mode, s)
	lines = append(lines, "mcp-broker: "+why)
	sev := Info
	switch {
	case s.ResourceRequires && (!use || !s.AuthServerIssues()):
		// Off, or an authorization server that may not bind: the resource will refuse.
		sev = Warn
	case use && s.AuthServerIssues():
		sev = OK
	case !use && s.ResourceAccepts() && !s.AuthServerIssues() && len(s.AuthServerAlgs) > 0:
		lines = append(lines, "(the authorization server lists only algorithms mcp-broker does not sign with: it signs with "+dpop.Alg+")")
	}
	d.add(itemDPoP, sev, strings.Join(lines, "\n"))
}
