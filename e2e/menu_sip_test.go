package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

// menuScenario is a SIPp caller: it calls [service], waits for the
// greeting, presses 1 by SIP INFO (application/dtmf-relay), and answers
// Switchboard's BYE when the flow ends.
const menuScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="menu by DTMF">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Menu Test" <sip:+15555550100@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=sendrecv
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [last_From:]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <pause milliseconds="1000"/>
  <send retrans="500">
    <![CDATA[
      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [last_From:]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 INFO
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal=1
      Duration=160
    ]]>
  </send>
  <recv response="200"/>
  <recv request="BYE" timeout="30000"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Content-Length: 0
    ]]>
  </send>
</scenario>
`

// TestMenuOverSIP calls a menu with SIPp and presses 1 by SIP INFO; the
// call trace shows the gather, the branch and the option's prompt.
func TestMenuOverSIP(t *testing.T) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sipp not found")
		}
		t.Skip("sipp not found; set CI=true to make this fatal")
	}
	sipPort := sipFreePort(t)
	data := t.TempDir()
	key := "menu-sip-key-0123456789"
	p := serve(t, nil, "--http-addr", "127.0.0.1:0", "--data-dir", data, "--admin-key", key,
		"--sip-addr", fmt.Sprintf("127.0.0.1:%d", sipPort), "--trust", "127.0.0.1")
	token, account := signIn(t, p.URL, key)
	base := p.URL + "/v2/accounts/" + account
	tts := func(text string) map[string]any {
		return map[string]any{"module": "tts", "data": map[string]any{"text": text}}
	}
	flow := map[string]any{"data": map[string]any{"numbers": []string{"3000"}, "flow": map[string]any{
		"module": "menu", "data": map[string]any{"prompts": map[string]any{"greeting": "For sales press 1, for support press 2."}},
		"children": map[string]any{"1": tts("Sales."), "2": tts("Support.")}}}}
	if status, env := api(t, "PUT", base+"/callflows", token, flow); status != 201 {
		t.Fatalf("flow: %d %v", status, env)
	}

	dir := t.TempDir()
	scenario := filepath.Join(dir, "menu.xml")
	if err := os.WriteFile(scenario, []byte(menuScenario), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sipp, "-sf", scenario, "-s", "3000", "-m", "1", "-i", "127.0.0.1",
		"-p", fmt.Sprint(sipFreePort(t)), "-mp", fmt.Sprint(sippMediaPort(t)), "-timeout", "40s", "-timeout_error",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"), "-nostdin",
		fmt.Sprintf("127.0.0.1:%d", sipPort))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		t.Fatalf("sipp: %v\n%s\n%s", err, menuTail(string(out), 2000), errs)
	}

	trace := waitfor.Value(t, 10*time.Second, "the menu call ended in the call log", func() ([]any, bool) {
		_, env := api(t, "GET", base+"/calls", token, nil)
		calls, _ := env["data"].([]any)
		if len(calls) != 1 || calls[0].(map[string]any)["ended"] == nil {
			return nil, false
		}
		_, env = api(t, "GET", base+"/calls/"+calls[0].(map[string]any)["call_id"].(string)+"/trace", token, nil)
		trace, _ := env["data"].([]any)
		return trace, true
	})
	var gathered, branch string
	var said []string
	for _, l := range trace {
		line := l.(map[string]any)
		switch line["op"] {
		case "gather":
			gathered, _ = line["digits"].(string)
		case "branch":
			branch, _ = line["key"].(string)
		case "say":
			said = append(said, line["text"].(string))
		}
	}
	if gathered != "1" || branch != "1" || len(said) == 0 || said[len(said)-1] != "Sales." {
		t.Errorf("gathered %q, branch %q, said %q; trace %v", gathered, branch, said, trace)
	}
}

func menuTail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}
