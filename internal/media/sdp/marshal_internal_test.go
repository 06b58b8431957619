package sdp

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"testing"

	psdp "github.com/pion/sdp/v3"
)

// pionMarshal is how marshal was written before, through pion's
// SessionDescription: the reference that marshal's text is held to.
func pionMarshal(l Local, offered []Media, chosen int) ([]byte, error) {
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

var marshalCases = []struct {
	name    string
	l       Local
	offered []Media
	chosen  int
}{
	{"offer v4", Local{IP: netip.MustParseAddr("192.0.2.7"), Port: 40000, SessionID: 123, Version: 1, Direction: SendRecv, Formats: DefaultFormats()}, nil, -1},
	{"offer v6", Local{IP: netip.MustParseAddr("2001:db8::1"), Port: 65534, SessionID: 1<<63 + 5, Version: 9, Direction: SendOnly, Formats: DefaultFormats()}, nil, -1},
	{"offer v4-in-v6", Local{IP: netip.MustParseAddr("::ffff:10.0.0.1"), Port: 10000, Direction: Inactive, Formats: DefaultFormats()[:1]}, nil, -1},
	{"no formats, no direction", Local{IP: netip.MustParseAddr("10.1.2.3"), Port: 1}, nil, -1},
	{"answer second of three", Local{IP: netip.MustParseAddr("192.0.2.7"), Port: 40002, SessionID: 7, Version: 2, Direction: RecvOnly, Formats: DefaultFormats()[1:]},
		[]Media{{Type: "video", Protos: []string{"RTP", "AVP"}, rawFormats: []string{"96", "97"}}, {Type: "audio"}, {}}, 1},
	{"answer first", Local{IP: netip.MustParseAddr("192.0.2.7"), Port: 40004, Direction: SendRecv, Formats: DefaultFormats()},
		[]Media{{Type: "audio", Protos: []string{"RTP", "SAVP"}, rawFormats: []string{"0"}}, {Type: "image", Protos: []string{"udptl", "t38"}, rawFormats: []string{"t38"}}}, 0},
}

func TestMarshalMatchesPion(t *testing.T) {
	for _, c := range marshalCases {
		got, err := marshal(c.l, c.offered, c.chosen)
		if err != nil {
			t.Fatal(err)
		}
		want, err := pionMarshal(c.l, c.offered, c.chosen)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n%q\nwant (pion):\n%q", c.name, got, want)
		}
		if _, err := Parse(got); c.offered == nil && err != nil {
			t.Errorf("%s: our own text does not parse: %v", c.name, err)
		}
	}
}

func TestMarshalAllocs(t *testing.T) {
	c := marshalCases[4]
	if n := testing.AllocsPerRun(100, func() { marshal(c.l, c.offered, c.chosen) }); n > 1 {
		t.Errorf("marshal: %.0f allocations, want 1", n)
	}
}

// FuzzMarshalMatchesPion: any formats and offered m-lines write the same
// text as pion's Marshal.
func FuzzMarshalMatchesPion(f *testing.F) {
	f.Add(uint8(0), "PCMU", 8000, "", "audio", "RTP/AVP", "0 8", uint64(1), 40000)
	f.Add(uint8(101), "telephone-event", 8000, "0-16", "video", "", "", uint64(1<<62), 0)
	f.Fuzz(func(t *testing.T, pt uint8, name string, rate int, fmtp, typ, proto, formats string, sid uint64, port int) {
		l := Local{IP: netip.AddrFrom4([4]byte{192, 0, 2, byte(pt)}), Port: port, SessionID: sid, Version: sid / 3, Direction: SendRecv,
			Formats: []Format{{PT: pt, Name: name, Rate: rate, Fmtp: fmtp}, {PT: 8, Name: "PCMA", Rate: 8000}}}
		var protos, raw []string
		if proto != "" {
			protos = bytes2strings(bytes.Split([]byte(proto), []byte("/")))
		}
		if formats != "" {
			raw = bytes2strings(bytes.Fields([]byte(formats)))
		}
		offered := []Media{{Type: typ, Protos: protos, rawFormats: raw}, {Type: "audio"}}
		for chosen := -1; chosen < 2; chosen++ {
			o := offered
			if chosen < 0 {
				o = nil
			}
			got, _ := marshal(l, o, chosen)
			want, _ := pionMarshal(l, o, chosen)
			if !bytes.Equal(got, want) {
				t.Fatalf("chosen %d:\n%q\nwant (pion):\n%q", chosen, got, want)
			}
		}
	})
}

func bytes2strings(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}
