package media

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/pion/rtcp"
)

// rtcpEvery is the RTCP report interval in pacer ticks: 5 s.
const rtcpEvery = 250

// ntpTime is t in NTP format (seconds since 1900, 32.32 fixed point).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return secs<<32 | frac
}

// sendRTCP sends a sender report (a receiver report while we do not send)
// with a reception report block for the far end's stream, and our CNAME.
func (s *Session) sendRTCP(now time.Time) {
	if s.rtcpConn == nil {
		return
	}
	s.mu.Lock()
	addr := s.remoteRTCP
	sending := s.neg.dir.Sends()
	ssrc, ts := s.ssrc, s.ts
	var reports []rtcp.ReceptionReport
	if st := &s.rxStats; st.init {
		extMax := st.cycles + uint32(st.maxSeq)
		expected := extMax - st.baseSeq + 1
		lost := int64(expected) - int64(st.received)
		lost = max(min(lost, 0x7fffff), -0x800000)
		expInt := expected - st.expPrior
		recvInt := st.received - st.recvPrior
		st.expPrior, st.recvPrior = expected, st.received
		var fraction uint8
		if lostInt := int64(expInt) - int64(recvInt); expInt > 0 && lostInt > 0 {
			fraction = uint8(min(lostInt<<8/int64(expInt), 255))
		}
		reports = []rtcp.ReceptionReport{{
			SSRC:               st.ssrc,
			FractionLost:       fraction,
			TotalLost:          uint32(lost) & 0xffffff,
			LastSequenceNumber: extMax,
			Jitter:             uint32(st.jitter),
		}}
	}
	s.mu.Unlock()
	if addr.Port() == 0 || addr.Addr().IsUnspecified() {
		return
	}
	var report rtcp.Packet = &rtcp.ReceiverReport{SSRC: ssrc, Reports: reports}
	if sending {
		report = &rtcp.SenderReport{
			SSRC:        ssrc,
			NTPTime:     ntpTime(now),
			RTPTime:     ts,
			PacketCount: uint32(s.packetsSent.Load()),
			OctetCount:  uint32(s.octetsSent.Load()),
			Reports:     reports,
		}
	}
	sdes := &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{
		Source: ssrc,
		Items:  []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: fmt.Sprintf("%08x@switchboard", ssrc)}},
	}}}
	b, err := rtcp.Marshal([]rtcp.Packet{report, sdes})
	if err != nil {
		return
	}
	s.rtcpConn.WriteToUDPAddrPort(b, addr)
}

// handleRTCP takes one datagram from the RTCP port. Reports are not used
// yet beyond latching where RTCP goes (symmetric RTCP, from the RTP peer's
// address); a stranger's are dropped and counted.
func (s *Session) handleRTCP(b []byte, src netip.AddrPort, now time.Time) {
	s.mu.Lock()
	allowed := s.haveNeg && s.allowedLocked(src.Addr())
	s.mu.Unlock()
	if !allowed {
		s.dropStranger()
		return
	}
	if _, err := rtcp.Unmarshal(b); err != nil {
		return
	}
	s.lastHeard.Store(now.UnixNano())
	s.mu.Lock()
	if !s.latched || src.Addr() == s.remote.Addr() {
		s.remoteRTCP, s.rtcpLatched = src, true
	}
	s.mu.Unlock()
}
