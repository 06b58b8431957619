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
// With parseFailed set, the line sipgo writes when a UDP datagram does not
// parse goes there instead of the log: the server answers it 400 (the
// guard does not parse each datagram a second time to find out).
type demote struct {
	h           slog.Handler
	parseFailed func(data string, err any)
}

// sipgoParseFailed is the message of the line sipgo's UDP transport logs,
// with the datagram as "data", when a datagram does not parse.
const sipgoParseFailed = "failed to parse"

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
	if d.parseFailed != nil && r.Level >= slog.LevelError && r.Message == sipgoParseFailed {
		var data string
		var err any
		found := false
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "data":
				data, found = a.Value.String(), true
			case "error":
				err = a.Value.Any()
			}
			return true
		})
		if found {
			d.parseFailed(data, err)
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
