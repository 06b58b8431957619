//go:build !linux

package bench

// threadCPU has no portable clock: the CPU-time figures are left out.
func threadCPU() int64 { return 0 }

// threadUsage has no portable reader: 0, 0.
func threadUsage() (faults, preempted int64) { return 0, 0 }
