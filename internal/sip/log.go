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
//
// With parseFailed set, an error line of sipgo's that carries a message
// as "data" (sipgo's only report of a datagram it could not parse) goes
// there first; parseFailed takes it when its own parse of the data fails
// (the server answers it 400), else it is logged. No wording of sipgo's
// is relied on, and the guard does not parse each datagram a second time.
type demote struct {
	h           slog.Handler
	parseFailed func(data string) bool
}

func (d demote) level(l slog.Level) slog.Level {
	if l >= slog.LevelError {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

func (d demote) Enabled(ctx context.Context, l slog.Level) bool {
	return d.parseFailed != nil && l >= slog.LevelError || d.h.Enabled(ctx, d.level(l))
}

func (d demote) Handle(ctx context.Context, r slog.Record) error {
	if d.parseFailed != nil && r.Level >= slog.LevelError {
		var data string
		found := false
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "data" {
				data, found = a.Value.String(), true
			}
			return !found
		})
		if found && d.parseFailed(data) {
			return nil
		}
	}
	r.Level = d.level(r.Level)
	if !d.h.Enabled(ctx, r.Level) {
		return nil
	}
	return d.h.Handle(ctx, r)
}

func (d demote) WithAttrs(as []slog.Attr) slog.Handler {
	return demote{d.h.WithAttrs(as), d.parseFailed}
}
func (d demote) WithGroup(n string) slog.Handler { return demote{d.h.WithGroup(n), d.parseFailed} }

// SetProcessLogger routes the lines sipgo logs outside any server (its
// connection bookkeeping uses a process-wide logger) to log, demoted like
// the rest. It changes process-wide state: call it once, from main, never
// from a test.
func SetProcessLogger(log *slog.Logger) {
	sipmsg.SetDefaultLogger(slog.New(demote{h: log.Handler()}).With("component", "sipgo"))
}
