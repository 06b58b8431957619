package media

import (
	"sync"
	"sync/atomic"
	"time"
)

// Totals are the media layer's counters over every session since start,
// for the operator (/metrics). Reading them walks the open sessions: it
// costs the scrape, not the packets.
type Totals struct {
	PacketsSent, PacketsReceived uint64
	BytesSent, BytesReceived     uint64
	// DroppedSource counts packets from addresses a call never named;
	// DroppedLate packets behind the jitter buffer (late or duplicate);
	// DroppedOverflow packets the jitter buffer let go of when full or when
	// the stream jumped; DroppedInvalid the rest (not RTP, a payload type
	// not negotiated, a session not negotiated yet or closed).
	DroppedSource, DroppedLate, DroppedOverflow, DroppedInvalid uint64
	// DroppedSend counts RTP packets of ours the kernel would not send
	// (a full socket buffer, an unreachable address): what a batched
	// send's completion or a sendto reported.
	DroppedSend uint64
	// Sessions is the number of open sessions.
	Sessions int
	// PortsInUse and PortsTotal are RTP port pairs taken and available.
	PortsInUse, PortsTotal int
	// Pacing is how late the last packet of each 20 ms tick went out.
	Pacing Histogram
	// PacingWake is how late the pacing thread woke for each tick.
	PacingWake Histogram
	// PacingRealtime says whether the pacing thread runs at real-time
	// priority now; PacingDemotions counts the times its guard lowered it.
	PacingRealtime  bool
	PacingDemotions uint64
	// PacingSpills counts the ticks whose end the pacing thread sent at
	// the normal class, past its real-time part (--media-priority bounded).
	PacingSpills uint64
	// Prompt, URL and TTS caches: lookups that hit and that missed.
	PromptHits, PromptMisses uint64
	URLHits, URLMisses       uint64
	TTSHits, TTSMisses       uint64
}

// Histogram is a fixed-bucket histogram: Counts[i] observations at most
// Bounds[i] and above Bounds[i-1]; Count and Sum cover every observation.
type Histogram struct {
	Bounds []time.Duration
	Counts []uint64
	Count  uint64
	Sum    time.Duration
}

// pacingBounds are the lateness buckets: sub-millisecond is what a healthy
// pacer does, 5 ms is the goal's p99, 20 ms is a whole tick lost.
var pacingBounds = []time.Duration{
	50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
}

// latencyHistogram is a lock-free Histogram: one observation per pacer
// tick (50 a second per pacer), never per packet.
type latencyHistogram struct {
	counts [12]atomic.Uint64 // len(pacingBounds)+1: the last is the overflow
	count  atomic.Uint64
	sumNS  atomic.Int64
}

func (h *latencyHistogram) observe(d time.Duration) {
	d = max(d, 0)
	i := len(pacingBounds)
	for j, b := range pacingBounds {
		if d <= b {
			i = j
			break
		}
	}
	h.counts[i].Add(1)
	h.count.Add(1)
	h.sumNS.Add(int64(d))
}

func (h *latencyHistogram) snapshot() Histogram {
	out := Histogram{Bounds: pacingBounds, Counts: make([]uint64, len(pacingBounds))}
	for i := range pacingBounds {
		out.Counts[i] = h.counts[i].Load()
	}
	out.Count = h.count.Load()
	out.Sum = time.Duration(h.sumNS.Load())
	return out
}

// sessionSet is the manager's record of open sessions, and what closed
// ones counted, so that Totals only ever grow: a session's counters move
// into closed under the same lock Totals reads under.
type sessionSet struct {
	mu     sync.Mutex
	open   map[*Session]struct{}
	closed Totals // only the counter fields
}

func (ss *sessionSet) add(s *Session) {
	ss.mu.Lock()
	if ss.open == nil {
		ss.open = map[*Session]struct{}{}
	}
	ss.open[s] = struct{}{}
	ss.mu.Unlock()
}

// retire moves a closed session's final counts into the totals.
func (ss *sessionSet) retire(s *Session) {
	ss.mu.Lock()
	if _, ok := ss.open[s]; ok {
		delete(ss.open, s)
		s.addCounts(&ss.closed)
	}
	ss.mu.Unlock()
}

// addCounts adds the session's counters to t.
func (s *Session) addCounts(t *Totals) {
	t.PacketsSent += s.packetsSent.Load()
	t.PacketsReceived += s.packetsReceived.Load()
	t.BytesSent += s.bytesSent.Load()
	t.BytesReceived += s.bytesReceived.Load()
	src, dropped := s.droppedSource.Load(), s.dropped.Load()
	t.DroppedSource += src
	if dropped > src {
		t.DroppedInvalid += dropped - src
	}
	t.DroppedLate += s.rx.jb.late.Load()
	t.DroppedOverflow += s.rx.jb.overflow.Load()
	t.DroppedSend += s.sendErrors.Load()
}

// Totals sums the counters of every session, open and closed, and reads
// the pacing histogram, the port pool and the caches.
func (m *Manager) Totals() Totals {
	m.sessions.mu.Lock()
	t := m.sessions.closed
	for s := range m.sessions.open {
		s.addCounts(&t)
	}
	t.Sessions = len(m.sessions.open)
	m.sessions.mu.Unlock()
	t.PortsInUse, t.PortsTotal = m.ports.inUse()
	t.PortsInUse -= m.pool.size() // bound, waiting for a call (sockpool.go)
	t.Pacing = m.pacing.snapshot()
	t.PacingWake = m.pacingWake.snapshot()
	t.PacingRealtime = m.paceT.rt.Load()
	t.PacingDemotions = m.paceT.demotions.Load()
	t.PacingSpills = m.paceT.spills.Load()
	t.PromptHits, t.PromptMisses = m.prompts.hits.Load(), m.prompts.misses.Load()
	t.URLHits, t.URLMisses = m.urls.hits.Load(), m.urls.misses.Load()
	if m.tts != nil {
		t.TTSHits, t.TTSMisses = m.tts.CacheStats()
	}
	return t
}
