package sdp_test

import (
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/media/sdp"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSelect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     []byte
		codec    string
		pt       uint8
		tePT     uint8
		hasTE    bool
		addr     string
		dir      sdp.Direction
		wantErr  error
		rtcpPort int
	}{
		{name: "sipp PCMA", body: read(t, "sipp_pcma.sdp"), codec: "PCMA", pt: 8, tePT: 101, hasTE: true, addr: "127.0.0.1:6000", dir: sdp.SendRecv},
		{name: "sipp PCMU first", body: read(t, "sipp_rr.sdp"), codec: "PCMU", pt: 0, tePT: 101, hasTE: true, addr: "127.0.0.1:6000", dir: sdp.SendRecv},
		{name: "baresip", body: read(t, "baresip.sdp"), codec: "PCMA", pt: 8, tePT: 101, hasTE: true, addr: "127.0.0.1:10024", dir: sdp.SendRecv},
		{
			name:  "dynamic PT names, media-level c=, no telephone-event, a=rtcp",
			body:  []byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96 97\r\nc=IN IP4 192.0.2.7\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:97 pcmu/8000\r\na=rtcp:4005\r\na=recvonly\r\n"),
			codec: "pcmu", pt: 97, addr: "192.0.2.7:4000", dir: sdp.RecvOnly, rtcpPort: 4005,
		},
		{
			name:  "rejected first stream, second audio used",
			body:  []byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\nm=video 5000 RTP/AVP 31\r\nm=audio 4002 RTP/AVP 8\r\n"),
			codec: "PCMA", pt: 8, addr: "192.0.2.7:4002", dir: sdp.SendRecv,
		},
		{
			name:  "old-style hold c=0.0.0.0",
			body:  []byte("v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"),
			codec: "PCMU", pt: 0, addr: "0.0.0.0:4000", dir: sdp.SendOnly,
		},
		{name: "session-level direction", body: []byte("v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\na=inactive\r\nm=audio 4000 RTP/AVP 0\r\n"), codec: "PCMU", addr: "10.0.0.1:4000", dir: sdp.Inactive},
		{name: "no common codec", body: []byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 9 18 96\r\na=rtpmap:96 opus/48000/2\r\n"), wantErr: sdp.ErrNoCodec},
		{name: "PCMU at the wrong rate", body: []byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 PCMU/16000\r\n"), wantErr: sdp.ErrNoCodec},
		{name: "video only", body: []byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=video 4000 RTP/AVP 31\r\n"), wantErr: sdp.ErrNoCodec},
		{name: "SRTP only", body: []byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n"), wantErr: sdp.ErrNoCodec},
		{name: "garbage", body: []byte("hello world"), wantErr: sdp.ErrMalformed},
		{name: "empty", body: nil, wantErr: sdp.ErrMalformed},
		{name: "no connection address", body: []byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"), wantErr: sdp.ErrMalformed},
		{name: "hostname address", body: []byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 pbx.example.com\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"), wantErr: sdp.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := sdp.Parse(tt.body)
			var ch sdp.Choice
			if err == nil {
				ch, err = d.Select()
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ch.Codec.Name != tt.codec || ch.Codec.PT != tt.pt {
				t.Errorf("codec = %s/%d, want %s/%d", ch.Codec.Name, ch.Codec.PT, tt.codec, tt.pt)
			}
			if ch.HasTE != tt.hasTE || (tt.hasTE && ch.TE.PT != tt.tePT) {
				t.Errorf("telephone-event = %v/%d, want %v/%d", ch.HasTE, ch.TE.PT, tt.hasTE, tt.tePT)
			}
			if got := ch.Media.RTPAddr().String(); got != tt.addr {
				t.Errorf("addr = %s, want %s", got, tt.addr)
			}
			if ch.Direction != tt.dir {
				t.Errorf("direction = %s, want %s", ch.Direction, tt.dir)
			}
			if tt.rtcpPort != 0 && int(ch.Media.RTCPAddr().Port()) != tt.rtcpPort {
				t.Errorf("rtcp port = %d, want %d", ch.Media.RTCPAddr().Port(), tt.rtcpPort)
			}
		})
	}
}

func TestAnswerMirrorsMLines(t *testing.T) {
	t.Parallel()
	offer := []byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\nm=video 5000 RTP/AVP 31\r\nm=audio 4002 RTP/AVP 18 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n")
	d, err := sdp.Parse(offer)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := d.Select()
	if err != nil {
		t.Fatal(err)
	}
	body, err := sdp.Answer(d, ch.Index, sdp.Local{
		IP: netip.MustParseAddr("203.0.113.5"), Port: 30000, SessionID: 42, Version: 43,
		Direction: sdp.AnswerTo(ch.Direction, sdp.SendRecv),
		Formats:   []sdp.Format{{PT: ch.Codec.PT, Name: "PCMA", Rate: 8000}, {PT: ch.TE.PT, Name: "telephone-event", Rate: 8000, Fmtp: ch.TE.Fmtp}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := string(body)
	for _, want := range []string{
		"o=switchboard 42 43 IN IP4 203.0.113.5\r\n",
		"c=IN IP4 203.0.113.5\r\n",
		"m=video 0 RTP/AVP 31\r\n",
		"m=audio 30000 RTP/AVP 8 101\r\n",
		"a=rtpmap:8 PCMA/8000\r\n",
		"a=rtpmap:101 telephone-event/8000\r\n",
		"a=fmtp:101 0-16\r\n",
		"a=ptime:20\r\n",
		"a=sendrecv\r\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("answer lacks %q:\n%s", want, s)
		}
	}
	if strings.Index(s, "m=video") > strings.Index(s, "m=audio") {
		t.Errorf("m-lines out of order:\n%s", s)
	}
	// Our answer parses back.
	back, err := sdp.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if ch2, err := back.Select(); err != nil || ch2.Codec.PT != 8 || ch2.Media.Port != 30000 {
		t.Errorf("answer reparsed = %+v, %v", ch2, err)
	}
}

func TestAnswerTo(t *testing.T) {
	t.Parallel()
	tests := []struct{ offered, local, want sdp.Direction }{
		{sdp.SendRecv, sdp.SendRecv, sdp.SendRecv},
		{sdp.SendOnly, sdp.SendRecv, sdp.RecvOnly},
		{sdp.RecvOnly, sdp.SendRecv, sdp.SendOnly},
		{sdp.Inactive, sdp.SendRecv, sdp.Inactive},
		{sdp.SendRecv, sdp.SendOnly, sdp.SendOnly},
		{sdp.SendOnly, sdp.SendOnly, sdp.Inactive},
	}
	for _, tt := range tests {
		if got := sdp.AnswerTo(tt.offered, tt.local); got != tt.want {
			t.Errorf("AnswerTo(%s, %s) = %s, want %s", tt.offered, tt.local, got, tt.want)
		}
	}
}

func TestOfferParses(t *testing.T) {
	t.Parallel()
	body, err := sdp.Offer(sdp.Local{IP: netip.MustParseAddr("127.0.0.1"), Port: 20000, SessionID: 1, Version: 2, Direction: sdp.SendRecv, Formats: sdp.DefaultFormats()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "m=audio 20000 RTP/AVP 0 8 101\r\n") {
		t.Errorf("offer:\n%s", body)
	}
	d, err := sdp.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := d.Select()
	if err != nil || ch.Codec.Name != "PCMU" || !ch.HasTE {
		t.Errorf("offer reparsed = %+v, %v", ch, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"sipp_pcma.sdp", "sipp_rr.sdp", "baresip.sdp"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 96\r\na=rtpmap:96\r\na=fmtp:\r\na=rtcp:x\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := sdp.Parse(body)
		if err != nil {
			return
		}
		ch, err := d.Select()
		if err != nil {
			return
		}
		_, _ = sdp.Answer(d, ch.Index, sdp.Local{IP: netip.MustParseAddr("127.0.0.1"), Port: 20000, Direction: sdp.SendRecv, Formats: sdp.DefaultFormats()})
	})
}
