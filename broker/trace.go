package broker

import "context"

// StepName names a step of a sign-in or of a token's renewal, as a trace reports it.
type StepName string

// The steps a trace reports.
const (
	// StepDiscovery: the server's protected resource metadata and its authorization server's
	// metadata were fetched.
	StepDiscovery StepName = "discovery"
	// StepRegistration: the client registered itself (dynamic client registration).
	StepRegistration StepName = "registration"
	// StepAuthorization: the browser came back to the callback with a code (or did not); for
	// a device sign-in, the device code was issued and then approved (or refused, or expired).
	StepAuthorization StepName = "authorization"
	// StepToken: a token was requested from the server's authorization server: the code
	// exchanged (browser sign-in), the device code (device sign-in), or a grant without a
	// person (client credentials, a workload's or an identity provider's JWT).
	StepToken StepName = "token"
	// StepExchange: the identity provider exchanged the person's sign-in there for a grant to
	// the server (enterprise-managed authorization, RFC 8693 token exchange).
	StepExchange StepName = "exchange"
	// StepRefresh: a refresh token was exchanged for a new access token (for an enterprise
	// server, the identity provider's sign-in was renewed).
	StepRefresh StepName = "refresh"
)

// Step is one step of a sign-in or renewal and its outcome. It holds no secret: Err is an
// error of the broker's, which by the house rule never quotes a token, code or client secret.
type Step struct {
	Server string
	Name   StepName
	// Err is nil when the step succeeded.
	Err error
}

// traceKey is the context key of a trace.
type traceKey struct{}

// WithTrace returns ctx carrying fn, which the broker calls with each step of the sign-ins and
// renewals run under ctx, as net/http/httptrace does for requests: the bridge passes one so
// that its traffic timeline shows the steps of a sign-in it triggers, without the broker
// knowing who listens. fn must return quickly and not call the broker.
func WithTrace(ctx context.Context, fn func(Step)) context.Context {
	return context.WithValue(ctx, traceKey{}, fn)
}

// trace reports a step to ctx's trace, if any.
func trace(ctx context.Context, server string, name StepName, err error) {
	if fn, ok := ctx.Value(traceKey{}).(func(Step)); ok && fn != nil {
		fn(Step{Server: server, Name: name, Err: err})
	}
}
