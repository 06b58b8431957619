package media

import (
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// paceThread runs the ticks of every pacer slot on one OS thread of its
// own, which alone can be raised (--media-priority pacer): the kernel's wake-up latency
// of the thread that sends is what makes a tick late on a busy machine,
// and raising every thread of the process (PriorityHigh) lets the rest of
// the server — SIP, the store, the GC — take the CPU from sipp or a
// database beside it. The goroutine is locked to its thread and sleeps to
// each slot's absolute deadline in clock_nanosleep(CLOCK_MONOTONIC,
// TIMER_ABSTIME), so a late wake-up does not push the following ticks
// back. It starts with the first session and ends with the last; it never
// unlocks the thread, so Go ends the thread with it and the raised
// priority never passes to a thread of the runtime's pool.
type paceThread struct {
	slots []*pacer // set once by the manager, before any session
	log   *slog.Logger
	ring  *ringGate // batch each tick's sends with io_uring (send_batch.go)

	mu      sync.Mutex
	members int  // sessions over every slot
	running bool // the goroutine runs (or is about to)
	done    chan struct{}
	warned  bool // the no-permission warning was logged
	// spare: the last run's send batch, for the next run (its ring
	// closed): a batch is 33 KB, and the thread starts again each time
	// the calls go from none to one
	spare *sendBatch

	prio Priority // PriorityNormal: the thread is not raised

	// the guard's limits (tests shorten them)
	maxShare           float64
	guardEvery, demote time.Duration
	afterTick          func() // tests: more work in each tick (nil: none)
	afterSpill         func() // tests: called on the thread just after it was lowered (nil: none)
	// PriorityBounded: the real-time part of each tick (0: all of it)
	tickRT time.Duration
	spills atomic.Uint64 // ticks whose end was sent at the normal class

	tid       atomic.Int64  // the thread's id while it runs, 0 otherwise
	rt        atomic.Bool   // the thread runs at real-time priority now
	demotions atomic.Uint64 // times the guard lowered the thread

	// goClock makes the thread keep time with Go's clock and timers
	// instead of CLOCK_MONOTONIC and clock_nanosleep: for tests in a
	// testing/synctest bubble, whose fake clock only Go's timers follow.
	goClock bool
	idle    chan struct{} // goClock: the last session left (wakes the sleep)
}

// join counts a session in and starts the thread if it is not running.
func (t *paceThread) join() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.members++
	if !t.running {
		t.running = true
		t.done = make(chan struct{})
		go t.run(t.done)
	}
}

// leave counts a session out; the thread notices at its next wake-up
// that none is left, and ends.
func (t *paceThread) leave() {
	t.mu.Lock()
	t.members--
	if t.members == 0 && t.goClock {
		select {
		case t.idle <- struct{}{}:
		default:
		}
	}
	t.mu.Unlock()
}

// takeBatch gives a run the last run's send batch, or a new one.
func (t *paceThread) takeBatch() *sendBatch {
	t.mu.Lock()
	b := t.spare
	t.spare = nil
	t.mu.Unlock()
	if b == nil {
		b = newSendBatch(t.ring)
	}
	return b
}

// keepBatch closes a run's batch (what is queued goes, the ring is let
// go) and keeps it for the next run.
func (t *paceThread) keepBatch(b *sendBatch) {
	b.close()
	t.mu.Lock()
	t.spare = b
	t.mu.Unlock()
}

// stopIfIdle ends the run when no session is left.
func (t *paceThread) stopIfIdle() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.members > 0 {
		return false
	}
	t.running = false
	return true
}

// step is how far apart the slots' ticks fall.
const step = ptime / pacerSlots

// The pacing thread's real-time priority and its guard. SCHED_FIFO at
// the lowest real-time priority: the thread runs as soon as it wakes,
// ahead of every normal thread of the machine, and is safe there because
// its work is bounded (one slot's sessions, a tenth of the calls, per
// wake-up), it never spins (it sleeps to the next deadline, and skips
// ticks it is more than one behind rather than catching up), and the
// guard lowers it to the normal class for paceDemoteFor whenever it took
// more than paceMaxShare of a core over paceGuardEvery. The kernel's
// real-time throttling (sched_rt_runtime_us, 95 % by default) bounds
// anything shorter.
const (
	paceRTPriority = 1
	paceMaxShare   = 0.8
	paceGuardEvery = time.Second
	paceDemoteFor  = 10 * time.Second
)

