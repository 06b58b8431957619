package call

import (
	"context"
	"log/slog"
	"sync"
)

// Logger is log.With(args...) for the lines of one call, at a fraction of
// the cost: slog's handlers format With's attributes the moment it is
// called (about a kilobyte, several allocations), and most calls never
// write a line at the levels a server runs at. The attributes are
// formatted the first time a line is written; the lines are the same.
func Logger(log *slog.Logger, args ...any) *slog.Logger {
	return slog.New(&lazyAttrs{h: log.Handler(), args: args})
}

// lazyAttrs is the handler of Logger: its parent's, with args added once
// a line needs them.
type lazyAttrs struct {
	h    slog.Handler
	args []any
	once sync.Once
	with slog.Handler
}

func (l *lazyAttrs) handler() slog.Handler {
	l.once.Do(func() { l.with = slog.New(l.h).With(l.args...).Handler() })
	return l.with
}

func (l *lazyAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

func (l *lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	return l.handler().Handle(ctx, r)
}

func (l *lazyAttrs) WithAttrs(as []slog.Attr) slog.Handler { return l.handler().WithAttrs(as) }
func (l *lazyAttrs) WithGroup(name string) slog.Handler    { return l.handler().WithGroup(name) }
