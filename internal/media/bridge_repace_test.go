package media

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/dtmf"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// The re-pacing tests drive a bridge by hand: the sender's packets go
// into a leg's handlePacket at chosen instants, and the other leg's tick
// is called every 20 ms of a simulated clock, as its pacer would. The legs
// have no pacer and no reader goroutine, so what the far phone receives
// (packetLog) is exactly what each relay and each tick sent.

// packetLog is a phone that keeps every packet sent to it.
type packetLog struct {
	mu   sync.Mutex
	pkts [][]byte
}

func (p *packetLog) WriteToUDPAddrPort(b []byte, _ netip.AddrPort) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pkts = append(p.pkts, bytes.Clone(b))
	return len(b), nil
}

func (p *packetLog) take() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.pkts
	p.pkts = nil
	return out
}

// sentPacket is one packet the far phone got, and what sent it.
type sentPacket struct {
	h       rtpHeader
	payload []byte
	onTick  bool // sent by a tick (else by a relay, at once)
	tick    int  // the tick it came with or after
}

// repaceRig is a bridge of leg A (PCMU) to leg B (PCMA), both with
// telephone-event 101, driven by hand.
type repaceRig struct {
	t      *testing.T
	m      *Manager
	now    time.Time
	ticks  int
	phoneA netip.AddrPort // where leg A's packets come from
	legs   map[string]*Session
	logs   map[string]*packetLog
	sent   map[string][]sentPacket
}

func newRepaceRig(t *testing.T) *repaceRig {
	m, err := NewManager(Config{DataDir: t.TempDir(), BindIP: "127.0.0.1", PortMin: 20000, PortMax: 29999}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &repaceRig{t: t, m: m, now: time.Unix(1_000_000, 0), legs: map[string]*Session{}, logs: map[string]*packetLog{}, sent: map[string][]sentPacket{}}
}

// leg makes a negotiated leg whose phone is at 127.0.0.1:port and speaks
// c, marked started but with no pacer or reader: the test is both.
func (r *repaceRig) leg(id string, port int, c codec.Codec) *Session {
	s, err := r.m.NewSession(r.t.Context(), "acct", id)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { s.Close() })
	offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %d 101\r\na=rtpmap:101 telephone-event/8000\r\n", port, c)
	if _, err := s.Answer(offer); err != nil {
		r.t.Fatal(err)
	}
	log := new(packetLog)
	s.mu.Lock()
	s.started = true
	s.w = log
	s.mu.Unlock()
	r.legs[id], r.logs[id] = s, log
	return s
}

// bridge links a and b until the returned stop is called.
func (r *repaceRig) bridge(a, b *Session) (stop func()) {
	ctx, cancel := context.WithCancel(r.t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Bridge(ctx, b) }()
	waitfor.True(r.t, 5*time.Second, "the legs bridged", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.link.Load() != nil && b.link.Load() != nil && a.rq.from != nil
	})
	return func() {
		cancel()
		<-done
	}
}

// collect files what each phone got since the last call.
func (r *repaceRig) collect(onTick bool) {
	for id, log := range r.logs {
		for _, b := range log.take() {
			h, p, ok := parseRTP(b)
			if !ok {
				r.t.Fatalf("%s sent a bad packet % x", id, b)
			}
			r.sent[id] = append(r.sent[id], sentPacket{h: h, payload: p, onTick: onTick, tick: r.ticks})
		}
	}
}

// receive gives leg id a packet from its phone at r.now.
func (r *repaceRig) receive(id string, h rtpHeader, payload []byte) {
	b := make([]byte, rtpHeaderLen+len(payload))
	putRTP(b, h)
	copy(b[rtpHeaderLen:], payload)
	r.legs[id].handlePacket(b, r.phoneA, r.now)
	r.collect(false)
}

// tick is one pacer tick of leg id at r.now.
func (r *repaceRig) tick(id string) {
	r.ticks++
	r.legs[id].tick(r.now)
	r.collect(true)
}

