package server_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/servertest"
)

// BenchmarkCallSetup is the call of bench/sip's cps run, in process: a raw
// UDP caller (no SIP stack of its own, so that what -benchmem counts is the
// server's) sends an INVITE with a PCMU offer, ACKs the 200, and answers
// the server's BYE after a 100 ms prompt (5 RTP packets). allocs/op and
// B/op are per call, the whole process; -cpuprofile and -memprofile say
// where.
func BenchmarkCallSetup(b *testing.B) {
	s := servertest.NewAt(b, slog.LevelWarn, withSIP("127.0.0.1"), func(c *server.Config) { c.Media.LocalPaths = true })
	wav := filepath.Join(b.TempDir(), "prompt.wav")
	if err := os.WriteFile(wav, silenceWAV(100*time.Millisecond), 0o600); err != nil {
		b.Fatal(err)
	}
	putFlow(b, s, "1000", map[string]any{"module": "play", "data": map[string]any{"id": wav, "answer": true}})
	server, err := net.ResolveUDPAddr("udp", s.SIPAddr())
	if err != nil {
		b.Fatal(err)
	}
	// Warm up: the flow cache, the account cache, the media pacer.
	c := newRawCaller(b, server)
	for range 20 {
		if _, err := c.call(); err != nil {
			b.Fatal(err)
		}
	}
	b.SetParallelism(8) // calls overlap, as under load
	b.ResetTimer()
	cpu0, gc0 := processCPU(), gcCPU()
	b.RunParallel(func(pb *testing.PB) {
		c := newRawCaller(b, server)
		for pb.Next() {
			if _, err := c.call(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	// CPU time of the whole process (server and the raw callers) per call.
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/call")
	// The collector's share of it (GOGC in the environment changes it).
	b.ReportMetric(float64((gcCPU()-gc0).Microseconds())/float64(b.N), "gc-cpu-µs/call")
}

// processCPU is the user and system CPU time the process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// gcCPU is the CPU time the garbage collector used so far (the runtime's
// estimate).
func gcCPU() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}

// rawCaller places calls from one UDP socket, one at a time.
type rawCaller struct {
	conn   *net.UDPConn
	rtp    *net.UDPConn
	server *net.UDPAddr
	buf    []byte
	last   []byte // the last final response other than 200
}

var rawCalls atomic.Int64

func newRawCaller(b testing.TB, server *net.UDPAddr) *rawCaller {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(); rtp.Close() })
	go func() { // the prompt's packets, read and dropped
		buf := make([]byte, 2048)
		for {
			if _, err := rtp.Read(buf); err != nil {
				return
			}
		}
	}()
	return &rawCaller{conn: conn, rtp: rtp, server: server, buf: make([]byte, 65536)}
}

// call places one call: INVITE, 200, ACK, the server's BYE, 200. A final
// response other than 200 ends it (ACKed): its code is returned with a nil
// error, as 200 is once the BYE is answered.
func (c *rawCaller) call() (int, error) {
	n := rawCalls.Add(1)
	local := c.conn.LocalAddr().String()
	sdp := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
		c.rtp.LocalAddr().(*net.UDPAddr).Port)
	head := fmt.Sprintf("Via: SIP/2.0/UDP %s;branch=z9hG4bK-b%d\r\nFrom: \"load\" <sip:load@%s>;tag=f%d\r\n", local, n, local, n)
	callID := fmt.Sprintf("Call-ID: bench-%d@%s\r\n", n, local)
	ours := []byte(callID) // the server writes the header line as we do
	invite := "INVITE sip:1000@" + c.server.String() + " SIP/2.0\r\n" + head +
		"To: <sip:1000@" + c.server.String() + ">\r\n" + callID + "CSeq: 1 INVITE\r\nContact: <sip:load@" + local + ">\r\n" +
		"Max-Forwards: 70\r\nContent-Type: application/sdp\r\n" + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(sdp)) + sdp
	if _, err := c.conn.WriteToUDP([]byte(invite), c.server); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(10 * time.Second)
	c.conn.SetReadDeadline(deadline)
	var to string
	for to == "" {
		msg, err := c.read()
		if err != nil {
			return 0, fmt.Errorf("waiting for 200: %w", err)
		}
		// A request, or anything of an earlier call on this socket (its
		// BYE resent while our 200 was on the way): not this answer.
		if bytes.HasPrefix(msg, []byte("SIP/2.0 1")) || !bytes.HasPrefix(msg, []byte("SIP/2.0 ")) || !bytes.Contains(msg, ours) {
			continue
		}
		to = header(msg, "To")
		if !bytes.HasPrefix(msg, []byte("SIP/2.0 200 ")) {
			code := 0
			fmt.Sscanf(firstLine(msg), "SIP/2.0 %d", &code)
			ack := "ACK sip:1000@" + c.server.String() + " SIP/2.0\r\n" + head + "To: " + to + "\r\n" + callID +
				"CSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
			if _, err := c.conn.WriteToUDP([]byte(ack), c.server); err != nil {
				return code, err
			}
			if code == 0 {
				return 0, fmt.Errorf("answered %q", firstLine(msg))
			}
			c.last = bytes.Clone(msg)
			return code, nil
		}
	}
	ack := "ACK sip:" + c.server.String() + " SIP/2.0\r\n" +
		fmt.Sprintf("Via: SIP/2.0/UDP %s;branch=z9hG4bK-a%d\r\nFrom: \"load\" <sip:load@%s>;tag=f%d\r\n", local, n, local, n) +
		"To: " + to + "\r\n" + callID + "CSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.conn.WriteToUDP([]byte(ack), c.server); err != nil {
		return 0, err
	}
	for {
		msg, err := c.read()
		if err != nil {
			return 0, fmt.Errorf("waiting for BYE: %w", err)
		}
		if !bytes.HasPrefix(msg, []byte("BYE ")) || !bytes.Contains(msg, ours) {
			continue // a retransmitted 200, or an earlier call's BYE resent
		}
		ok := "SIP/2.0 200 OK\r\n"
		for _, h := range []string{"Via", "From", "To", "Call-ID", "CSeq"} {
			ok += h + ": " + header(msg, h) + "\r\n"
		}
		ok += "Content-Length: 0\r\n\r\n"
		_, err = c.conn.WriteToUDP([]byte(ok), c.server)
		return 200, err
	}
}

func (c *rawCaller) read() ([]byte, error) {
	n, err := c.conn.Read(c.buf)
	return c.buf[:n], err
}

func firstLine(msg []byte) string {
	line, _, _ := bytes.Cut(msg, []byte("\r\n"))
	return string(line)
}

// header is the value of a message's first header named name (long form).
func header(msg []byte, name string) string {
	for line := range strings.SplitSeq(string(msg), "\r\n") {
		if n, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(n), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// silenceWAV is d of 8 kHz 16-bit mono silence.
func silenceWAV(d time.Duration) []byte {
	data := make([]byte, int(d.Seconds()*8000)*2)
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}
