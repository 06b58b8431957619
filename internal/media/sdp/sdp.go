// Package sdp is Switchboard's SDP offer/answer for one audio stream:
// G.711 (PCMU, PCMA) and RFC 4733 telephone-event, direction attributes for
// hold; a parser of its own for the usual bodies, pion/sdp's for the rest. It knows nothing of sockets.
package sdp

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"

	"github.com/switchboard/switchboard/internal/media/codec"
)

// ErrMalformed is returned for an SDP body that does not parse or lacks
// what an audio offer needs (an address).
var ErrMalformed = errors.New("malformed SDP")

// ErrNoCodec is returned when no audio stream offers PCMU or PCMA.
var ErrNoCodec = errors.New("no common codec")

// Direction is a media direction attribute, from the point of view of the
// side that wrote it.
type Direction string

// The four directions of RFC 3264.
const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// Sends reports whether the writer of d sends media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the writer of d receives media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

func fromFlags(send, recv bool) Direction {
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	}
	return Inactive
}

// AnswerTo is the direction we answer with to an offer of d when we
// ourselves want local (SendRecv normally, SendOnly or Inactive to hold).
func AnswerTo(offered, local Direction) Direction {
	return fromFlags(offered.Receives() && local.Sends(), offered.Sends() && local.Receives())
}

// Format is one payload format of an m-line.
type Format struct {
	PT   uint8
	Name string // encoding name as written: "PCMU", "telephone-event"
	Rate int
	Fmtp string // the a=fmtp parameters, without the payload type
}

// Media is one m-line of a parsed description.
type Media struct {
	Type      string // "audio", "video" …
	Port      int
	Protos    []string
	Formats   []Format // in the writer's order of preference
	Addr      netip.Addr
	RTCPPort  int // from a=rtcp; 0 = RTP port + 1
	Direction Direction
	Ptime     int

	rawFormats []string
}

// Description is a parsed SDP body.
type Description struct {
	SessionID, Version uint64
	Media              []Media
}

// Parse reads an SDP body. Errors wrap ErrMalformed.
//
// A body written the usual way (what phones, sipp, baresip and our own
// offers send) is read by parseFast, in one pass with no copy per field;
// anything else it declines goes through pion/sdp, so what is accepted or
// refused is pion's decision either way (FuzzParseMatchesPion holds the two
// paths to the same result).
func Parse(body []byte) (d *Description, err error) {
	defer func() {
		if r := recover(); r != nil { // the parser must never take a call down
			d, err = nil, fmt.Errorf("%w: parser panic: %v", ErrMalformed, r)
		}
	}()
	if !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("v=")) {
		return nil, fmt.Errorf("%w: no v= line", ErrMalformed)
	}
	var raw rawDescription
	if !parseFast(string(body), &raw) {
		if err := parsePion(body, &raw); err != nil {
			return nil, err
		}
	}
	return raw.description()
}

// parsePion reads body with pion/sdp into raw.
func parsePion(body []byte, raw *rawDescription) error {
	var sd psdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	*raw = rawDescription{sessionID: sd.Origin.SessionID, version: sd.Origin.SessionVersion}
	raw.conn, raw.hasConn = pionConn(sd.ConnectionInformation)
	raw.attrs = make([]rawAttr, 0, len(sd.Attributes))
	for _, a := range sd.Attributes {
		raw.attrs = append(raw.attrs, rawAttr{a.Key, a.Value})
	}
	for _, md := range sd.MediaDescriptions {
		if md == nil {
			continue
		}
		m := rawMedia{
			typ:     md.MediaName.Media,
			port:    md.MediaName.Port.Value,
			protos:  md.MediaName.Protos,
			formats: md.MediaName.Formats,
			attrs:   make([]rawAttr, 0, len(md.Attributes)),
		}
		m.conn, m.hasConn = pionConn(md.ConnectionInformation)
		for _, a := range md.Attributes {
			m.attrs = append(m.attrs, rawAttr{a.Key, a.Value})
		}
		raw.media = append(raw.media, m)
	}
	return nil
}

func pionConn(ci *psdp.ConnectionInformation) (string, bool) {
	if ci == nil || ci.Address == nil {
		return "", false
	}
	return ci.Address.Address, true
}

// rawDescription is what either parser read: the fields Parse uses, as
// written.
type rawDescription struct {
	sessionID, version uint64
	conn               string
	hasConn            bool
	attrs              []rawAttr
	media              []rawMedia
}

type rawMedia struct {
	typ     string
	port    int
	protos  []string
	formats []string
	conn    string
	hasConn bool
	attrs   []rawAttr
}

type rawAttr struct{ key, value string }

func attribute(attrs []rawAttr, key string) (string, bool) {
	for _, a := range attrs {
		if a.key == key {
			return a.value, true
		}
	}
	return "", false
}