// toneFrames is n frames of a 997.3 Hz tone (no two frames alike) in c.
func toneFrames(t *testing.T, n int, c codec.Codec) [][]byte {
	pcm := make([]int16, n*codec.FrameSamples)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*997.3*float64(i)/8000))
	}
	enc := c.EncodeFrames(pcm)
	frames := make([][]byte, n)
	seen := map[string]bool{}
	for i := range frames {
		frames[i] = enc[i*codec.FrameSamples : (i+1)*codec.FrameSamples]
		if seen[string(frames[i])] {
			t.Fatalf("tone frame %d repeats an earlier one", i)
		}
		seen[string(frames[i])] = true
	}
	return frames
}

// frameIndex maps what the far phone gets back to the sender's frame: the
// frames transcoded to the receiving leg's codec.
func frameIndex(frames [][]byte, from, to codec.Codec) map[string]int {
	idx := make(map[string]int, len(frames))
	for i, f := range frames {
		g := bytes.Clone(f)
		codec.Transcode(g, from, to)
		idx[string(g)] = i
	}
	return idx
}

// arrival is one packet of the jittery sender.
type arrival struct {
	at    time.Duration // since the start of the stream
	frame int           // index into the tone, or -1 for telephone-event
	h     rtpHeader
	te    []byte
}

