package media

import (
	"sync"
	"time"
)

// pacer sends every registered session's next frame each 20 ms tick, from
// one goroutine: no ticker per session. The manager runs pacerSlots
// pacers, their ticks staggered over the 20 ms, and puts each session on
// the least loaded, where it stays. A pacer's goroutine starts with its
// first session and ends when its last one leaves.
type pacer struct {
	offset time.Duration
	late   *latencyHistogram // how late each tick's last packet went out
	wake   *latencyHistogram // how late the pacer woke for each tick

	stop chan struct{} // the last session left

	mu       sync.Mutex
	sessions []*Session
	running  bool
	scratch  []*Session // used by the pacer goroutine only
}

func newPacer(offset time.Duration, late, woke *latencyHistogram) *pacer {
	if late == nil {
		late = new(latencyHistogram)
	}
	if woke == nil {
		woke = new(latencyHistogram)
	}
	return &pacer{offset: offset, late: late, wake: woke, stop: make(chan struct{}, 1)}
}

func (p *pacer) load() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sessions)
}

// add registers s (s.mu not held).
func (p *pacer) add(s *Session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s.pacerIdx = len(p.sessions)
	p.sessions = append(p.sessions, s)
	if !p.running {
		p.running = true
		go p.run() // ends when the last session leaves
	}
}

func (p *pacer) remove(s *Session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := s.pacerIdx
	if i < 0 || i >= len(p.sessions) || p.sessions[i] != s {
		return
	}
	last := len(p.sessions) - 1
	p.sessions[i] = p.sessions[last]
	p.sessions[i].pacerIdx = i
	p.sessions[last] = nil
	p.sessions = p.sessions[:last]
	s.pacerIdx = -1
	if last == 0 {
		select {
		case p.stop <- struct{}{}:
		default:
		}
	}
}

// empty reports whether no session is left, and if so marks the pacer
// stopped; its goroutine must then return.
func (p *pacer) empty() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.sessions) == 0 {
		p.running = false
		return true
	}
	return false
}

func (p *pacer) run() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// Ticks fall on absolute times start + k·20 ms (+ this pacer's offset),
	// so a late wake-up does not push the following ticks back.
	// (Add keeps the monotonic clock reading; Truncate would drop it and a
	// wall-clock step would then stall the pacer.)
	now0 := time.Now()
	start := now0.Add(-time.Duration(now0.UnixNano()%int64(ptime)) + p.offset)
	k := int64(0)
	for {
		k++
		next := start.Add(time.Duration(k) * ptime)
		now := time.Now()
		if d := next.Sub(now); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-p.stop:
				timer.Stop()
				if p.empty() {
					return
				}
				k--
				continue
			}
			now = time.Now()
		} else if -d > ptime {
			// More than a tick behind (the machine stalled): skip the
			// missed ticks rather than send a burst; RTP timestamps follow
			// the wall clock anyway.
			k = int64(now.Sub(start) / ptime)
		}
		p.wake.observe(now.Sub(next))
		p.mu.Lock()
		if len(p.sessions) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.scratch = append(p.scratch[:0], p.sessions...)
		p.mu.Unlock()
		for _, s := range p.scratch {
			s.tick(now)
		}
		clear(p.scratch)
		p.late.observe(time.Since(next))
	}
}
