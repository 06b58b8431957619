package bench

import (
	"bytes"
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
	"github.com/switchboard/switchboard/internal/media/codec"
	"github.com/switchboard/switchboard/internal/media/mediatest"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// TestRelayCPU checks and measures the media relay of bridged calls: calls
// leg pairs bridged, PCMU on one side and PCMA on the other (every packet
// transcoded), each side a fake phone.
//
// By default (CI, -race included) it is a brief check: 10 calls, each phone
// sends 25 packets, and every one reaches the other phone through the relay
// with the other's payload type and the payload transcoded by the G.711
// tables. With SWITCHBOARD_BENCH=1 it is the measurement: each phone sends
// 50 packets a second, and the process's CPU time over a window is compared
// with the same phones sending to each other directly (the generator's own
// cost): `SWITCHBOARD_BENCH=1 go test ./bench/ -run TestRelayCPU -v`
// (RELAY_CALLS sets the calls, 100 by default; -short: 10 calls, 1 s).
func TestRelayCPU(t *testing.T) {
	bench := os.Getenv("SWITCHBOARD_BENCH") == "1"
	calls, window := 10, 5*time.Second
	if bench {
		calls = 100
		if n, err := strconv.Atoi(os.Getenv("RELAY_CALLS")); err == nil && n > 0 {
			calls = n
		}
		if testing.Short() {
			calls, window = 10, time.Second
		}
	}
	m := mediatest.Manager(t, func(c *media.Config) { c.PortMin, c.PortMax = 30000, 39999 })
	sdp := func(port int, c codec.Codec) []byte {
		return fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %d 101\r\na=rtpmap:101 telephone-event/8000\r\n", port, c)
	}
	// What a phone sends, and what the other phone must hear from the relay.
	var said [codec.FrameSamples]byte
	for i := range said {
		said[i] = byte(i)
	}
	hear := func(from, to codec.Codec) []byte {
		b := bytes.Clone(said[:])
		codec.Transcode(b, from, to)
		return b
	}

	// The phones' readers end when their sockets close, the bridges when
	// ctx ends: both before the goroutines are waited for. (Waiting first,
	// with the sockets closed only by t.Cleanup after the test returned,
	// was the hang of an earlier version: a deadlock, not -race.)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var conns []*net.UDPConn
	defer func() {
		cancel()
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	}()
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		return c
	}

	type phone struct {
		conn             *net.UDPConn
		codec            codec.Codec
		want             []byte       // a relayed payload
		relayed, heard   atomic.Int64 // packets from the relay; every packet
		wrongPT, garbled atomic.Int64
	}
	type route struct {
		from  *phone
		to    *net.UDPAddr // leg or phone
		ssrc  uint32
		hears *phone // the phone at the far end
	}
	var phones []*phone
	var viaRelay, direct []route
	newPhone := func(c, far codec.Codec) *phone {
		p := &phone{conn: listen(), codec: c, want: hear(far, c)}
		phones = append(phones, p)
		silence := bytes.Repeat([]byte{c.Silence()}, codec.FrameSamples)
		wg.Go(func() { // hear and check
			buf := make([]byte, 1500)
			for {
				n, _, err := p.conn.ReadFromUDP(buf)
				if err != nil {
					return
				}
				p.heard.Add(1)
				switch pkt := buf[:n]; {
				case n < 12+codec.FrameSamples:
					// an RTCP-sized or DTMF packet: not audio
				case pkt[1]&0x7f != byte(p.codec):
					p.wrongPT.Add(1)
				case bytes.Equal(pkt[12:], p.want):
					p.relayed.Add(1)
				case !bytes.Equal(pkt[12:], silence): // the legs' own silence fills gaps
					p.garbled.Add(1)
				}
			}
		})
		return p
	}
	for i := range calls {
		pa, pb := newPhone(codec.PCMU, codec.PCMA), newPhone(codec.PCMA, codec.PCMU)
		direct = append(direct,
			route{pa, pb.conn.LocalAddr().(*net.UDPAddr), uint32(2*i + 1), pb},
			route{pb, pa.conn.LocalAddr().(*net.UDPAddr), uint32(2*i + 2), pa})
	}

	pkt := make([]byte, 12+codec.FrameSamples)
	pkt[0] = 0x80
	copy(pkt[12:], said[:])
	var seq uint16
	// send sends one packet on each route (that wants one).
	send := func(routes []route, want func(r route) bool) (sent int) {
		seq++
		for _, r := range routes {
			if want != nil && !want(r) {
				continue
			}
			pkt[1] = byte(r.from.codec)
			binary.BigEndian.PutUint16(pkt[2:], seq)
			binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*codec.FrameSamples)
			binary.BigEndian.PutUint32(pkt[8:], r.ssrc)
			if _, err := r.from.conn.WriteToUDP(pkt, r.to); err == nil {
				sent++
			}
		}
		return sent
	}
	total := func(f func(p *phone) int64) (n int64) {
		for _, p := range phones {
			n += f(p)
		}
		return n
	}
	relayed := func() int64 { return total(func(p *phone) int64 { return p.relayed.Load() }) }

	measure := func(routes []route) (cpu time.Duration, sent int) {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
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
			if s := send(routes, nil); n > 50 {
				sent += s
			}
		}
		return cpuTime() - before, sent
	}
	heard := func() int64 { return total(func(p *phone) int64 { return p.heard.Load() }) }

	// The generator's own cost: the phones sending to each other directly,
	// before any leg exists (a leg sends its own silence to its phone).
	var base time.Duration
	var h0, h1 int64
	if bench {
		h0 = heard()
		base, _ = measure(direct)
		h1 = heard()
	}

	for i := range calls {
		pa, pb := phones[2*i], phones[2*i+1]
		legA := mediatest.Session(t, m, fmt.Sprint("a", i))
		legB := mediatest.Session(t, m, fmt.Sprint("b", i))
		if _, err := legA.Answer(sdp(pa.conn.LocalAddr().(*net.UDPAddr).Port, codec.PCMU)); err != nil {
			t.Fatal(err)
		}
		if _, err := legB.Answer(sdp(pb.conn.LocalAddr().(*net.UDPAddr).Port, codec.PCMA)); err != nil {
			t.Fatal(err)
		}
		if err := legA.Start(); err != nil {
			t.Fatal(err)
		}
		if err := legB.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { _ = legA.Bridge(ctx, legB) })
		local := func(port int) *net.UDPAddr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port} }
		viaRelay = append(viaRelay,
			route{pa, local(legA.LocalPort()), uint32(2*i + 1), pb},
			route{pb, local(legB.LocalPort()), uint32(2*i + 2), pa})
	}

	// The bridges start in their goroutines: probe until every phone has
	// heard the other through the relay.
	waitfor.True(t, 20*time.Second, "every phone hearing the other through the relay", func() bool {
		send(viaRelay, func(r route) bool { return r.hears.relayed.Load() == 0 })
		return total(func(p *phone) int64 { return min(p.relayed.Load(), 1) }) == int64(len(phones))
	})
	wrong0 := total(func(p *phone) int64 { return p.wrongPT.Load() })
	garbled0 := total(func(p *phone) int64 { return p.garbled.Load() })
	check := func() {
		t.Helper()
		if n := total(func(p *phone) int64 { return p.wrongPT.Load() }) - wrong0; n > 0 {
			t.Errorf("%d packets reached a phone with the other leg's payload type", n)
		}
		if n := total(func(p *phone) int64 { return p.garbled.Load() }) - garbled0; n > 0 {
			t.Errorf("%d packets reached a phone neither relayed and transcoded by the G.711 tables nor silence", n)
		}
	}

	if !bench {
		// 25 packets each way, 20 ms apart as a phone sends them: the
		// relay re-paces, so a burst would only fill its queue (which
		// keeps 160 ms). Every phone hears them all, bar a frame or two
		// the queue may let go to shorten its delay (under load); a frame
		// sent again when one came late counts as heard.
		const packets = 25
		r0 := make([]int64, len(phones))
		for i, p := range phones {
			r0[i] = p.relayed.Load()
		}
		tick := time.NewTicker(20 * time.Millisecond)
		for range packets {
			<-tick.C
			if sent := send(viaRelay, nil); sent != len(viaRelay) {
				t.Fatalf("sent %d of %d packets", sent, len(viaRelay))
			}
		}
		tick.Stop()
		waitfor.True(t, 20*time.Second, fmt.Sprintf("the %d packets each phone sent relayed to the far phone", packets), func() bool {
			for i, p := range phones {
				if p.relayed.Load()-r0[i] < packets-2 {
					return false
				}
			}
			return true
		})
		check()
		return
	}

	h2, r1 := heard(), relayed()
	relay, sent := measure(viaRelay)
	h3, r2 := heard(), relayed()
	check()
	t.Logf("packets heard: %d directly, %d through the bridge (%d of them relayed, settling second included; %d sent into it in the window; the rest the legs' own silence filling gaps)", h1-h0, h3-h2, r2-r1, sent)
	perCall := (relay - base) / time.Duration(calls)
	perPacket := (relay - base) / time.Duration(max(sent, 1))
	t.Logf("%d bridged calls, %v window: CPU %v with the relay, %v phones alone; relay %.2f ms CPU per call-second (%.2f%% of a core per call), %v per relayed packet (PCMU⇄PCMA)",
		calls, window, relay.Round(time.Millisecond), base.Round(time.Millisecond),
		float64(perCall)/float64(time.Millisecond)/window.Seconds(), 100*float64(perCall)/float64(window), perPacket.Round(100*time.Nanosecond))
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
