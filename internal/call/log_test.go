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

// TestLoggerAttrsWritesWhatWithWrites: LoggerAttrs writes the lines With
// writes, and a logger with more attributes than it holds inline too.
func TestLoggerAttrsWritesWhatWithWrites(t *testing.T) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(_ []string, at slog.Attr) slog.Attr {
		if at.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return at
	}}
	for _, attrs := range [][]slog.Attr{
		nil,
		{slog.String("call_id", "CA1"), slog.Int("n", 2)},
		{slog.String("a", "1"), slog.String("b", "2"), slog.String("c", "3"), slog.String("d", "4"), slog.String("e", "5")},
	} {
		var a, b bytes.Buffer
		args := make([]any, len(attrs))
		for i, at := range attrs {
			args[i] = at
		}
		want := slog.New(slog.NewJSONHandler(&a, opts)).With(args...)
		got := call.LoggerAttrs(slog.New(slog.NewJSONHandler(&b, opts)), attrs...)
		for _, l := range []*slog.Logger{want, got} {
			l.Debug("not written", "x", 1)
			l.Info("answered", "code", 200)
			l.With("leg", "b").WithGroup("g").Warn("late", "ms", 30)
		}
		if a.String() != b.String() || a.Len() == 0 {
			t.Errorf("LoggerAttrs(%v) wrote\n%s\nWith wrote\n%s", attrs, b.String(), a.String())
		}
	}
}

// TestLoggerAttrsAllocs: a call's logger that never writes costs one
// allocation.
func TestLoggerAttrsAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("instrumented builds allocate more")
	}
	base := slog.New(slog.NewJSONHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	id, acct := "CA0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"
	n := testing.AllocsPerRun(100, func() {
		l := call.LoggerAttrs(base, slog.String("call_id", id), slog.String("account_id", acct))
		l.Info("not written", "code", 200)
	})
	if n > 1 {
		t.Errorf("LoggerAttrs: %.0f allocations, want 1", n)
	}
}

// TestNewCallSid: "CA" and 32 lower-case hex digits, a fresh one each time.
func TestNewCallSid(t *testing.T) {
	a, b := call.NewCallSid(), call.NewCallSid()
	if a == b || len(a) != 34 || a[:2] != "CA" || call.LegSid(a) != a {
		t.Errorf("NewCallSid gave %q and %q", a, b)
	}
}
