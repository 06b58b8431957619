package sip

import (
	"net"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

// TestStampedSocketMeasuresWait: the SIP socket read with the kernel's
// receive stamps hands over each datagram and its source as ReadFrom
// does, and counts its wait in the socket: datagrams left waiting show a
// standing queue of at least as long (the sleep is the wait measured, not
// a wait for an event), and one read as it comes shows a wait of its own.
func TestStampedSocketMeasuresWait(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var wait queueWait
	stamped, err := stampSocket(pc, &wait)
	if err != nil {
		t.Fatalf("stampSocket: %v", err)
	}
	// Read as the server reads it: counted, each source made once.
	conn := newCountedPacketConn(stamped, &messageStats{})
	if conn.sources == nil {
		t.Fatal("the stamped socket is read without the source table")
	}
	peer, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	// The kernel turns the stamping of arriving packets on a moment after
	// the socket asks for it (a deferred static key: until then a
	// datagram is stamped as it is read), so hold datagrams until their
	// stamp says how long they were held.
	const held = 30 * time.Millisecond
	buf := make([]byte, 1500)
	var least time.Duration
	waitfor.True(t, 20*time.Second, "the kernel stamps the datagrams as they arrive", func() bool {
		for range 3 {
			if _, err := peer.WriteTo([]byte("OPTIONS sip:x SIP/2.0\r\n\r\n"), pc.LocalAddr()); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		for time.Since(start) < held { // the datagrams wait in the socket
			time.Sleep(held - time.Since(start))
		}
		for range 3 {
			n, addr, err := conn.ReadFrom(buf)
			if err != nil {
				t.Fatal(err)
			}
			if string(buf[:n]) != "OPTIONS sip:x SIP/2.0\r\n\r\n" || addr.String() != peer.LocalAddr().String() {
				t.Fatalf("read %q from %v, want the datagram sent from %v", buf[:n], addr, peer.LocalAddr())
			}
			if _, ok := addr.(*sourceAddr); !ok {
				t.Fatalf("source %T, want the table's *sourceAddr", addr)
			}
		}
		var n uint64
		least, n = wait.take()
		if n != 3 {
			t.Fatalf("%d datagrams counted of 3 read", n)
		}
		return least >= held
	})
	if least > 10*time.Second {
		t.Fatalf("least wait %v of datagrams held %v in the socket", least, held)
	}
	if least, n := wait.take(); n != 0 || least != 0 {
		t.Fatalf("a new window: %v of %d, want nothing", least, n)
	}
	// Read as it comes: a wait of its own (how long, a busy machine says).
	got := make(chan time.Duration, 1)
	go func() {
		if _, _, err := conn.ReadFrom(buf); err != nil {
			t.Error(err)
		}
		least, _ := wait.take()
		got <- least
	}()
	if _, err := peer.WriteTo([]byte("ACK"), pc.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if least := <-got; least <= 0 || least > 10*time.Second {
		t.Errorf("the wait of a datagram read as it came: %v, want some", least)
	}
	// A socket that is no UDP one is read as it is, unmeasured.
	if c, err := stampSocket(fakePacketConn{pc}, &wait); err == nil || c == nil {
		t.Errorf("stampSocket of a wrapped socket: %v, %v; want it back with an error", c, err)
	}
}

type fakePacketConn struct{ net.PacketConn }

// TestArrivalRefusesBadControl: control messages cut short or of a
// length past their buffer are no stamp, and never a panic.
func TestArrivalRefusesBadControl(t *testing.T) {
	for _, oob := range [][]byte{nil, make([]byte, 8), make([]byte, 16), {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0, 35, 0, 0, 0}} {
		if _, ok := arrival(oob); ok {
			t.Errorf("arrival(%x): a stamp, want none", oob)
		}
	}
}

// BenchmarkSocketRead is the read of one SIP datagram from the UDP
// socket, plain (as before) and with the receive stamp and its wait
// counted: what the standing-queue signal costs per datagram.
func BenchmarkSocketRead(b *testing.B) {
	for _, stamped := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "stamped"}[stamped]
		b.Run(name, func(b *testing.B) {
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer pc.Close()
			_ = pc.(*net.UDPConn).SetReadBuffer(4 << 20)
			conn := pc
			var wait queueWait
			if stamped {
				if conn, err = stampSocket(pc, &wait); err != nil {
					b.Fatal(err)
				}
			}
			peer, err := net.DialUDP("udp", nil, pc.LocalAddr().(*net.UDPAddr))
			if err != nil {
				b.Fatal(err)
			}
			defer peer.Close()
			msg := make([]byte, 600)
			buf := make([]byte, 1500)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += 64 {
				b.StopTimer()
				burst := min(64, b.N-i)
				for range burst {
					if _, err := peer.Write(msg); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				for range burst {
					if _, _, err := conn.ReadFrom(buf); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
