package media

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
	"golang.org/x/sys/unix"
)

// syncBuffer is a log sink the pacing thread and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// threadPolicy is tid's scheduling policy, or -1 when it has ended.
func threadPolicy(tid int) int {
	a, err := unix.SchedGetAttr(tid, 0)
	if err != nil {
		return -1
	}
	return int(a.Policy)
}

// taskExists reports whether tid is a thread of this process.
func taskExists(tid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid))
	return err == nil
}

// paceGoroutines counts the goroutines running the pacing thread's loop.
func paceGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "(*paceThread).run(")
}

// startedSession is a started session whose packets go to a test wire.
func startedSession(t *testing.T, m *Manager) (*Session, *wire) {
	t.Helper()
	s, w := wiredSession(t, m)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s, w
}

// TestPacingThreadStartStop: the thread starts with the first session, is
// raised alone to SCHED_FIFO (--media-priority pacer and bounded, as
// root), serves every session, and ends — the goroutine and its OS thread
// — when the last one leaves; the next session starts a new one.
func TestPacingThreadStartStop(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("raising a thread needs root here (CAP_SYS_NICE)")
	}
	for _, c := range []struct {
		prio   Priority
		policy int
	}{{PriorityPacer, unix.SCHED_FIFO}, {PriorityBounded, unix.SCHED_FIFO}} {
		t.Run(c.prio.String(), func(t *testing.T) { testPacingThreadStartStop(t, c.prio, c.policy) })
	}
}

