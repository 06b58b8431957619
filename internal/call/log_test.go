package call_test

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/switchboard/switchboard/internal/call"
)

// TestLoggerWritesWhatWithWrites: a call's logger writes the same lines
// as slog's With, levels and groups included, and nothing below its level.
func TestLoggerWritesWhatWithWrites(t *testing.T) {
	var a, b bytes.Buffer
	opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(_ []string, at slog.Attr) slog.Attr {
		if at.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return at
	}}
	want := slog.New(slog.NewJSONHandler(&a, opts)).With("call_id", "CA1", "n", 2)
	got := call.Logger(slog.New(slog.NewJSONHandler(&b, opts)), "call_id", "CA1", "n", 2)
	for _, l := range []*slog.Logger{want, got} {
		l.Debug("not written", "x", 1)
		l.Info("answered", "code", 200)
		l.With("leg", "b").WithGroup("g").Warn("late", "ms", 30)
	}
	if a.String() != b.String() || a.Len() == 0 {
		t.Errorf("Logger wrote\n%s\nWith wrote\n%s", b.String(), a.String())
	}
}
