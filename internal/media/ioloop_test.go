package media_test

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/media/dtmf"
	"github.com/switchboard/switchboard/internal/media/mediatest"
)

// rtpPacket is an RTP packet of 160 bytes of PCMU silence.
func rtpPacket(seq uint16, ssrc uint32) []byte {
	b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: ssrc}, Payload: make([]byte, 160)}).Marshal()
	return b
}

// sendPaced sends n packets from c to s, numbered from seq, in groups of
// 25, each once s has taken the group before (no burst overflows a
// socket buffer on a busy machine).
func sendPaced(t *testing.T, c *net.UDPConn, s *media.Session, dst netip.AddrPort, seq uint16, ssrc uint32, n int) {
	t.Helper()
	base := s.Stats().PacketsReceived
	for i := 0; i < n; {
		for j := 0; j < 25 && i < n; j, i = j+1, i+1 {
			if _, err := c.WriteToUDPAddrPort(rtpPacket(seq+uint16(i), ssrc), dst); err != nil {
				t.Error(err)
				return
			}
		}
		want := base + uint64(i)
		eventually(t, fmt.Sprintf("%d packets taken", want), func() bool { return s.Stats().PacketsReceived >= want })
	}
}

// TestIOLoopChurn opens and closes sessions from several goroutines while
// packets flow to them and to the ports of sessions just closed (whose
// descriptor numbers the kernel hands to the next sockets). Every session
// takes exactly its own caller's packets, in order: a packet read as
// another session's would show as dropped there (another port) and
// missing here.
func TestIOLoopChurn(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t)
	spray := udp(t)
	var mu sync.Mutex
	var closedPorts []int
	stop := make(chan struct{})
	var sprayer sync.WaitGroup
	sprayer.Go(func() { // keeps hitting ports of closed sessions
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			var p int
			if len(closedPorts) > 0 {
				p = closedPorts[i%len(closedPorts)]
			}
			mu.Unlock()
			if p == 0 {
				time.Sleep(time.Millisecond)
				continue
			}
			spray.WriteToUDPAddrPort(rtpPacket(uint16(i), 99), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(p)))
		}
	})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			peer := udp(t)
			go func() { // drain what the sessions send
				buf := make([]byte, 1500)
				for {
					if _, _, err := peer.ReadFrom(buf); err != nil {
						return
					}
				}
			}()
			for i := range 15 {
				s, err := m.NewSession(t.Context(), "acct", fmt.Sprint("churn-", g, "-", i))
				if err != nil {
					t.Error(err)
					return
				}
				answered(t, s, peer.LocalAddr().(*net.UDPAddr).Port)
				dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.LocalPort()))
				ssrc := uint32(g<<8 | i)
				sendPaced(t, peer, s, dst, uint16(i*1000), ssrc, 50)
				st := s.Stats()
				late, overflow := media.JitterCounts(s)
				if st.PacketsReceived != 50 || st.Dropped != 0 || late != 0 || overflow != 0 {
					t.Errorf("session %d/%d: %+v, jitter late %d overflow %d; want exactly its 50 packets, in order", g, i, st, late, overflow)
				}
				s.Close()
				mu.Lock()
				closedPorts = append(closedPorts, s.LocalPort(), s.LocalPort()+1)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	sprayer.Wait()
}

