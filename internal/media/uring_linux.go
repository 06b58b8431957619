package media

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A minimal io_uring, for one thing: a pacer's sends of one tick in one
// io_uring_enter instead of one sendto each. On this machine's kernel
// every syscall costs a trap to the hypervisor; a tick of 50 sessions
// then costs one enter instead of 50 sendto (bench/RESULTS.md). It is
// written against the kernel's ABI (linux/io_uring.h) with raw syscalls:
// x/sys/unix has no io_uring, and no io_uring module is served here.
//
// A ring has one owner (the pacer goroutine): no locking.

// The kernel ABI: syscall numbers (x86-64 and arm64 share them), setup
// flags, opcodes, mmap offsets, and the feature and probe bits used.
const (
	sysIOUringSetup    = 425
	sysIOUringEnter    = 426
	sysIOUringRegister = 427

	ioringSetupClamp      = 1 << 4
	ioringSetupSubmitAll  = 1 << 7
	ioringSetupCoopTaskrn = 1 << 8

	ioringFeatSingleMmap = 1 << 0
	ioringFeatNoDrop     = 1 << 1

	ioringEnterGetEvents = 1 << 0

	ioringOpSendmsg = 9
	ioringOpRecvmsg = 10

	ioringOffSQRing = 0
	ioringOffCQRing = 0x8000000
	ioringOffSQEs   = 0x10000000

	ioringRegisterProbe = 8
	ioUringOpSupported  = 1 << 0
)

// uringParams is struct io_uring_params.
type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  struct {
		head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
		userAddr                                                        uint64
	}
	cqOff struct {
		head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
		userAddr                                                        uint64
	}
}

// uringSQE is struct io_uring_sqe (64 bytes), with the fields a sendmsg
// uses.
type uringSQE struct {
	opcode   uint8
	flags    uint8
	ioprio   uint16
	fd       int32
	off      uint64
	addr     uint64
	len      uint32
	msgFlags uint32
	userData uint64
	bufIndex uint16
	persona  uint16
	fileIdx  uint32
	addr3    uint64
	pad      uint64
}

// uringCQE is struct io_uring_cqe.
type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

// errNoURing says why batched sends fall back to sendto.
var errNoURing = errors.New("media: io_uring unavailable")

var (
	uringProbeOnce sync.Once
	uringProbeErr  error
)

// uringAvailable reports whether this process can make a ring that sends
// and receives with IORING_OP_SENDMSG and RECVMSG: not where the kernel is older than 5.6 (no
// probe), io_uring is disabled (kernel.io_uring_disabled, a container's
// seccomp profile: ENOSYS or EPERM), or the op is missing. Asked once.
func uringAvailable() error {
	uringProbeOnce.Do(func() {
		r, err := newURing(2)
		if err != nil {
			uringProbeErr = err
			return
		}
		defer r.close()
		uringProbeErr = r.probeSendmsg()
	})
	return uringProbeErr
}

type uring struct {
	fd      int
	sqMem   []byte // the SQ and CQ rings (one mmap)
	sqeMem  []byte
	sqHead  *uint32
	sqTail  *uint32
	sqMask  uint32
	sqSize  uint32
	cqHead  *uint32
	cqTail  *uint32
	cqMask  uint32
	sqes    []uringSQE
	cqes    []uringCQE
	tail    uint32 // our SQ tail, published at submit
	pending uint32 // SQEs filled since the last submit
}

