package media

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchMin is the fewest packets a tick must hold before its sends go
// through a ring: one packet costs one syscall either way, so a pacer
// with a single session never makes a ring.
const batchMin = 2

// batchRing is the ring's size: a pacer's tick holds its sessions'
// packets (50 at 1,000 calls over 20 pacers); a larger tick is sent in
// several enters.
const batchRing = 256

// sendBatch collects one pacer tick's packets and sends them at the end
// of the tick (flush) in one io_uring_enter, or with one sendto each
// where io_uring is unavailable or off. It belongs to one pacer
// goroutine.
//
// A queued packet stays in its session's sendBuf, and the socket stays
// read-locked (udpSock.mu), until its completion is reaped: the pacer
// does not build the session's next packet before the flush, and a
// Close waits for the flush before the descriptor can be closed and its
// number reused for another call's socket.
type sendBatch struct {
	gate *ringGate // io_uring allowed, available, not failed
	ring *uring    // made at the first tick with batchMin packets
	pend []pendingSend
	done func(userData uint64, res int32)
	// broken: the ring failed; sends went back to sendto
	broken bool
	// newRing makes the ring (newURing; tests make it fail)
	newRing func(entries uint32) (*uring, error)
}

// pendingSend is one queued packet.
type pendingSend struct {
	s   *Session
	u   *udpSock // read-locked from queue to completion
	dst *sockDst // holds the sockaddr msg points to
	b   []byte
	// done: its completion was reaped
	done bool
	msg  unix.Msghdr
	iov  unix.Iovec
}

// newSendBatch returns a pacer's batch; while gate is closed
// (Config.NoIOURing, io_uring unavailable or failed) it sends each packet
// with sendto at the flush.
func newSendBatch(gate *ringGate) *sendBatch {
	b := &sendBatch{gate: gate, pend: make([]pendingSend, 0, batchRing)}
	b.done = b.complete
	b.newRing = newURing
	return b
}

// queue adds a packet of s for addr, sent at the next flush. b must stay
// as it is until then (it is s.sendBuf, which only the pacer writes).
func (b *sendBatch) queue(s *Session, u *udpSock, p []byte, addr netip.AddrPort) {
	d, err := u.destination(addr)
	if err != nil {
		s.sendFailed()
		return
	}
	if len(b.pend) == cap(b.pend) {
		b.flush()
	}
	u.mu.RLock()
	if u.fd < 0 {
		u.mu.RUnlock()
		s.sendFailed()
		return
	}
	b.pend = append(b.pend, pendingSend{s: s, u: u, dst: d, b: p})
}

// flush sends what was queued and waits for every completion.
func (b *sendBatch) flush() {
	if len(b.pend) == 0 {
		return
	}
	if b.ring == nil && len(b.pend) >= batchMin && b.gate.open() {
		r, err := b.newRing(batchRing)
		if err != nil {
			b.gate.fail(err)
		}
		b.ring = r
	}
	if b.ring == nil || b.broken || len(b.pend) < batchMin {
		for i := range b.pend {
			p := &b.pend[i]
			n, err := p.u.sendLocked(p.b, p.dst)
			p.u.mu.RUnlock()
			p.s.sent(n, err)
		}
		b.reset()
		return
	}
	for i := range b.pend {
		p := &b.pend[i]
		p.iov.Base = &p.b[0]
		p.iov.SetLen(len(p.b))
		p.msg.Iov, p.msg.Iovlen = &p.iov, 1
		if p.u.v6 {
			p.msg.Name, p.msg.Namelen = (*byte)(unsafe.Pointer(&p.dst.sa6)), unix.SizeofSockaddrInet6
		} else {
			p.msg.Name, p.msg.Namelen = (*byte)(unsafe.Pointer(&p.dst.sa4)), unix.SizeofSockaddrInet4
		}
		b.ring.sendmsg(p.u.fd, &p.msg, uint64(i))
	}
	took, err := b.ring.submitAndWait(b.done)
	if err != nil {
		b.gate.fail(err)
	}
	// What the kernel did not take goes by sendto.
	for i := took; i < len(b.pend); i++ {
		p := &b.pend[i]
		n, serr := p.u.sendLocked(p.b, p.dst)
		p.u.mu.RUnlock()
		p.s.sent(n, serr)
	}
	if err != nil {
		// Sends go back to sendto. The ring stays open until the pacer
		// ends: a send it has not completed may still read its buffer.
		// (The kernel holds the socket's file from the submission, so
		// the descriptor's number can go.)
		b.broken = true
		for i := range took {
			if p := &b.pend[i]; !p.done {
				p.u.mu.RUnlock()
				p.s.sendFailed()
			}
		}
	}
	b.reset()
}

// complete takes one completion: the packet's counters, its socket's lock.
func (b *sendBatch) complete(userData uint64, res int32) {
	if userData >= uint64(len(b.pend)) {
		return // not ours: never happens
	}
	p := &b.pend[userData]
	p.done = true
	p.u.mu.RUnlock()
	if res < 0 {
		p.s.sent(0, unix.Errno(-res))
	} else {
		p.s.sent(int(res), nil)
	}
}

func (b *sendBatch) reset() {
	clear(b.pend)
	b.pend = b.pend[:0]
}

// close sends what is queued and lets the ring go (the pacer's goroutine
// ends); the batch is as new, for the next run.
func (b *sendBatch) close() {
	b.flush()
	if b.ring != nil {
		b.ring.close()
		b.ring = nil
	}
	b.broken = false
}

// sent counts a packet's outcome: sent, or dropped (DroppedSend).
func (s *Session) sent(n int, err error) {
	if err != nil {
		s.sendFailed()
		return
	}
	s.packetsSent.Add(1)
	s.bytesSent.Add(uint64(n))
	s.octetsSent.Add(uint64(n - rtpHeaderLen))
}

// sendFailed counts a packet the kernel would not send (a full socket
// buffer, an unreachable or refused address, a closed socket).
func (s *Session) sendFailed() { s.sendErrors.Add(1) }