// PriorityBounded's real-time part of a tick: an eighth of a step (of
// a core), set when a step was 1 ms and kept at 2 ms, where it was
// measured: 1,500 calls (150 sessions a tick, at 2–3 µs each, spill
// their last part on a quiet machine) still paced at p99 2.42 ms, and a
// sipp beside the server at 1,800 calls/s stayed clean. On a busy
// machine (measured: 360–550 µs a 1 ms tick beside load 20–30) more of
// each tick spills.
const paceTickRT = 250 * time.Microsecond

func (t *paceThread) run(done chan struct{}) {
	runtime.LockOSThread() // never unlocked: the thread ends with the run
	defer close(done)
	// The thread's ticks' packets, sent at the end of each slot's tick.
	batch := t.takeBatch()
	defer t.keepBatch(batch)
	tid := unix.Gettid()
	t.tid.Store(int64(tid))
	defer t.tid.Store(0)
	g := t.newGuard(tid)
	// Lowered again before the goroutine ends: Go ends a locked thread
	// with its goroutine, except the process's main thread, which it
	// parks for good instead.
	defer g.lower()

	clock, sleep := monoNow, sleepUntil
	if t.goClock {
		clock = func() int64 { return time.Now().UnixNano() }
		sleep = func(ns int64) bool {
			timer := time.NewTimer(time.Until(time.Unix(0, ns)))
			defer timer.Stop()
			select {
			case <-timer.C:
				return true
			case <-t.idle:
				return false
			}
		}
	}
	base := clock()
	base -= base % int64(ptime)
	var j int64 // steps since base: slot j%pacerSlots's tick is at base+j·step
	for {
		// the next slot with a session, within one period
		var p *pacer
		var k int64
		for n := int64(1); n <= pacerSlots; n++ {
			if q := t.slots[(j+n)%pacerSlots]; q.load() > 0 {
				p, k = q, j+n
				break
			}
		}
		if p == nil {
			if t.stopIfIdle() {
				return
			}
			k = j + 1 // a session between leaving and joining: look again
		}
		due := base + k*int64(step)
		now := clock()
		if now-due > int64(ptime) {
			// More than a tick behind (the machine stalled): skip the
			// missed ticks rather than send a burst; RTP timestamps follow
			// the wall clock anyway.
			j = (now-base)/int64(step) - 1
			continue
		}
		if !sleep(due) {
			continue
		}
		j = k
		if p == nil {
			continue
		}
		wall := time.Now()
		woke := clock()
		g.tickStart(wall)
		p.tick(wall.Add(-time.Duration(woke-due)), wall, batch, g.spill)
		if t.afterTick != nil {
			t.afterTick()
			g.spill()
		}
		g.tickEnd()
		g.check()
	}
}

// monoNow is CLOCK_MONOTONIC in nanoseconds, the clock the sleeps use.
func monoNow() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// sleepUntil sleeps to the absolute CLOCK_MONOTONIC time ns. The sleep is
// an ordinary (not raw) system call: the goroutine lets its P go while it
// sleeps and takes an idle one back when it wakes, so the GC's
// stop-the-world never waits for it, and the scheduler's monitor, which
// preempts a goroutine that keeps a P for 10 ms, never finds it holding
// one. A raw sleep keeping the P was tried: the monitor's preemptions then
// send the locked goroutine through the scheduler every 10 ms, by way of
// a thread at normal priority, and that hand-off is late on a busy
// machine (p99 up to 20 ms in the in-process load test beside stress-ng,
// against 2–8 ms).
func sleepUntil(ns int64) bool {
	ts := unix.NsecToTimespec(ns)
	for {
		err := unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil)
		if !errors.Is(err, unix.EINTR) {
			return true
		}
	}
}

// paceGuard raises the pacing thread and keeps it from taking more than
// its share: every guardEvery it reads the thread's CPU time, and a
// thread over maxShare goes back to the normal class for demote.
type paceGuard struct {
	t       *paceThread
	tid     int
	normal  unix.SchedAttr // the thread's attributes before the raise
	raised  bool
	from    int64 // window start: CLOCK_MONOTONIC and the thread's CPU time
	cpuFrom int64
	until   int64 // demoted until then
	// PriorityBounded: the tick's real-time part ends at rtUntil (zero:
	// no part running); spilled: the thread was lowered for the rest of it
	rtUntil time.Time
	spilled bool
}

// tickStart opens a tick's real-time part (PriorityBounded).
func (g *paceGuard) tickStart(woke time.Time) {
	if g.t.tickRT > 0 && g.raised {
		g.rtUntil = woke.Add(g.t.tickRT)
	}
}

