package media

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/media/wav"
)

// memFile is an in-memory io.WriteSeeker for the recorder.
type memFile struct {
	b   []byte
	off int64
}

func (m *memFile) Write(p []byte) (int, error) {
	if need := m.off + int64(len(p)); need > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, need-int64(len(m.b)))...)
	}
	copy(m.b[m.off:], p)
	m.off += int64(len(p))
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		m.off = off
	case io.SeekEnd:
		m.off = int64(len(m.b)) + off
	default:
		m.off += off
	}
	if m.off < 0 {
		return 0, errors.New("negative offset")
	}
	return m.off, nil
}

// packets splits fuzz data into datagrams: a 1-byte length, then the bytes.
func packets(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := int(data[0])
		data = data[1:]
		n = min(n, len(data))
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

func seedPackets(pkts ...[]byte) []byte {
	var out []byte
	for _, p := range pkts {
		out = append(out, byte(len(p)))
		out = append(out, p...)
	}
	return out
}

func rtpBytes(pt uint8, seq uint16, ts uint32, payload []byte) []byte {
	b := make([]byte, rtpHeaderLen+len(payload))
	putRTP(b, rtpHeader{pt: pt, seq: seq, ts: ts, ssrc: 9})
	copy(b[rtpHeaderLen:], payload)
	return b
}

func event(ev byte, end bool, dur uint16) []byte {
	b := []byte{ev, 10, 0, 0}
	if end {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], dur)
	return b
}

// FuzzPackets feeds datagrams to a session's receive path (parsing,
// symmetric-RTP checks, jitter buffer, RFC 4733, in-band detection,
// recording): it must never panic, and garbage must be counted.
func FuzzPackets(f *testing.F) {
	audio := make([]byte, 160)
	f.Add(byte(0), seedPackets(rtpBytes(0, 1, 160, audio), rtpBytes(0, 2, 320, audio)))
	f.Add(byte(1), seedPackets(
		rtpBytes(101, 10, 1000, event(1, false, 160)), rtpBytes(101, 11, 1000, event(1, true, 800)),
		rtpBytes(101, 12, 1000, event(1, true, 800)), rtpBytes(101, 14, 3000, event(11, false, 160)),
		rtpBytes(101, 13, 3000, event(11, true, 160)),
	))
	f.Add(byte(2), seedPackets(rtpBytes(0, 65535, 0xffffff00, audio), rtpBytes(0, 0, 0x60, audio), rtpBytes(0, 40000, 7, audio[:3])))
	f.Add(byte(3), seedPackets([]byte{0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 0xbe, 0xde, 0xff, 0xff}, []byte{0xa0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 200}))
	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		m := &Manager{log: discardLogger, publicIP: netip.MustParseAddr("127.0.0.1"), prompts: newPromptCache(1 << 20)}
		s := newSession(m, "a", "c")
		s.w = &wire{}
		offer := offerSDP("sendrecv", "0 8")
		if mode&1 == 1 {
			offer = []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n")
		}
		if _, err := s.Answer(offer); err != nil {
			t.Fatal(err)
		}
		if mode&2 == 2 {
			w, _ := wav.NewWriter(&memFile{}, 8000)
			s.rec.Store(&recorder{w: w, firstVoice: -1})
		}
		src := netip.MustParseAddrPort("127.0.0.1:4000")
		now := time.Unix(1e9, 0)
		for i, p := range packets(data) {
			if mode&4 == 4 && i%3 == 2 {
				src = netip.MustParseAddrPort("127.0.0.1:4002")
			}
			now = now.Add(20 * time.Millisecond)
			before := s.Stats()
			s.handlePacket(p, src, now)
			after := s.Stats()
			if after.PacketsReceived+after.Dropped != before.PacketsReceived+before.Dropped+1 {
				t.Fatalf("packet neither received nor dropped: % x", p)
			}
			s.rx.jb.expire(now)
			s.rx.dtmf.Expire(now)
		}
		s.rx.jb.flush(now.Add(time.Second))
		s.rx.dtmf.Expire(now.Add(time.Second))
		for s.digits.len() > 0 {
			if d, _ := s.digits.pop(); d == 0 {
				t.Fatal("zero digit queued")
			}
		}
	})
}

// FuzzAnswer: any offer is answered or refused with ErrBadSDP/ErrNoCodec,
// never a panic; an accepted one survives a re-offer and our answer parses.
func FuzzAnswer(f *testing.F) {
	f.Add(offerSDP("sendrecv", "0 8"))
	f.Add(offerSDP("sendonly", "8"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=video 0 RTP/AVP 31\r\nm=audio 4000 RTP/AVP 96 0\r\na=rtpmap:96 telephone-event/8000\r\na=rtcp:4001 IN IP4 127.0.0.1\r\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio 65535 RTP/AVP 0\r\n"))
	f.Fuzz(func(t *testing.T, offer []byte) {
		m := &Manager{log: discardLogger, publicIP: netip.MustParseAddr("127.0.0.1"), prompts: newPromptCache(1 << 20)}
		s := newSession(m, "a", "c")
		s.w, s.port = &wire{}, 20000
		ans, err := s.Answer(offer)
		if err != nil {
			if !errors.Is(err, ErrBadSDP) && !errors.Is(err, ErrNoCodec) {
				t.Fatalf("error %v is neither ErrBadSDP nor ErrNoCodec", err)
			}
			return
		}
		if _, _, err := parseOffer(ans); err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, ans)
		}
		if _, err := s.Update(offer); err != nil {
			t.Fatalf("same offer again: %v", err)
		}
		s.started = true
		s.tick(time.Unix(1e9, 0))
		s.tick(time.Unix(1e9, 20e6))
		_ = s.Offer()
	})
}

var discardLogger = slog.New(slog.DiscardHandler)
