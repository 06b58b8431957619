package media

// Bridged reports whether s is in a bridge now: tests wait on it rather
// than sleeping until a Bridge has begun.
func Bridged(s *Session) bool { return s.link.Load() != nil }

// Recording reports whether a Record of s is taking audio now.
func Recording(s *Session) bool { return s.rec.Load() != nil }