// description turns what was read into a Description.
func (raw *rawDescription) description() (*Description, error) {
	d := &Description{SessionID: raw.sessionID, Version: raw.version, Media: make([]Media, 0, len(raw.media))}
	sessAddr, sessOK := connAddr(raw.conn, raw.hasConn)
	sessDir := directionOf(raw.attrs, SendRecv)
	for _, md := range raw.media {
		m := Media{
			Type:       md.typ,
			Port:       md.port,
			Protos:     md.protos,
			rawFormats: md.formats,
			Direction:  directionOf(md.attrs, sessDir),
		}
		addr, ok := connAddr(md.conn, md.hasConn)
		if !ok {
			addr, ok = sessAddr, sessOK
		}
		if m.Port != 0 && !ok {
			return nil, fmt.Errorf("%w: no usable connection address for m=%s", ErrMalformed, m.Type)
		}
		m.Addr = addr
		if addr.IsUnspecified() { // RFC 2543 hold: c=0.0.0.0
			m.Direction = fromFlags(m.Direction.Sends(), false)
		}
		m.Formats = formatsOf(md.formats, md.attrs)
		if v, ok := attribute(md.attrs, "rtcp"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				if p, err := strconv.Atoi(f[0]); err == nil && p > 0 && p < 65536 {
					m.RTCPPort = p
				}
			}
		}
		if v, ok := attribute(md.attrs, "ptime"); ok {
			m.Ptime, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		d.Media = append(d.Media, m)
	}
	return d, nil
}

func connAddr(address string, ok bool) (netip.Addr, bool) {
	if !ok {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(address)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func directionOf(attrs []rawAttr, def Direction) Direction {
	for _, a := range attrs {
		switch d := Direction(a.key); d {
		case SendRecv, SendOnly, RecvOnly, Inactive:
			return d
		}
	}
	return def
}

func formatsOf(formats []string, attrs []rawAttr) []Format {
	out := make([]Format, 0, len(formats))
	for _, f := range formats {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			continue
		}
		fm := Format{PT: uint8(pt)}
		switch pt { // static payload types need no rtpmap
		case 0:
			fm.Name, fm.Rate = "PCMU", 8000
		case 8:
			fm.Name, fm.Rate = "PCMA", 8000
		}
		out = append(out, fm)
	}
	for _, a := range attrs {
		if a.key != "rtpmap" && a.key != "fmtp" {
			continue
		}
		ptStr, rest, _ := strings.Cut(strings.TrimSpace(a.value), " ")
		pt, err := strconv.Atoi(ptStr)
		if err != nil {
			continue
		}
		for i := range out {
			if int(out[i].PT) != pt {
				continue
			}
			if a.key == "fmtp" {
				out[i].Fmtp = strings.TrimSpace(rest)
				continue
			}
			parts := strings.Split(strings.TrimSpace(rest), "/")
			out[i].Name = parts[0]
			out[i].Rate = 0
			if len(parts) > 1 {
				out[i].Rate, _ = strconv.Atoi(parts[1])
			}
		}
	}
	return out
}

// Codec maps a format to one of our codecs.
func (f Format) Codec() (codec.Codec, bool) {
	if f.Rate != 8000 {
		return 0, false
	}
	switch strings.ToUpper(f.Name) {
	case "PCMU":
		return codec.PCMU, true
	case "PCMA":
		return codec.PCMA, true
	}
	return 0, false
}

// IsTelephoneEvent reports whether f is RFC 4733 telephone-event at 8 kHz.
func (f Format) IsTelephoneEvent() bool {
	return strings.EqualFold(f.Name, "telephone-event") && f.Rate == 8000
}

// RTPAddr is where the stream's RTP goes.
func (m Media) RTPAddr() netip.AddrPort { return netip.AddrPortFrom(m.Addr, uint16(m.Port)) }

// RTCPAddr is where the stream's RTCP goes.
func (m Media) RTCPAddr() netip.AddrPort {
	p := m.RTCPPort
	if p == 0 {
		p = m.Port + 1
	}
	return netip.AddrPortFrom(m.Addr, uint16(p))
}

func (m Media) usable() bool {
	if m.Type != "audio" || m.Port <= 0 || m.Port > 65535 {
		return false
	}
	proto := strings.Join(m.Protos, "/")
	return proto == "RTP/AVP" || proto == "RTP/AVPF"
}

// Choice is the outcome of negotiating one audio stream.
type Choice struct {
	Index     int    // which m-line
	Media     Media  // that m-line as the far end wrote it
	Codec     Format // the first of our codecs in the writer's order
	TE        Format // telephone-event, when HasTE
	HasTE     bool
	Direction Direction // the far end's direction
}

// Select picks the first usable audio stream and, in it, the first codec
// we speak in the writer's order, plus telephone-event when offered.
func (d *Description) Select() (Choice, error) {
	sawAudio := false
	for i, m := range d.Media {
		if !m.usable() {
			continue
		}
		sawAudio = true
		c := Choice{Index: i, Media: m, Direction: m.Direction}
		found := false
		for _, f := range m.Formats {
			if _, ok := f.Codec(); ok && !found {
				c.Codec, found = f, true
			}
			if f.IsTelephoneEvent() && !c.HasTE {
				c.TE, c.HasTE = f, true
			}
		}
		if found {
			return c, nil
		}
	}
	if !sawAudio {
		return Choice{}, fmt.Errorf("%w: no RTP/AVP audio stream", ErrNoCodec)
	}
	return Choice{}, ErrNoCodec
}
