package media

import (
	"sync"
	"time"
)

// pacer is one of the pacerSlots staggered slots of the 20 ms: the
// sessions it holds get their next frame sent at its offset in each tick.
// The manager puts each session on the least loaded slot, where it stays.
// The slots have no goroutine of their own: the pacing thread
// (pacethread.go) wakes for each slot in turn and calls tick.
type pacer struct {
	offset time.Duration
	late   *latencyHistogram // how late each tick's last packet went out
	wake   *latencyHistogram // how late the pacer woke for each tick
	thread *paceThread       // runs the ticks while any slot has a session

	mu       sync.Mutex
	sessions []*Session
	scratch  []*Session // used by the pacing thread only
}

func newPacer(offset time.Duration, late, woke *latencyHistogram, thread *paceThread) *pacer {
	if late == nil {
		late = new(latencyHistogram)
	}
	if woke == nil {
		woke = new(latencyHistogram)
	}
	return &pacer{offset: offset, late: late, wake: woke, thread: thread}
}

func (p *pacer) load() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sessions)
}

// add registers s (s.mu not held).
func (p *pacer) add(s *Session) {
	p.mu.Lock()
	s.pacerIdx = len(p.sessions)
	p.sessions = append(p.sessions, s)
	p.mu.Unlock()
	p.thread.join()
}

func (p *pacer) remove(s *Session) {
	p.mu.Lock()
	i := s.pacerIdx
	if i < 0 || i >= len(p.sessions) || p.sessions[i] != s {
		p.mu.Unlock()
		return
	}
	last := len(p.sessions) - 1
	p.sessions[i] = p.sessions[last]
	p.sessions[i].pacerIdx = i
	p.sessions[last] = nil
	p.sessions = p.sessions[:last]
	s.pacerIdx = -1
	p.mu.Unlock()
	p.thread.leave()
}

// spillEvery is how many sessions a tick sends between calls of its
// spill check.
const spillEvery = 16

// tick sends the next frame of every session of the slot; next is when
// the tick was due and woke when the thread woke for it (now, as the
// sessions see it). The packets go on b, sent at the end (nil: each at
// once). spill, when not nil, is called every spillEvery sessions: the
// pacing thread's check of its real-time part (PriorityBounded).
func (p *pacer) tick(next, now time.Time, b *sendBatch, spill func()) {
	p.wake.observe(now.Sub(next))
	p.mu.Lock()
	p.scratch = append(p.scratch[:0], p.sessions...)
	p.mu.Unlock()
	for i, s := range p.scratch {
		if spill != nil && i%spillEvery == spillEvery-1 {
			spill()
		}
		s.tickBatch(now, b)
	}
	if b != nil {
		b.flush()
	}
	clear(p.scratch)
	p.late.observe(time.Since(next))
}
