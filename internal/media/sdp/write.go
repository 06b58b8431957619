package sdp

import (
	"net/netip"
	"strconv"
)

// Local is what we say about our side of the stream.
type Local struct {
	IP        netip.Addr
	Port      int
	SessionID uint64
	Version   uint64
	Direction Direction
	Formats   []Format // codecs then telephone-event, in our order
}

// Offer writes an offer with one audio stream.
func Offer(l Local) ([]byte, error) {
	return marshal(l, nil, -1)
}

// Answer writes the answer to offer: the chosen stream accepted with
// l.Formats, every other m-line rejected (port 0) so the answer has as
// many m-lines as the offer (RFC 3264 §6).
func Answer(offer *Description, chosen int, l Local) ([]byte, error) {
	return marshal(l, offer.Media, chosen)
}

// DefaultFormats are the formats we offer, payload type numbers included.
func DefaultFormats() []Format {
	return []Format{
		{PT: 0, Name: "PCMU", Rate: 8000},
		{PT: 8, Name: "PCMA", Rate: 8000},
		{PT: 101, Name: "telephone-event", Rate: 8000, Fmtp: "0-16"},
	}
}

// marshal writes the SDP text itself: building pion's SessionDescription
// for it (a string per format, a Sprintf per attribute, a struct per
// m-line) cost about thirty allocations a call. TestMarshalMatchesPion
// holds the text against pion's Marshal of the same description.
func marshal(l Local, offered []Media, chosen int) ([]byte, error) {
	addrType := "IP4"
	if l.IP.Is6() && !l.IP.Is4In6() {
		addrType = "IP6"
	}
	b := make([]byte, 0, 256)
	b = append(b, "v=0\r\no=switchboard "...)
	b = strconv.AppendUint(b, l.SessionID, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, l.Version, 10)
	b = append(b, " IN "...)
	b = append(b, addrType...)
	b = append(b, ' ')
	ip := len(b)
	b = l.IP.Unmap().AppendTo(b)
	ipEnd := len(b)
	b = append(b, "\r\ns=switchboard\r\nc=IN "...)
	b = append(b, addrType...)
	b = append(b, ' ')
	b = append(b, b[ip:ipEnd]...)
	b = append(b, "\r\nt=0 0\r\n"...)
	audio := func(b []byte) []byte {
		b = append(b, "m=audio "...)
		b = strconv.AppendInt(b, int64(l.Port), 10)
		b = append(b, " RTP/AVP "...)
		for i, f := range l.Formats {
			if i > 0 {
				b = append(b, ' ')
			}
			b = strconv.AppendUint(b, uint64(f.PT), 10)
		}
		b = append(b, "\r\n"...)
		for _, f := range l.Formats {
			b = append(b, "a=rtpmap:"...)
			b = strconv.AppendUint(b, uint64(f.PT), 10)
			b = append(b, ' ')
			b = append(b, f.Name...)
			b = append(b, '/')
			b = strconv.AppendInt(b, int64(f.Rate), 10)
			b = append(b, "\r\n"...)
			if f.Fmtp != "" {
				b = append(b, "a=fmtp:"...)
				b = strconv.AppendUint(b, uint64(f.PT), 10)
				b = append(b, ' ')
				b = append(b, f.Fmtp...)
				b = append(b, "\r\n"...)
			}
		}
		b = append(b, "a=ptime:20\r\na="...)
		b = append(b, l.Direction...)
		return append(b, "\r\n"...)
	}
	if offered == nil {
		b = audio(b)
	}
	for i, m := range offered {
		if i == chosen {
			b = audio(b)
			continue
		}
		typ := m.Type
		if typ == "" {
			typ = "audio"
		}
		b = append(b, "m="...)
		b = append(b, typ...)
		b = append(b, " 0 "...)
		if len(m.Protos) == 0 {
			b = append(b, "RTP/AVP"...)
		}
		for i, p := range m.Protos {
			if i > 0 {
				b = append(b, '/')
			}
			b = append(b, p...)
		}
		b = append(b, ' ')
		if len(m.rawFormats) == 0 {
			b = append(b, '0')
		}
		for i, f := range m.rawFormats {
			if i > 0 {
				b = append(b, ' ')
			}
			b = append(b, f...)
		}
		b = append(b, "\r\n"...)
	}
	return b, nil
}
