package broker

import "net/url"

// Secret store keys. Each holds one secret, small enough for the macOS and Windows caps. The
// account name always includes the server, and a client registration's also the issuer of the
// authorization server it belongs to.
func tokenKey(server string) string        { return "oauth-token/" + server }
func refreshKey(server string) string      { return "refresh-token/" + server }
func clientSecretKey(server string) string { return "client-secret/" + server }
func staticTokenKey(server string) string  { return "static-token/" + server }
func registrationKey(server, issuer string) string {
	return "oauth-client/" + server + "/" + url.PathEscape(issuer)
}
