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
	l := &lazyAttrs{h: log.Handler(), args: args}
	l.logger = *slog.New(l)
	return &l.logger
}

// LoggerAttrs is Logger for attributes (slog.String …): up to four are
// kept in the logger's own allocation, so a call's logger costs one
// allocation and boxes nothing.
func LoggerAttrs(log *slog.Logger, attrs ...slog.Attr) *slog.Logger {
	l := &lazyAttrs{h: log.Handler()}
	l.attrs = append(l.buf[:0], attrs...)
	l.logger = *slog.New(l)
	return &l.logger
}

// lazyAttrs is the handler of Logger: its parent's, with args (or attrs)
// added once a line needs them. It holds the Logger it serves, so that
// both are one allocation.
type lazyAttrs struct {
	logger slog.Logger
	h      slog.Handler
	args   []any
	attrs  []slog.Attr
	buf    [4]slog.Attr
	once   sync.Once
	with   slog.Handler
}

func (l *lazyAttrs) handler() slog.Handler {
	l.once.Do(func() {
		if l.attrs != nil {
			l.with = l.h
			if len(l.attrs) > 0 {
				l.with = l.h.WithAttrs(l.attrs)
			}
			return
		}
		l.with = slog.New(l.h).With(l.args...).Handler()
	})
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
