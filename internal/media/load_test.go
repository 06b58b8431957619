package media

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
)

// BenchmarkSendPacket measures one session's send path per packet: the
// pacer's tick (next frame, header, copy) and, in the "udp" cases, the
// sendto to a local socket. Run with -benchmem: it allocates nothing.
func BenchmarkSendPacket(b *testing.B) {
	for _, bc := range []struct {
		name    string
		udp     bool
		playing bool
	}{
		{"wire/silence", false, false},
		{"wire/prompt", false, true},
		{"udp/silence", true, false},
		{"udp/prompt", true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, err := NewManager(Config{DataDir: b.TempDir(), BindIP: "127.0.0.1", PortMin: 20000, PortMax: 29999, LocalPaths: true}, nil)
			if err != nil {
				b.Fatal(err)
			}
			sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer sink.Close()
			go func() {
				buf := make([]byte, 1500)
				for {
					if _, _, err := sink.ReadFromUDPAddrPort(buf); err != nil {
						return
					}
				}
			}()
			s, err := m.NewSession(context.Background(), "acct", "bench")
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if !bc.udp {
				s.w = nopWriter{}
			}
			offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n", sink.LocalAddr().(*net.UDPAddr).Port)
			if _, err := s.Answer(offer); err != nil {
				b.Fatal(err)
			}
			s.mu.Lock()
			s.started = true // ticks by hand: no pacer, no reader
			s.mu.Unlock()
			if bc.playing {
				p, _ := m.builtin("hold-music")
				s.setOutput(newAudioOutput(s.neg.codec, p.frames(s.neg.codec), maxLoops))
			}
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				now = now.Add(ptime)
				s.tick(now)
			}
		})
	}
}

type nopWriter struct{}

func (nopWriter) WriteToUDPAddrPort(b []byte, _ netip.AddrPort) (int, error) { return len(b), nil }

// TestPacing runs N sessions sending to a UDP sink in another process and
// reports the CPU this process spends per packet sent (getrusage) and the
// pacing deviation |Δt − 20 ms| of each stream's arrivals at the sink
// (kernel receive timestamps): median, p99, max. It asserts nothing about
// timing. By default it runs 50 sessions for 2 s; MEDIA_LOAD=1 runs 100,
// 500 and 1500 sessions (or MEDIA_LOAD_SIZES, e.g. "1000 1500") for
// MEDIA_LOAD_SECONDS (default 10) each. It also logs where the lateness
// came from (load_metrics_test.go).
func TestPacing(t *testing.T) {
	if os.Getenv("MEDIA_PACING_SINK") == "1" {
		t.Skip("running as the sink")
	}
	sizes, secs := []int{50}, 2
	if os.Getenv("MEDIA_LOAD") == "1" {
		sizes, secs = []int{100, 500, 1500}, 10
		if v, err := strconv.Atoi(os.Getenv("MEDIA_LOAD_SECONDS")); err == nil && v > 0 {
			secs = v
		}
		if v := strings.Fields(os.Getenv("MEDIA_LOAD_SIZES")); len(v) > 0 {
			sizes = sizes[:0]
			for _, f := range v {
				n, err := strconv.Atoi(f)
				if err != nil || n < 1 {
					t.Fatalf("MEDIA_LOAD_SIZES: %q is not a count of sessions", f)
				}
				sizes = append(sizes, n)
			}
		}
	} else if testing.Short() {
		t.Skip("short")
	}
	// MEDIA_LOAD_NICE and MEDIA_LOAD_SLICE_US set this process's threads
	// as --media-priority would, to measure each lever alone.
	if v, ok := os.LookupEnv("MEDIA_LOAD_NICE"); ok {
		nice, _ := strconv.Atoi(v)
		slice, _ := strconv.Atoi(os.Getenv("MEDIA_LOAD_SLICE_US"))
		gn, gs, err := setThreads(nice, time.Duration(slice)*time.Microsecond)
		t.Logf("threads set to nice %d slice %v (err %v)", gn, gs, err)
	}
	for _, n := range sizes {
		r := runPacing(t, n, time.Duration(secs)*time.Second)
		t.Logf("N=%d: %d packets in %v, CPU %.2f µs/packet (user %.2f; %.0f%% of one core); pacing deviation median %.2f ms, p99 %.2f ms, max %.2f ms; sink saw %d packets (%.1f%% of sent)",
			n, r.sent, r.elapsed.Round(time.Millisecond), r.cpuPerPacket, r.userPerPacket, r.cpuShare*100, r.p50, r.p99, r.max, r.received, 100*float64(r.received)/float64(max(r.sentAll, 1)))
		t.Logf("N=%d: %s", n, r.split)
		if r.echoed > 0 {
			t.Logf("N=%d with MEDIA_LOAD_ECHO: %d packets taken in, CPU %.2f µs per packet in + out (user %.2f)",
				n, r.echoed, r.cpuPerInOut, r.userPerInOut)
		}
		if r.received == 0 {
			t.Errorf("N=%d: the sink received nothing", n)
		}
	}
}

