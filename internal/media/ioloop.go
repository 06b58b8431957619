package media

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The receive side without a goroutine per socket. The manager runs a few
// I/O loops (one per GOMAXPROCS); each owns the RTP and RTCP sockets of
// the sessions put on it, in its own epoll instance, for the sessions'
// lives. The loop's goroutine never blocks a thread in epoll_wait: the
// epoll descriptor is non-blocking and handed to Go's poller, which parks
// the goroutine until one of the sockets is readable; the loop then reads
// one datagram from each ready socket with a recvfrom that does not
// allocate, and asks epoll again (without waiting) until none is ready.
//
// One loop reads a session, so a session's packets are handled in order
// by one goroutine at a time: the receiver's single-reader invariant
// (jitter buffer, DTMF) holds. Packets are handled under the loop's lock,
// and a session leaves its loop (EPOLL_CTL_DEL) under that lock before
// its sockets are closed, so a descriptor number the kernel reuses for
// another socket is never read as the old session's.
//
// Housekeeping that used to need a read deadline per socket (a jitter
// buffer waiting for a lost packet, a digit whose end packets were lost)
// is the loop's: the sessions with something waiting are listed, and a
// read deadline on the epoll file wakes the loop every housekeepEvery
// while the list is not empty.

// housekeepEvery is how often a loop releases what waits in its
// sessions' jitter buffers and DTMF receivers while something does.
const housekeepEvery = 20 * time.Millisecond

// ioYield: the loop yields its P after each batch of ready sockets (false
// only to measure without it: bench/RESULTS.md, 2026-12-07 17:43).
const ioYield = true

type ioLoop struct {
	mu      sync.Mutex
	running bool // a goroutine runs the loop; epfd and f are open
	epfd    int
	f       *os.File
	slots   []ioSlot
	free    []int32
	n       atomic.Int32 // socket pairs on the loop (sessions' and pooled)
	waiting []*Session   // sessions with something for housekeeping
	armed   bool         // f has a housekeeping read deadline

	gate *ringGate // read with io_uring (recv_batch.go)
	pool *sockPool // the manager's, for its pairs between sessions

	// the loop goroutine's own
	rb     *recvBatch // made at the first batch of batchMin ready sockets
	evs    [64]unix.EpollEvent
	buf    [2048]byte
	rsa    unix.RawSockaddrAny
	nready int
	werr   error
}

// ioSlot is one socket on a loop: of pair p, read for session s (nil
// while the pair waits in the pool); gen tells a stale epoll event (the
// slot freed and reused since) from a current one.
type ioSlot struct {
	s    *Session
	p    *rtpPair
	fd   int
	rtcp bool
	gen  uint32
}

// loopFor picks the least loaded loop.
func (m *Manager) loopFor() *ioLoop {
	best := m.loops[0]
	bestN := best.n.Load()
	for _, l := range m.loops[1:] {
		if n := l.n.Load(); n < bestN {
			best, bestN = l, n
		}
	}
	return best
}

// add puts a new pair on the loop for s, registered but not yet polled
// (Start enables it): the pair is on its loop from its first session to
// its close (sockpool.go). s.mu must not be held.
func (l *ioLoop) add(sp *rtpPair, s *Session) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.running {
		if err := l.startLocked(); err != nil {
			return err
		}
	}
	for i, u := range [2]*udpSock{sp.rtp, sp.rtcp} {
		idx := int32(len(l.slots))
		if k := len(l.free); k > 0 {
			idx = l.free[k-1]
			l.free = l.free[:k-1]
		} else {
			l.slots = append(l.slots, ioSlot{})
		}
		sl := &l.slots[idx]
		sl.s, sl.p, sl.fd, sl.rtcp = s, sp, u.fd, i == 1
		ev := unix.EpollEvent{Events: 0, Fd: idx, Pad: int32(sl.gen)}
		if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, u.fd, &ev); err != nil {
			sl.s, sl.p = nil, nil
			sl.gen++
			l.free = append(l.free, idx)
			if i == 1 {
				l.delLocked(sp.events[0].Fd)
			}
			l.stopIfIdleLocked()
			return fmt.Errorf("media: epoll add: %w", err)
		}
		sp.events[i] = ev
	}
	sp.loop, sp.epfd = l, l.epfd
	sp.pmu.Lock()
	sp.polled = false
	sp.started.Store(false)
	sp.pmu.Unlock()
	s.attach(sp)
	l.n.Add(1)
	return nil
}

