package media

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/wav"
)

// sippPcaps is where Debian's sip-tester keeps sipp's RTP captures.
const sippPcaps = "/usr/share/sip-tester/"

// pcapUDP returns the UDP payloads of an Ethernet/IPv4 pcap file.
func pcapUDP(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true requires sip-tester)", err)
		}
		t.Skipf("sipp captures missing: %v", err)
	}
	if len(data) < 24 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(data[20:]) != 1 {
		t.Fatalf("%s: not a little-endian Ethernet pcap", path)
	}
	var out [][]byte
	for p := data[24:]; len(p) >= 16; {
		n := int(binary.LittleEndian.Uint32(p[8:]))
		frame := p[16 : 16+n]
		p = p[16+n:]
		if len(frame) < 14+20+8 || binary.BigEndian.Uint16(frame[12:]) != 0x0800 || frame[14+9] != 17 {
			continue
		}
		ihl := int(frame[14]&0x0f) * 4
		out = append(out, frame[14+ihl+8:])
	}
	return out
}

// TestSippCaptures replays sipp's own RTP captures (what sipp's
// play_pcap_audio sends: A-law speech, then RFC 2833 '1' and '#') to a
// session: the recording must be the decoded audio bit for bit, and the
// digits must come out once each.
func TestSippCaptures(t *testing.T) {
	t.Parallel()
	audio := pcapUDP(t, sippPcaps+"g711a.pcap")
	one := pcapUDP(t, sippPcaps+"dtmf_2833_1.pcap")
	pound := pcapUDP(t, sippPcaps+"dtmf_2833_pound.pcap")
	if len(audio) != 236 || len(one) != 10 || len(pound) != 10 {
		t.Fatalf("captures hold %d/%d/%d packets", len(audio), len(one), len(pound))
	}
	m := testManager(t)
	s, err := m.NewSession(t.Context(), "acct", "sipp")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	phone, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	offer, _ := os.ReadFile("sdp/testdata/sipp_pcma.sdp")
	offer = []byte(strings.Replace(string(offer), "m=audio 6000 ", fmt.Sprintf("m=audio %d ", phone.LocalAddr().(*net.UDPAddr).Port), 1))
	if _, err := s.Answer(offer); err != nil {
		t.Fatal(err)
	}
	s.Start()

	type res struct {
		rec call.Recording
		err error
	}
	done := make(chan res, 1)
	go func() {
		r, err := s.Record(t.Context(), call.RecordOptions{MaxLength: 20 * time.Second, FinishOnKey: "#"})
		done <- res{r, err}
	}()
	for s.rec.Load() == nil {
		time.Sleep(time.Millisecond)
	}
	dst := net.UDPAddrFromAddrPort(s.rtpConn.LocalAddr())
	for _, group := range [][][]byte{audio, one, pound} {
		for _, p := range group {
			if _, err := phone.WriteToUDP(p, dst); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond) // no burst: the socket buffer is small
		}
	}
	r := <-done
	if r.err != nil || r.rec.Digits != "#" {
		t.Fatalf("Record = %+v, %v; want Digits #", r.rec, r.err)
	}
	if d, err := s.Gather(t.Context(), call.GatherOptions{Timeout: 100 * time.Millisecond}); d != "1" || err != nil {
		t.Errorf("queued digits %q, %v; want 1", d, err)
	}

	// The expected recording: each packet's decoded payload at its
	// timestamp, silence in between.
	ts0 := binary.BigEndian.Uint32(audio[0][4:])
	var want []int16
	for _, p := range audio {
		h, payload, ok := parseRTP(p)
		if !ok || h.pt != 8 {
			t.Fatalf("capture packet pt %d", h.pt)
		}
		at := int(h.ts - ts0)
		if at > len(want) {
			want = append(want, make([]int16, at-len(want))...)
		}
		want = append(want[:at], codec.PCMA.Decode(make([]int16, len(payload)), payload)...)
	}
	data, _ := os.ReadFile(r.rec.Path)
	got, err := wav.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Samples) != len(want) {
		t.Fatalf("recorded %d samples, want %d", len(got.Samples), len(want))
	}
	for i := range want {
		if got.Samples[i] != want[i] {
			t.Fatalf("sample %d: %d, want %d", i, got.Samples[i], want[i])
		}
	}
	t.Logf("recorded %.2f s bit-exact; digits 1 and # decoded once each", float64(len(want))/8000)
	if st := s.Stats(); st.PacketsReceived != 256 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}