// newURing sets up a ring of at least entries submission slots (a power
// of two; the kernel clamps it) and twice as many completion slots.
func newURing(entries uint32) (*uring, error) {
	var p uringParams
	fd, err := ringSetup(entries, &p, ioringSetupClamp|ioringSetupSubmitAll|ioringSetupCoopTaskrn)
	if err == unix.EINVAL {
		// before 5.19 (COOP_TASKRUN) or 5.18 (SUBMIT_ALL)
		p = uringParams{}
		fd, err = ringSetup(entries, &p, ioringSetupClamp)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: io_uring_setup: %w", errNoURing, err)
	}
	r := &uring{fd: fd}
	if p.features&ioringFeatSingleMmap == 0 || p.features&ioringFeatNoDrop == 0 {
		// before 5.5: completions could be dropped, and the rings need
		// mapping apart; not worth the code
		unix.Close(fd)
		return nil, fmt.Errorf("%w: kernel older than 5.5", errNoURing)
	}
	sqLen := int(p.sqOff.array + p.sqEntries*4)
	cqLen := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	ringLen := max(sqLen, cqLen)
	if r.sqMem, err = unix.Mmap(fd, ioringOffSQRing, ringLen, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		r.close()
		return nil, fmt.Errorf("%w: mmap rings: %w", errNoURing, err)
	}
	sqeLen := int(p.sqEntries) * int(unsafe.Sizeof(uringSQE{}))
	if r.sqeMem, err = unix.Mmap(fd, ioringOffSQEs, sqeLen, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		r.close()
		return nil, fmt.Errorf("%w: mmap sqes: %w", errNoURing, err)
	}
	u32 := func(off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&r.sqMem[off])) }
	r.sqHead, r.sqTail = u32(p.sqOff.head), u32(p.sqOff.tail)
	r.sqMask, r.sqSize = *u32(p.sqOff.ringMask), p.sqEntries
	r.cqHead, r.cqTail = u32(p.cqOff.head), u32(p.cqOff.tail)
	r.cqMask = *u32(p.cqOff.ringMask)
	r.sqes = unsafe.Slice((*uringSQE)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	r.cqes = unsafe.Slice((*uringCQE)(unsafe.Pointer(&r.sqMem[p.cqOff.cqes])), p.cqEntries)
	// The SQ index array maps ring slot i to SQE i, once for all.
	array := unsafe.Slice((*uint32)(unsafe.Pointer(&r.sqMem[p.sqOff.array])), p.sqEntries)
	for i := range array {
		array[i] = uint32(i)
	}
	r.tail = atomic.LoadUint32(r.sqTail)
	return r, nil
}