// TestRelayRepaced: a jittery phone on leg A (bursts of 2 and 3 packets
// after gaps, a reordered pair, a lost packet, a digit, a change of SSRC,
// then silence as on hold, then a resumed stream with a clock jump) is
// heard by leg B's phone as an even stream: exactly one audio packet per
// tick of leg B's pacer, consecutive sequence numbers, timestamps 160
// apart, the marker on the first packet only, the tone's frames in order
// (each once, except repeats where a packet was lost or came late, and
// the lost one) and no silence once prebuffered but in the hold; the digit's packets go at
// once, on leg B's timeline, intact.
func TestRelayRepaced(t *testing.T) {
	t.Parallel()
	r := newRepaceRig(t)
	a := r.leg("a", 40000, codec.PCMU)
	b := r.leg("b", 40002, codec.PCMA)
	r.phoneA = netip.MustParseAddrPort("127.0.0.1:40000")
	defer r.bridge(a, b)()

	const n = 160
	frames := toneFrames(t, n, codec.PCMU)
	idx := frameIndex(frames, codec.PCMU, codec.PCMA)

	// The sender's schedule. Frame i is due at i·20 ms.
	var plan []arrival
	ssrc, seq0, ts0 := uint32(0xA1A1A1A1), uint16(65500), uint32(0xFFFFF000) // both wrap
	hdr := func(i int) rtpHeader {
		return rtpHeader{pt: uint8(codec.PCMU), seq: seq0 + uint16(i), ts: ts0 + uint32(i)*frameTS, ssrc: ssrc, marker: i == 0}
	}
	due := func(i int) time.Duration { return time.Duration(i) * ptime }
	lost := 60
	for i := range 90 {
		at := due(i)
		switch {
		case i >= 20 && i < 50:
			// bursts: groups of 1, 2, 3 frames, each sent when its last
			// frame is due
			g := (i - 20) % 6
			last := map[int]int{0: 0, 1: 2, 2: 2, 3: 5, 4: 5, 5: 5}[g]
			at = due(i - g + last)
		case i == 52:
			at = due(53) + 2*time.Millisecond // after 53
		case i == lost:
			continue
		}
		plan = append(plan, arrival{at: at, frame: i, h: hdr(i)})
	}
	// A digit (5) at frame 70: three updates and the end sent three
	// times, the audio going on meanwhile.
	for k, d := range []uint16{160, 320, 480, 640, 640, 640} {
		p := make([]byte, dtmf.PayloadSize)
		dtmf.Payload{Event: 5, End: k >= 3, Volume: 10, Duration: d}.Put(p)
		h := rtpHeader{pt: 101, seq: 0, ts: ts0 + 70*frameTS, ssrc: ssrc, marker: k == 0}
		plan = append(plan, arrival{at: due(70+min(k, 3)) + time.Millisecond, frame: -1, h: h, te: p})
	}
	// From frame 90 a new SSRC, with its own sequence and clock.
	for i := 90; i < 130; i++ {
		h := rtpHeader{pt: uint8(codec.PCMU), seq: 7 + uint16(i-90), ts: 123456 + uint32(i-90)*frameTS, ssrc: 0xB2B2B2B2, marker: i == 90}
		plan = append(plan, arrival{at: due(i), frame: i, h: h})
	}
	// Then nothing for a second (the phone on hold), then the stream
	// resumes where its clock now stands.
	for i := 130; i < n; i++ {
		h := rtpHeader{pt: uint8(codec.PCMU), seq: 7 + uint16(i-90), ts: 123456 + uint32(i-90+50)*frameTS, ssrc: 0xB2B2B2B2, marker: i == 130}
		plan = append(plan, arrival{at: due(i + 50), frame: i, h: h})
	}
	slices.SortStableFunc(plan, func(x, y arrival) int { return int(x.at - y.at) })

	// Leg B's ticks fall 7 ms after each frame is due, from frame 0's
	// (a tick with nothing queued sends silence).
	start := r.now
	next := 0
	end := due(n+50) + 10*ptime
	seqDigitPackets := 0
	for tick := 7 * time.Millisecond; tick < end; tick += ptime {
		for next < len(plan) && plan[next].at <= tick {
			p := plan[next]
			r.now = start.Add(p.at)
			if p.frame < 0 {
				r.receive("a", p.h, p.te)
				seqDigitPackets++
			} else {
				r.receive("a", p.h, frames[p.frame])
			}
			next++
		}
		r.now = start.Add(tick)
		r.tick("b")
	}
	got := r.sent["b"]

	// The stream: one audio packet per tick, consecutive seq, ts +160.
	perTick := map[int]int{}
	var audio []sentPacket
	var digits []sentPacket
	for i, p := range got {
		if i > 0 && p.h.seq != got[i-1].h.seq+1 {
			t.Fatalf("packet %d: seq %d after %d", i, p.h.seq, got[i-1].h.seq)
		}
		if p.h.ssrc != got[0].h.ssrc {
			t.Fatalf("packet %d: SSRC changed", i)
		}
		switch p.h.pt {
		case uint8(codec.PCMA):
			if !p.onTick {
				t.Fatalf("packet %d: audio sent outside a tick", i)
			}
			if p.h.marker != (len(audio) == 0) {
				t.Errorf("audio packet %d: marker %v", len(audio), p.h.marker)
			}
			perTick[p.tick]++
			audio = append(audio, p)
		case 101:
			if p.onTick {
				t.Errorf("packet %d: a digit packet waited for a tick", i)
			}
			digits = append(digits, p)
		default:
			t.Fatalf("packet %d: payload type %d", i, p.h.pt)
		}
	}
	if len(audio) != r.ticks {
		t.Errorf("%d audio packets for %d ticks", len(audio), r.ticks)
	}
	for tk, c := range perTick {
		if c != 1 {
			t.Errorf("tick %d sent %d audio packets", tk, c)
		}
	}
	for i := 1; i < len(audio); i++ {
		if d := audio[i].h.ts - audio[i-1].h.ts; d != frameTS {
			t.Errorf("audio packet %d: ts step %d", i, int32(d))
		}
	}

	// The content: frame indices in order, silence only before the first
	// frame, in the hold and after the end.
	var order []int
	for _, p := range audio {
		i, ok := idx[string(p.payload)]
		switch {
		case ok:
			order = append(order, i)
		case isSilence(p.payload, codec.PCMA):
			order = append(order, -1)
		default:
			t.Fatalf("audio packet carries neither a tone frame nor silence: % x", p.payload[:8])
		}
	}
	first := slices.IndexFunc(order, func(i int) bool { return i >= 0 })
	if first < 0 || first > 2 {
		t.Fatalf("the first tone frame went out at tick %d: %v", first, order)
	}
	seen := map[int]int{}
	prev := -1
	holdSilence := 0
	for k, i := range order[first:] {
		switch {
		case i < 0:
			// Silence: only in the hold (after frame 129, before 130)
			// and after the last frame.
			if prev != 129 && prev != n-1 {
				t.Errorf("silence at tick %d after frame %d", first+k, prev)
			}
			if prev == 129 {
				holdSilence++
			}
			continue
		case i < prev:
			t.Errorf("frame %d after frame %d", i, prev)
		case i == prev:
			// a repeat: where a frame was lost or came late
		case i != prev+1 && !(prev == lost-1 && i == lost+1):
			t.Errorf("frame %d follows frame %d", i, prev)
		}
		seen[i]++
		prev = i
	}
	for i := range n {
		switch {
		case i == lost && seen[i] != 0:
			t.Errorf("the lost frame was heard")
		case i != lost && seen[i] == 0:
			t.Errorf("frame %d was never heard", i)
		case seen[i] > 1+rqRepeats:
			t.Errorf("frame %d heard %d times", i, seen[i])
		}
	}
	if holdSilence < 45 {
		t.Errorf("%d ticks of silence in the second of hold", holdSilence)
	}
	st := b.rq.stats
	t.Logf("order %v", order)
	t.Logf("queue: %+v, target %d", st, b.rq.target)
	if st.late != 0 {
		t.Errorf("%d packets came after their turn", st.late)
	}

	// The digit: 6 packets, sent at once, one timestamp on B's timeline
	// (the audio packet before it), the marker on the first, payload as
	// sent.
	if len(digits) != seqDigitPackets {
		t.Fatalf("%d digit packets relayed, want %d", len(digits), seqDigitPackets)
	}
	for k, p := range digits {
		if p.h.ts != digits[0].h.ts {
			t.Errorf("digit packet %d: ts %d, want %d", k, p.h.ts, digits[0].h.ts)
		}
		if p.h.marker != (k == 0) {
			t.Errorf("digit packet %d: marker %v", k, p.h.marker)
		}
		pl, _ := dtmf.ParsePayload(p.payload)
		if pl.Event != 5 || pl.End != (k >= 3) || pl.Duration != []uint16{160, 320, 480, 640, 640, 640}[k] {
			t.Errorf("digit packet %d: %+v", k, pl)
		}
	}
	before := audio[slices.IndexFunc(audio, func(p sentPacket) bool { return p.h.seq == digits[0].h.seq-1 })]
	if digits[0].h.ts != before.h.ts {
		t.Errorf("the digit's ts %d is not the timeline's %d", digits[0].h.ts, before.h.ts)
	}
}

