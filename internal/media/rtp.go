package media

import "encoding/binary"

const (
	rtpHeaderLen = 12
	// maxPayload is the largest payload we handle: 60 ms of G.711 fits.
	maxPayload = 512
	ptime      = 20 * 1e6 // 20 ms, as a time.Duration
	frameTS    = 160      // RTP clock ticks per 20 ms frame at 8 kHz
)

// rtpHeader is the part of an RTP header we use.
type rtpHeader struct {
	marker bool
	pt     uint8
	seq    uint16
	ts     uint32
	ssrc   uint32
}

// parseRTP checks an RTP packet and returns its header and payload, or
// false for anything that is not RTP version 2 or is cut short. It never
// allocates.
func parseRTP(b []byte) (h rtpHeader, payload []byte, ok bool) {
	if len(b) < rtpHeaderLen || b[0]>>6 != 2 {
		return h, nil, false
	}
	// RTCP multiplexed on this port (RFC 5761): payload types 72-76 with
	// the marker bit, i.e. packet types 200-204.
	if b[1] >= 200 && b[1] <= 204 {
		return h, nil, false
	}
	off := rtpHeaderLen + 4*int(b[0]&0x0f)
	if len(b) < off {
		return h, nil, false
	}
	if b[0]&0x10 != 0 { // header extension
		if len(b) < off+4 {
			return h, nil, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
		if len(b) < off {
			return h, nil, false
		}
	}
	end := len(b)
	if b[0]&0x20 != 0 { // padding
		pad := int(b[end-1])
		if pad == 0 || off+pad > end {
			return h, nil, false
		}
		end -= pad
	}
	h = rtpHeader{
		marker: b[1]&0x80 != 0,
		pt:     b[1] & 0x7f,
		seq:    binary.BigEndian.Uint16(b[2:]),
		ts:     binary.BigEndian.Uint32(b[4:]),
		ssrc:   binary.BigEndian.Uint32(b[8:]),
	}
	return h, b[off:end], true
}

// putRTP writes a 12-byte header.
func putRTP(b []byte, h rtpHeader) {
	b[0] = 0x80
	b[1] = h.pt & 0x7f
	if h.marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], h.seq)
	binary.BigEndian.PutUint32(b[4:], h.ts)
	binary.BigEndian.PutUint32(b[8:], h.ssrc)
}
