package media

// Bridged reports whether s is in a bridge now: tests wait on it rather
// than sleeping until a Bridge has begun.
func Bridged(s *Session) bool { return s.link.Load() != nil }

// Recording reports whether a Record of s is taking audio now.
func Recording(s *Session) bool { return s.rec.Load() != nil }

// RelayAdjust is how many 20 ms frames s's relay queue has added to what
// it relayed (a frame sent again when audio came late) and taken away
// (let go to shorten the delay): a bridged tone's length changes by their
// sum at most.
func RelayAdjust(s *Session) (repeated, dropped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.rq.stats.repeats), int((s.rq.stats.dropped + frameTS - 1) / frameTS)
}

// PacerSlots is how many pacer goroutines a manager may run.
const PacerSlots = pacerSlots

// JitterCounts are s's jitter-buffer counters: packets behind the buffer
// (late or duplicate) and packets given up on.
func JitterCounts(s *Session) (late, overflow uint64) {
	return s.rx.jb.late.Load(), s.rx.jb.overflow.Load()
}

// Gathering reports whether a Gather of s waits for keys now.
func Gathering(s *Session) bool { return s.gathering.Load() > 0 }

// PooledPairs is how many socket pairs wait in m's pool for a session.
func PooledPairs(m *Manager) int { return m.pool.size() }

// DrainPool closes the pairs waiting in m's pool now, as its idle timer
// would after poolIdle.
func DrainPool(m *Manager) { m.pool.drain() }
