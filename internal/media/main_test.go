package media

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs the package's tests on the fallback path (a sendto and a
// recvfrom per packet, as where the kernel refuses io_uring) when
// MEDIA_NO_IOURING=1: every manager then finds io_uring unavailable.
// Without it they run on io_uring where the kernel has it.
func TestMain(m *testing.M) {
	if os.Getenv("MEDIA_NO_IOURING") == "1" {
		uringProbeOnce.Do(func() { uringProbeErr = fmt.Errorf("%w: MEDIA_NO_IOURING=1", errNoURing) })
	}
	os.Exit(m.Run())
}
