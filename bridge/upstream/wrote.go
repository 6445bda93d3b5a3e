package upstream

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync"
)

type wroteKey struct{}

// WithWrote returns a context that makes Send call fn once the message has been written to
// the connection (not when the answer arrives). The bridge uses it to keep a notification such
// as notifications/cancelled from overtaking the request it is about, which is still being
// written on another connection.
func WithWrote(ctx context.Context, fn func()) context.Context {
	return context.WithValue(ctx, wroteKey{}, sync.OnceFunc(fn))
}

// traceWrote attaches the WithWrote callback of ctx, if any, to req.
func traceWrote(req *http.Request) *http.Request {
	fn, ok := req.Context().Value(wroteKey{}).(func())
	if !ok {
		return req
	}
	return req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { fn() },
	}))
}
