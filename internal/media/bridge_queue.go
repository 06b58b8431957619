package media

import (
	"time"

	"github.com/switchboard/switchboard/internal/media/codec"
)

// Re-pacing a bridge. What one leg receives is not sent on at once (that
// would pass the sender's jitter on to the far phone): it is written into
// the other leg's relay queue, and that leg's own pacer tick sends one
// 20 ms frame of it, with the leg's own continuous sequence numbers and
// timestamps. The queue is a ring of samples placed by the sender's RTP
// timestamp, so bursts, reordering, loss, any packet size and a change of
// SSRC all come out as an even stream. A short prebuffer (the target)
// absorbs the sender's jitter: it starts at one frame, grows by a frame at
// each underrun up to rqMaxTarget, and what sits in the queue above it for
// a whole window is dropped, so the delay comes back down.
const (
	rqSize      = 2048 // samples in the ring (a power of two)
	rqMask      = rqSize - 1
	rqMaxFrames = 8    // at most 160 ms queued: past that the oldest goes
	rqMaxTarget = 3    // the prebuffer grows to 60 ms at most
	rqWindow    = 25   // ticks (0.5 s) over which the queue's low mark is kept
	rqDecay     = 500  // ticks (10 s) without an underrun before the target shrinks
	rqStall     = 3    // a tick this many periods after the last: the pacer stalled
	rqLateSpan  = 8000 // a packet up to 1 s behind is late; further, the sender's clock jumped back
	rqRepeats   = 3    // a gap is filled with the last frame for up to 60 ms, then silence
)

// relayRing is a queue's storage, allocated with the session's first
// bridge: 2.3 kB.
type relayRing struct {
	data [rqSize]byte        // samples in the session's codec; silence where none came
	have [rqSize / 64]uint64 // which samples came
	last [codec.FrameSamples]byte
}

// relayQueue is a session's re-pacing queue while it is bridged. Its fields
// belong to the session's mu.
type relayQueue struct {
	from  *bridgeLink // the link that feeds the session; nil when not bridged
	ring  *relayRing
	codec codec.Codec // what ring holds: the session's codec

	// Where the sender's samples go: position = RTP timestamp + tsOff.
	anchored bool
	ssrc     uint32
	tsOff    uint32
	head     uint32 // position of the next sample to send
	tail     uint32 // just past the newest sample queued

	playing  bool // the prebuffer filled once
	target   int  // prebuffer, frames
	underrun bool // in an underrun now
	late     bool // a packet came after its turn: wait one tick to grow the delay
	haveLast bool // ring.last holds the last frame sent
	repeats  int  // ring.last sent again since
	low      uint32
	window   int
	clean    int

	// telephone-event: the event being relayed (the sender's SSRC and
	// timestamp) and its timestamp on this session's timeline.
	te       bool
	teMarker bool // the next packet of the event is its first sent
	teSSRC   uint32
	teIn     uint32
	teOut    uint32
	teAt     time.Time

	stats relayStats
}

// relayStats count what the queue did, for tests and profiling.
type relayStats struct {
	frames    uint64 // relayed frames sent
	fills     uint64 // frames sent with no relayed audio due
	repeats   uint64 // of which the last frame once more
	underruns uint64
	late      uint64 // packets that came after their turn
	dropped   uint64 // samples let go (overflow, trimming, a stalled pacer)
}

// resetLocked empties the queue for a new bridge (or a new codec).
func (q *relayQueue) resetLocked(c codec.Codec) {
	if q.ring == nil {
		q.ring = new(relayRing)
	}
	sil := c.Silence()
	for i := range q.ring.data {
		q.ring.data[i] = sil
	}
	clear(q.ring.have[:])
	from, stats := q.from, q.stats
	*q = relayQueue{from: from, ring: q.ring, codec: c, target: 1, low: ^uint32(0), stats: stats}
}

func (q *relayQueue) span() uint32 { return q.tail - q.head }