type pacingResult struct {
	sent, sentAll, received uint64
	elapsed                 time.Duration
	cpuPerPacket, cpuShare  float64
	userPerPacket           float64
	p50, p99, max           float64
	// with MEDIA_LOAD_ECHO=1 the sink sends every packet back: packets
	// the sessions took in, and CPU per packet in + out
	echoed                    uint64
	cpuPerInOut, userPerInOut float64
	split                     string // where the lateness came from
}

func runPacing(t *testing.T, n int, d time.Duration) pacingResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPacingSink$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MEDIA_PACING_SINK=1", "GOMAXPROCS=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	lines := bufio.NewScanner(stdout)
	var ports []int
	for lines.Scan() {
		if v, ok := strings.CutPrefix(lines.Text(), "SINK PORTS "); ok {
			for _, f := range strings.Fields(v) {
				p, _ := strconv.Atoi(f)
				ports = append(ports, p)
			}
			break
		}
	}
	if len(ports) == 0 {
		t.Fatal("sink did not start")
	}

	// MEDIA_LOAD_PRIORITY is --media-priority's value for the pacing thread
	prio, err := ParsePriority(cmp.Or(os.Getenv("MEDIA_LOAD_PRIORITY"), "normal"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(Config{DataDir: t.TempDir(), BindIP: "127.0.0.1", PortMin: 20000, PortMax: 29999, LocalPaths: true, Priority: prio}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sessions := make([]*Session, 0, n)
	defer func() {
		for _, s := range sessions {
			s.Close()
		}
	}()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for i := range n {
		s, err := m.NewSession(t.Context(), "acct", fmt.Sprint("load-", i))
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s)
		// Far ends spread over the sink's sockets, as calls go to many peers.
		offer := fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n", ports[i%len(ports)])
		if _, err := s.Answer(offer); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 { // half play music (pre-encoded frames), half silence
			go s.Play(ctx, call.PlayOptions{URL: "builtin:hold-music"})
		}
	}
	sentBy := func() uint64 {
		var total uint64
		for _, s := range sessions {
			total += s.packetsSent.Load()
		}
		return total
	}
	receivedBy := func() uint64 {
		var total uint64
		for _, s := range sessions {
			total += s.packetsReceived.Load()
		}
		return total
	}
	time.Sleep(time.Second) // warm up
	fmt.Fprintln(stdin, "MEASURE")
	ru0, sent0, rcvd0, t0, sp0 := rusage(t), sentBy(), receivedBy(), time.Now(), readSplit(m)
	time.Sleep(d)
	ru1, sent1, rcvd1, t1, sp1 := rusage(t), sentBy(), receivedBy(), time.Now(), readSplit(m)
	fmt.Fprintln(stdin, "STOP")
	r := pacingResult{sent: sent1 - sent0, elapsed: t1.Sub(t0), split: sp0.report(sp1)}
	r.split += fmt.Sprintf("; pacing thread %.0f%% of one core", 100*float64(sp1.threadNS-sp0.threadNS)/float64(t1.Sub(t0)))
	cpu := ru1.total() - ru0.total()
	r.cpuPerPacket = float64(cpu.Microseconds()) / float64(max(r.sent, 1))
	r.userPerPacket = float64((ru1.user - ru0.user).Microseconds()) / float64(max(r.sent, 1))
	r.cpuShare = cpu.Seconds() / r.elapsed.Seconds()
	if r.echoed = rcvd1 - rcvd0; r.echoed > 0 {
		r.cpuPerInOut = float64(cpu.Microseconds()) / float64(r.sent+r.echoed)
		r.userPerInOut = float64((ru1.user - ru0.user).Microseconds()) / float64(r.sent+r.echoed)
	}
	for lines.Scan() {
		if v, ok := strings.CutPrefix(lines.Text(), "SINK RESULT "); ok {
			fmt.Sscan(v, &r.received, &r.p50, &r.p99, &r.max)
			break
		}
	}
	r.sentAll = r.sent
	return r
}

type cpuTime struct{ user, sys time.Duration }

func (c cpuTime) total() time.Duration { return c.user + c.sys }

func rusage(t *testing.T) cpuTime {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return cpuTime{time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())}
}