func isSilence(p []byte, c codec.Codec) bool {
	for _, x := range p {
		if x != c.Silence() {
			return false
		}
	}
	return true
}

// stream sends frames[from:to] into leg id, one every 20 ms with a tick of
// tickLeg 7 ms after each, from the rig's clock on; hdr gives frame i's
// header.
func (r *repaceRig) stream(id, tickLeg string, frames [][]byte, from, to int, hdr func(i int) rtpHeader) {
	for i := from; i < to; i++ {
		r.receive(id, hdr(i), frames[i])
		r.now = r.now.Add(7 * time.Millisecond)
		r.tick(tickLeg)
		r.now = r.now.Add(ptime - 7*time.Millisecond)
	}
}

// audioOrder checks leg id's phone got one audio packet per tick with
// consecutive seq and ts 160 apart, and returns the frame index of each
// (-1 for silence) and whether it carried the marker.
func (r *repaceRig) audioOrder(id string, pt uint8, c codec.Codec, idx map[string]int) (order []int, marks []bool) {
	r.t.Helper()
	got := r.sent[id]
	for i, p := range got {
		if !p.onTick || p.h.pt != pt {
			r.t.Fatalf("packet %d: pt %d, on a tick %v", i, p.h.pt, p.onTick)
		}
		if i > 0 && (p.h.seq != got[i-1].h.seq+1 || p.h.ts-got[i-1].h.ts != frameTS || p.tick != got[i-1].tick+1) {
			r.t.Fatalf("packet %d: seq %d ts %d tick %d after seq %d ts %d tick %d", i, p.h.seq, p.h.ts, p.tick, got[i-1].h.seq, got[i-1].h.ts, got[i-1].tick)
		}
		j, ok := idx[string(p.payload)]
		switch {
		case ok:
		case isSilence(p.payload, c):
			j = -1
		default:
			r.t.Fatalf("packet %d carries neither a tone frame nor silence", i)
		}
		order = append(order, j)
		marks = append(marks, p.h.marker)
	}
	return order, marks
}

