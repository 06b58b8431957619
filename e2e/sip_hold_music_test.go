package e2e

import (
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

// rtpCapture keeps the audio of the RTP packets that reach a UDP socket
// (PCMU or PCMA), each packet with its arrival time.
type rtpCapture struct {
	conn net.PacketConn
	mu   sync.Mutex
	pkts []capturedPacket
}

type capturedPacket struct {
	at  time.Time
	pcm []float64
}

func newRTPCapture(t *testing.T) *rtpCapture {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &rtpCapture{conn: conn}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if n <= 12 || buf[1]&0x7f > 8 {
				continue // not audio (telephone-event, RTCP)
			}
			pt := buf[1] & 0x7f
			pcm := make([]float64, 0, n-12)
			for _, b := range buf[12:n] {
				if pt == 8 {
					pcm = append(pcm, alawDecode(b))
				} else {
					pcm = append(pcm, ulawDecode(b))
				}
			}
			c.mu.Lock()
			c.pkts = append(c.pkts, capturedPacket{at: time.Now(), pcm: pcm})
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *rtpCapture) port() int { return c.conn.LocalAddr().(*net.UDPAddr).Port }

// since counts the packets that arrived after from.
func (c *rtpCapture) since(from time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, p := range c.pkts {
		if p.at.After(from) {
			n++
		}
	}
	return n
}

// power is the Goertzel power of hz (per sample, full scale 1) in the
// audio that arrived between from and to.
func (c *rtpCapture) power(from, to time.Time, hz float64) float64 {
	c.mu.Lock()
	var x []float64
	for _, p := range c.pkts {
		if p.at.After(from) && p.at.Before(to) {
			x = append(x, p.pcm...)
		}
	}
	c.mu.Unlock()
	if len(x) == 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*hz/8000)
	var s1, s2 float64
	for _, v := range x {
		s0 := v + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	return (s1*s1 + s2*s2 - coeff*s1*s2) / float64(len(x)) / float64(len(x))
}

// energy is the mean square (full scale 1) of the audio that arrived
// between from and to: how loud, whatever the frequencies.
func (c *rtpCapture) energy(from, to time.Time) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var sum float64
	n := 0
	for _, p := range c.pkts {
		if p.at.After(from) && p.at.Before(to) {
			for _, v := range p.pcm {
				sum += v * v
			}
			n += len(p.pcm)
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// ulawDecode is one G.711 µ-law sample as -1…1.
func ulawDecode(b byte) float64 {
	b = ^b
	t := (int(b&0x0f)<<3 + 0x84) << (int(b&0x70) >> 4)
	if b&0x80 != 0 {
		return float64(0x84-t) / 32768
	}
	return float64(t-0x84) / 32768
}

// alawDecode is one G.711 A-law sample as -1…1.
func alawDecode(b byte) float64 {
	b ^= 0x55
	t := int(b&0x0f) << 4
	switch seg := int(b&0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t = (t + 0x108) << (seg - 1)
	}
	if b&0x80 == 0 {
		t = -t
	}
	return float64(t) / 32768
}

// answerInDialog has b answer whatever comes next on its socket until
// it closes: re-INVITEs 200 with its SDP (recvonly to a hold, which it
// notes in held), other requests 200; ACKs and responses are dropped.
func answerInDialog(b *rawUA, rtpPort int, held *atomic.Bool) {
	buf := make([]byte, 8192)
	for {
		b.conn.SetReadDeadline(time.Time{})
		n, _, err := b.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		m := parseSIP(string(buf[:n]))
		_, body, _ := strings.Cut(m.raw, "\r\n\r\n")
		switch {
		case strings.HasPrefix(m.first, "SIP/2.0"), strings.HasPrefix(m.first, "ACK "):
		case strings.HasPrefix(m.first, "INVITE "):
			sdp := rawSDP(rtpPort)
			if strings.Contains(body, "a=sendonly") || strings.Contains(body, "a=inactive") {
				sdp = strings.Replace(sdp, "a=sendrecv", "a=recvonly", 1)
				held.Store(true)
			}
			b.answer(m, 200, "OK", "Contact: <sip:t@"+b.conn.LocalAddr().String()+">\r\n", sdp)
		default:
			b.answer(m, 200, "OK", "", "")
		}
	}
}

// TestHoldMusic: alice (baresip) calls a phone (a raw SIP phone
// registered with digest auth, its RTP captured). While alice holds the
// call the phone hears her music on hold instead of her 700 Hz tone, and
// gets no hold re-INVITE; when she resumes, her tone again and no music. Her music on hold is her
// user's when it names one, over her account's (Kazoo's precedence:
// device, user, account), else her account's. No dead air: when the
// account's music was deleted (forced: a plain delete is refused while it
// is in use), the phone hears the built-in hold music, and the call's
// trace carries a warning naming the media.
func TestHoldMusic(t *testing.T) {
	for _, tc := range []struct {
		name          string
		user, account float64 // the tones of alice's user's and account's music on hold (0: none)
		want, not     float64 // heard while held, and not heard (0: no check)
		deleted       bool    // the account's music is deleted before the call: the built-in plays
	}{
		{"the user's over the account's", 1300, 1900, 1300, 1900, false},
		{"the account's", 0, 1300, 1300, 0, false},
		{"the account's deleted: the built-in", 0, 1300, 0, 1300, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := serveSIP(t)
			alice := newPhone(t, s, "alice", "2200", 700)
			b := newRawUA(t, s)
			devID := registerDevice(t, s, b.conn, "held", b.conn.LocalAddr().String())
			base := s.URL + "/v2/accounts/" + s.Account
			music := func(hz float64) string {
				file := filepath.Join(t.TempDir(), "moh.wav")
				if err := os.WriteFile(file, toneWAV(hz, 5*time.Second), 0o600); err != nil {
					t.Fatal(err)
				}
				return uploadMedia(t, base, s.Token, "hold music", file, "audio/wav")
			}
			if tc.user != 0 {
				if st, env := api(t, "PATCH", base+"/users/"+alice.UserID, s.Token, map[string]any{"data": map[string]any{
					"music_on_hold": map[string]any{"media_id": music(tc.user)}}}); st != 200 {
					t.Fatalf("patch alice: %d %v", st, env)
				}
			}
			var accountMusic string
			if tc.account != 0 {
				accountMusic = music(tc.account)
				if st, env := api(t, "PATCH", base, s.Token, map[string]any{"data": map[string]any{
					"music_on_hold": map[string]any{"media_id": accountMusic}}}); st != 200 {
					t.Fatalf("patch the account: %d %v", st, env)
				}
			}
			if tc.deleted {
				if st, env := api(t, "DELETE", base+"/media/"+accountMusic, s.Token, nil); st != 409 {
					t.Fatalf("deleting the music on hold in use: %d %v, want 409", st, env)
				}
				if st, env := api(t, "DELETE", base+"/media/"+accountMusic+"?force=true", s.Token, nil); st != 200 {
					t.Fatalf("forced delete: %d %v", st, env)
				}
			}
			s.flow(t, "2320", map[string]any{"module": "device", "data": map[string]any{"id": devID, "timeout": 20}})
			rtp := newRTPCapture(t)

			na := alice.count()
			alice.command(t, "dial", "2320")
			answerRaw(t, b, "held-1", rtp.port())
			var told atomic.Bool
			go answerInDialog(b, rtp.port(), &told)
			na = alice.await(t, "CALL_ESTABLISHED", na, 15*time.Second)
			start := time.Now()
			const second = 50 // packets
			waitfor.True(t, 10*time.Second, "2 s of alice", func() bool { return rtp.since(start) > 2*second })
			holdAt := time.Now()
			alice.command(t, "hold", "")
			waitfor.True(t, 15*time.Second, "3 s on hold", func() bool { return rtp.since(holdAt) > 3*second })
			resumeAt := time.Now()
			alice.command(t, "resume", "")
			waitfor.True(t, 15*time.Second, "3 s after resuming", func() bool { return rtp.since(resumeAt) > 3*second })
			end := time.Now()
			alice.command(t, "hangup", "")
			alice.await(t, "CALL_CLOSED", na, 10*time.Second)

			ms := time.Millisecond
			hz := tc.want
			// The music heard: its tone's power, or the built-in's loudness
			// (no tone of its own) less alice's tone, which it replaces.
			heard := func(from, to time.Time) float64 {
				if hz == 0 {
					return rtp.energy(from, to)
				}
				return rtp.power(from, to, hz)
			}
			before, beforeTone := heard(start.Add(500*ms), holdAt), rtp.power(start.Add(500*ms), holdAt, 700)
			held, heldTone := heard(holdAt.Add(time.Second), resumeAt), rtp.power(holdAt.Add(time.Second), resumeAt, 700)
			after, afterTone := heard(resumeAt.Add(time.Second), end), rtp.power(resumeAt.Add(time.Second), end, 700)
			t.Logf("the held phone hears %v Hz (music; 0: all of it) / 700 Hz (alice): before hold %.2e / %.2e, on hold %.2e / %.2e, after resuming %.2e / %.2e",
				hz, before, beforeTone, held, heldTone, after, afterTone)
			switch {
			case hz == 0 && held < 1e-3:
				t.Errorf("dead air on hold: loudness %.2e", held)
			case hz != 0 && (held < 1e-4 || held < 100*before || held < 100*after):
				t.Errorf("the music on hold is not heard only while held: before %.2e, held %.2e, after %.2e", before, held, after)
			}
			if beforeTone < 1e-4 || afterTone < 1e-4 || heldTone > held/100 {
				t.Errorf("alice's tone: before %.2e, held %.2e, after %.2e; want heard but for the hold", beforeTone, heldTone, afterTone)
			}
			// It hears music instead of being told of the hold (its
			// phone would stop playing: TestHoldMusicToBaresip).
			if told.Load() {
				t.Error("the held phone was sent a hold re-INVITE though it hears music on hold")
			}
			if tc.not != 0 {
				if other := rtp.power(holdAt.Add(time.Second), resumeAt, tc.not); other > held/100 {
					t.Errorf("the %v Hz music that should lose is heard on hold at %.2e (the winner %.2e)", tc.not, other, held)
				}
			}
			tr := s.traces(t, 1)[0]
			if d := traceLines(tr, "dial"); len(d) != 1 || d[0]["status"] != "completed" {
				t.Errorf("trace %s", sipDump(tr))
			}
			w := traceLines(tr, "warning")
			switch {
			case tc.deleted && (len(w) != 1 || w[0]["code"] != "music_on_hold_unplayable" ||
				!strings.Contains(fmt.Sprint(w[0]["message"]), accountMusic)):
				t.Errorf("want one warning naming the deleted music %s: %s", accountMusic, sipDump(tr))
			case !tc.deleted && len(w) != 0:
				t.Errorf("warnings with playable music: %s", sipDump(tr))
			}
		})
	}
}

// TestHoldMusicToBaresip: alice calls bob (both baresip phones); bob holds
// the call and alice, the held party, hears their account's music on hold
// (1,300 Hz; bob's user and device name none) instead of bob's 1,100 Hz
// tone, then bob's tone again once he resumes. Her leg is not told of the
// hold: baresip 1.0, told it is held, stops playing what it receives.
func TestHoldMusicToBaresip(t *testing.T) {
	s := serveSIP(t)
	alice := newPhone(t, s, "alice", "2200", 700)
	bob := newPhone(t, s, "bob", "2201", 1100)
	s.flow(t, "2201", map[string]any{"module": "user", "data": map[string]any{"id": bob.UserID, "timeout": 20}})
	base := s.URL + "/v2/accounts/" + s.Account
	file := filepath.Join(t.TempDir(), "moh.wav")
	if err := os.WriteFile(file, toneWAV(1300, 5*time.Second), 0o600); err != nil {
		t.Fatal(err)
	}
	moh := uploadMedia(t, base, s.Token, "hold music", file, "audio/wav")
	if st, env := api(t, "PATCH", base, s.Token, map[string]any{"data": map[string]any{
		"music_on_hold": map[string]any{"media_id": moh}}}); st != 200 {
		t.Fatalf("patch the account: %d %v", st, env)
	}

	na, nb := alice.count(), bob.count()
	alice.command(t, "dial", "2201")
	na = alice.await(t, "CALL_ESTABLISHED", na, 15*time.Second)
	bob.await(t, "CALL_ESTABLISHED", nb, 15*time.Second)
	// What alice heard so far, in bytes of her recording (8 kHz, 16 bits).
	const second = 16000
	heard := func() []byte {
		files, _ := filepath.Glob(filepath.Join(alice.Rec, "dump-*-dec.wav"))
		if len(files) != 1 {
			return nil
		}
		return readFile(t, files[0])
	}
	at := func(n int) int { return 44 + (n-44)&^1 } // a whole sample
	waitfor.True(t, 15*time.Second, "2 s of bob", func() bool { return len(heard()) > 44+2*second })
	holdAt := at(len(heard()))
	bob.command(t, "hold", "")
	waitfor.True(t, 20*time.Second, "4 s on hold", func() bool { return len(heard()) > holdAt+4*second })
	resumeAt := at(len(heard()))
	bob.command(t, "resume", "")
	waitfor.True(t, 20*time.Second, "3 s after resuming", func() bool { return len(heard()) > resumeAt+3*second })
	wav := heard()
	end := at(len(wav))
	alice.command(t, "hangup", "")
	alice.await(t, "CALL_CLOSED", na, 10*time.Second)

	// tonePower reads past a 44-byte header.
	power := func(from, to int, hz float64) float64 {
		return tonePower(append(make([]byte, 44), wav[from:to]...), hz)
	}
	held, heldBob := power(holdAt+second, resumeAt, 1300), power(holdAt+second, resumeAt, 1100)
	after, afterBob := power(resumeAt+second, end, 1300), power(resumeAt+second, end, 1100)
	t.Logf("alice hears 1300 Hz (music) / 1100 Hz (bob): on hold %.2e / %.2e, after resuming %.2e / %.2e", held, heldBob, after, afterBob)
	if held < 1e-4 || held < 100*heldBob {
		t.Errorf("alice does not hear the music on hold while held: %.2e (bob's tone %.2e)", held, heldBob)
	}
	if afterBob < 1e-4 || afterBob < 100*after {
		t.Errorf("alice does not hear bob again after he resumed: %.2e (music %.2e)", afterBob, after)
	}
}
