package redact

import (
	"context"
	"fmt"
	"log/slog"
)

// Handler returns h with the secrets of the URL raw taken out (see Text) of every record's
// message and of its attributes' values: strings, errors and anything else printed as text.
// A logger built on it can be handed to code that logs whatever error it got (a server's
// error page that quotes the request URL, a *url.Error) without each call site remembering
// to redact. A URL with nothing to hide returns h itself, at no cost.
func Handler(h slog.Handler, raw string) slog.Handler {
	if Text(raw, raw) == raw {
		return h
	}
	return &handler{next: h, raw: raw}
}

type handler struct {
	next slog.Handler
	raw  string
}

func (x *handler) Enabled(ctx context.Context, l slog.Level) bool { return x.next.Enabled(ctx, l) }

func (x *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Text(r.Message, x.raw), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(x.attr(a))
		return true
	})
	return x.next.Handle(ctx, out)
}

func (x *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = x.attr(a)
	}
	return &handler{next: x.next.WithAttrs(red), raw: x.raw}
}

func (x *handler) WithGroup(name string) slog.Handler {
	return &handler{next: x.next.WithGroup(name), raw: x.raw}
}

// attr redacts one attribute's value. Values that print as text are replaced by their
// redacted text only when redaction changed it; numbers, times and the like pass as they are.
func (x *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Text(v.String(), x.raw))
	case slog.KindGroup:
		group := v.Group()
		red := make([]slog.Attr, len(group))
		for i, g := range group {
			red[i] = x.attr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}
	case slog.KindAny:
		s := fmt.Sprintf("%+v", v.Any())
		if red := Text(s, x.raw); red != s {
			return slog.String(a.Key, red)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
