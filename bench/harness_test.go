package bench

import (
	"os"
	"os/exec"
	"testing"
)

// TestHarnessWatchdog runs bench/sip/watchdog_test.sh: the SIP harness's
// watchdog kills a sipp whose stats stop, or whose call counters freeze
// with a call in progress (but not a call held for its run's HOLD), and
// marks its row stalled; two runs cannot hold overlapping RTP port ranges;
// and a run killed mid-way leaves no process behind (a fake sipp, no
// network, about 25 s). It needs bash and flock (util-linux); without them it skips
// locally and fails under CI=true.
func TestHarnessWatchdog(t *testing.T) {
	for _, tool := range []string{"bash", "flock", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing: %v", tool, err)
			}
			t.Skipf("%s is missing: %v", tool, err)
		}
	}
	cmd := exec.CommandContext(t.Context(), "bash", "sip/watchdog_test.sh")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("watchdog_test.sh: %v", err)
	}
}
