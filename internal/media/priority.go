package media

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Priority is how the media work competes for the CPU with the other
// processes of the machine (sipp, a database, a capture): the media pacers
// must wake within a millisecond or two every 20 ms, and on a busy machine
// the kernel's wake-up latency, not the work of a tick, is what makes them
// late. Real PBXs offer the same switch (FreeSWITCH -hp, Asterisk -p). The
// pacing has a thread of its own (pacethread.go), which can be raised
// alone, so that the rest of the server (SIP, the store, the GC) keeps
// competing as any other program and cannot starve its neighbours.
type Priority int

// The priorities --media-priority accepts.
const (
	// PriorityNormal (the zero value; the server's default is
	// PriorityBounded) raises nothing: every thread competes as any
	// other program's.
	PriorityNormal Priority = iota
	// PriorityHigh gives every thread a nice of highNice (needs
	// CAP_SYS_NICE, or an RLIMIT_NICE that allows it) and, on kernels with
	// EEVDF custom slices (6.12+), a slice of highSlice, which lets a
	// thread that wakes preempt one running a longer slice (no privilege
	// needed); and it raises the pacing thread as PriorityPacer does.
	PriorityHigh
	// PriorityPacer raises the pacing thread alone to real-time
	// (SCHED_FIFO 1, needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least
	// 1), with a guard that lowers it again while it takes more than
	// paceMaxShare of a core; every other thread stays as the process was
	// started.
	PriorityPacer
	// PriorityBounded raises the pacing thread as PriorityPacer does, for
	// at most paceTickRT of each tick's work: a tick that takes longer
	// (many calls on a busy machine) sends the rest at the normal class,
	// so the thread takes at most paceTickRT per step (a quarter of a
	// core) ahead of the machine's other programs, and competes fairly
	// beyond that.
	PriorityBounded
)

const (
	highNice  = -10
	highSlice = time.Millisecond
)

// ParsePriority reads --media-priority's value: "normal", "bounded",
// "pacer" or "high".
func ParsePriority(s string) (Priority, error) {
	switch s {
	case "normal":
		return PriorityNormal, nil
	case "high":
		return PriorityHigh, nil
	case "pacer":
		return PriorityPacer, nil
	case "bounded":
		return PriorityBounded, nil
	}
	return PriorityNormal, fmt.Errorf("media priority %q: want normal, bounded, pacer or high", s)
}

// String is the flag's spelling of p.
func (p Priority) String() string {
	switch p {
	case PriorityHigh:
		return "high"
	case PriorityPacer:
		return "pacer"
	case PriorityBounded:
		return "bounded"
	}
	return "normal"
}

// ApplyPriority sets p's nice and slice on every thread of the process
// (PriorityHigh; the others leave the threads alone); threads made later
// inherit it from the thread that makes them (Linux keeps nice and the
// slice per thread). A process that leads its session also gets the nice
// on its autogroup (see raiseAutogroup). What cannot be set (no CAP_SYS_NICE, an old kernel)
// is logged as a warning and the rest still applies: the server runs
// either way. It returns the nice and slice the threads now have (slice 0:
// the kernel's default).
func ApplyPriority(p Priority, log *slog.Logger) (nice int, slice time.Duration) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if p != PriorityHigh {
		return 0, 0
	}
	nice, slice, err := setThreads(highNice, highSlice)
	if gerr := raiseAutogroup(highNice); gerr != nil && !errors.Is(err, errNoNice) {
		err = errors.Join(err, gerr)
	}
	if err != nil {
		log.Warn("media priority high: partly applied; grant CAP_SYS_NICE (setcap cap_sys_nice+ep, or systemd's AmbientCapabilities=CAP_SYS_NICE) or choose --media-priority normal", "nice", nice, "slice", slice, "err", err)
	} else {
		log.Info("media priority high", "nice", nice, "slice", slice)
	}
	return nice, slice
}

// errNoNice says the nice could not be lowered; errNoSlice that the kernel
// refused a custom slice.
var (
	errNoNice  = errors.New("no permission to lower the nice value (CAP_SYS_NICE or RLIMIT_NICE)")
	errNoSlice = errors.New("the kernel takes no custom slice (EEVDF, Linux 6.12+)")
)

