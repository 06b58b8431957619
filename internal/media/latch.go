package media

import (
	"net/netip"
	"slices"
)

// relatchAfter is how many packets in a row must come from a new port of an
// allowed address before the stream moves there (a NAT rebinding, a phone
// restarting its media): 10 packets are 200 ms of audio, more than a stray
// or replayed packet, less than a noticeable gap.
const relatchAfter = 10

// AllowSource adds an address media may come from besides the one in the
// SDP: the address the call's signalling came from, so that a phone behind
// NAT, whose SDP names its private address, is still heard. Any port on an
// allowed address may latch; packets from any other address are dropped,
// so a host spraying the port range can neither hear a call nor speak (or
// press digits) into it.
func (s *Session) AllowSource(ip netip.Addr) {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.signalAddrs, ip) {
		s.signalAddrs = append(s.signalAddrs, ip)
	}
}

// allowedLocked reports whether media from ip belongs to the call: the SDP's
// connection address (unless it is unspecified, as in an old-style hold) or
// an address the signalling came from.
func (s *Session) allowedLocked(ip netip.Addr) bool {
	if sdpIP := s.neg.remote.Addr().Unmap(); sdpIP.IsValid() && !sdpIP.IsUnspecified() && sdpIP == ip {
		return true
	}
	return slices.Contains(s.signalAddrs, ip)
}

// latchLocked decides whether a valid packet from src (an allowed address)
// is taken: the first one latches the stream to its source; after that only
// the latched source is heard, until another port of an allowed address has
// sent relatchAfter packets in a row, while the latched one stays silent.
func (s *Session) latchLocked(src netip.AddrPort) bool {
	switch {
	case !s.latched:
		s.latchToLocked(src)
		return true
	case src == s.remote:
		s.candidateN = 0
		return true
	case src == s.candidate:
		s.candidateN++
	default:
		s.candidate, s.candidateN = src, 1
	}
	if s.candidateN < relatchAfter {
		return false
	}
	s.logger().Info("media source moved", "from", s.remote.String(), "to", src.String())
	s.latchToLocked(src)
	return true
}

func (s *Session) latchToLocked(src netip.AddrPort) {
	s.remote, s.latched = src, true
	s.candidate, s.candidateN = netip.AddrPort{}, 0
	if !s.rtcpLatched || s.remoteRTCP.Addr() != src.Addr() {
		s.remoteRTCP = netip.AddrPortFrom(src.Addr(), src.Port()+1)
	}
}

// dropStranger counts a packet from an address the call never named.
func (s *Session) dropStranger() {
	s.dropped.Add(1)
	s.droppedSource.Add(1)
}
