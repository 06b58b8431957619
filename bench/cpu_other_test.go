//go:build !linux

package bench

// threadCPU has no portable clock: the CPU-time figures are left out.
func threadCPU() int64 { return 0 }

// threadFaults has no portable reader: 0.
func threadFaults() int64 { return 0 }