// TestPacingSink is the sink process of TestPacing: it prints its port,
// records kernel receive timestamps per source between MEASURE and STOP
// on stdin, then prints the packet count and the deviation percentiles.
// With MEDIA_LOAD_ECHO=1 it sends every packet back where it came from,
// so that the sessions also receive a stream each (G.711 both ways).
func TestPacingSink(t *testing.T) {
	if os.Getenv("MEDIA_PACING_SINK") != "1" {
		t.Skip("only run by TestPacing")
	}
	const sockets = 32
	echo := os.Getenv("MEDIA_LOAD_ECHO") == "1"
	var raws []syscall.RawConn
	var ports []string
	for range sockets {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		conn.SetReadBuffer(4 << 20)
		raw, _ := conn.SyscallConn()
		raw.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
			syscall.SetNonblock(int(fd), true)
		})
		raws = append(raws, raw)
		ports = append(ports, strconv.Itoa(conn.LocalAddr().(*net.UDPAddr).Port))
	}
	fmt.Printf("SINK PORTS %s\n", strings.Join(ports, " "))

	measuring := make(chan bool, 2)
	go func() {
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			measuring <- in.Text() == "MEASURE"
		}
		measuring <- false
		io.Copy(io.Discard, os.Stdin)
	}()
	type stream struct{ last int64 }
	streams := map[uint16]*stream{}
	var devs []float64
	var count uint64
	on := false
	buf := make([]byte, 1500)
	oob := make([]byte, 128)
	// Drain the sockets without blocking in recvmsg, every 2 ms: a reader
	// asleep in recvmsg would be woken by every packet, and on loopback
	// that wake-up (an inter-processor interrupt, costly in a VM) is charged
	// to the sender. The kernel timestamps keep the arrival times exact.
	for {
		select {
		case v := <-measuring:
			if !v && on {
				slices.Sort(devs)
				pct := func(p float64) float64 {
					if len(devs) == 0 {
						return 0
					}
					return devs[min(len(devs)-1, int(p*float64(len(devs))))]
				}
				fmt.Printf("SINK RESULT %d %.3f %.3f %.3f\n", count, pct(0.5), pct(0.99), pct(1))
				return
			}
			on = v
		default:
		}
		for i := 0; i < len(raws); {
			var (
				n, oobn int
				from    syscall.Sockaddr
				rerr    error
			)
			raws[i].Read(func(fd uintptr) bool {
				n, oobn, _, from, rerr = syscall.Recvmsg(int(fd), buf, oob, syscall.MSG_DONTWAIT)
				if rerr == nil && n > 0 && echo {
					syscall.Sendto(int(fd), buf[:n], syscall.MSG_DONTWAIT, from)
				}
				return true
			})
			if rerr != nil || n < 0 {
				i++ // this socket is drained
				continue
			}
			sa, ok := from.(*syscall.SockaddrInet4)
			if !ok {
				continue
			}
			ts := kernelTime(oob[:oobn])
			st := streams[uint16(sa.Port)]
			if st == nil {
				st = &stream{}
				streams[uint16(sa.Port)] = st
			}
			if on {
				count++
				if st.last != 0 {
					dev := float64(ts-st.last)/1e6 - 20
					if dev < 0 {
						dev = -dev
					}
					devs = append(devs, dev)
				}
			}
			st.last = ts
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// kernelTime reads SCM_TIMESTAMPNS (ns since the epoch) from a control
// message, or the current time.
func kernelTime(oob []byte) int64 {
	for len(oob) >= 16 {
		l := int(binary.NativeEndian.Uint64(oob[0:8]))
		level := int32(binary.NativeEndian.Uint32(oob[8:12]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:16]))
		if l < 16 || l > len(oob) {
			break
		}
		if level == syscall.SOL_SOCKET && typ == syscall.SO_TIMESTAMPNS && l >= 32 {
			sec := int64(binary.NativeEndian.Uint64(oob[16:24]))
			nsec := int64(binary.NativeEndian.Uint64(oob[24:32]))
			return sec*1e9 + nsec
		}
		oob = oob[(l+7)&^7:]
	}
	return time.Now().UnixNano()
}
