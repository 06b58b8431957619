package media

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard/switchboard/internal/media/dtmf"
)

func TestParseRTPAgainstPion(t *testing.T) {
	t.Parallel()
	pkts := []rtp.Packet{
		{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 65535, Timestamp: 1 << 31, SSRC: 0xdeadbeef, Marker: true}, Payload: make([]byte, 160)},
		{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: 7, Timestamp: 9, SSRC: 1, CSRC: []uint32{1, 2, 3}}, Payload: []byte{1, 0x8a, 3, 32}},
		{Header: rtp.Header{Version: 2, PayloadType: 8, SequenceNumber: 1, Timestamp: 2, SSRC: 3}, Payload: []byte{9, 9, 9}},
		{Header: rtp.Header{Version: 2, PayloadType: 8, Padding: true, PaddingSize: 4}, Payload: []byte{5, 5}, PaddingSize: 4},
	}
	if err := pkts[2].Header.SetExtension(1, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		h, payload, ok := parseRTP(b)
		if !ok {
			t.Fatalf("packet %d rejected", i)
		}
		var back rtp.Packet
		if err := back.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		if h.marker != back.Marker || h.pt != back.PayloadType || h.seq != back.SequenceNumber || h.ts != back.Timestamp || h.ssrc != back.SSRC || string(payload) != string(back.Payload) {
			t.Errorf("packet %d: ours %+v % x, pion %+v % x", i, h, payload, back.Header, back.Payload)
		}
	}
	var out [rtpHeaderLen]byte
	putRTP(out[:], rtpHeader{marker: true, pt: 101, seq: 513, ts: 70000, ssrc: 42})
	var back rtp.Header
	if _, err := back.Unmarshal(out[:]); err != nil || !back.Marker || back.PayloadType != 101 || back.SequenceNumber != 513 || back.Timestamp != 70000 || back.SSRC != 42 {
		t.Errorf("putRTP → %+v, %v", back, err)
	}
	for _, bad := range [][]byte{nil, make([]byte, 11), {0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9}, {0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0x80, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if _, _, ok := parseRTP(bad); ok {
			t.Errorf("accepted % x", bad)
		}
	}
}

func TestJitterBuffer(t *testing.T) {
	t.Parallel()
	base := time.Unix(0, 0)
	tests := []struct {
		name   string
		seqs   []uint16
		expire bool
		want   []uint16
	}{
		{"in order", []uint16{1, 2, 3, 4}, false, []uint16{1, 2, 3, 4}},
		{"swap", []uint16{1, 3, 2, 4}, false, []uint16{1, 2, 3, 4}},
		{"wrap", []uint16{65534, 0, 65535, 1}, false, []uint16{65534, 65535, 0, 1}},
		{"duplicate", []uint16{1, 2, 2, 3, 2}, false, []uint16{1, 2, 3}},
		{"loss, skipped after 3 held", []uint16{1, 3, 4, 5, 6}, false, []uint16{1, 3, 4, 5, 6}},
		{"loss, late one dropped", []uint16{1, 3, 4, 5, 2, 6}, false, []uint16{1, 3, 4, 5, 6}},
		{"loss at the end, time releases it", []uint16{1, 3}, true, []uint16{1, 3}},
		{"loss at the end, held", []uint16{1, 3}, false, []uint16{1}},
		{"jump", []uint16{1, 2, 500, 501}, false, []uint16{1, 2, 500, 501}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint16
			j := jitter{deliver: func(h rtpHeader, te bool, p []byte, now time.Time) {
				if len(p) != 1 || p[0] != byte(h.seq) {
					t.Errorf("seq %d delivered payload % x", h.seq, p)
				}
				got = append(got, h.seq)
			}}
			now := base
			for _, s := range tt.seqs {
				now = now.Add(time.Millisecond)
				j.push(rtpHeader{seq: s, ssrc: 7}, false, []byte{byte(s)}, now)
			}
			if tt.expire {
				j.expire(now.Add(jbMaxWait))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("delivered %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("delivered %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestHoldMusicIsNotDTMF: the built-in music must not trigger the in-band
// detector on calls without telephone-event.
func TestHoldMusicIsNotDTMF(t *testing.T) {
	t.Parallel()
	var got []byte
	d := dtmf.Detector{Emit: func(k byte) { got = append(got, k) }}
	music := HoldMusic()
	for range 3 {
		for i := 0; i+160 <= len(music); i += 160 {
			d.Write(music[i : i+160])
		}
	}
	if len(got) > 0 {
		t.Errorf("hold music detected as %q", got)
	}
}
