package media

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// RTP sockets outlive their calls. Opening a session's pair used to cost
// twelve syscalls (socket, bind, two epoll_ctl each way, close) for 50
// packets, and at 2,000 calls a second they were a tenth of the media's
// CPU. A closed session's pair now stays open, bound and on its I/O loop,
// and waits in the manager's pool for the next session: taking it costs
// a drain and an epoll_ctl per socket.
//
// What the next call must never get is the last one's traffic. While a
// pair waits, its loop reads and discards whatever arrives. The last
// call's own tail (packets from the address it had latched, in flight at
// the hang-up, within poolTail of the release) is let go; anything else
// marks the pair noisy: someone still sends there, and the pair is closed
// instead of reused, so that sender hears ICMP port unreachable as it did
// before the pool. The pool hands out the pair that has waited longest
// (first in, first out, like the port allocator's round robin) once it
// has waited poolQuiet and poolReserve pairs have been left after it
// (as the allocator's round robin reused a port only after the others:
// a sender slower than poolQuiet still finds the pair closed or noisy);
// only when the port range has nothing else does a younger one go. The new session drains the sockets as it takes them
// and latches anew (latch.go): its own addresses, the first packet from
// them. Pairs unused for poolIdle are closed (the ports go back to the
// system, and a loop ends with its last pair).

const (
	poolReserve = 128
	poolTail    = 60 * time.Millisecond
	poolQuiet   = 100 * time.Millisecond
	poolIdle    = 5 * time.Second
)

// rtpPair is an RTP socket and its RTCP socket on one I/O loop, from
// their first session to their close.
type rtpPair struct {
	rtp, rtcp *udpSock
	port      int
	loop      *ioLoop
	epfd      int // loop's epoll instance (open while the pair is on it)
	// the sockets' epoll events (Fd: the loop's slot, Pad: its generation)
	events [2]unix.EpollEvent
	// pmu guards polled (a leaf lock: taken under the loop's lock or the
	// session's, never the other way round). polled: EPOLLIN is set
	// (from the pair's first detach on, except while a session that has
	// not started holds it and a packet came for it: heldLocked).
	// started: the session holding the pair has started (enable), so
	// its packets are read; written under pmu, read without it by the
	// loop's fast path.
	pmu     sync.Mutex
	polled  bool
	started atomic.Bool
	// released: when its last session left it (unix ns), and its tail
	// ends at tailUntil; tailFrom: the RTP and RTCP sources that session
	// had latched (all three the loop's lock); lastRx: when the loop last discarded a packet of it that was
	// not that session's tail (unix ns, 0: none)
	released, tailUntil int64
	tailFrom            [2]netip.AddrPort
	lastRx              atomic.Int64
}

// sockPool is the manager's pairs waiting for a session, oldest first.
type sockPool struct {
	mu    sync.Mutex
	q     []*rtpPair
	head  int
	timer *time.Timer // armed while the pool holds a pair: trims it
	drop  func([]*rtpPair)
	// reserve, tail, quiet and idle are poolReserve, poolTail, poolQuiet
	// and poolIdle (tests change them)
	reserve           int
	tail, quiet, idle time.Duration
	reused, opened    atomic.Uint64
}

func (p *sockPool) init(drop func([]*rtpPair)) {
	p.drop = drop
	p.reserve, p.tail, p.quiet, p.idle = poolReserve, poolTail, poolQuiet, poolIdle
}

// get takes the oldest pair once it has waited p.quiet with p.reserve
// pairs after it (force: at once), closing on its way the noisy ones.
// nil: none.
func (p *sockPool) get(now time.Time, force bool) *rtpPair {
	var noisy []*rtpPair
	var got *rtpPair
	t := now.UnixNano()
	p.mu.Lock()
scan:
	for p.head < len(p.q) {
		sp := p.q[p.head]
		switch {
		case p.noisy(sp):
			noisy = append(noisy, sp)
		case force || t-sp.released >= int64(p.quiet) && len(p.q)-p.head > p.reserve:
			got = sp
		default:
			break scan // the oldest is too young or too near: so are the others
		}
		p.q[p.head] = nil
		p.head++
		if got != nil {
			break
		}
	}
	p.compactLocked()
	p.mu.Unlock()
	p.drop(noisy)
	return got
}