// TestRelayRelinked: a transfer re-links leg A from leg B to leg C
// mid-call (internal/sip's relay loop calls Bridge again). A's phone hears
// one stream: its seq and ts go on across the change, the first packet
// after it carries the marker, and C's audio follows B's in order.
func TestRelayRelinked(t *testing.T) {
	t.Parallel()
	r := newRepaceRig(t)
	a := r.leg("a", 40000, codec.PCMU)
	b := r.leg("b", 40002, codec.PCMA)
	c := r.leg("c", 40004, codec.PCMU)
	r.phoneA = netip.MustParseAddrPort("127.0.0.1:40002")
	frames := toneFrames(t, 60, codec.PCMA)
	idx := frameIndex(frames, codec.PCMA, codec.PCMU)

	stop := r.bridge(a, b)
	r.stream("b", "a", frames, 0, 30, func(i int) rtpHeader {
		return rtpHeader{pt: uint8(codec.PCMA), seq: uint16(100 + i), ts: uint32(5000 + 160*i), ssrc: 0xB0B0}
	})
	nB := len(r.sent["a"])
	stop()
	// C speaks PCMU: the same tone, encoded for it.
	pcmu := make([][]byte, len(frames))
	for i, f := range frames {
		pcmu[i] = bytes.Clone(f)
		codec.Transcode(pcmu[i], codec.PCMA, codec.PCMU)
	}
	stop = r.bridge(a, c)
	defer stop()
	r.stream("c", "a", pcmu, 30, 60, func(i int) rtpHeader {
		return rtpHeader{pt: uint8(codec.PCMU), seq: uint16(9000 + i), ts: uint32(777777 + 160*i), ssrc: 0xC0C0, marker: i == 30}
	})
	order, marks := r.audioOrder("a", uint8(codec.PCMU), codec.PCMU, idx)
	for i, m := range marks {
		if m != (i == 0 || i == nB) {
			t.Errorf("packet %d: marker %v (the re-link is at packet %d)", i, m, nB)
		}
	}
	var heard []int
	for _, j := range order {
		if j >= 0 && (len(heard) == 0 || heard[len(heard)-1] != j) {
			heard = append(heard, j)
		}
	}
	// B's last queued frame may go with the old bridge; nothing else.
	for k := 1; k < len(heard); k++ {
		if heard[k] != heard[k-1]+1 && !(heard[k-1] >= 28 && heard[k] == 30) {
			t.Errorf("frame %d follows frame %d: %v", heard[k], heard[k-1], order)
		}
	}
	if len(heard) == 0 || heard[0] != 0 || heard[len(heard)-1] < 58 {
		t.Errorf("heard %v", order)
	}
	if s := slices.Index(order[nB:], -1); s > 1 {
		t.Errorf("silence inside C's stream: %v", order[nB:])
	}
}

