package e2e

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// The ports of the e2e tests. None comes from the kernel's ephemeral range
// (ip_local_port_range, 32768-60999 by default), where any process's
// outgoing connection or port-0 bind may take a port between the test's
// pick and a peer's bind (the sipp start races of the past), nor from
// below it, where servers run with their default RTP range (10000-20000)
// or a benchmark's (a bridged-call benchmark here took every port of
// 14000-17998), and the media tests bind 20000-29999. Above the kernel's
// range nothing binds unasked:
//
//   - each server's RTP ports are a block of rtpLow-rtpHigh of its own
//     (rtpPorts), so no server takes a port a peer was handed;
//   - the peers' ports (sipp and baresip: SIP, control, media) come from
//     one block of peerLow-peerHigh per test process (peerPorts), handed
//     out in turn and probed free before each use.
//
// A block is reserved by flock(2) on a file in the temp dir, so the e2e
// runs of other worktrees on the machine keep out of it; the kernel drops
// the lock when its holder exits, however it exits.
const (
	peerLow, peerHigh, peerBlockSize = 61000, 62999, 250
	rtpLow, rtpHigh, rtpBlockSize    = 63000, 65399, 200
)

// reserveBlock locks a free block of size ports in low-high (tried from a
// random one) and returns its first port and the lock's file, whose Close
// releases it. When every block is taken and wait is set, it waits for
// one to be released.
func reserveBlock(kind string, low, high, size int, wait bool) (int, *os.File, error) {
	blocks := (high - low + 1) / size
	start := rand.IntN(blocks)
	lockOf := func(first int) (*os.File, error) {
		f, err := os.OpenFile(filepath.Join(os.TempDir(), fmt.Sprintf("switchboard-e2e-%s-%d.lock", kind, first)), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return nil, fmt.Errorf("port block lock: %w", err)
		}
		return f, nil
	}
	for i := range blocks {
		first := low + size*((start+i)%blocks)
		f, err := lockOf(first)
		if err != nil {
			return 0, nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			return first, f, nil
		}
		f.Close()
	}
	if wait {
		first := low + size*start
		f, err := lockOf(first)
		if err != nil {
			return 0, nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return 0, nil, fmt.Errorf("port block lock: %w", err)
		}
		return first, f, nil
	}
	return 0, nil, fmt.Errorf("all %d %s port blocks of %d-%d are taken by other test processes", blocks, kind, low, high)
}

// rtpPorts reserves a block of RTP ports for one server until the test
// ends and returns it as --rtp-ports wants it ("MIN-MAX").
func rtpPorts(t *testing.T) string {
	t.Helper()
	first, lock, err := reserveBlock("rtp", rtpLow, rtpHigh, rtpBlockSize, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() }) // after the server's own cleanup (LIFO)
	return fmt.Sprintf("%d-%d", first, first+rtpBlockSize-1)
}

// peers is this process's block of peer ports; next is the next to hand out.
var peers struct {
	sync.Mutex
	first, next int
	lock        *os.File // held for the life of the process
}

// peerPorts returns the first of n consecutive ports (an even one) that
// are free for UDP and TCP on 127.0.0.1, from this process's peer block.
func peerPorts(t *testing.T, n int) int {
	t.Helper()
	peers.Lock()
	defer peers.Unlock()
	if peers.lock == nil {
		first, lock, err := reserveBlock("peers", peerLow, peerHigh, peerBlockSize, false)
		if err != nil {
			t.Fatal(err)
		}
		peers.first, peers.next, peers.lock = first, first, lock
	}
	n += n % 2 // keeps every base even (RTP wants an even port)
	for range peerBlockSize / n {
		base := peers.next
		if base+n > peers.first+peerBlockSize {
			base = peers.first
		}
		peers.next = base + n
		if portsFree(base, n) {
			return base
		}
	}
	t.Fatalf("no %d free consecutive ports in %d-%d", n, peers.first, peers.first+peerBlockSize-1)
	return 0
}

// portsFree tells whether ports base…base+n-1 can be bound for UDP and TCP
// on 127.0.0.1 (it binds each one for a moment).
func portsFree(base, n int) bool {
	for p := base; p < base+n; p++ {
		addr := fmt.Sprintf("127.0.0.1:%d", p)
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		ln, err := net.Listen("tcp", addr)
		pc.Close()
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}

// sipFreePort is a port for a peer's or a server's SIP (UDP and TCP).
func sipFreePort(t *testing.T) int {
	t.Helper()
	return peerPorts(t, 1)
}

// sippMediaPort is a base port for sipp's media (-mp): sipp binds it and
// the next three (audio RTP/RTCP, video RTP/RTCP).
func sippMediaPort(t *testing.T) int {
	t.Helper()
	return peerPorts(t, 4)
}
