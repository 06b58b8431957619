package bench

import (
	"os"
	"os/exec"
	"testing"
)

// TestHarnessWatchdog runs bench/sip/watchdog_test.sh: the SIP harness's
// watchdog kills a sipp whose stats stop and marks its row stalled, and two
// runs cannot hold overlapping RTP port ranges (a fake sipp, no network,
// about 15 s). It needs bash and flock (util-linux); without them it skips
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