// reuse gives s a pair from the pool, emptied of what came since the
// loop last read it, so that s's first packet is one sent after s took
// the sockets. Until s starts, what comes stays in the sockets for s:
// the pair stays polled, and only when a packet comes before the start
// does the loop stop polling it (heldLocked) until enable. Most sessions
// start before their first packet, and a reused pair then costs no
// epoll_ctl at all (it cost four: one each way per socket). s.mu must
// not be held.
func (l *ioLoop) reuse(sp *rtpPair, s *Session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sp.pmu.Lock()
	sp.started.Store(false)
	sp.pmu.Unlock()
	for i, u := range [2]*udpSock{sp.rtp, sp.rtcp} {
		l.slots[sp.events[i].Fd].s = s
		for {
			if _, _, e := recvFrom(u.fd, l.buf[:], &l.rsa); e != 0 {
				break
			}
		}
	}
	s.attach(sp)
}

// enable lets the loop read s's sockets, polling them again if they were
// not (Start, under s.mu: it takes no lock of the loop's, whose packet
// handling takes s.mu).
func (l *ioLoop) enable(s *Session) {
	sp := s.pair
	sp.pmu.Lock()
	defer sp.pmu.Unlock()
	sp.started.Store(true)
	if !sp.polled {
		sp.setPolledLocked(true, s.logger())
	}
}

// setPolledLocked sets or clears EPOLLIN on the pair's sockets (sp.pmu
// held).
func (sp *rtpPair) setPolledLocked(on bool, log *slog.Logger) {
	for i, u := range [2]*udpSock{sp.rtp, sp.rtcp} {
		ev := sp.events[i]
		if on {
			ev.Events = unix.EPOLLIN
		}
		if err := unix.EpollCtl(sp.epfd, unix.EPOLL_CTL_MOD, u.fd, &ev); err != nil {
			log.Warn("media: epoll ctl", "on", on, "err", err)
		}
	}
	sp.polled = on
}

// heldLocked reports whether sl's packets must wait in its socket: its
// session has not started. The pair then stops being polled until the
// session starts (enable), so that the loop does not spin on a readable
// socket it must not read. The loop's lock is held.
func (l *ioLoop) heldLocked(sl *ioSlot) bool {
	if sl.s == nil || sl.p.started.Load() {
		return false
	}
	sp := sl.p
	sp.pmu.Lock()
	defer sp.pmu.Unlock()
	if sp.started.Load() {
		return false
	}
	if sp.polled {
		sp.setPolledLocked(false, sl.s.logger())
	}
	return true
}

// detach takes s off its pair, which stays on the loop for the pool:
// once it returns, the loop neither hands s a packet nor touches s; what
// comes to the pair until its next session is read and discarded (a pair
// never polled is polled from now). s.mu must not be held.
func (l *ioLoop) detach(s *Session) {
	s.mu.Lock()
	var tail [2]netip.AddrPort
	if s.latched {
		tail[0] = s.remote
	}
	if s.rtcpLatched {
		tail[1] = s.remoteRTCP
	}
	s.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	sp := s.pair
	sp.released, sp.tailFrom = time.Now().UnixNano(), tail
	sp.tailUntil = sp.released + int64(l.pool.tail)
	sp.lastRx.Store(0)
	for i := range sp.events {
		l.slots[sp.events[i].Fd].s = nil
	}
	sp.pmu.Lock()
	sp.started.Store(false)
	if !sp.polled {
		sp.setPolledLocked(true, s.logger())
	}
	sp.pmu.Unlock()
	if s.rx.waiting {
		for i, w := range l.waiting {
			if w == s {
				last := len(l.waiting) - 1
				l.waiting[i] = l.waiting[last]
				l.waiting[last] = nil
				l.waiting = l.waiting[:last]
				break
			}
		}
		s.rx.waiting = false
	}
}

// drop takes a pair off the loop for good (its sockets are closed next),
// ending the loop with its last pair.
func (l *ioLoop) drop(sp *rtpPair) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.delLocked(sp.events[0].Fd)
	l.delLocked(sp.events[1].Fd)
	l.n.Add(-1)
	l.stopIfIdleLocked()
}

func (l *ioLoop) delLocked(idx int32) {
	sl := &l.slots[idx]
	if sl.p == nil {
		return
	}
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, sl.fd, nil)
	sl.s, sl.p, sl.fd = nil, nil, -1
	sl.gen++
	l.free = append(l.free, idx)
}

// stopIfIdleLocked wakes the goroutine of a loop left without sessions,
// which then closes the epoll instance and ends (see housekeep).
func (l *ioLoop) stopIfIdleLocked() {
	if l.n.Load() == 0 && l.running {
		l.f.SetReadDeadline(time.Unix(1, 0))
		l.armed = true
	}
}