// anchorLocked places the sender's stream h belongs to right after what is
// queued: a new SSRC, or a jump in its clock, continues the queue.
func (q *relayQueue) anchorLocked(h rtpHeader) {
	q.anchored, q.ssrc, q.tsOff = true, h.ssrc, q.tail-h.ts
}

// pushLocked queues one received audio payload (in codec from), converted
// to the session's codec to.
func (q *relayQueue) pushLocked(h rtpHeader, payload []byte, from, to codec.Codec) {
	if q.ring == nil || q.codec != to {
		q.resetLocked(to)
	}
	n := uint32(len(payload))
	if n == 0 || n > rqSize/2 {
		return
	}
	if !q.anchored || h.ssrc != q.ssrc {
		q.anchorLocked(h)
	}
	pos := h.ts + q.tsOff
	switch d := int32(pos - q.head); {
	case d+int32(n) <= 0 && d > -rqLateSpan:
		// Its turn has passed (reordered or delayed): the gap was already
		// filled. Hold the next tick back so that the queue gets deeper.
		q.stats.late++
		q.late = true
		return
	case d+int32(n) <= 0, int32(pos-q.tail) > rqMaxFrames*frameTS, h.marker && int32(pos-q.tail) > 0:
		// The sender's clock jumped (or went far back), or a talkspurt
		// starts after silence it did not send: carry on from the newest
		// sample rather than wait through the gap.
		q.anchorLocked(h)
		pos = q.tail
	}
	end := pos + n
	if int32(end-q.head) > rqMaxFrames*frameTS {
		q.dropToLocked(end - rqMaxFrames*frameTS) // the oldest goes
	}
	if d := int32(q.head - pos); d > 0 { // partly late: keep what is still due
		payload, pos = payload[d:], q.head
	}
	for len(payload) > 0 {
		i := pos & rqMask
		w := copy(q.ring.data[i:], payload)
		codec.Transcode(q.ring.data[i:int(i)+w], from, to)
		q.ring.setHave(i, uint32(w))
		payload, pos = payload[w:], pos+uint32(w)
	}
	if int32(end-q.tail) > 0 {
		q.tail = end
	}
}

// dropToLocked lets go of every sample before position p.
func (q *relayQueue) dropToLocked(p uint32) {
	if d := int32(p - q.head); d > 0 {
		n := min(uint32(d), q.span())
		q.clearLocked(q.head, n)
		q.stats.dropped += uint64(n)
		q.head = p
	}
	if int32(q.tail-q.head) < 0 {
		q.tail = q.head
	}
}

// clearLocked marks n samples from position p as sent (n ≤ rqSize).
func (q *relayQueue) clearLocked(p, n uint32) {
	sil := q.codec.Silence()
	i, k1, k2 := ringSplit(p, n)
	for j := range q.ring.data[i : i+k1] {
		q.ring.data[i+uint32(j)] = sil
	}
	for j := range q.ring.data[:k2] {
		q.ring.data[j] = sil
	}
	q.ring.clearHave(i, k1)
	q.ring.clearHave(0, k2)
}

// ringSplit is where n samples from position p lie in the ring: k1 from
// index i, then k2 from index 0.
func ringSplit(p, n uint32) (i, k1, k2 uint32) {
	i = p & rqMask
	k1 = min(n, rqSize-i)
	return i, k1, n - k1
}

// skipLocked is the tick after a stall of the pacer: the frames of the
// missed ticks are let go, down to the prebuffer.
func (q *relayQueue) skipLocked(missed int) {
	if q.ring == nil || !q.playing {
		return
	}
	keep := uint32(q.target) * frameTS
	if s := q.span(); s > keep {
		q.dropToLocked(q.head + min(s-keep, uint32(missed)*frameTS))
	}
}

