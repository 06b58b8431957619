package media

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media/dtmf"
)

// wire records what a session sends instead of a socket.
type wire struct {
	mu   sync.Mutex
	pkts []sent
}

type sent struct {
	at      time.Time
	h       rtpHeader
	payload []byte
	to      netip.AddrPort
}

func (w *wire) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	h, p, ok := parseRTP(b)
	if !ok {
		return 0, fmt.Errorf("sent a bad packet % x", b)
	}
	w.mu.Lock()
	w.pkts = append(w.pkts, sent{at: time.Now(), h: h, payload: append([]byte(nil), p...), to: addr})
	w.mu.Unlock()
	return len(b), nil
}

func (w *wire) take() []sent {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.pkts
	w.pkts = nil
	return p
}

func offerSDP(dir string, codecs string) []byte {
	return fmt.Appendf(nil, "v=0\r\no=peer 1 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP %s 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=%s\r\n", len(dir), codecs, dir)
}

// wiredSession is a session whose packets go to a wire: no sockets, so it
// runs in a synctest bubble.
func wiredSession(t *testing.T, m *Manager) (*Session, *wire) {
	t.Helper()
	s := newSession(m, "acct", "call")
	w := &wire{}
	s.w = w
	if _, err := s.Answer(offerSDP("sendrecv", "0 8")); err != nil {
		t.Fatal(err)
	}
	return s, w
}

func testManager(t *testing.T) *Manager {
	t.Helper()
	m, err := NewManager(Config{DataDir: t.TempDir(), BindIP: "127.0.0.1", PortMin: 20000, PortMax: 29999, LocalPaths: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// syncTestManager is testManager for a testing/synctest bubble: its
// pacing thread keeps time with Go's (fake) clock.
func syncTestManager(t *testing.T) *Manager {
	m := testManager(t)
	m.paceT.goClock = true
	m.paceT.idle = make(chan struct{}, 1)
	return m
}

// checkStream checks one RTP stream: one SSRC, sequence numbers up by one,
// and for audio packets timestamps up by 160 per 20 ms of sending time.
func checkStream(t *testing.T, pkts []sent) {
	t.Helper()
	for i := 1; i < len(pkts); i++ {
		a, b := pkts[i-1], pkts[i]
		if b.h.ssrc != a.h.ssrc {
			t.Fatalf("packet %d: SSRC changed", i)
		}
		if b.h.seq != a.h.seq+1 {
			t.Fatalf("packet %d: seq %d after %d", i, b.h.seq, a.h.seq)
		}
		if a.h.pt == 0 && b.h.pt == 0 {
			wantTS := a.h.ts + uint32(b.at.Sub(a.at)/ptime)*frameTS
			if b.h.ts != wantTS {
				t.Fatalf("packet %d: ts %d, want %d (%v after the last)", i, b.h.ts, wantTS, b.at.Sub(a.at))
			}
		}
	}
}

func TestSenderPacing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := syncTestManager(t)
		s, w := wiredSession(t, m)
		defer s.Close()
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		pkts := w.take()
		if len(pkts) < 49 || len(pkts) > 51 {
			t.Fatalf("%d packets in 1 s, want 50", len(pkts))
		}
		for i, p := range pkts {
			if i > 0 && p.at.Sub(pkts[i-1].at) != ptime {
				t.Fatalf("packet %d sent %v after the last, want 20ms", i, p.at.Sub(pkts[i-1].at))
			}
			if p.h.marker != (i == 0) {
				t.Errorf("packet %d: marker %v", i, p.h.marker)
			}
			if p.h.pt != 0 || len(p.payload) != 160 || p.payload[0] != 0xFF {
				t.Fatalf("packet %d: pt %d, %d bytes, first %#x; want PCMU silence", i, p.h.pt, len(p.payload), p.payload[0])
			}
			if p.to != netip.MustParseAddrPort("127.0.0.1:4000") {
				t.Fatalf("sent to %s", p.to)
			}
		}
		checkStream(t, pkts)

		// A beep: 25 frames of sound, then silence again.
		if err := s.Play(t.Context(), call.PlayOptions{URL: "builtin:beep", Loop: 1}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		pkts = append(pkts[len(pkts)-1:], w.take()...)
		checkStream(t, pkts)
		loud := 0
		for _, p := range pkts {
			for _, b := range p.payload {
				if b != 0xFF && b != 0x7F {
					loud++
					break
				}
			}
		}
		if loud < 24 || loud > 25 {
			t.Errorf("%d beep frames, want 25", loud)
		}
		st := s.Stats()
		if st.PacketsSent < 75 || st.BytesSent != st.PacketsSent*172 || st.Codec != "PCMU" {
			t.Errorf("stats %+v", st)
		}
	})
}

func TestSenderDigits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := syncTestManager(t)
		s, w := wiredSession(t, m)
		defer s.Close()
		s.Start()
		time.Sleep(110 * time.Millisecond)
		w.take()
		if err := s.SendDigits(t.Context(), "1w#"); err != nil {
			t.Fatal(err)
		}
		pkts := w.take()
		type ev struct {
			d        byte
			ts       uint32
			n, ends  int
			marker   int
			duration uint16
		}
		var evs []ev
		for i, p := range pkts {
			if i > 0 && p.h.seq != pkts[i-1].h.seq+1 {
				t.Fatalf("seq gap at %d", i)
			}
			if p.h.pt != 101 {
				continue
			}
			pl, ok := dtmf.ParsePayload(p.payload)
			if !ok {
				t.Fatal("short event")
			}
			d, _ := dtmf.Digit(pl.Event)
			if len(evs) == 0 || evs[len(evs)-1].ts != p.h.ts {
				evs = append(evs, ev{d: d, ts: p.h.ts})
			}
			e := &evs[len(evs)-1]
			e.n++
			if pl.End {
				e.ends++
			} else if pl.Duration != uint16(160*e.n) {
				t.Errorf("event %c packet %d duration %d", d, e.n, pl.Duration)
			}
			if p.h.marker {
				e.marker++
			}
			e.duration = pl.Duration
		}
		if len(evs) != 2 || evs[0].d != '1' || evs[1].d != '#' {
			t.Fatalf("events %+v, want 1 and #", evs)
		}
		for _, e := range evs {
			if e.n != 8 || e.ends != 3 || e.marker != 1 || e.duration != 800 {
				t.Errorf("event %c: %d packets, %d ends, %d markers, duration %d", e.d, e.n, e.ends, e.marker, e.duration)
			}
		}
		// 'w' waits half a second: 8 event + 5 gap + 25 pause packets apart.
		if gap := evs[1].ts - evs[0].ts; gap != (8+5+25)*160 {
			t.Errorf("second key %d ticks after the first, want %d", gap, (8+5+25)*160)
		}
	})
}

func TestSenderHoldAndCodecChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := syncTestManager(t)
		s, w := wiredSession(t, m)
		defer s.Close()
		s.Start()
		time.Sleep(210 * time.Millisecond) // between ticks
		before := w.take()

		ans, err := s.Update(offerSDP("sendonly", "0 8")) // they hold us
		if err != nil {
			t.Fatal(err)
		}
		if !containsLine(ans, "a=recvonly") {
			t.Errorf("hold answer:\n%s", ans)
		}
		time.Sleep(500 * time.Millisecond)
		if held := w.take(); len(held) != 0 {
			t.Fatalf("%d packets sent on hold", len(held))
		}
		// Resume, with PCMA first now.
		ans, err = s.Update(offerSDP("sendrecv", "8 0"))
		if err != nil {
			t.Fatal(err)
		}
		if !containsLine(ans, "a=sendrecv") || !containsLine(ans, "m=audio 0 RTP/AVP 8 101") {
			t.Errorf("resume answer:\n%s", ans)
		}
		time.Sleep(100 * time.Millisecond)
		after := w.take()
		if len(after) < 4 {
			t.Fatalf("%d packets after resume", len(after))
		}
		last, first := before[len(before)-1], after[0]
		if first.h.seq != last.h.seq+1 {
			t.Errorf("seq after hold %d, want %d (no gap)", first.h.seq, last.h.seq+1)
		}
		if want := last.h.ts + uint32(first.at.Sub(last.at)/ptime)*frameTS; first.h.ts != want {
			t.Errorf("ts after hold %d, want %d (wall clock)", first.h.ts, want)
		}
		if !first.h.marker || first.h.pt != 8 || first.payload[0] != 0xD5 {
			t.Errorf("first packet after resume: marker %v pt %d payload %#x", first.h.marker, first.h.pt, first.payload[0])
		}
		if s.Stats().Codec != "PCMA" {
			t.Errorf("codec %s", s.Stats().Codec)
		}
	})
}

func containsLine(body []byte, line string) bool {
	for _, l := range splitLines(string(body)) {
		if l == line {
			return true
		}
	}
	return false
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, trimCR(s[start:i]))
			start = i + 1
		}
	}
	return append(out, trimCR(s[start:]))
}

func trimCR(s string) string {
	if len(s) > 0 && s[len(s)-1] == '\r' {
		return s[:len(s)-1]
	}
	return s
}

// TestPlayStopsOnClose checks a blocked Play returns when the session
// closes, and Play after Close fails.
func TestPlayStopsOnClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := syncTestManager(t)
		s, _ := wiredSession(t, m)
		s.Start()
		errc := make(chan error, 1)
		go func() { errc <- s.Play(context.Background(), call.PlayOptions{URL: "builtin:hold-music"}) }()
		time.Sleep(time.Second)
		s.Close()
		if err := <-errc; err != ErrClosed {
			t.Errorf("Play = %v, want ErrClosed", err)
		}
		if err := s.Play(t.Context(), call.PlayOptions{URL: "builtin:beep"}); err != ErrClosed {
			t.Errorf("Play after Close = %v", err)
		}
	})
}