func testPacingThreadStartStop(t *testing.T, prio Priority, policy int) {
	m, err := NewManager(Config{DataDir: t.TempDir(), BindIP: "127.0.0.1", PortMin: 20000, PortMax: 29999, Priority: prio}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// the thread of the run before (another manager) ends on its own
	waitfor.True(t, 5*time.Second, "no pacing goroutine before the first session", func() bool { return paceGoroutines() == 0 })
	if m.paceT.tid.Load() != 0 {
		t.Fatal("a pacing thread runs before any session")
	}
	a, wa := startedSession(t, m)
	b, wb := startedSession(t, m)
	tid := int(waitfor.Value(t, 5*time.Second, "the pacing thread", func() (int64, bool) {
		v := m.paceT.tid.Load()
		return v, v != 0 && m.paceT.rt.Load()
	}))
	if p := threadPolicy(tid); p != policy {
		t.Errorf("pacing thread %d: policy %d, want %d", tid, p, policy)
	}
	if self := threadPolicy(unix.Gettid()); self != unix.SCHED_NORMAL {
		t.Errorf("the test's own thread: policy %d, want normal: only the pacing thread is raised", self)
	}
	waitfor.True(t, 5*time.Second, "both sessions sending", func() bool { return wa.count() >= 5 && wb.count() >= 5 })
	if n := paceGoroutines(); n != 1 {
		t.Errorf("%d pacing goroutines for two sessions, want 1", n)
	}
	a.Close()
	if m.paceT.tid.Load() == 0 {
		t.Error("the thread ended with a session left")
	}
	b.Close()
	if _, ok := waitfor.Within(5*time.Second, func() (bool, bool) {
		// Go parks the main thread for good rather than end it
		gone := !taskExists(tid) || tid == os.Getpid() && threadPolicy(tid) == unix.SCHED_NORMAL
		return true, m.paceT.tid.Load() == 0 && gone && paceGoroutines() == 0
	}); !ok {
		t.Fatalf("the pacing thread did not end with the last session: tid %d, thread %d exists %v (policy %d), %d goroutines",
			m.paceT.tid.Load(), tid, taskExists(tid), threadPolicy(tid), paceGoroutines())
	}
	if m.paceT.rt.Load() {
		t.Error("realtime still reported after the thread ended")
	}
	c, wc := startedSession(t, m)
	defer c.Close()
	tid2 := int(waitfor.Value(t, 5*time.Second, "a new pacing thread", func() (int64, bool) {
		v := m.paceT.tid.Load()
		return v, v != 0 && m.paceT.rt.Load()
	}))
	if tid2 == tid {
		t.Errorf("the new run uses thread %d again", tid)
	}
	if p := threadPolicy(tid2); p != policy {
		t.Errorf("new pacing thread: policy %d, want %d", p, policy)
	}
	waitfor.True(t, 5*time.Second, "the new session sending", func() bool { return wc.count() >= 5 })
}

// TestPacingThreadNormal: --media-priority normal (the default) leaves the
// pacing thread in the normal class and logs nothing.
func TestPacingThreadNormal(t *testing.T) {
	var logs syncBuffer
	m, err := NewManager(Config{DataDir: t.TempDir(), BindIP: "127.0.0.1", PortMin: 20000, PortMax: 29999, Priority: PriorityNormal}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s, w := startedSession(t, m)
	defer s.Close()
	waitfor.True(t, 5*time.Second, "packets", func() bool { return w.count() >= 3 })
	tid := int(m.paceT.tid.Load())
	if tid == 0 {
		t.Fatal("no pacing thread while a session sends")
	}
	if p := threadPolicy(tid); p != unix.SCHED_NORMAL || m.paceT.rt.Load() {
		t.Errorf("policy %d (realtime %v), want the normal class", p, m.paceT.rt.Load())
	}
	if strings.Contains(logs.String(), "pacing") {
		t.Errorf("logged: %s", logs.String())
	}
}

// TestPacingThreadGuard: a thread over its CPU share is lowered to the
// normal class with a warning and counted, still sends, and is raised
// again once its time down is over.
func TestPacingThreadGuard(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("raising a thread to SCHED_FIFO needs root here (CAP_SYS_NICE)")
	}
	var logs syncBuffer
	m, err := NewManager(Config{DataDir: t.TempDir(), BindIP: "127.0.0.1", PortMin: 20000, PortMax: 29999, Priority: PriorityPacer}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// any CPU at all is over this share
	m.paceT.maxShare, m.paceT.guardEvery, m.paceT.demote = 1e-9, 100*time.Millisecond, 300*time.Millisecond
	s, w := startedSession(t, m)
	defer s.Close()
	waitfor.True(t, 10*time.Second, "the guard to lower the thread", func() bool {
		tid := int(m.paceT.tid.Load())
		return m.paceT.demotions.Load() >= 1 && tid != 0 && threadPolicy(tid) == unix.SCHED_NORMAL
	})
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "over its CPU share") {
		t.Errorf("no warning: %q", logs.String())
	}
	sent := w.count()
	waitfor.True(t, 5*time.Second, "packets while lowered", func() bool { return w.count() > sent+3 })
	// After demote it is raised again (and, still over, lowered again).
	waitfor.True(t, 10*time.Second, "the thread raised again", func() bool {
		tid := int(m.paceT.tid.Load())
		return tid != 0 && threadPolicy(tid) == unix.SCHED_FIFO
	})
	if m.paceT.demotions.Load() == 0 {
		t.Error("demotions not counted")
	}
}

// TestPacingThreadWithoutPermission: a process that may not use real-time
// priorities (no CAP_SYS_NICE, RLIMIT_RTPRIO 0) logs one warning naming
// what is missing, once however many times the thread starts, and paces
// at the normal class, at pacer and at bounded.
func TestPacingThreadWithoutPermission(t *testing.T) {
	if os.Getenv("MEDIA_PRIORITY_CHILD") == "" {
		for _, p := range []Priority{PriorityPacer, PriorityBounded} {
			t.Run(p.String(), func(t *testing.T) {
				out := runPriorityChild(t, "TestPacingThreadWithoutPermission", true, "MEDIA_PACE_PRIORITY="+p.String())
				if !strings.Contains(out, "--- PASS") {
					t.Fatal("the child did not pass")
				}
			})
		}
		return
	}
	prio, err := ParsePriority(os.Getenv("MEDIA_PACE_PRIORITY"))
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Setrlimit(unix.RLIMIT_RTPRIO, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	m, err := NewManager(Config{DataDir: t.TempDir(), BindIP: "127.0.0.1", PortMin: 20000, PortMax: 29999, Priority: prio}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	noNice := os.Getenv("MEDIA_PRIORITY_NO_NICE") == "true"
	for run := range 2 {
		s, w := startedSession(t, m)
		waitfor.True(t, 5*time.Second, "packets", func() bool { return w.count() >= 3 })
		tid := int(m.paceT.tid.Load())
		if p := threadPolicy(tid); noNice && (p != unix.SCHED_NORMAL || m.paceT.rt.Load()) {
			t.Errorf("run %d: policy %d without permission, want the normal class", run, p)
		}
		s.Close()
		waitfor.True(t, 5*time.Second, "the thread to end", func() bool { return m.paceT.tid.Load() == 0 && paceGoroutines() == 0 })
	}
	t.Logf("log: %s", logs.String())
	if noNice {
		if strings.Count(logs.String(), "level=WARN") != 1 || !strings.Contains(logs.String(), "CAP_SYS_NICE") {
			t.Errorf("want one warning naming CAP_SYS_NICE, got %q", logs.String())
		}
	}
}

// TestPacingThreadBounded: at bounded the thread wakes at SCHED_FIFO, and
// a tick whose work outlasts its real-time part sends the rest at the
// normal class (counted), then goes back to SCHED_FIFO before it sleeps;
// the guard sees no demotion and realtime stays reported.
func TestPacingThreadBounded(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("raising a thread to SCHED_FIFO needs root here (CAP_SYS_NICE)")
	}
	m, err := NewManager(Config{DataDir: t.TempDir(), BindIP: "127.0.0.1", PortMin: 20000, PortMax: 29999, Priority: PriorityBounded}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.paceT.tickRT != paceTickRT {
		t.Fatalf("real-time part %v, want %v", m.paceT.tickRT, paceTickRT)
	}
	var long atomic.Bool // each tick works for 3 steps: far over its real-time part
	m.paceT.afterTick = func() {
		if long.Load() {
			for end := time.Now().Add(3 * step); time.Now().Before(end); {
			}
		}
	}
	// The lowered part of a tick lasts microseconds here (the spill comes
	// after the long work, then the tick ends and raises it again), so the
	// thread reports its own policy at that moment rather than being
	// sampled from outside; the hook is set before the thread starts.
	var lowered atomic.Int32
	lowered.Store(-1)
	m.paceT.afterSpill = func() {
		if long.Load() {
			lowered.Store(int32(threadPolicy(unix.Gettid())))
		}
	}
	s, w := startedSession(t, m)
	defer s.Close()
	tid := int(waitfor.Value(t, 5*time.Second, "the raised thread", func() (int64, bool) {
		v := m.paceT.tid.Load()
		return v, v != 0 && m.paceT.rt.Load()
	}))
	waitfor.True(t, 5*time.Second, "packets", func() bool { return w.count() >= 3 })
	if n := m.paceT.spills.Load(); n != 0 {
		t.Errorf("%d spills of one session's short ticks", n)
	}
	if p := threadPolicy(tid); p != unix.SCHED_FIFO {
		t.Errorf("policy %d between short ticks, want SCHED_FIFO", p)
	}
	long.Store(true)
	waitfor.True(t, 10*time.Second, "long ticks lowered to the normal class and raised again", func() bool {
		return m.paceT.spills.Load() >= 3 && lowered.Load() == unix.SCHED_NORMAL && threadPolicy(tid) == unix.SCHED_FIFO
	})
	sent := w.count()
	waitfor.True(t, 5*time.Second, "packets during long ticks", func() bool { return w.count() > sent })
	long.Store(false)
	// short ticks again: ten packets in a row with no spill
	spills := waitfor.Value(t, 10*time.Second, "ten ticks with no spill", func() (uint64, bool) {
		n, c := m.paceT.spills.Load(), w.count()
		waitfor.True(t, 5*time.Second, "ten packets", func() bool { return w.count() >= c+10 })
		return n, m.paceT.spills.Load() == n
	})
	if p := threadPolicy(tid); p != unix.SCHED_FIFO {
		t.Errorf("policy %d after the long ticks, want SCHED_FIFO", p)
	}
	if !m.paceT.rt.Load() || m.paceT.demotions.Load() != 0 {
		t.Errorf("realtime %v, demotions %d: spilling is neither", m.paceT.rt.Load(), m.paceT.demotions.Load())
	}
	t.Logf("%d ticks spilled", spills)
}

// count is how many packets the wire has seen since the last take.
func (w *wire) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pkts)
}
