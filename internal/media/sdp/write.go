package sdp

import (
	"fmt"
	"net/netip"
	"strconv"

	psdp "github.com/pion/sdp/v3"
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

func marshal(l Local, offered []Media, chosen int) ([]byte, error) {
	addrType := "IP4"
	if l.IP.Is6() && !l.IP.Is4In6() {
		addrType = "IP6"
	}
	ip := l.IP.Unmap().String()
	sd := psdp.SessionDescription{
		Origin: psdp.Origin{
			Username: "switchboard", SessionID: l.SessionID, SessionVersion: l.Version,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: ip,
		},
		SessionName: "switchboard",
		ConnectionInformation: &psdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType, Address: &psdp.Address{Address: ip},
		},
		TimeDescriptions: []psdp.TimeDescription{{Timing: psdp.Timing{}}},
	}
	audio := func() *psdp.MediaDescription {
		md := &psdp.MediaDescription{
			MediaName: psdp.MediaName{Media: "audio", Port: psdp.RangedPort{Value: l.Port}, Protos: []string{"RTP", "AVP"}},
		}
		for _, f := range l.Formats {
			md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(f.PT)))
		}
		for _, f := range l.Formats {
			md.Attributes = append(md.Attributes, psdp.Attribute{Key: "rtpmap", Value: fmt.Sprintf("%d %s/%d", f.PT, f.Name, f.Rate)})
			if f.Fmtp != "" {
				md.Attributes = append(md.Attributes, psdp.Attribute{Key: "fmtp", Value: fmt.Sprintf("%d %s", f.PT, f.Fmtp)})
			}
		}
		md.Attributes = append(md.Attributes,
			psdp.Attribute{Key: "ptime", Value: "20"},
			psdp.Attribute{Key: string(l.Direction)},
		)
		return md
	}
	if offered == nil {
		sd.MediaDescriptions = []*psdp.MediaDescription{audio()}
	}
	for i, m := range offered {
		if i == chosen {
			sd.MediaDescriptions = append(sd.MediaDescriptions, audio())
			continue
		}
		formats := m.rawFormats
		if len(formats) == 0 {
			formats = []string{"0"}
		}
		protos := m.Protos
		if len(protos) == 0 {
			protos = []string{"RTP", "AVP"}
		}
		typ := m.Type
		if typ == "" {
			typ = "audio"
		}
		sd.MediaDescriptions = append(sd.MediaDescriptions, &psdp.MediaDescription{
			MediaName: psdp.MediaName{Media: typ, Port: psdp.RangedPort{Value: 0}, Protos: protos, Formats: formats},
		})
	}
	return sd.Marshal()
}