// TestRelayQueueBounds: what a queue does with a sender that is late, in
// a burst, far off its clock, or hostile — and with a pacer that stalls.
func TestRelayQueueBounds(t *testing.T) {
	t.Parallel()
	frames := toneFrames(t, 200, codec.PCMU)
	idx := frameIndex(frames, codec.PCMU, codec.PCMU)
	hdr := func(i int) rtpHeader {
		return rtpHeader{pt: uint8(codec.PCMU), seq: uint16(i), ts: uint32(160 * i), ssrc: 1}
	}
	dst := make([]byte, codec.FrameSamples)
	now := time.Unix(1_000_000, 0)
	pop := func(q *relayQueue) int {
		now = now.Add(ptime)
		q.popLocked(dst, codec.PCMU, now)
		if j, ok := idx[string(dst)]; ok {
			return j
		}
		if !isSilence(dst, codec.PCMU) {
			t.Fatalf("a frame that is neither tone nor silence")
		}
		return -1
	}
	newQueue := func() *relayQueue {
		q := new(relayQueue)
		q.resetLocked(codec.PCMU)
		return q
	}

	t.Run("burst", func(t *testing.T) {
		// 20 frames at once: the newest 8 stay, then the delay comes
		// down to the target within a window.
		q := newQueue()
		for i := range 20 {
			q.pushLocked(hdr(i), frames[i], codec.PCMU, codec.PCMU)
		}
		if s := q.span(); s != rqMaxFrames*frameTS {
			t.Fatalf("queued %d samples, want %d", s, rqMaxFrames*frameTS)
		}
		if got := pop(q); got != 12 {
			t.Fatalf("first frame out %d, want 12 (the oldest dropped)", got)
		}
		next := 20
		for range 2 * rqWindow {
			q.pushLocked(hdr(next), frames[next], codec.PCMU, codec.PCMU)
			next++
			pop(q)
		}
		if s := q.span(); s > uint32(q.target)*frameTS {
			t.Errorf("after two windows %d samples queued, target %d frames", s, q.target)
		}
	})
	t.Run("late", func(t *testing.T) {
		// Frame 3 comes after its turn: it is dropped, counted, and the
		// queue waits a tick to grow a frame deeper.
		q := newQueue()
		var out []int
		for i := range 10 {
			if i != 3 {
				q.pushLocked(hdr(i), frames[i], codec.PCMU, codec.PCMU)
			}
			if i == 5 {
				q.pushLocked(hdr(3), frames[3], codec.PCMU, codec.PCMU)
			}
			out = append(out, pop(q))
		}
		if q.stats.late != 1 || q.target != 3 {
			t.Errorf("late %d, target %d; want 1, 3", q.stats.late, q.target)
		}
		// Frame 3 missing at its tick: 2 again (an underrun: the queue
		// waits, the target grows); 4 comes and 3 is given up (2 again);
		// 3 comes late: dropped, and one more tick is held back (2
		// again, the last repeat allowed); then on, two frames deeper.
		want := []int{0, 1, 2, 2, 2, 2, 4, 5, 6, 7}
		if !slices.Equal(out, want) {
			t.Errorf("out %v, want %v", out, want)
		}
	})
	t.Run("stall", func(t *testing.T) {
		// The pacer misses 4 ticks while the sender goes on: the frames
		// of the missed ticks go, the target's worth stays.
		r := newRepaceRig(t)
		a := r.leg("a", 40000, codec.PCMU)
		b := r.leg("b", 40002, codec.PCMU)
		r.phoneA = netip.MustParseAddrPort("127.0.0.1:40000")
		defer r.bridge(a, b)()
		r.stream("a", "b", frames, 0, 10, hdr)
		for i := 10; i < 15; i++ {
			if i > 10 {
				r.now = r.now.Add(ptime)
			}
			r.receive("a", hdr(i), frames[i])
		}
		r.now = r.now.Add(7 * time.Millisecond) // 100 ms after the last tick
		r.tick("b")
		got := r.sent["b"]
		last, prev := got[len(got)-1], got[len(got)-2]
		if d := last.h.ts - prev.h.ts; d != 5*frameTS {
			t.Errorf("ts step over the stall %d, want %d", d, 5*frameTS)
		}
		if last.h.seq != prev.h.seq+1 {
			t.Errorf("seq %d after %d", last.h.seq, prev.h.seq)
		}
		if j := idx[string(last.payload)]; j != 14 {
			t.Errorf("after the stall frame %d went out, want 14", j)
		}
	})
	t.Run("ptime30", func(t *testing.T) {
		// 30 ms packets come out as 20 ms frames, sample for sample.
		q := newQueue()
		stream := bytes.Join(frames[:60], nil)
		var out []byte
		ticks := 0
		for off := 0; off+240 <= len(stream); off += 240 {
			q.pushLocked(rtpHeader{pt: uint8(codec.PCMU), seq: uint16(off / 240), ts: uint32(off), ssrc: 9}, stream[off:off+240], codec.PCMU, codec.PCMU)
			// 1.5 ticks per packet
			for ; ticks < (off/240+1)*3/2; ticks++ {
				now = now.Add(ptime)
				q.popLocked(dst, codec.PCMU, now)
				out = append(out, dst...)
			}
		}
		start := bytes.Index(out, stream[:codec.FrameSamples])
		if start < 0 {
			t.Fatal("the stream's start never came out")
		}
		got := out[start:]
		var clean []byte
		// drop the fillers (repeats of the frame before, or silence)
		for k := 0; k+codec.FrameSamples <= len(got); k += codec.FrameSamples {
			f := got[k : k+codec.FrameSamples]
			if isSilence(f, codec.PCMU) || len(clean) >= codec.FrameSamples && bytes.Equal(f, clean[len(clean)-codec.FrameSamples:]) {
				continue
			}
			clean = append(clean, f...)
		}
		if !bytes.HasPrefix(stream, clean) || len(clean) < len(stream)-4*codec.FrameSamples {
			t.Errorf("%d samples out of %d in order", len(clean), len(stream))
		}
	})
	t.Run("hostile", func(t *testing.T) {
		// Random clocks, SSRCs, sizes and markers: the queue stays
		// bounded and every tick gives a whole frame.
		q := newQueue()
		seed := uint64(42)
		rnd := func(n uint64) uint64 {
			seed = seed*6364136223846793005 + 1442695040888963407
			return (seed >> 33) % n
		}
		payload := make([]byte, maxPayload)
		for i := range 5000 {
			h := rtpHeader{pt: 0, seq: uint16(rnd(1 << 16)), ts: uint32(rnd(1 << 32)), ssrc: uint32(rnd(3)), marker: rnd(4) == 0}
			if rnd(2) == 0 { // half of them near the last
				h.ts = uint32(i*80) + uint32(rnd(4000))
			}
			q.pushLocked(h, payload[:rnd(maxPayload+1)], codec.PCMA, codec.PCMU)
			if s := q.span(); s > rqMaxFrames*frameTS {
				t.Fatalf("packet %d: %d samples queued", i, s)
			}
			if rnd(2) == 0 {
				now = now.Add(ptime)
				q.popLocked(dst, codec.PCMU, now)
			}
		}
	})
}

