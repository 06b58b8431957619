package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/media/mediatest"
)

// TestRelayCPU measures the CPU a bridged call costs for its media relay:
// calls legs bridged (PCMU on one side, PCMA on the other: every packet
// transcoded), each side fed 50 RTP packets a second by a fake phone, and
// the process's CPU time over a window compared with the same phones
// sending to each other directly (the generator's own cost). Run with
// `go test ./bench/ -run TestRelayCPU -v` (RELAY_CALLS sets the calls,
// 100 by default).
func TestRelayCPU(t *testing.T) {
	if os.Getenv("SWITCHBOARD_BENCH") != "1" {
		t.Skip("a load measurement, not a test: run with SWITCHBOARD_BENCH=1 (see bench/)")
	}
	calls := 100
	if n, err := strconv.Atoi(os.Getenv("RELAY_CALLS")); err == nil && n > 0 {
		calls = n
	}
	window := 5 * time.Second
	if testing.Short() {
		calls, window = 10, time.Second
	}
	m := mediatest.Manager(t, func(c *media.Config) { c.PortMin, c.PortMax = 30000, 39999 })
	type pair struct{ a, b *net.UDPConn } // the two phones of a call
	type route struct {
		from *net.UDPConn
		to   *net.UDPAddr
		pt   byte
	}
	var phones []pair
	var viaRelay, direct []route
	sdp := func(port, pt int) []byte {
		return fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %d 101\r\na=rtpmap:101 telephone-event/8000\r\n", port, pt)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for i := range calls {
		pa, pb := listenUDP(t), listenUDP(t)
		phones = append(phones, pair{pa, pb})
		legA := mediatest.Session(t, m, fmt.Sprint("a", i))
		legB := mediatest.Session(t, m, fmt.Sprint("b", i))
		if _, err := legA.Answer(sdp(pa.LocalAddr().(*net.UDPAddr).Port, 0)); err != nil {
			t.Fatal(err)
		}
		if _, err := legB.Answer(sdp(pb.LocalAddr().(*net.UDPAddr).Port, 8)); err != nil {
			t.Fatal(err)
		}
		legA.Start()
		legB.Start()
		wg.Go(func() { _ = legA.Bridge(ctx, legB) })
		viaRelay = append(viaRelay,
			route{pa, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: legA.LocalPort()}, 0},
			route{pb, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: legB.LocalPort()}, 8})
		direct = append(direct,
			route{pa, pb.LocalAddr().(*net.UDPAddr), 0},
			route{pb, pa.LocalAddr().(*net.UDPAddr), 8})
	}
	var heard atomic.Int64
	for _, p := range phones { // the phones hear and drop
		for _, c := range []*net.UDPConn{p.a, p.b} {
			wg.Go(func() {
				buf := make([]byte, 1500)
				for {
					if _, _, err := c.ReadFromUDP(buf); err != nil {
						return
					}
					heard.Add(1)
				}
			})
		}
	}
	measure := func(routes []route) (cpu time.Duration, sent int) {
		pkt := make([]byte, 12+160)
		pkt[0] = 0x80
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var seq uint16
		// One second to settle, then the window.
		var before time.Duration
		start := time.Now()
		for n := 0; ; n++ {
			<-tick.C
			if n == 50 {
				before, start = cpuTime(), time.Now()
			}
			if n > 50 && time.Since(start) >= window {
				break
			}
			seq++
			for i, r := range routes {
				pkt[1] = r.pt
				binary.BigEndian.PutUint16(pkt[2:], seq)
				binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*160)
				binary.BigEndian.PutUint32(pkt[8:], uint32(i+1))
				if _, err := r.from.WriteToUDP(pkt, r.to); err == nil && n > 50 {
					sent++
				}
			}
		}
		return cpuTime() - before, sent
	}
	h0 := heard.Load()
	base, _ := measure(direct)
	h1 := heard.Load()
	relay, sent := measure(viaRelay)
	h2 := heard.Load()
	t.Logf("packets heard: %d directly, %d through the relay (%d sent into it)", h1-h0, h2-h1, sent)
	perCall := (relay - base) / time.Duration(calls)
	perPacket := (relay - base) / time.Duration(max(sent, 1))
	t.Logf("%d bridged calls, %v window: CPU %v with the relay, %v phones alone; relay %.2f ms CPU per call-second (%.2f%% of a core per call), %v per relayed packet (PCMU⇄PCMA)",
		calls, window, relay.Round(time.Millisecond), base.Round(time.Millisecond),
		float64(perCall)/float64(time.Millisecond)/window.Seconds(), 100*float64(perCall)/float64(window), perPacket.Round(100*time.Nanosecond))
}

func listenUDP(t *testing.T) *net.UDPConn {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