// TestIOLoopCloseDuringRead closes sessions while their callers flood
// them, with a session on the same loops taking its packets throughout:
// Close returns while the loop is reading (the race detector watches the
// receiver's state), and the loops carry on for the others.
func TestIOLoopCloseDuringRead(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t)
	witnessPeer := udp(t)
	witness := mediatest.Session(t, m, "witness")
	answered(t, witness, witnessPeer.LocalAddr().(*net.UDPAddr).Port)
	wdst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(witness.LocalPort()))
	seq := uint16(0)
	for i := range 40 {
		flooder := udp(t)
		s, err := m.NewSession(t.Context(), "acct", fmt.Sprint("flooded-", i))
		if err != nil {
			t.Fatal(err)
		}
		answered(t, s, flooder.LocalAddr().(*net.UDPAddr).Port)
		dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.LocalPort()))
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for n := uint16(0); ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				flooder.WriteToUDPAddrPort(rtpPacket(n, 1), dst)
			}
		})
		eventually(t, "the flood read", func() bool { return s.Stats().PacketsReceived > 20 })
		s.Close()
		after := s.Stats().PacketsReceived
		close(stop)
		wg.Wait()
		// Nothing is taken after Close.
		if got := s.Stats().PacketsReceived; got != after {
			t.Fatalf("session %d took %d packets after Close", i, got-after)
		}
		// The witness is still heard.
		sendPaced(t, witnessPeer, witness, wdst, seq, 5, 5)
		seq += 5
	}
}

// TestIOLoopDigitWithoutEnd checks the loop's housekeeping: a digit whose
// end packets are lost is reported after dtmf.LostEndTimeout although no
// packet comes after it (nothing wakes the loop but its own deadline).
func TestIOLoopDigitWithoutEnd(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t)
	s := mediatest.Session(t, m, "s")
	peer := udp(t)
	answered(t, s, peer.LocalAddr().(*net.UDPAddr).Port)
	dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.LocalPort()))
	got := make(chan string, 1)
	go func() {
		d, _ := s.Gather(t.Context(), call.GatherOptions{NumDigits: 1, Timeout: 10 * time.Second})
		got <- d
	}()
	eventually(t, "the Gather", func() bool { return media.Gathering(s) })
	start := time.Now()
	for i := range 3 { // three packets of a 5 going on, then nothing
		var pl [dtmf.PayloadSize]byte
		dtmf.Payload{Event: 5, Volume: 10, Duration: uint16((i + 1) * 160)}.Put(pl[:])
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, Marker: i == 0, SequenceNumber: uint16(10 + i), Timestamp: 8000, SSRC: 3}, Payload: pl[:]}).Marshal()
		if _, err := peer.WriteToUDPAddrPort(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case d := <-got:
		if d != "5" {
			t.Errorf("Gather = %q, want 5", d)
		}
		if el := time.Since(start); el < dtmf.LostEndTimeout {
			t.Errorf("digit after %v, before the lost-end timeout", el)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the digit without an end was never reported: no housekeeping")
	}
}

// TestIPv6Media runs a session on ::1 (a dual-stack IPv6 socket): the
// first packet latches, we send back to it, a stranger's packets (from an
// IPv4 address) are dropped and counted.
func TestIPv6Media(t *testing.T) {
	t.Parallel()
	m := mediatest.Manager(t, func(c *media.Config) { c.PublicIP, c.BindIP = "::1", "::" })
	s := mediatest.Session(t, m, "v6")
	peer, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer peer.Close()
	offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", peer.LocalAddr().(*net.UDPAddr).Port)
	ans, err := s.Answer(offer)
	if err != nil {
		t.Fatal(err)
	}
	if want := "c=IN IP6 ::1"; !strings.Contains(string(ans), want) {
		t.Errorf("answer has no %q:\n%s", want, ans)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	dst := netip.AddrPortFrom(netip.IPv6Loopback(), uint16(s.LocalPort()))
	sendPaced(t, peer, s, dst, 1, 9, 10)
	if !received(peer, 3*time.Second) {
		t.Fatal("nothing sent to the IPv6 caller")
	}
	stranger := udp(t) // 127.0.0.1: not the call's address
	v4dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.LocalPort()))
	if _, err := stranger.WriteToUDPAddrPort(rtpPacket(50, 9), v4dst); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the stranger's packet counted", func() bool { return s.Stats().DroppedSource == 1 })
	if st := s.Stats(); st.PacketsReceived != 10 {
		t.Errorf("stats %+v, want the caller's 10 packets only", st)
	}
}
