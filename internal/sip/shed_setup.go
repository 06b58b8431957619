package sip

import (
	"slices"
	"time"
)

// The calls in setup are measured and exported (/metrics), beside the
// adaptive limit: what an operator reads to see a read loop fall behind. A
// call taken over UDP is in setup from its INVITE's read to the read of
// its ACK (of the 200, or of a final refusal): the time the server took
// to answer it, plus the time the ACK waited in the socket while the read
// loop was behind. They no longer move the limit: judged with the
// scheduler's latency they moved a rate cap (the limit's predecessor),
// and took 8 % more of an overload than the latency alone but left 2 of
// 8 runs over 1 % retransmissions (bench/RESULTS.md, 2026-12-07 22:17);
// the calls in progress (shed.go) now count a call the moment it is
// taken, which is what this signal was for.
//
// The watch costs no look-up of its own: a call enters setup in admit,
// under the lock its admission takes anyway, and leaves it on the one
// look-up of its ACK's Call-ID (recentSet.ack) that drops the ACKs of the
// 503s in any case; the ring is lock-guarded arithmetic.
//
// Each window's setup time is the shedSetupQuantile of the setup times of
// the calls whose ACK came in it, or how long the calls still waiting
// have waited when the ACKs stop coming while the calls taken keep
// waiting (a read loop far behind reads none). The quantile, not the
// maximum, so that one slow caller's ACK (or none, from a caller who never
// sends it) does not stand for everyone: a call whose ACK never comes
// stops counting after shedSetupGone. Calls over TCP or TLS are not
// followed (no ACK is read raw there).
const (
	shedSetupQuantile = 0.9
	shedSetupMin      = 5                      // ACKs a window needs before its quantile is trusted
	shedSetupGone     = 2 * time.Second        // a call not ACKed by then is lost, not in setup
	shedSetupSamples  = 1024                   // setup times kept a window (the rest are counted only)
	setupSlot         = 100 * time.Millisecond // the ring's granularity
	setupSlots        = int(shedSetupGone/setupSlot) + 1
)

// setupWatch counts the calls in setup by the slot of their INVITE's read
// and keeps the setup times of the window's ACKs. It is guarded by the
// admission's lock.
type setupWatch struct {
	ring    callRing
	samples []time.Duration // setup times of the ACKs read this window
	acks    int             // ACKs of calls in setup read this window
	began   int             // calls that entered setup this window
	last    time.Duration   // the last judged window's setup time, for /metrics
}

// callRing counts calls that wait for something (an ACK; onInvite) by
// the slot of their start, for shedSetupGone: a call never done by then
// stops counting.
type callRing [setupSlots]setupSlotCount

// setupSlotCount is one slot of the ring: the calls that entered it, and
// how many of them still wait.
type setupSlotCount struct{ slot, in, n int64 }

// enter counts a call that started at (unix nanoseconds).
func (r *callRing) enter(at int64) {
	s := at / int64(setupSlot)
	b := &r[s%int64(setupSlots)]
	if b.slot != s {
		*b = setupSlotCount{slot: s}
	}
	b.in++
	b.n++
}

// leave takes a call that started at out of the ring (nothing when its
// slot is gone).
func (r *callRing) leave(at int64) {
	s := at / int64(setupSlot)
	if b := &r[s%int64(setupSlots)]; b.slot == s && b.n > 0 {
		b.n--
	}
}

// waiting is how many calls wait at now (those that started less than
// shedSetupGone ago), and how long the calls of the oldest slot after
// since in which most still wait have waited at least (0: none such): a
// read loop far behind reads no ACK, and every recent slot waits, while a
// caller who never ACKs is a minority of its slots.
func (r *callRing) waiting(now, since time.Time) (n int, stalled time.Duration) {
	cur, first := now.UnixNano()/int64(setupSlot), since.UnixNano()/int64(setupSlot)
	for _, b := range r {
		age := cur - b.slot
		if b.n == 0 || age < 0 || age >= int64(setupSlots)-1 {
			continue
		}
		n += int(b.n)
		if age > 0 && b.slot > first && 2*b.n > b.in && b.n >= shedSetupMin {
			stalled = max(stalled, time.Duration(age)*setupSlot)
		}
	}
	return n, stalled
}

// enter counts a call taken at (unix nanoseconds) into setup.
func (w *setupWatch) enter(at int64) {
	w.ring.enter(at)
	w.began++
}

// leave takes a call that entered setup at out of it on its ACK's read at
// now. Only the calls that entered after the limit's last cut (since) are
// measured: the ACKs of calls taken before it say what the limit was, not
// what it is.
func (w *setupWatch) leave(at int64, now, since time.Time) {
	w.ring.leave(at)
	w.acks++
	if at >= since.UnixNano() && len(w.samples) < shedSetupSamples {
		w.samples = append(w.samples, now.Sub(time.Unix(0, at)))
	}
}

// waiting is the calls in setup at now, and how long a stalled setup
// waited (callRing.waiting).
func (w *setupWatch) waiting(now, since time.Time) (n int, stalled time.Duration) {
	return w.ring.waiting(now, since)
}

// judge closes a window: its setup time (the quantile of its ACKs' setup
// times, or how long a stalled setup has waited, whichever is more) is
// kept for /metrics when the window had calls enough to say.
func (w *setupWatch) judge(now, since time.Time) {
	defer func() { w.samples, w.acks, w.began = w.samples[:0], 0, 0 }()
	_, stalled := w.waiting(now, since)
	var q time.Duration
	if len(w.samples) >= shedSetupMin {
		slices.Sort(w.samples)
		q = w.samples[min(len(w.samples)-1, int(shedSetupQuantile*float64(len(w.samples))))]
	}
	if len(w.samples) < shedSetupMin && stalled == 0 && w.began < shedSetupMin {
		return
	}
	w.last = max(q, stalled)
}
