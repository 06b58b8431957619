package engine

import (
	"context"
	"log/slog"
	"slices"
)

// attrHandler adds attributes when a record is handled instead of
// preformatting them as slog's handlers do in WithAttrs: a logger per call
// and per node then costs no handler clone (and, as an inlineLogger, no
// allocation), and nearly every such logger never logs.
type attrHandler struct {
	inner slog.Handler
	attrs []slog.Attr
}

// inlineLogger is a logger with attributes added (withAttrs), held in the
// value that owns it (a call's run, a node's Exec) so that it costs no
// allocation of its own: up to five attributes fit.
type inlineLogger struct {
	l   slog.Logger
	h   attrHandler
	buf [5]slog.Attr
}

// init makes il parent with attrs added and returns it.
func (il *inlineLogger) init(parent *slog.Logger, attrs ...slog.Attr) *slog.Logger {
	inner := parent.Handler()
	all := il.buf[:0]
	if ah, ok := inner.(*attrHandler); ok {
		inner = ah.inner
		all = append(all, ah.attrs...)
	}
	all = append(all, attrs...)
	il.h = attrHandler{inner: inner, attrs: slices.Clip(all)}
	il.l = *slog.New(&il.h)
	return &il.l
}

func (h *attrHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *attrHandler) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	return h.inner.Handle(ctx, r)
}

func (h *attrHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &attrHandler{inner: h.inner, attrs: append(slices.Clip(h.attrs), attrs...)}
}

func (h *attrHandler) WithGroup(name string) slog.Handler {
	return h.inner.WithAttrs(h.attrs).WithGroup(name)
}
