// Package gctune holds the garbage collector settings the server runs
// with, in one place, so that the server and the benchmarks that speak for
// it (bench/) apply the same ones.
package gctune

import (
	"bufio"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// A call server's live heap is small (tens of kilobytes per call) and it
// allocates fast (every call's SIP messages, trace and log), so Go's
// default GOGC=100 collects often for little. The server runs with a higher
// GC percent, bounded by a soft memory limit so that a large heap is still
// collected well before the machine runs short. GOGC and GOMEMLIMIT in the
// environment win, as Go users expect: each one set there is left to the
// runtime (GOGC=off with a GOMEMLIMIT included).
const (
	// Percent is the heap growth between collections (GOGC). 400 since
	// gcalloc (bench/RESULTS.md): against 200, about half the collections
	// and their CPU, and no more memory per call at 1,000 concurrent
	// calls (32-34 KB against 38, goal <= 45 KB); 200 came from callcost.
	Percent = 400
	// LimitShare is the share of the machine's memory (or of the
	// cgroup's limit, when lower) that the soft limit allows the process.
	LimitShare = 0.5
)

// Settings is what Apply set, for the startup log.
type Settings struct {
	Percent  int    // -1: left to GOGC
	Limit    int64  // bytes; -1: left to GOMEMLIMIT, 0: none found
	FromEnv  string // the variables that were left to the runtime
	LimitSrc string // where the limit came from
}

// Server applies the server's settings to this process: Apply with the
// machine's and the cgroup's memory. getenv is os.Getenv.
func Server(getenv func(string) string) Settings {
	return Apply(getenv, MachineMemory(), CgroupMemoryMax())
}

// Apply sets the collector's percent and soft memory limit unless the
// environment sets them (getenv is os.Getenv; memTotal and cgroupMax say
// how much memory the machine and the cgroup have, 0 when unknown).
func Apply(getenv func(string) string, memTotal, cgroupMax int64) Settings {
	s := Settings{Percent: -1, Limit: -1}
	var env []string
	if getenv("GOGC") != "" {
		env = append(env, "GOGC")
	} else {
		debug.SetGCPercent(Percent)
		s.Percent = Percent
	}
	if getenv("GOMEMLIMIT") != "" {
		env = append(env, "GOMEMLIMIT")
	} else {
		avail, src := memTotal, "machine memory"
		if cgroupMax > 0 && (avail <= 0 || cgroupMax < avail) {
			avail, src = cgroupMax, "cgroup memory.max"
		}
		s.Limit = 0
		if avail > 0 {
			s.Limit = int64(float64(avail) * LimitShare)
			s.LimitSrc = src
			debug.SetMemoryLimit(s.Limit)
		}
	}
	s.FromEnv = strings.Join(env, ",")
	return s
}

// MachineMemory is the machine's physical memory in bytes, 0 when unknown.
func MachineMemory() int64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

// CgroupMemoryMax is the cgroup v2 memory.max of this process in bytes, 0
// when there is none ("max") or it cannot be read.
func CgroupMemoryMax() int64 {
	path := "/sys/fs/cgroup/memory.max"
	if f, err := os.Open("/proc/self/cgroup"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "0::"); ok && rest != "/" {
				path = "/sys/fs/cgroup" + rest + "/memory.max"
			}
		}
		f.Close()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return parseMemoryMax(string(b))
}

// parseMemoryMax reads a cgroup memory.max value: bytes, or "max".
func parseMemoryMax(v string) int64 {
	v = strings.TrimSpace(v)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// String is the startup log's summary of the settings.
func (s Settings) String() string {
	p := "GOGC from the environment"
	if s.Percent >= 0 {
		p = fmt.Sprintf("GC percent %d", s.Percent)
	}
	l := "GOMEMLIMIT from the environment"
	switch {
	case s.Limit > 0:
		l = fmt.Sprintf("soft memory limit %d MiB (%.0f %% of %s)", s.Limit>>20, LimitShare*100, s.LimitSrc)
	case s.Limit == 0:
		l = "no soft memory limit (the machine's memory is unknown)"
	}
	return p + ", " + l
}
