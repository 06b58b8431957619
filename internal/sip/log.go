package sip

import (
	"context"
	"log/slog"

	sipmsg "github.com/emiago/sipgo/sip"
)

// demote is the handler sipgo logs through. sipgo logs what the network
// sends (unparsable messages, stray retransmissions) at Info and Error;
// here those are ours to judge, so its errors become warnings and the rest
// debug lines.
type demote struct{ h slog.Handler }

func (d demote) level(l slog.Level) slog.Level {
	if l >= slog.LevelError {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

func (d demote) Enabled(ctx context.Context, l slog.Level) bool {
	return d.h.Enabled(ctx, d.level(l))
}

func (d demote) Handle(ctx context.Context, r slog.Record) error {
	r.Level = d.level(r.Level)
	return d.h.Handle(ctx, r)
}

func (d demote) WithAttrs(as []slog.Attr) slog.Handler { return demote{d.h.WithAttrs(as)} }
func (d demote) WithGroup(n string) slog.Handler       { return demote{d.h.WithGroup(n)} }

// SetProcessLogger routes the lines sipgo logs outside any server (its
// connection bookkeeping uses a process-wide logger) to log, demoted like
// the rest. It changes process-wide state: call it once, from main, never
// from a test.
func SetProcessLogger(log *slog.Logger) {
	sipmsg.SetDefaultLogger(slog.New(demote{log.Handler()}).With("component", "sipgo"))
}
