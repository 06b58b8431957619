package bench

import (
	"syscall"
	"unsafe"
)

// threadCPU is the CPU time of the calling thread in nanoseconds
// (CLOCK_THREAD_CPUTIME_ID), 0 when the clock cannot be read.
func threadCPU() int64 {
	const clockThreadCPUTime = 3
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return ts.Nano()
}

// threadUsage is the minor page faults of the calling thread so far, and
// the times the kernel took the CPU from it (involuntary context
// switches), from getrusage RUSAGE_THREAD; 0, 0 when it cannot be read.
func threadUsage() (faults, preempted int64) {
	const rusageThread = 1
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, 0
	}
	return ru.Minflt, ru.Nivcsw
}