func ringSetup(entries uint32, p *uringParams, flags uint32) (int, error) {
	p.flags = flags
	fd, _, e := syscall.RawSyscall(sysIOUringSetup, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

// probeSendmsg asks the kernel whether the ring knows IORING_OP_SENDMSG.
func (r *uring) probeSendmsg() error {
	// struct io_uring_probe: 16 bytes, then 8 bytes per op
	const ops = 64
	var buf [16 + 8*ops]byte
	_, _, e := syscall.Syscall6(sysIOUringRegister, uintptr(r.fd), ioringRegisterProbe, uintptr(unsafe.Pointer(&buf[0])), ops, 0, 0)
	if e != 0 {
		return fmt.Errorf("%w: probe: %w", errNoURing, e)
	}
	if !probeSupports(buf[:], ioringOpSendmsg) || !probeSupports(buf[:], ioringOpRecvmsg) {
		return fmt.Errorf("%w: no IORING_OP_SENDMSG or RECVMSG", errNoURing)
	}
	return nil
}

// probeSupports reads a struct io_uring_probe (16 bytes, then 8 per
// op: the op, a byte, u16 flags, u32) for op's IO_URING_OP_SUPPORTED.
func probeSupports(probe []byte, op uint8) bool {
	if len(probe) < 16 {
		return false
	}
	lastOp, opsLen := probe[0], int(probe[1])
	at := 16 + 8*int(op)
	if op > lastOp || int(op) >= opsLen || len(probe) < at+8 {
		return false
	}
	e := probe[at : at+8]
	flags := uint16(e[2]) | uint16(e[3])<<8
	return e[0] == op && flags&ioUringOpSupported != 0
}

// sendmsg fills the next SQE: a sendmsg of msg on fd that never waits
// (MSG_DONTWAIT: a full socket buffer completes at once with EAGAIN, as
// sendto on the non-blocking socket would, instead of being armed for
// later). msg and what it points to must stay put until the completion
// with userData is reaped. The caller keeps at most the ring's size
// filled before a submit.
func (r *uring) sendmsg(fd int, msg *unix.Msghdr, userData uint64) {
	r.msg(ioringOpSendmsg, fd, msg, userData)
}

// recvmsg fills the next SQE: a recvmsg into msg that never waits (an
// empty socket completes with EAGAIN), as sendmsg.
func (r *uring) recvmsg(fd int, msg *unix.Msghdr, userData uint64) {
	r.msg(ioringOpRecvmsg, fd, msg, userData)
}

func (r *uring) msg(op uint8, fd int, msg *unix.Msghdr, userData uint64) {
	sqe := &r.sqes[r.tail&r.sqMask]
	*sqe = uringSQE{
		opcode:   op,
		fd:       int32(fd),
		addr:     uint64(uintptr(unsafe.Pointer(msg))),
		len:      1,
		msgFlags: unix.MSG_DONTWAIT,
		userData: userData,
	}
	r.tail++
	r.pending++
}

// submitAndWait publishes the filled SQEs, enters the kernel once to
// submit them and wait for all their completions, and calls done for
// each completion. It returns how many SQEs the kernel took; the others
// (after an error) are taken back, and no completion comes for them.
// An error waiting leaves completions unreaped: the caller must then
// close the ring.
func (r *uring) submitAndWait(done func(userData uint64, res int32)) (int, error) {
	n := r.pending
	if n == 0 {
		return 0, nil
	}
	start := r.tail - n
	atomic.StoreUint32(r.sqTail, r.tail)
	// Submit without waiting, and without the scheduler's syscall
	// bookkeeping (which wakes sysmon: a futex per tick): a sendmsg with
	// MSG_DONTWAIT completes inside the enter. Only a completion still
	// missing after it is waited for, in a syscall the scheduler sees.
	var err error
	for {
		_, _, e := syscall.RawSyscall6(sysIOUringEnter, uintptr(r.fd), uintptr(n), 0, 0, 0, 0)
		if e == unix.EINTR && atomic.LoadUint32(r.sqHead) == start {
			continue
		}
		if e != 0 && e != unix.EINTR {
			err = fmt.Errorf("media: io_uring_enter: %w", e)
		}
		break
	}
	took := atomic.LoadUint32(r.sqHead) - start
	if took < n {
		// What the kernel did not consume is taken back.
		r.tail = start + took
		atomic.StoreUint32(r.sqTail, r.tail)
	}
	r.pending = 0
	var reaped uint32
	for {
		reaped += r.reap(done)
		if reaped >= took {
			return int(took), err
		}
		// A send that went asynchronous after all: wait for it.
		if werr := r.wait(took - reaped); werr != nil {
			return int(took), fmt.Errorf("media: io_uring wait: %w", werr)
		}
	}
}

// wait blocks until n completions are in the CQ ring (a signal cuts it
// short: the caller reaps and asks again).
func (r *uring) wait(n uint32) error {
	_, _, e := syscall.Syscall6(sysIOUringEnter, uintptr(r.fd), 0, uintptr(n), ioringEnterGetEvents, 0, 0)
	if e != 0 && e != unix.EINTR {
		return e
	}
	return nil
}

// reap calls done for each completion in the CQ ring and frees them.
func (r *uring) reap(done func(userData uint64, res int32)) uint32 {
	head := atomic.LoadUint32(r.cqHead)
	tail := atomic.LoadUint32(r.cqTail)
	for i := head; i != tail; i++ {
		c := &r.cqes[i&r.cqMask]
		done(c.userData, c.res)
	}
	atomic.StoreUint32(r.cqHead, tail)
	return tail - head
}

func (r *uring) close() {
	if r.sqeMem != nil {
		unix.Munmap(r.sqeMem)
		r.sqeMem = nil
	}
	if r.sqMem != nil {
		unix.Munmap(r.sqMem)
		r.sqMem = nil
	}
	if r.fd >= 0 {
		unix.Close(r.fd)
		r.fd = -1
	}
}
