package e2e

import (
	binenc "encoding/binary"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSippRTPHijackFails sprays RTP at every even port of the server's RTP
// range from a stranger's address (127.0.0.2) while a sipp caller is being
// recorded: the stranger receives nothing of the call, and the caller's
// audio still makes the recording.
func TestSippRTPHijackFails(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t) // RTP on 32000-32998
	c := newCustomer(t, map[string]string{
		"/voice":    `<Response><Record maxLength="3" timeout="5" playBeep="false" trim="do-not-trim" action="/recorded"/></Response>`,
		"/recorded": `<Response><Hangup/></Response>`,
	})
	s.flow(t, "1001", pivot(c.URL+"/voice"))

	spray, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Skipf("cannot bind 127.0.0.2: %v", err)
	}
	defer spray.Close()
	var got atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() { // whatever comes back to the stranger
		buf := make([]byte, 2048)
		for {
			if _, _, err := spray.ReadFromUDP(buf); err != nil {
				return
			}
			got.Add(1)
		}
	})
	stop := make(chan struct{})
	wg.Go(func() {
		pkt := make([]byte, 12+160)
		pkt[0], pkt[1] = 0x80, 0 // RTP v2, PCMU
		binenc.BigEndian.PutUint32(pkt[8:], 0x5eed)
		for i := range 160 {
			pkt[12+i] = byte(i%2) << 7 // full-scale square wave in µ-law
		}
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for seq := uint16(1); ; seq++ {
			binenc.BigEndian.PutUint16(pkt[2:], seq)
			binenc.BigEndian.PutUint32(pkt[4:], uint32(seq)*160)
			for port := 32000; port < 32999; port += 2 {
				spray.WriteToUDP(pkt, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
				spray.WriteToUDP([]byte{0x81, 0xc9, 0, 1, 0, 0, 0x5e, 0xed}, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + 1})
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	err = runSipp(t, s, "uac_record.xml", "1001", "hijack-")
	close(stop)
	spray.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if n := got.Load(); n != 0 {
		t.Errorf("the stranger received %d packets of the call", n)
	}
	var rec map[string]string
	for _, r := range c.requests() {
		if r["path"] == "/recorded" {
			rec = r
		}
	}
	if rec == nil || !strings.HasPrefix(rec["RecordingUrl"], s.URL) {
		t.Fatalf("no recording posted: %v", c.requests())
	}
	wav := getRecording(t, s, rec["RecordingUrl"])
	info, err := wavStats(wav)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recording under the spray: %v, RMS %.1f dBFS, voiced %v", info.Duration, info.RMSdB, info.Voiced)
	if info.RMSdB < -40 || info.Voiced < time.Second {
		t.Errorf("the caller's audio did not make the recording: RMS %.1f dBFS, voiced %v", info.RMSdB, info.Voiced)
	}
}