func (l *ioLoop) startLocked() error {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("media: epoll: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return fmt.Errorf("media: epoll: %w", err)
	}
	f := os.NewFile(uintptr(fd), "rtp-epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return fmt.Errorf("media: epoll: %w", err)
	}
	l.epfd, l.f, l.running, l.armed = fd, f, true, false
	l.slots, l.free = l.slots[:0], l.free[:0]
	go l.run(f, rc)
	return nil
}

func (l *ioLoop) run(f *os.File, rc syscall.RawConn) {
	// Go's poller calls wait first, and parks the goroutine until the
	// epoll descriptor is readable whenever it returns false.
	wait := func(fd uintptr) bool {
		l.nready, l.werr = unix.EpollWait(int(fd), l.evs[:], 0)
		return l.nready > 0 || l.werr != nil
	}
	for {
		err := rc.Read(wait)
		now := time.Now()
		if err != nil || l.werr != nil || l.nready <= 0 {
			// a deadline: housekeeping, or the last session left
			if !l.housekeep(f, now) {
				return
			}
			continue
		}
		l.handle(l.evs[:l.nready], now)
		if ioYield {
			// rc.Read does not park while sockets are ready, so a busy
			// loop would hold its P until the runtime preempts it
			// (10 ms): a pacer whose timer fired on this P would wait
			// that long. Yield between batches.
			runtime.Gosched()
		}
	}
}

// handle reads every ready socket of evs: in one io_uring_enter when
// several are (recv_batch.go), else one recvfrom each.
func (l *ioLoop) handle(evs []unix.EpollEvent, now time.Time) {
	if len(evs) >= batchMin && l.batchReady() {
		l.handleBatch(evs, now)
		return
	}
	for i := range evs {
		idx, gen := evs[i].Fd, uint32(evs[i].Pad)
		l.mu.Lock()
		if idx < 0 || int(idx) >= len(l.slots) || l.slots[idx].p == nil || l.slots[idx].gen != gen {
			l.mu.Unlock() // the pair was closed after epoll reported it
			continue
		}
		sl := l.slots[idx]
		if l.heldLocked(&sl) {
			l.mu.Unlock()
			continue
		}
		// One datagram per ready socket and round: epoll is level
		// triggered, so a socket with more is reported again, and a
		// second recvfrom only to hear EAGAIN (half the receive
		// syscalls at one packet per 20 ms) is not made.
		got := false
		n, src, e := recvFrom(sl.fd, l.buf[:], &l.rsa)
		if e == 0 && sl.s == nil {
			sl.p.discarded(sl.rtcp, src, now) // a pair in the pool
		} else if e == 0 {
			got = true
			if sl.rtcp {
				sl.s.handleRTCP(l.buf[:n], src, now)
			} else {
				sl.s.handlePacket(l.buf[:n], src, now)
			}
		}
		if got && !sl.rtcp {
			l.housekeepLocked(sl.s, now)
		}
		l.mu.Unlock()
	}
}

// housekeepLocked releases what waited too long in s's receiver and lists
// s for the loop's housekeeping while something still waits.
func (l *ioLoop) housekeepLocked(s *Session, now time.Time) {
	r := &s.rx
	r.jb.expire(now)
	r.dtmf.Expire(now)
	if r.pending() && !r.waiting {
		r.waiting = true
		l.waiting = append(l.waiting, s)
		if !l.armed {
			l.f.SetReadDeadline(now.Add(housekeepEvery))
			l.armed = true
		}
	}
}

// housekeep runs when the loop's deadline passes: it expires what waits,
// re-arms the deadline while anything does, and closes the loop when no
// session is left (false: the goroutine ends).
func (l *ioLoop) housekeep(f *os.File, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n.Load() == 0 {
		l.running = false
		clear(l.waiting)
		l.waiting = l.waiting[:0]
		f.Close()
		if l.rb != nil {
			l.rb.ring.close()
			l.rb = nil
		}
		return false
	}
	keep := l.waiting[:0]
	for _, s := range l.waiting {
		s.rx.jb.expire(now)
		s.rx.dtmf.Expire(now)
		if s.rx.pending() {
			keep = append(keep, s)
		} else {
			s.rx.waiting = false
		}
	}
	clear(l.waiting[len(keep):])
	l.waiting = keep
	if len(keep) > 0 {
		f.SetReadDeadline(now.Add(housekeepEvery))
		l.armed = true
	} else {
		f.SetReadDeadline(time.Time{})
		l.armed = false
	}
	return true
}
