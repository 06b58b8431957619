//go:build !linux

package sip

import (
	"errors"
	"net"
)

// stampSocket: the kernel's receive stamps are read on Linux only; here
// the scheduler's latency judges alone.
func stampSocket(pc net.PacketConn, _ *queueWait) (net.PacketConn, error) {
	return pc, errors.New("sip udp receive stamps: not on this system")
}