// popLocked writes the frame for this tick into dst (FrameSamples bytes
// of codec c): the next 20 ms of the queue, or, while the prebuffer fills
// or nothing came, the last frame again (up to 60 ms) and then silence.
func (q *relayQueue) popLocked(dst []byte, c codec.Codec, now time.Time) {
	if q.ring == nil || q.codec != c {
		q.resetLocked(c)
	}
	span := q.span()
	if !q.playing {
		if span < uint32(q.target)*frameTS {
			q.fill(dst)
			return
		}
		q.playing = true
	}
	if q.late {
		// A packet missed its turn: send this tick's filler and keep the
		// queue, which leaves it a frame deeper (up to the largest target:
		// past it, late packets are only dropped).
		q.late = false
		q.clean = 0
		if q.target < rqMaxTarget {
			q.target++
			q.fill(dst)
			return
		}
	}
	q.low = min(q.low, span)
	if q.window++; q.window >= rqWindow {
		// What stayed queued above the target for the whole window is
		// delay nobody needed: let it go.
		if keep := uint32(q.target) * frameTS; q.low > keep {
			q.dropToLocked(q.head + (q.low-keep)/frameTS*frameTS)
			span = q.span()
		}
		q.low, q.window = ^uint32(0), 0
	}
	if span < frameTS {
		// Nothing (or less than a frame) came in time. The queue grows by
		// this tick; the target with it, unless a digit event is why
		// audio paused.
		if !q.underrun {
			q.underrun = true
			q.stats.underruns++
			if q.target < rqMaxTarget && now.Sub(q.teAt) > 3*ptime {
				q.target++
			}
		}
		q.clean = 0
		q.fill(dst)
		return
	}
	q.underrun = false
	if q.clean++; q.clean >= rqDecay {
		q.clean = 0
		q.target = max(q.target-1, 1)
	}
	i, k1, k2 := ringSplit(q.head, frameTS)
	if !q.ring.anyHave(i, k1) && !q.ring.anyHave(0, k2) {
		// A frame lost on the way, with later ones queued: conceal it.
		q.fill(dst)
		q.head += frameTS
		return
	}
	copy(dst, q.ring.data[i:i+k1])
	copy(dst[k1:], q.ring.data[:k2])
	copy(q.ring.last[:], dst)
	q.haveLast, q.repeats = true, 0
	q.clearLocked(q.head, frameTS)
	q.head += frameTS
	q.stats.frames++
}

// fill is a frame when no audio is due: the last one sent again, for up
// to rqRepeats frames, else silence. A short gap is then not heard as a
// click, and a tone (an in-band key) that the sender's stall interrupts
// stays one tone for the far end's detector, not two keys.
func (q *relayQueue) fill(dst []byte) {
	q.stats.fills++
	if q.haveLast && q.repeats < rqRepeats {
		copy(dst, q.ring.last[:])
		q.repeats++
		q.stats.repeats++
		return
	}
	sil := q.codec.Silence()
	for i := range dst[:codec.FrameSamples] {
		dst[i] = sil
	}
}

// setHave marks n samples from ring index i (n ≤ rqSize-i).
func (r *relayRing) setHave(i, n uint32) {
	for n > 0 {
		w, b := i/64, i%64
		k := min(n, 64-b)
		r.have[w] |= maskBits(b, k)
		i, n = i+k, n-k
	}
}

func (r *relayRing) clearHave(i, n uint32) {
	for n > 0 {
		w, b := i/64, i%64
		k := min(n, 64-b)
		r.have[w] &^= maskBits(b, k)
		i, n = i+k, n-k
	}
}

// anyHave reports whether any of n samples from ring index i came (n ≤
// rqSize-i).
func (r *relayRing) anyHave(i, n uint32) bool {
	for n > 0 {
		w, b := i/64, i%64
		k := min(n, 64-b)
		if r.have[w]&maskBits(b, k) != 0 {
			return true
		}
		i, n = i+k, n-k
	}
	return false
}

// maskBits is k bits from bit b (k ≥ 1, b+k ≤ 64).
func maskBits(b, k uint32) uint64 {
	if k == 64 {
		return ^uint64(0)
	}
	return (uint64(1)<<k - 1) << b
}