// TestRelayLateBounded: a sender whose every other packet comes after its
// turn grows the queue's delay to the largest target and no further.
func TestRelayLateBounded(t *testing.T) {
	t.Parallel()
	frames := toneFrames(t, 400, codec.PCMU)
	q := new(relayQueue)
	q.resetLocked(codec.PCMU)
	dst := make([]byte, codec.FrameSamples)
	now := time.Unix(1_000_000, 0)
	hdr := func(i int) rtpHeader { return rtpHeader{pt: 0, seq: uint16(i), ts: uint32(160 * i), ssrc: 1} }
	for i := 0; i+1 < len(frames); i += 2 {
		// i+1 first, then i: i comes late whenever the queue is short.
		q.pushLocked(hdr(i+1), frames[i+1], codec.PCMU, codec.PCMU)
		now = now.Add(ptime)
		q.popLocked(dst, codec.PCMU, now)
		q.pushLocked(hdr(i), frames[i], codec.PCMU, codec.PCMU)
		now = now.Add(ptime)
		q.popLocked(dst, codec.PCMU, now)
		if s := q.span(); s > (rqMaxTarget+1)*frameTS {
			t.Fatalf("frame %d: %d samples queued", i, s)
		}
	}
	if q.target != rqMaxTarget {
		t.Errorf("target %d, want %d", q.target, rqMaxTarget)
	}
	t.Logf("%+v", q.stats)
}
