package media

import (
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// recvBatch reads the sockets one epoll_wait reported ready in one
// io_uring_enter (a recvmsg each, MSG_DONTWAIT) instead of a recvfrom
// each: an I/O loop's own, made at its first batch of batchMin ready
// sockets, closed when the loop ends.
type recvBatch struct {
	ring  *uring
	slots []recvSlot // one per epoll event the loop can get at once
	done  func(userData uint64, res int32)
	// broken: the ring failed; reads went back to recvfrom
	broken bool
}

// recvSlot is one socket's read: the kernel writes into buf and rsa
// through msg until the completion is reaped.
type recvSlot struct {
	sl  ioSlot
	res int32
	msg unix.Msghdr
	iov unix.Iovec
	rsa unix.RawSockaddrAny
	buf [2048]byte
}

// batchReady reports whether the loop reads with a ring, making it at
// the first call (false: io_uring off, unavailable or failed: recvfrom).
func (l *ioLoop) batchReady() bool {
	if l.rb != nil {
		return !l.rb.broken
	}
	if !l.gate.open() {
		return false
	}
	r, err := newURing(uint32(len(l.evs)))
	if err != nil {
		l.gate.fail(err)
		return false
	}
	rb := &recvBatch{ring: r, slots: make([]recvSlot, len(l.evs))}
	rb.done = func(userData uint64, res int32) {
		if userData < uint64(len(rb.slots)) {
			rb.slots[userData].res = res
		}
	}
	l.rb = rb
	return true
}

// handleBatch reads one datagram from each ready socket of evs with one
// io_uring_enter, then handles them in order. The loop's lock is held
// from the first read to the last packet handled, so no session leaves
// (and no descriptor is closed and reused) while a read is in flight.
func (l *ioLoop) handleBatch(evs []unix.EpollEvent, now time.Time) {
	rb := l.rb
	l.mu.Lock()
	defer l.mu.Unlock()
	k := 0
	for i := range evs {
		idx, gen := evs[i].Fd, uint32(evs[i].Pad)
		if idx < 0 || int(idx) >= len(l.slots) || l.slots[idx].p == nil || l.slots[idx].gen != gen {
			continue // the pair was closed after epoll reported it
		}
		if l.heldLocked(&l.slots[idx]) {
			continue // for a session not yet started
		}
		r := &rb.slots[k]
		r.sl, r.res = l.slots[idx], 0
		r.iov.Base = &r.buf[0]
		r.iov.SetLen(len(r.buf))
		r.msg = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&r.rsa)), Namelen: unix.SizeofSockaddrAny, Iov: &r.iov, Iovlen: 1}
		rb.ring.recvmsg(r.sl.fd, &r.msg, uint64(k))
		k++
	}
	took, err := rb.ring.submitAndWait(rb.done)
	for j := range k {
		r := &rb.slots[j]
		src := r.sl
		r.sl = ioSlot{}
		var b []byte
		var from netip.AddrPort
		switch {
		case j >= took:
			// not submitted (the ring failed): read it with recvfrom
			n, a, e := recvFrom(src.fd, l.buf[:], &l.rsa)
			if e != 0 {
				continue
			}
			b, from = l.buf[:n], a
		case r.res > 0:
			b, from = r.buf[:r.res], sockaddrAddrPort(&r.rsa)
		default:
			continue // EAGAIN (read already), or an error recvfrom would have had
		}
		switch {
		case src.s == nil:
			src.p.discarded(src.rtcp, from, now) // a pair in the pool
		case src.rtcp:
			src.s.handleRTCP(b, from, now)
		default:
			src.s.handlePacket(b, from, now)
			l.housekeepLocked(src.s, now)
		}
	}
	if err != nil {
		// Reads go back to recvfrom. The ring stays open (its buffers
		// referenced) until the loop ends: a read it has not completed
		// may still land. (Reads with MSG_DONTWAIT complete inside the
		// enter; this is for a kernel that would do otherwise.)
		l.gate.fail(err)
		l.rb.broken = true
	}
}

// ringGate is the manager's say on io_uring for its pacers and I/O
// loops: open unless Config.NoIOURing or the probe said no, closed for
// good (and said once in the log) when a ring cannot be made (a memory
// lock limit, a seccomp profile added since) or fails.
type ringGate struct {
	on  atomic.Bool
	log *slog.Logger
}

func newRingGate(on bool, log *slog.Logger) *ringGate {
	g := &ringGate{log: log}
	g.on.Store(on)
	return g
}

// open reports whether a ring may be made or used; a nil gate is closed.
func (g *ringGate) open() bool { return g != nil && g.on.Load() }

func (g *ringGate) fail(err error) {
	if g.on.CompareAndSwap(true, false) && g.log != nil {
		g.log.Warn("media: io_uring failed, rtp sent and received without it", "err", err)
	}
}