// setThreads gives every thread of the process nice and slice (slice 0:
// the kernel's default), and reports what it could set. Threads can be
// made while it runs, so it goes over /proc/self/task until a pass finds
// no thread it has not set.
func setThreads(nice int, slice time.Duration) (gotNice int, gotSlice time.Duration, err error) {
	gotNice, gotSlice = nice, slice
	var errs []error
	done := map[int]bool{}
	for pass := 0; pass < 10; pass++ {
		tids, rerr := threadIDs()
		if rerr != nil {
			return 0, 0, rerr
		}
		fresh := false
		for _, tid := range tids {
			if done[tid] {
				continue
			}
			fresh, done[tid] = true, true
			n, s, terr := setThread(tid, gotNice, gotSlice)
			if terr != nil && !errors.Is(terr, unix.ESRCH) {
				errs = append(errs, terr)
			}
			if n != gotNice || s != gotSlice {
				// what one thread could not take, the others will not:
				// set the ones already done to the same
				gotNice, gotSlice = n, s
				clear(done)
			}
		}
		if !fresh {
			break
		}
	}
	return gotNice, gotSlice, errors.Join(dedupe(errs)...)
}

// setThread sets tid's nice and slice in one sched_setattr, keeping its
// policy (SCHED_OTHER, the Go runtime's). Refused a nice, it keeps the
// thread's own and sets the slice alone; refused a slice, the nice alone.
func setThread(tid, nice int, slice time.Duration) (int, time.Duration, error) {
	cur, err := unix.SchedGetAttr(tid, 0)
	if err != nil {
		return nice, slice, fmt.Errorf("sched_getattr %d: %w", tid, err)
	}
	if cur.Policy != unix.SCHED_NORMAL {
		return nice, slice, nil // another policy chosen by the operator: leave it
	}
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL, Nice: int32(nice), Runtime: uint64(slice)}
	err = unix.SchedSetAttr(tid, &attr, 0)
	var warn []error
	if errors.Is(err, unix.EPERM) && int(cur.Nice) > nice {
		nice, attr.Nice = int(cur.Nice), cur.Nice
		warn = append(warn, errNoNice)
		err = unix.SchedSetAttr(tid, &attr, 0)
	}
	if errors.Is(err, unix.EINVAL) && slice != 0 {
		// a kernel that checks sched_runtime for the fair class
		slice, attr.Runtime = 0, 0
		warn = append(warn, errNoSlice)
		err = unix.SchedSetAttr(tid, &attr, 0)
	}
	if err != nil {
		return nice, slice, fmt.Errorf("sched_setattr %d: %w", tid, errors.Join(append(warn, err)...))
	}
	return nice, slice, errors.Join(warn...)
}

// raiseAutogroup gives the process's autogroup the nice too, when the
// process leads its own session (a daemon: systemd starts each service in
// a session of its own). With autogroups on (the kernel's default, for
// processes outside a CPU cgroup) the CPU is shared between sessions
// first, so the threads' nice counts only against the other threads of
// the session. A process started from a shell (the bench harness, with
// sipp beside it) shares the shell's session: that group is left alone.
func raiseAutogroup(nice int) error {
	if unix.Getpid() != sessionID() {
		return nil
	}
	if b, err := os.ReadFile("/proc/sys/kernel/sched_autogroup_enabled"); err != nil || len(b) == 0 || b[0] != '1' {
		return nil
	}
	err := os.WriteFile("/proc/self/autogroup", []byte(strconv.Itoa(nice)), 0)
	if errors.Is(err, os.ErrPermission) || errors.Is(err, unix.EPERM) {
		return errNoNice
	}
	if err != nil {
		return fmt.Errorf("autogroup nice: %w", err)
	}
	return nil
}

func sessionID() int {
	sid, err := unix.Getsid(0)
	if err != nil {
		return -1
	}
	return sid
}

// threadIDs lists the process's threads.
func threadIDs() ([]int, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("media priority: %w", err)
	}
	tids := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// dedupe keeps the first error of each text: every thread refused alike.
func dedupe(errs []error) []error {
	seen := map[string]bool{}
	out := errs[:0]
	for _, e := range errs {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			out = append(out, e)
		}
	}
	return out
}