// noisy reports whether something but its last call's tail came to sp.
func (p *sockPool) noisy(sp *rtpPair) bool { return sp.lastRx.Load() != 0 }

// discarded notes a packet the loop read from sp while it waits (the
// loop's lock).
func (sp *rtpPair) discarded(rtcp bool, from netip.AddrPort, now time.Time) {
	i := 0
	if rtcp {
		i = 1
	}
	t := now.UnixNano()
	if from == sp.tailFrom[i] && from.IsValid() && t < sp.tailUntil {
		return // the last call's tail
	}
	sp.lastRx.Store(t)
}

// put adds a pair a session has left (detach).
func (p *sockPool) put(sp *rtpPair) {
	p.mu.Lock()
	p.q = append(p.q, sp)
	if p.timer == nil {
		// One timer per pool, for its life (the manager has no Close):
		// it fires only while the pool holds a pair.
		p.timer = time.AfterFunc(p.idle, p.trim)
	} else if p.head == len(p.q)-1 {
		p.timer.Reset(p.idle)
	}
	p.mu.Unlock()
}

// trim closes the pairs unused for p.idle (noisy or not) and re-arms for
// the next one.
func (p *sockPool) trim() {
	t := time.Now().UnixNano()
	var old []*rtpPair
	p.mu.Lock()
	for p.head < len(p.q) && t-p.q[p.head].released >= int64(p.idle) {
		old = append(old, p.q[p.head])
		p.q[p.head] = nil
		p.head++
	}
	p.compactLocked()
	if p.head < len(p.q) {
		p.timer.Reset(time.Duration(p.q[p.head].released + int64(p.idle) - t))
	}
	p.mu.Unlock()
	p.drop(old)
}

// drain closes every pair in the pool (tests: a manager has no Close).
func (p *sockPool) drain() {
	p.mu.Lock()
	all := append([]*rtpPair(nil), p.q[p.head:]...)
	clear(p.q)
	p.q, p.head = p.q[:0], 0
	p.mu.Unlock()
	p.drop(all)
}

func (p *sockPool) compactLocked() {
	switch {
	case p.head == len(p.q):
		p.q, p.head = p.q[:0], 0
	case p.head > 64 && p.head > len(p.q)/2:
		n := copy(p.q, p.q[p.head:])
		clear(p.q[n:])
		p.q, p.head = p.q[:n], 0
	}
}

// size is how many pairs wait.
func (p *sockPool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.q) - p.head
}

// pair gives a new session its sockets: a pair from the pool, else a
// new pair on a free port, else (the range is all in use or waiting) the
// pool's oldest, however young.
func (m *Manager) pair(ctx context.Context, s *Session) (*rtpPair, error) {
	now := time.Now()
	if sp := m.pool.get(now, false); sp != nil {
		sp.loop.reuse(sp, s)
		m.pool.reused.Add(1)
		return sp, nil
	}
	for try := 0; ; try++ {
		rtp, rtcp, port, err := m.ports.listen(ctx, m.bindIP, m.dualIP)
		if err == nil {
			sp := &rtpPair{rtp: rtp, rtcp: rtcp, port: port}
			if err := m.loopFor().add(sp, s); err != nil {
				rtp.close()
				rtcp.close()
				m.ports.release(port)
				return nil, err
			}
			m.pool.opened.Add(1)
			return sp, nil
		}
		if !errors.Is(err, ErrNoPorts) || try > 0 {
			return nil, err
		}
		// get closes the noisy pairs it passes: their ports are free
		// for the second try.
		if sp := m.pool.get(now, true); sp != nil {
			sp.loop.reuse(sp, s)
			m.pool.reused.Add(1)
			return sp, nil
		}
	}
}

// dropPairs closes pairs for good: off their loops, sockets closed, ports
// released.
func (m *Manager) dropPairs(sps []*rtpPair) {
	for _, sp := range sps {
		sp.loop.drop(sp)
		sp.rtp.close()
		sp.rtcp.close()
		m.ports.release(sp.port)
	}
}
