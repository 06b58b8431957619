package sip

import (
	"slices"
	"time"
)

// The calls in setup are a leading signal for the adaptive cap (measured
// and exported; judging by them is off in the server: judgeSetup). A call
// taken over UDP is in setup from its INVITE's read to the read of its
// ACK (of the 200, or of a final refusal): the time the server took to
// answer it, plus the time the ACK waited in the socket while the read
// loop was behind. Both grow the moment the server takes more calls than
// it can answer, well before the scheduler's latency over a window says
// so (the calls' CPU comes in the prompt that follows, half a second to a
// second later: measured in bench/RESULTS.md) and long before a caller's
// retransmission (T1, 500 ms).
//
// Each window the cap is judged by the setup time of the calls whose ACK
// came in it (its shedSetupQuantile, against shedSetupLimit), and by the
// calls still waiting: when the ACKs stop coming while the calls taken
// keep waiting (a read loop far behind reads none), the window is over
// by as much as the oldest waits. The quantile, not the maximum, so that
// one slow caller's ACK (or none, from a caller who never sends it) does
// not cut the calls of everyone else: a call whose ACK never comes stops
// counting after shedSetupGone. Calls over TCP or TLS are not followed
// (no ACK is read raw there); without setup samples the scheduler's
// latency judges alone, as before.
const (
	shedSetupLimit    = 60 * time.Millisecond // a window's setup time over this is over the limit
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
	ring    [setupSlots]setupSlotCount
	samples []time.Duration // setup times of the ACKs read this window
	acks    int             // ACKs of calls in setup read this window
	began   int             // calls that entered setup this window
	last    time.Duration   // the last judged window's setup time, for /metrics
}

// setupSlotCount is one slot of the ring: the calls that entered setup
// in it, and how many of them are still waiting for their ACK.
type setupSlotCount struct{ slot, in, n int64 }

// enter counts a call taken at (unix nanoseconds) into setup.
func (w *setupWatch) enter(at int64) {
	s := at / int64(setupSlot)
	b := &w.ring[s%int64(setupSlots)]
	if b.slot != s {
		*b = setupSlotCount{slot: s}
	}
	b.in++
	b.n++
	w.began++
}

// leave takes a call that entered setup at out of it on its ACK's read at
// now. Only the calls that entered after the last cut (since) are judged:
// the ACKs of calls taken before it say what the cap was, not what it is.
func (w *setupWatch) leave(at int64, now, since time.Time) {
	s := at / int64(setupSlot)
	if b := &w.ring[s%int64(setupSlots)]; b.slot == s && b.n > 0 {
		b.n--
	}
	w.acks++
	if at >= since.UnixNano() && len(w.samples) < shedSetupSamples {
		w.samples = append(w.samples, now.Sub(time.Unix(0, at)))
	}
}

// waiting is how many calls are in setup at now (those that entered less
// than shedSetupGone ago), and how long the calls of the oldest slot in
// which most are still waiting have waited at least (0: none such): a
// read loop far behind reads no ACK, and every recent slot waits, while a
// caller who never ACKs is a minority of its slots.
func (w *setupWatch) waiting(now, since time.Time) (n int, stalled time.Duration) {
	cur, first := now.UnixNano()/int64(setupSlot), since.UnixNano()/int64(setupSlot)
	for _, b := range w.ring {
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

// judge closes a window: the load it shows in multiples of shedSetupLimit
// (the quantile of its ACKs' setup times, or how long a stalled setup has
// waited, whichever is more) and whether it says anything (false: too few
// calls followed to judge; the scheduler's latency then decides).
func (w *setupWatch) judge(now, since time.Time) (load float64, judged bool, acks int) {
	acks = w.acks
	defer func() { w.samples, w.acks, w.began = w.samples[:0], 0, 0 }()
	_, stalled := w.waiting(now, since)
	var q time.Duration
	if len(w.samples) >= shedSetupMin {
		slices.Sort(w.samples)
		q = w.samples[min(len(w.samples)-1, int(shedSetupQuantile*float64(len(w.samples))))]
	}
	if len(w.samples) < shedSetupMin && stalled == 0 && w.began < shedSetupMin {
		return 0, false, acks
	}
	w.last = max(q, stalled)
	return float64(w.last) / float64(shedSetupLimit), true, acks
}
