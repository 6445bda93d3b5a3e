package windows

import (
	"fmt"
	"slices"

	"fyne.io/fyne/v2/widget"

	"github.com/mcp-broker/mcp-broker/bridge/status"
	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/oauth"
	"github.com/mcp-broker/mcp-broker/broker/provider"
)

// The words people see for the broker's values, kept in one place so the
// status window and the server form say the same thing.

// choice pairs a configuration value with its label in one of the server form's selects.
type choice[T comparable] struct {
	value T
	label string
}

// choiceLabels are the labels of choices, in order: a select's options.
func choiceLabels[T comparable](choices []choice[T]) []string {
	labels := make([]string, len(choices))
	for i, c := range choices {
		labels[i] = c.label
	}
	return labels
}

// selectChoice selects in sel the choice of value, and leaves sel alone when there is none.
func selectChoice[T comparable](sel *widget.Select, choices []choice[T], value T) {
	if i := slices.IndexFunc(choices, func(c choice[T]) bool { return c.value == value }); i >= 0 {
		sel.SetSelectedIndex(i)
	}
}

// authChoices are the server form's sign-in methods, in the order shown.
var authChoices = []choice[config.AuthMode]{
	{config.AuthOAuth, "OAuth: sign in with the browser"},
	{config.AuthClientCredentials, "OAuth client credentials (no browser)"},
	{config.AuthBearer, "API key or bearer token"},
	{config.AuthNone, "None"},
	{config.AuthWorkload, "Workload identity: a JWT from a file or command (no browser)"},
	{config.AuthEnterprise, "Company account: through your identity provider"},
}

// clientAuthChoices are how a client-credentials client proves itself, in the order the server
// form shows them: config.Server.ClientAuth and its label.
var clientAuthChoices = []choice[string]{
	{"", "Client secret"},
	{config.ClientAuthPrivateKeyJWT, "Private key (signed JWT)"},
}

// dpopChoices are the server form's DPoP settings (RFC 9449), in the order shown:
// config.Server.DPoP and its label.
var dpopChoices = []choice[config.DPoPMode]{
	{config.DPoPAuto, "Automatic: when the server asks for it (recommended)"},
	{config.DPoPOn, "Always: bind every token to a key"},
	{config.DPoPOff, "Never: plain bearer tokens"},
}

// providerChoices are the server form's provider profiles (config.Server.Provider), in the order
// shown: detection first, then every profile, then detection off.
var providerChoices = []choice[string]{
	{"", "Detect from the sign-in server (recommended)"},
	{provider.Entra, "Microsoft Entra ID"},
	{provider.Google, "Google"},
	{provider.Auth0, "Auth0"},
	{provider.Okta, "Okta"},
	{provider.Cognito, "Amazon Cognito"},
	{provider.Keycloak, "Keycloak"},
	{provider.None, "None: the standard requests"},
}

// sendTokenChoices are the tokens a server can be sent (config.Server.SendToken), in the order
// the server form shows them.
var sendTokenChoices = []choice[string]{
	{"", "Access token (recommended)"},
	{provider.TokenID, "ID token"},
}

// transportChoices are the server form's transports, in the order shown.
var transportChoices = []choice[config.Transport]{
	{config.TransportAuto, "Automatic (recommended)"},
	{config.TransportStreamableHTTP, "Streamable HTTP"},
	{config.TransportSSE, "SSE (legacy)"},
}

// authName is an auth mode in a few words, for the status window.
func authName(m config.AuthMode) string {
	switch m {
	case config.AuthOAuth:
		return "OAuth (browser sign-in)"
	case config.AuthClientCredentials:
		return "OAuth client credentials"
	case config.AuthBearer:
		return "API key or bearer token"
	case config.AuthNone:
		return "none"
	case config.AuthWorkload:
		return "workload identity (JWT bearer)"
	case config.AuthEnterprise:
		return "company account (identity provider)"
	}
	return string(m)
}

// transportName is a transport as the status window shows it. Bridges report
// the transport in use with the same values as the configuration.
func transportName(t string) string {
	switch config.Transport(t) {
	case "", config.TransportAuto:
		return "automatic"
	case config.TransportStreamableHTTP:
		return "Streamable HTTP"
	case config.TransportSSE:
		return "SSE (legacy)"
	}
	return t
}

// clientKind says how mcp-broker got its OAuth client for a server.
func clientKind(kind string) string {
	switch kind {
	case oauth.KindDynamic:
		return "registered automatically"
	case oauth.KindPreRegistered:
		return "your client id"
	case oauth.KindMetadataDoc:
		return "client ID metadata document"
	}
	return kind
}

// toneImportance is the importance a badge takes for a sign-in state's tone.
func toneImportance(t broker.Tone) widget.Importance {
	switch t {
	case broker.ToneOK:
		return widget.SuccessImportance
	case broker.ToneAttention:
		return widget.WarningImportance
	}
	return widget.MediumImportance
}

// bridgeState is a bridge's state as a badge.
func bridgeState(s status.State) (string, widget.Importance) {
	switch s {
	case status.StateConnected:
		return "Connected", widget.SuccessImportance
	case status.StateStarting:
		return "Starting", widget.MediumImportance
	case status.StateNeedsSignIn:
		return "Waiting for sign-in", widget.WarningImportance
	case status.StateReconnecting:
		return "Reconnecting", widget.WarningImportance
	case status.StateError:
		return "Error", widget.DangerImportance
	}
	return sentenceCase(string(s)), widget.MediumImportance
}

// sentenceCase upper-cases the first letter, without adding a period.
func sentenceCase(s string) string {
	if s == "" {
		return "Unknown"
	}
	out := sentence(s)
	if out[len(out)-1] == '.' && s[len(s)-1] != '.' {
		out = out[:len(out)-1]
	}
	return out
}

// plural is "1 session" or "3 sessions".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
