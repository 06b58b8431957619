package sip

import (
	"sync/atomic"
	"time"
)

// The scheduler's latency (saturation.go) rises as soon as the process
// is busy, whether or not it keeps up: at a rate it runs clean it passed
// 20 ms often enough to refuse some 6 % of the calls. What tells "busy
// but keeping up" from "falling behind" is how long the datagrams wait in
// the SIP UDP socket before the read loop takes them: a read loop that
// keeps up drains the socket at each turn it gets, and the wait stays
// about one scheduling delay; one that falls behind leaves a queue that
// grows, and every message waits behind it (the ACKs and BYEs of the
// calls taken too, until the callers retransmit).
//
// The kernel stamps each datagram as it arrives (SO_TIMESTAMPNS): the
// read wrapper takes the stamp from the control message of the same
// recvmsg that reads the datagram (no extra system call) and keeps the
// window's least wait. As in CoDel (Nichols and Jacobson, "Controlling
// Queue Delay", 2012), the least wait over a window is the standing
// queue: a read loop that keeps up empties the socket at every turn it
// gets, so the last datagram of each turn waited next to nothing however
// long the turn was in coming (a busy process's scheduling delay, a GC
// pause: a burst of waits, not a standing queue); one that falls behind
// never empties it, and then every datagram waits. The saturation watch
// judges the window's least wait against Config.ShedQueueDelay beside the
// scheduler's latency, and the admission cuts only when both say over
// (shed.go).
// queueMinRead is how many datagrams a window needs before its least
// wait is judged: a few datagrams say little about a queue.
const queueMinRead = 20

// queueWait keeps the least wait in the socket of a window's datagrams;
// the read loop adds, the saturation watch takes.
type queueWait struct {
	least atomic.Int64 // nanoseconds; 0 before the first datagram of a window
	n     atomic.Uint64
}

// add counts one datagram's wait. One goroutine reads a socket, so the
// least is kept without a compare-and-swap; one wait racing take may land
// in the next window, which only makes that window's least smaller.
func (q *queueWait) add(d time.Duration) {
	d = max(d, 1) // 0 stands for none
	if l := q.least.Load(); l == 0 || int64(d) < l {
		q.least.Store(int64(d))
	}
	q.n.Add(1)
}

// take returns the least wait of the window's datagrams and how many
// there were, and starts a new window.
func (q *queueWait) take() (time.Duration, uint64) {
	return time.Duration(q.least.Swap(0)), q.n.Swap(0)
}