// spill lowers a raised thread to its normal class for the rest of a tick
// that has used its real-time part (PriorityBounded); the pacer calls it
// between sessions. Cheap when there is nothing to do: one read of Go's
// monotonic clock (vDSO).
func (g *paceGuard) spill() {
	if g.rtUntil.IsZero() || g.spilled || time.Now().Before(g.rtUntil) {
		return
	}
	attr := g.normal
	attr.Flags = 0
	if err := unix.SchedSetAttr(g.tid, &attr, 0); err != nil {
		g.rtUntil = time.Time{} // the tick stays raised; the next one tries again
		return
	}
	g.spilled = true
	g.t.spills.Add(1)
	if g.t.afterSpill != nil {
		g.t.afterSpill()
	}
}

// tickEnd raises a thread that spilled again, before it sleeps, so that
// its next wake-up is at real-time priority.
func (g *paceGuard) tickEnd() {
	g.rtUntil = time.Time{}
	if !g.spilled {
		return
	}
	g.spilled = false
	attr := raisedAttr()
	if err := unix.SchedSetAttr(g.tid, &attr, 0); err != nil {
		// as lowered by the guard: normal class, raised again later
		g.raised = false
		g.t.rt.Store(false)
		g.until = monoNow() + int64(g.t.demote)
		g.t.log.Warn("media pacing thread: cannot raise it again after a long tick", "err", err)
	}
}

func (t *paceThread) newGuard(tid int) *paceGuard {
	g := &paceGuard{t: t, tid: tid, from: monoNow(), cpuFrom: threadCPU()}
	if t.prio == PriorityNormal {
		return g
	}
	cur, err := unix.SchedGetAttr(tid, 0)
	if err != nil {
		t.warn("media pacing thread: priority unknown", err)
		return g
	}
	g.normal = *cur
	g.raise()
	return g
}

// raise puts the thread in SCHED_FIFO; one warning per manager when it
// may not.
func (g *paceGuard) raise() {
	attr := raisedAttr()
	if err := unix.SchedSetAttr(g.tid, &attr, 0); err != nil {
		g.t.warn("media pacing thread: no real-time priority; grant CAP_SYS_NICE (setcap cap_sys_nice+ep, or systemd's AmbientCapabilities=CAP_SYS_NICE or LimitRTPRIO=1), or choose --media-priority normal", err)
		return
	}
	g.raised = true
	g.t.rt.Store(true)
}

// raisedAttr is the pacing thread's raised class: SCHED_FIFO at
// paceRTPriority, reset on fork (Go makes no thread from a locked one, but
// a thread it made would start in the normal class).
func raisedAttr() unix.SchedAttr {
	return unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: paceRTPriority, Flags: unix.SCHED_FLAG_RESET_ON_FORK}
}

// check runs after each tick: once a window, it lowers a thread over its
// share, and raises again one whose time down is over.
func (g *paceGuard) check() {
	now := monoNow()
	if g.t.prio == PriorityNormal || now-g.from < int64(g.t.guardEvery) {
		return
	}
	cpu := threadCPU()
	share := float64(cpu-g.cpuFrom) / float64(now-g.from)
	g.from, g.cpuFrom = now, cpu
	switch {
	case g.raised && share > g.t.maxShare:
		if !g.lower() {
			return
		}
		g.until = now + int64(g.t.demote)
		g.t.log.Warn("media pacing thread over its CPU share: lowered to normal priority for a while", "share", share, "max_share", g.t.maxShare, "for", g.t.demote)
		g.t.demotions.Add(1)
	case !g.raised && g.until != 0 && now >= g.until:
		g.until = 0
		g.raise()
	}
}

// lower puts a raised thread back as it was before the raise.
func (g *paceGuard) lower() bool {
	if !g.raised {
		return true
	}
	attr := g.normal
	attr.Flags = 0
	if err := unix.SchedSetAttr(g.tid, &attr, 0); err != nil {
		g.t.log.Error("media pacing thread: cannot lower its priority", "err", err)
		return false
	}
	g.raised = false
	g.t.rt.Store(false)
	return true
}

// warn logs a warning once per manager.
func (t *paceThread) warn(msg string, err error) {
	t.mu.Lock()
	first := !t.warned
	t.warned = true
	t.mu.Unlock()
	if first {
		t.log.Warn(msg, "err", err)
	}
}

// threadCPU is the calling thread's CPU time in nanoseconds.
func threadCPU() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return ts.Nano()
}
