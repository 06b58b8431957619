package media

import (
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
	r := rtcpReport{sending: s.neg.dir.Sends(), ssrc: s.ssrc, rtpTime: s.ts}
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
		r.hasBlock = true
		r.block = rtcpBlock{ssrc: st.ssrc, fraction: fraction, lost: uint32(lost) & 0xffffff, extMax: extMax, jitter: uint32(st.jitter)}
	}
	s.mu.Unlock()
	if addr.Port() == 0 || addr.Addr().IsUnspecified() {
		return
	}
	if r.sending {
		r.ntp = ntpTime(now)
		r.packets, r.octets = uint32(s.packetsSent.Load()), uint32(s.octetsSent.Load())
	}
	var buf [rtcpMaxLen]byte
	s.rtcpConn.WriteToUDPAddrPort(r.put(buf[:]), addr)
}

// rtcpReport is what one compound RTCP packet of ours says: an SR (or RR)
// with at most one reception report block, then an SDES with our CNAME
// ("<ssrc in hex>@switchboard").
type rtcpReport struct {
	sending         bool // SR, else RR
	ssrc, rtpTime   uint32
	ntp             uint64
	packets, octets uint32
	hasBlock        bool // one reception report block: block
	block           rtcpBlock
}

// rtcpBlock is a reception report block (RFC 3550 6.4.1); LSR and DLSR
// are not kept, so they are zero.
type rtcpBlock struct {
	ssrc     uint32
	fraction uint8
	lost     uint32 // 24 bits
	extMax   uint32
	jitter   uint32
}

// rtcpMaxLen bounds put's output: SR 28 + a block 24 + SDES 32.
const rtcpMaxLen = 28 + 24 + 32

// put writes the compound packet into b (rtcpMaxLen bytes) and returns
// it: the bytes pion/rtcp's Marshal wrote for the same reports (the
// test holds them against it), without its allocations and a Sprintf.
func (r *rtcpReport) put(b []byte) []byte {
	n := 0
	be32 := func(v uint32) {
		b[n], b[n+1], b[n+2], b[n+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		n += 4
	}
	count, pt, words := uint32(0), uint32(201), uint32(1) // RR: header, SSRC
	if r.sending {
		pt, words = 200, 6 // SR: header, SSRC, NTP (2), RTP time, counts (2)
	}
	if r.hasBlock {
		count, words = 1, words+6
	}
	be32(2<<30 | count<<24 | pt<<16 | words)
	be32(r.ssrc)
	if r.sending {
		be32(uint32(r.ntp >> 32))
		be32(uint32(r.ntp))
		be32(r.rtpTime)
		be32(r.packets)
		be32(r.octets)
	}
	if k := &r.block; r.hasBlock {
		be32(k.ssrc)
		be32(uint32(k.fraction)<<24 | k.lost&0xffffff)
		be32(k.extMax)
		be32(k.jitter)
		be32(0) // LSR
		be32(0) // DLSR
	}
	// SDES, one chunk: SSRC, CNAME (type 1, 20 octets), a null item
	// ending the list, padded to 32 bits: 4 + 2 + 20 + 2 = 28 octets.
	const cnameLen = 8 + len("@switchboard")
	be32(2<<30 | 1<<24 | 202<<16 | (4+28)/4 - 1)
	be32(r.ssrc)
	b[n], b[n+1] = 1, byte(cnameLen)
	n += 2
	const hex = "0123456789abcdef"
	for i := range 8 {
		b[n+i] = hex[r.ssrc>>(28-4*i)&0xf]
	}
	n += 8
	n += copy(b[n:], "@switchboard")
	b[n], b[n+1] = 0, 0
	n += 2
	return b[:n]
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
