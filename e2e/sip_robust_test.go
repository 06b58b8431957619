package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

// TestSippSilentCallerAndShedding runs the binary with --media-timeout 2s
// and --max-calls 1: a sipp caller that ACKs and then sends no RTP is hung
// up with BYE (cause media_timeout, by switchboard) instead of living for
// ever, and while it runs a second call is refused 503 and recorded as
// refused.
func TestSippSilentCallerAndShedding(t *testing.T) {
	t.Parallel()
	sipTool(t, "sipp")
	s := serveSIP(t, "--media-timeout", "2s", "--max-calls", "1")
	s.flow(t, "1300", map[string]any{"module": "collect_dtmf", "data": map[string]any{"max_digits": 4, "timeout": 60000}})

	start := time.Now()
	silent := sippCmd(t, "uac_load.xml", s.SIP, "-s", "1300", "-cid_str", "silent-%u-%p@%s",
		"-p", fmt.Sprint(sipFreePort(t)))()
	base := s.URL + "/v2/accounts/" + s.Account
	waitfor.True(t, 10*time.Second, "the silent call in progress", func() bool {
		_, env := api(t, "GET", base+"/calls", s.Token, nil)
		calls, _ := env["data"].([]any)
		for _, c := range calls {
			if c := c.(map[string]any); c["status"] == "in_progress" {
				return true
			}
		}
		return false
	})
	if err := runSipp(t, s, "uac_503.xml", "1300", "shed-"); err != nil {
		t.Errorf("second call over --max-calls 1: %v", err)
	}
	if err := silent.Wait(); err != nil {
		t.Fatalf("the silent caller got no BYE: %v", err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("silent call lasted %v", took)
	}
	tr := s.traceOf(t, "silent-")
	if last := tr[len(tr)-1]; last["cause"] != "media_timeout" || last["by"] != "switchboard" {
		t.Errorf("trace %s", sipDump(tr))
	}
	shed := s.traceOf(t, "shed-")
	if last := shed[len(shed)-1]; last["cause"] != "sip:503" || traceLines(shed, "reject")[0]["reason"] != "Overloaded" {
		t.Errorf("refused call's trace %s", sipDump(shed))
	}
}
