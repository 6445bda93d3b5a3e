package doctor

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/discovery"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
)

// Hand-written authorization servers bend the rules in a few common ways (see oauth.Deviation
// for those mcp-broker works around). Doctor probes for the two it can see without a sign-in
// (an authorization endpoint that is only a stub, a token endpoint that reads only JSON), and
// for a configured server reports those the broker saw at its last sign-in or renewal. Each
// finding's severity says whether sign-in still works: Warn or Info when it does, Fail when it
// does not. (The third it can see, an issuer with a trailing slash, is the auth server item's.)

// Items of the deviations, in report order.
const (
	itemAuthPage      = "authorization page"
	itemTokenRequests = "token requests"
	itemExpiresIn     = "expires_in"
	itemTokenType     = "token_type"
	itemRegAnswer     = "registration answer"
)

// authorizationPage probes the authorization endpoint as a browser arriving without parameters
// would (discovery.ProbeAuthorizationEndpoint), for a server a person signs in to through the
// browser. A stub there means nobody can; the finding then says whether the authorization
// server offers the client-credentials grant instead.
func (d *diagnosis) authorizationPage(ctx context.Context, f *discovery.Fetcher, m *discovery.AuthServerMetadata) {
	if d.setup != nil && d.setup.Server.Auth != config.AuthOAuth && d.setup.Server.Auth != "" {
		return // no browser for this server
	}
	if m.AuthorizationEndpoint == "" || discovery.CheckEndpoint(m.AuthorizationEndpoint) != nil {
		return // the endpoints item reports it
	}
	assumed := d.res.AuthServerMetadataURL == ""
	if !assumed && !m.SupportsGrant("authorization_code") {
		return // the grant types item reports it
	}
	page, err := f.ProbeAuthorizationEndpoint(ctx, m.AuthorizationEndpoint)
	if err != nil {
		d.add(itemAuthPage, Warn, "could not be probed: "+err.Error())
		return
	}
	detail := "GET without parameters: " + page.Why
	cc := ""
	if m.SupportsGrant("client_credentials") {
		cc = "\nthe authorization server offers the client-credentials grant: for a machine's access, configure the server with --auth client-credentials (with --client-id and --client-secret-stdin unless it registers clients itself)"
	}
	switch {
	case page.Verdict == discovery.PageServes:
		d.add(itemAuthPage, OK, detail)
	case page.Verdict == discovery.PageDoubtful:
		d.add(itemAuthPage, Warn, detail+"\nit may be only a stub: if the browser sign-in never comes back, that is why"+cc)
	case assumed:
		// The 2025-03-26 default is a guess: a stub there may be no endpoint at all.
		d.add(itemAuthPage, Warn, detail+"\nthe assumed 2025-03-26 default is not there: a browser sign-in will not work"+cc)
	default:
		d.add(itemAuthPage, Fail, detail+"\nthe authorization endpoint is only a stub: a person cannot sign in through the browser"+cc)
	}
}

// tokenRequests probes whether the token endpoint reads form-encoded requests, as RFC 6749
// §3.2 has them (oauth.ProbeTokenEndpoint): with a request from a client no server knows,
// which carries no secret and which every token endpoint refuses.
func (d *diagnosis) tokenRequests(ctx context.Context, f *discovery.Fetcher, m *discovery.AuthServerMetadata) {
	if m.TokenEndpoint == "" || discovery.CheckEndpoint(m.TokenEndpoint) != nil {
		return // the endpoints item reports it
	}
	p, err := oauth.ProbeTokenEndpoint(ctx, f.Client(), m.TokenEndpoint)
	switch {
	case err != nil:
		d.add(itemTokenRequests, Warn, "could not be probed: "+err.Error())
	case p.RefusedForm && p.ReadJSON:
		d.add(itemTokenRequests, Warn, fmt.Sprintf("the token endpoint reads only JSON bodies: it answered a form as if it had not read it (%d), and read the same request as JSON (%d)\n"+
			"RFC 6749 §3.2 asks for a form; mcp-broker sends JSON after the first refusal and remembers it", p.FormStatus, p.JSONStatus))
	case p.RefusedForm:
		d.add(itemTokenRequests, Fail, fmt.Sprintf("the token endpoint answered a form as if it had not read it (%d), and the same request as JSON too (%d): mcp-broker cannot get a token from it", p.FormStatus, p.JSONStatus))
	case p.FormStatus == http.StatusBadRequest || p.FormStatus == http.StatusUnauthorized:
		d.add(itemTokenRequests, OK, fmt.Sprintf("form-encoded: a request from an unknown client was refused (%d), as it should be", p.FormStatus))
	case p.FormStatus == http.StatusNotFound || p.FormStatus == http.StatusMethodNotAllowed:
		d.add(itemTokenRequests, Warn, fmt.Sprintf("the token endpoint answered %d to a POST: is token_endpoint right?", p.FormStatus))
	default:
		d.add(itemTokenRequests, Info, fmt.Sprintf("a request from an unknown client was answered %d", p.FormStatus))
	}
}

// learnedItems says under which item, and how grave, each deviation the broker saw is reported.
var learnedItems = map[oauth.Deviation]struct {
	item string
	sev  Severity
}{
	oauth.DeviationJSONBody:         {itemTokenRequests, Warn},
	oauth.DeviationExpiresInString:  {itemExpiresIn, Warn},
	oauth.DeviationNoExpiresIn:      {itemExpiresIn, Warn},
	oauth.DeviationNoTokenType:      {itemTokenType, Warn},
	oauth.DeviationTokenTypeCase:    {itemTokenType, Info},
	oauth.DeviationRegistration200:  {itemRegAnswer, Info},
	oauth.DeviationNoRedirectURIs:   {itemRegAnswer, Info},
	oauth.DeviationOtherRedirectURI: {itemRegAnswer, Warn},
}

// learned reports, for a configured server, the deviations the broker saw at its last sign-in
// or renewal (Setup.Deviations), which no probe without a sign-in can show: one finding per
// item, the gravest deviation's severity. A JSON-only token endpoint the probe saw is not told
// twice.
func (d *diagnosis) learned() {
	if d.setup == nil {
		return
	}
	lines := map[string][]string{}
	sev := map[string]Severity{}
	var order []string
	for _, dev := range d.setup.Deviations {
		li, ok := learnedItems[dev]
		if !ok {
			li.item, li.sev = "seen at sign-in", Info // from a newer version
		}
		if li.item == itemTokenRequests && d.has(itemTokenRequests) {
			continue
		}
		if _, seen := lines[li.item]; !seen {
			order = append(order, li.item)
		}
		lines[li.item] = append(lines[li.item], dev.Describe())
		sev[li.item] = max(sev[li.item], li.sev)
	}
	for _, item := range order {
		d.add(item, sev[item], "seen at the last sign-in: "+strings.Join(lines[item], "\n"))
	}
}

// has reports whether the report holds a finding of item already, other than an OK one.
func (d *diagnosis) has(item string) bool {
	return slices.ContainsFunc(d.report.Findings, func(f Finding) bool { return f.Item == item && f.Severity != OK })
}
