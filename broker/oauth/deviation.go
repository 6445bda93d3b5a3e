package oauth

import "slices"

// Deviation names one way an authorization server departs from the OAuth specifications that
// this package tolerates: hand-written servers often read only JSON, write expires_in as a
// string, or register other redirect URIs than asked. The functions that meet one carry on as
// its description says and report it (Token.Deviations, Client.Deviations, BodyFormats), so
// that the broker can keep it for `status` and `doctor`: a person should know what their server
// gets wrong even when sign-in works.
//
// What is not tolerated stays an error: a registration whose redirect URIs the broker cannot
// receive a sign-in on, metadata whose issuer differs by more than a trailing slash (package
// discovery), an iss that is not exactly the issuer.
type Deviation string

// The deviations. Their values are stable: they are kept in the state file and written by
// `status --json`.
const (
	// DeviationJSONBody: the token endpoint refused a form-encoded request (RFC 6749 §3.2 asks
	// for one) in a way that shows it never read it, and took the same request as JSON. The
	// endpoint is remembered (BodyFormats) and later requests go as JSON at once.
	DeviationJSONBody Deviation = "token-endpoint-json-only"
	// DeviationExpiresInString: expires_in came as a string ("3600"), not a number (RFC 6749
	// §5.1); it is read all the same.
	DeviationExpiresInString Deviation = "expires-in-string"
	// DeviationNoExpiresIn: the token response had no usable expires_in, so when the token
	// expires is unknown. The broker assumes a lifetime for a token it can renew without a
	// person and renews any token when the server refuses it.
	DeviationNoExpiresIn Deviation = "expires-in-missing"
	// DeviationNoTokenType: the token response had no token_type (RFC 6749 §5.1 requires one);
	// the token is taken as a Bearer token.
	DeviationNoTokenType Deviation = "token-type-missing"
	// DeviationTokenTypeCase: token_type was "bearer" or another case of it. RFC 6749 §5.1
	// allows any case, but servers often compare the Authorization scheme as written, so the
	// token is sent as "Bearer". Worth knowing, nothing to fix.
	DeviationTokenTypeCase Deviation = "token-type-case"
	// DeviationRegistration200: the registration endpoint answered 200 instead of the 201
	// Created of RFC 7591 §3.2.1; the registration is used all the same.
	DeviationRegistration200 Deviation = "registration-200"
	// DeviationNoRedirectURIs: the registration answer listed no redirect_uris (RFC 7591
	// §3.2.1 returns every registered field), so whether the server took ours is unknown; it
	// is used, and the authorization endpoint is the judge.
	DeviationNoRedirectURIs Deviation = "registration-no-redirect-uris"
	// DeviationOtherRedirectURI: the registration answer listed other redirect URIs than the
	// one asked for. The broker never sends the browser to a redirect URI the server did not
	// accept: it receives the sign-in on the first of them that is a loopback http URI with a
	// port (RFC 8252 §7.3), and refuses the registration when there is none.
	DeviationOtherRedirectURI Deviation = "registration-other-redirect-uri"
)

// deviationWords are the deviations described for people.
var deviationWords = map[Deviation]string{
	DeviationJSONBody:         "the token endpoint reads only JSON bodies, not the form OAuth specifies: requests to it are sent as JSON",
	DeviationExpiresInString:  `expires_in comes as a string ("3600"), not a number: read all the same`,
	DeviationNoExpiresIn:      "the token response says nothing usable about when the token expires (no expires_in): a lifetime is assumed where the token renews without you, and a token the server refuses is renewed",
	DeviationNoTokenType:      "the token response has no token_type: the token is sent as a Bearer token",
	DeviationTokenTypeCase:    `token_type is not written "Bearer" (RFC 6749 allows any case): the token is sent as "Bearer"`,
	DeviationRegistration200:  "the registration endpoint answers 200, not 201 Created: the registration is used all the same",
	DeviationNoRedirectURIs:   "the registration answer lists no redirect_uris: the redirect URI asked for is used",
	DeviationOtherRedirectURI: "the registration endpoint ignored the redirect URI asked for and registered its own: the sign-in is received on its loopback redirect URI",
}

// Describe says what the server does and what is done about it, in one sentence for people;
// an unknown value (from a newer version's state file) is returned as it is.
func (d Deviation) Describe() string {
	if w, ok := deviationWords[d]; ok {
		return w
	}
	return string(d)
}

// addDeviation appends d to list unless it is there.
func addDeviation(list []Deviation, d Deviation) []Deviation {
	if slices.Contains(list, d) {
		return list
	}
	return append(list, d)
}
