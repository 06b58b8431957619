package media

import (
	"sync/atomic"
	"time"
)

// The receive jitter buffer: packets reach recording and DTMF in sequence
// order. In-order packets pass straight through; after a gap it holds up to
// jbMaxHeld packets (60 ms) or waits jbMaxWait for the missing one, then
// skips it.
const (
	jbSlots   = 8
	jbMaxHeld = 3
	jbMaxWait = 60 * time.Millisecond
)

type jbSlot struct {
	used bool
	te   bool
	h    rtpHeader
	at   time.Time
	n    int
	data [maxPayload]byte
}

type jitter struct {
	deliver func(h rtpHeader, te bool, payload []byte, now time.Time)
	started bool
	ssrc    uint32
	next    uint16
	count   int
	// slots hold packets that came out of order: 4 kB a call, allocated
	// with the first such packet, so a clean stream (most calls) never
	// pays for it.
	slots *[jbSlots]jbSlot

	// For /metrics (written by the session's I/O loop, read at scrape):
	// packets behind the buffer (late or duplicate), and packets given up
	// on or flushed because the buffer was full or the stream jumped.
	late, overflow atomic.Uint64
}

func (j *jitter) push(h rtpHeader, te bool, payload []byte, now time.Time) {
	if len(payload) > maxPayload {
		return
	}
	if !j.started || h.ssrc != j.ssrc {
		j.flush(now)
		j.started, j.ssrc, j.next = true, h.ssrc, h.seq
	}
	d := int16(h.seq - j.next)
	switch {
	case d < 0: // late (its turn was skipped) or a duplicate
		j.late.Add(1)
		return
	case d == 0 && j.count == 0:
		j.next++
		j.deliver(h, te, payload, now)
		return
	case int(d) >= jbSlots: // a jump: let go of what we hold and restart
		if j.count > 0 {
			j.overflow.Add(uint64(j.count))
		}
		j.flush(now)
		j.next = h.seq + 1
		j.deliver(h, te, payload, now)
		return
	}
	if j.slots == nil {
		j.slots = new([jbSlots]jbSlot)
	}
	sl := &j.slots[h.seq%jbSlots]
	if sl.used {
		j.late.Add(1) // a duplicate of a held packet
		return
	}
	sl.used, sl.te, sl.h, sl.at, sl.n = true, te, h, now, copy(sl.data[:], payload)
	j.count++
	j.release(now, false)
}

// expire releases what waited too long (called when no packet came).
func (j *jitter) expire(now time.Time) { j.release(now, false) }

func (j *jitter) flush(now time.Time) { j.release(now, true) }

func (j *jitter) release(now time.Time, all bool) {
	for j.count > 0 {
		sl := &j.slots[j.next%jbSlots]
		if sl.used && sl.h.seq == j.next {
			sl.used = false
			j.count--
			j.next++
			j.deliver(sl.h, sl.te, sl.data[:sl.n], now)
			continue
		}
		if all || j.count >= jbMaxHeld || now.Sub(j.oldest()) >= jbMaxWait {
			if !all && j.count >= jbMaxHeld {
				j.overflow.Add(1)
			}
			j.next++ // give up on the missing packet
			continue
		}
		return
	}
}

func (j *jitter) oldest() time.Time {
	var t time.Time
	for i := range j.slots {
		if j.slots[i].used && (t.IsZero() || j.slots[i].at.Before(t)) {
			t = j.slots[i].at
		}
	}
	return t
}
