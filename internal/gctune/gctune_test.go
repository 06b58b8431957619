package gctune

import (
	"runtime/debug"
	"testing"
)

// restoreGC puts the test binary's collector settings back.
func restoreGC(t *testing.T) {
	p := debug.SetGCPercent(100)
	l := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(p); debug.SetMemoryLimit(l) })
}

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestApplyDefaults(t *testing.T) {
	restoreGC(t)
	s := Apply(env(nil), 8<<30, 0)
	if got := debug.SetGCPercent(-1); got != Percent || s.Percent != Percent {
		t.Errorf("GC percent %d (reported %d), want %d", got, s.Percent, Percent)
	}
	debug.SetGCPercent(Percent)
	if got := debug.SetMemoryLimit(-1); got != 4<<30 || s.Limit != 4<<30 {
		t.Errorf("memory limit %d (reported %d), want half of 8 GiB", got, s.Limit)
	}
}

func TestApplyCgroupLower(t *testing.T) {
	restoreGC(t)
	s := Apply(env(nil), 8<<30, 1<<30)
	if s.Limit != 512<<20 || s.LimitSrc != "cgroup memory.max" {
		t.Errorf("limit %d from %q, want 512 MiB from the cgroup", s.Limit, s.LimitSrc)
	}
	if got := debug.SetMemoryLimit(-1); got != 512<<20 {
		t.Errorf("runtime memory limit %d", got)
	}
}

// GOGC and GOMEMLIMIT in the environment are the runtime's: left alone.
func TestApplyEnvironmentWins(t *testing.T) {
	restoreGC(t)
	debug.SetGCPercent(77)
	debug.SetMemoryLimit(123 << 20)
	s := Apply(env(map[string]string{"GOGC": "77", "GOMEMLIMIT": "123MiB"}), 8<<30, 0)
	if got := debug.SetGCPercent(-1); got != 77 {
		t.Errorf("GC percent %d, want GOGC's 77 kept", got)
	}
	debug.SetGCPercent(77)
	if got := debug.SetMemoryLimit(-1); got != 123<<20 {
		t.Errorf("memory limit %d, want GOMEMLIMIT's kept", got)
	}
	if s.Percent != -1 || s.Limit != -1 || s.FromEnv != "GOGC,GOMEMLIMIT" {
		t.Errorf("settings %+v", s)
	}
}

// An unknown machine size sets no limit rather than a tiny one.
func TestApplyUnknownMemory(t *testing.T) {
	restoreGC(t)
	if s := Apply(env(nil), 0, 0); s.Limit != 0 {
		t.Errorf("limit %d with no memory size known", s.Limit)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<63-1 {
		t.Errorf("runtime memory limit %d, want none", got)
	}
}

func TestParseMemoryMax(t *testing.T) {
	for in, want := range map[string]int64{"max\n": 0, "1073741824\n": 1 << 30, "": 0, "garbage": 0, "-5": 0} {
		if got := parseMemoryMax(in); got != want {
			t.Errorf("parseMemoryMax(%q) = %d, want %d", in, got, want)
		}
	}
}
