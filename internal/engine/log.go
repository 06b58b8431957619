package engine

import (
	"context"
	"log/slog"
	"slices"
)

// attrHandler adds attributes when a record is handled instead of
// preformatting them as slog's handlers do in WithAttrs: a logger per call
// and per node then costs two small allocations, not a handler clone, and
// nearly every such logger never logs.
type attrHandler struct {
	inner slog.Handler
	attrs []slog.Attr
}

func withAttrs(l *slog.Logger, attrs ...slog.Attr) *slog.Logger {
	h := l.Handler()
	if ah, ok := h.(*attrHandler); ok {
		return slog.New(&attrHandler{inner: ah.inner, attrs: append(slices.Clip(ah.attrs), attrs...)})
	}
	return slog.New(&attrHandler{inner: h, attrs: attrs})
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
