package sip

import "net"

// udpBufferBytes is the SIP UDP socket's receive and send buffer. At 2,000
// new calls a second the socket carries some 10,000 datagrams a second
// (INVITE, ACK, BYE and their answers, plus retransmissions when anything
// lags); the kernel default (about 200 kB, a few hundred messages) fills in
// a scheduling hiccup of a few tens of milliseconds, and what is dropped
// then is mostly ACKs: calls wait 32 s for them while the retransmissions
// snowball. 1 MB holds about 200 ms of that traffic: a hiccup, but not a
// backlog older than T1 (500 ms), which would only queue messages the
// caller has already retransmitted (overload is for 503s to refuse, not for
// a buffer to hide). The kernel caps it at net.core.rmem_max / wmem_max.
const udpBufferBytes = 1 << 20

// sizeUDPBuffers enlarges the socket's buffers; failing that (a capped or
// unusual socket) the defaults stay, which only matters under load.
func sizeUDPBuffers(pc net.PacketConn) {
	c, ok := pc.(*net.UDPConn)
	if !ok {
		return
	}
	_ = c.SetReadBuffer(udpBufferBytes)
	_ = c.SetWriteBuffer(udpBufferBytes)
}
