package media_test

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/media/mediatest"
	"github.com/switchboard/switchboard/internal/media/sdp"
)

var originRe = regexp.MustCompile(`(?m)^o=switchboard (\d+) (\d+) IN IP4 127\.0\.0\.1\r$`)

func origin(t *testing.T, body []byte) (id, version uint64) {
	t.Helper()
	m := originRe.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no o= line in:\n%s", body)
	}
	id, _ = strconv.ParseUint(string(m[1]), 10, 64)
	version, _ = strconv.ParseUint(string(m[2]), 10, 64)
	return id, version
}

func sdpFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("sdp/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAnswer(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t)
	tests := []struct {
		name    string
		offer   []byte
		mline   string // our m= line, port elided
		lines   []string
		codec   string
		wantErr error
	}{
		{name: "sipp PCMA", offer: sdpFile(t, "sipp_pcma.sdp"), mline: "RTP/AVP 8 101", lines: []string{"a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=sendrecv"}, codec: "PCMA"},
		{name: "sipp PCMU PCMA", offer: sdpFile(t, "sipp_rr.sdp"), mline: "RTP/AVP 0 101", lines: []string{"a=rtpmap:0 PCMU/8000"}, codec: "PCMU"},
		{name: "baresip", offer: sdpFile(t, "baresip.sdp"), mline: "RTP/AVP 8 101", codec: "PCMA"},
		{name: "PCMA only, no events", offer: []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 8\r\n"), mline: "RTP/AVP 8", codec: "PCMA"},
		{name: "telephone-event at 96", offer: []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\n"), mline: "RTP/AVP 0 96", lines: []string{"a=fmtp:96 0-15"}, codec: "PCMU"},
		{name: "no common codec", offer: []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 9 18\r\n"), wantErr: media.ErrNoCodec},
		{name: "malformed", offer: []byte("v=0\r\nthis is not sdp\r\n"), wantErr: media.ErrBadSDP},
		{name: "empty", offer: nil, wantErr: media.ErrBadSDP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mediatest.Session(t, m, "c")
			ans, err := s.Answer(tt.offer)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("m=audio %d %s", s.LocalPort(), tt.mline)
			if !hasLine(ans, want) {
				t.Errorf("answer lacks %q:\n%s", want, ans)
			}
			for _, l := range append(tt.lines, "c=IN IP4 127.0.0.1", "a=ptime:20") {
				if !hasLine(ans, l) {
					t.Errorf("answer lacks %q:\n%s", l, ans)
				}
			}
			if got := s.Stats().Codec; got != tt.codec {
				t.Errorf("codec %s, want %s", got, tt.codec)
			}
		})
	}
}

func hasLine(body []byte, line string) bool {
	for _, l := range strings.Split(string(body), "\n") {
		if strings.TrimRight(l, "\r") == line {
			return true
		}
	}
	return false
}

func TestHoldReoffers(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t)
	s := mediatest.Session(t, m, "c")
	offer := func(version int, dir, conn string) []byte {
		return fmt.Appendf(nil, "v=0\r\no=peer 7 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n%s", version, conn, dir)
	}
	first, err := s.Answer(offer(1, "a=sendrecv\r\n", "127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	id, v := origin(t, first)
	steps := []struct {
		name    string
		offer   []byte
		wantDir string
		bump    bool
	}{
		{"hold (sendonly)", offer(2, "a=sendonly\r\n", "127.0.0.1"), "a=recvonly", true},
		{"same offer again", offer(2, "a=sendonly\r\n", "127.0.0.1"), "a=recvonly", false},
		{"inactive", offer(3, "a=inactive\r\n", "127.0.0.1"), "a=inactive", true},
		{"resume", offer(4, "a=sendrecv\r\n", "127.0.0.1"), "a=sendrecv", true},
		{"RFC 2543 hold (c=0.0.0.0)", offer(5, "", "0.0.0.0"), "a=recvonly", true},
		{"recvonly (they want music)", offer(6, "a=recvonly\r\n", "127.0.0.1"), "a=sendonly", true},
		{"resume again", offer(7, "", "127.0.0.1"), "a=sendrecv", true},
	}
	for _, st := range steps {
		ans, err := s.Update(st.offer)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !hasLine(ans, st.wantDir) {
			t.Errorf("%s: answer lacks %s:\n%s", st.name, st.wantDir, ans)
		}
		id2, v2 := origin(t, ans)
		want := v
		if st.bump {
			want++
		}
		if id2 != id || v2 != want {
			t.Errorf("%s: o= %d %d, want %d %d", st.name, id2, v2, id, want)
		}
		v = v2
	}
	// We hold them: our direction becomes sendonly.
	s.Hold(true)
	ans, err := s.Update(offer(8, "a=sendrecv\r\n", "127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	if !hasLine(ans, "a=sendonly") {
		t.Errorf("our hold: answer lacks a=sendonly:\n%s", ans)
	}
	if _, err := s.Update([]byte("garbage")); !errors.Is(err, media.ErrBadSDP) {
		t.Errorf("bad re-offer: %v", err)
	}
}

func TestOfferAnswerOutbound(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t)
	s := mediatest.Session(t, m, "c")
	offer := s.Offer()
	d, err := sdp.Parse(offer)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := d.Select()
	if err != nil || ch.Codec.PT != 0 || !ch.HasTE || ch.TE.PT != 101 {
		t.Fatalf("offer %+v, %v:\n%s", ch, err, offer)
	}
	_, v1 := origin(t, offer)
	if _, v := origin(t, s.Offer()); v != v1 {
		t.Errorf("unchanged re-offer bumped the version %d → %d", v1, v)
	}
	s.Hold(true)
	hold := s.Offer()
	if _, v := origin(t, hold); v != v1+1 || !hasLine(hold, "a=sendonly") {
		t.Errorf("hold re-offer (version %d):\n%s", v1, hold)
	}
	// Far end answers PCMA only.
	err = s.SetAnswer([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 8\r\na=recvonly\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Stats().Codec; c != "PCMA" {
		t.Errorf("codec %s", c)
	}
	if err := s.SetAnswer([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 18\r\n")); !errors.Is(err, media.ErrNoCodec) {
		t.Errorf("G.729 answer: %v", err)
	}
}

func TestNotNegotiated(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t)
	s := mediatest.Session(t, m, "c")
	if err := s.Start(); !errors.Is(err, media.ErrNotNegotiated) {
		t.Errorf("Start = %v", err)
	}
	if err := s.Pause(t.Context(), 0); !errors.Is(err, media.ErrNotNegotiated) {
		t.Errorf("Pause = %v", err)
	}
}

func TestNewManagerConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]media.Config{
		"inverted ports": {PortMin: 2000, PortMax: 1000},
		"port too big":   {PortMin: 1000, PortMax: 70000},
		"no pair":        {PortMin: 1001, PortMax: 1001},
		"bad public IP":  {PublicIP: "pbx.example.com"},
		"bad bind IP":    {BindIP: "x"},
		"unknown TTS":    {TTS: "say"},
		"bad client":     {HTTPClient: "http"},
	} {
		cfg.DataDir = t.TempDir()
		if _, err := media.NewManager(cfg, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	m, err := media.NewManager(media.Config{DataDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = m
}
