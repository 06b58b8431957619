package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/store/sqlite"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// TestKillWithLiveCallsEndsThemOnRestart kills the server (SIGKILL) with
// live SIP calls: after the restart every one of them is ended in the call
// log, with cause node_restart, never left "in progress" for ever. The log
// holds a call in progress once it has run for 5 s (before that the API
// lists it from memory, and a crash loses it): the kill comes once the
// file holds all of them.
func TestKillWithLiveCallsEndsThemOnRestart(t *testing.T) {
	sipp := sipTool(t, "sipp")
	s := serveSIP(t)
	c := newCustomer(t, map[string]string{"/hold": `<Response><Pause length="120"/></Response>`})
	s.flow(t, "3000", pivot(c.URL+"/hold"))

	const calls = 10
	uac := exec.Command(sipp, "-sn", "uac", "-s", "3000", "-d", "120000", "-m", fmt.Sprint(calls), "-r", "20", "-l", fmt.Sprint(calls),
		"-i", "127.0.0.1", "-p", fmt.Sprint(sipFreePort(t)), "-mp", fmt.Sprint(sippMediaPort(t)), "-cid_str", "restart-%u-%p@%s",
		"-nostdin", "-timeout", "180s", s.SIP)
	uac.Dir = t.TempDir()
	if err := uac.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { uac.Process.Kill(); uac.Wait() })

	base := s.URL + "/v2/accounts/" + s.Account
	live := func(url, token string) (int, int) {
		_, env := api(t, "GET", url+"/calls", token, nil)
		list, _ := env["data"].([]any)
		running, ended := 0, 0
		for _, it := range list {
			if it.(map[string]any)["ended"] == nil {
				running++
			} else {
				ended++
			}
		}
		return running, ended
	}
	waitfor.True(t, 30*time.Second, fmt.Sprintf("%d calls in progress", calls), func() bool {
		running, _ := live(base, s.Token)
		return running == calls && len(c.requests()) == calls
	})
	// The file itself, as the restart will read it.
	logDB, err := sqlite.OpenCallLog(t.Context(), filepath.Join(s.Data, server.CallLogFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, 60*time.Second, fmt.Sprintf("%d calls in progress in the call log file", calls), func() bool {
		list, err := logDB.ListCalls(t.Context(), s.Account, 0)
		running := 0
		for _, c := range list {
			if c.Ended.IsZero() {
				running++
			}
		}
		return err == nil && running == calls
	})
	logDB.Close()
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done

	p := serve(t, nil, "--http-addr", "127.0.0.1:0", "--data-dir", s.Data, "--admin-key", sipE2EKey,
		"--sip-addr", fmt.Sprintf("127.0.0.1:%d", sipFreePort(t)))
	token, _ := signIn(t, p.URL, sipE2EKey)
	base = p.URL + "/v2/accounts/" + s.Account
	if running, ended := live(base, token); running != 0 || ended != calls {
		t.Fatalf("after the restart: %d calls in progress, %d ended; want 0 and %d", running, ended, calls)
	}
	_, env := api(t, "GET", base+"/calls", token, nil)
	for _, it := range env["data"].([]any) {
		call := it.(map[string]any)
		id := call["call_id"].(string)
		if call["hangup_cause"] != "node_restart" {
			t.Errorf("call %s ended with %v, want node_restart", id, call["hangup_cause"])
		}
		_, tr := api(t, "GET", base+"/calls/"+id+"/trace", token, nil)
		lines, _ := tr["data"].([]any)
		if len(lines) == 0 || lines[len(lines)-1].(map[string]any)["op"] != "hangup" {
			t.Errorf("call %s: trace %v does not end with a hangup", id, lines)
		}
	}
}
