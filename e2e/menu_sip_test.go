package e2e

import (
	"fmt"
	"testing"
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
	sipTool(t, "sipp")
	s := serveSIP(t)
	token, base := s.Token, s.URL+"/v2/accounts/"+s.Account
	tts := func(text string) map[string]any {
		return map[string]any{"module": "tts", "data": map[string]any{"text": text}}
	}
	flow := map[string]any{"data": map[string]any{"numbers": []string{"3000"}, "flow": map[string]any{
		"module": "menu", "data": map[string]any{"prompts": map[string]any{"greeting": "For sales press 1, for support press 2."}},
		"children": map[string]any{"1": tts("Sales."), "2": tts("Support.")}}}}
	if status, env := api(t, "PUT", base+"/callflows", token, flow); status != 201 {
		t.Fatalf("flow: %d %v", status, env)
	}

	if err := sippCmdFiles(t, map[string][]byte{"menu.xml": []byte(menuScenario)}, "menu.xml", s.SIP, "-s", "3000",
		"-p", fmt.Sprint(sipFreePort(t)))().Wait(); err != nil {
		t.Fatal(err)
	}

	trace := s.traceOf(t, "")
	var gathered, branch string
	var said []string
	for _, line := range trace {
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
