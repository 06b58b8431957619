package e2e

import (
	"testing"
	"time"
)

// TestVoicemailOverSIP: a sipp caller talking real RTP (sipp's 7 s speech
// pcap) reaches a voicemail flow; after the call the box lists one new
// message from the caller, about as long as the flow's limit, and its
// audio from …/messages/{id}/raw is speech, not silence. The simulator
// (the configurator's test call) runs the same flow with the module but
// keeps no message in the real box.
func TestVoicemailOverSIP(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	base := s.URL + "/v2/accounts/" + s.Account
	status, env := api(t, "PUT", base+"/vmboxes", s.Token, map[string]any{"data": map[string]any{
		"name": "Sales", "mailbox": "3000", "skip_greeting": true}})
	if status != 201 {
		t.Fatalf("vmbox: %d %v", status, env)
	}
	box := env["data"].(map[string]any)["id"].(string)
	s.flow(t, "1002", map[string]any{"module": "voicemail", "data": map[string]any{
		"action": "compose", "id": box, "max_message_length": 4}})

	if err := runSipp(t, s, "uac_record.xml", "1002", "vm-"); err != nil {
		t.Fatal(err)
	}
	tr := s.traceOf(t, "vm-")
	vm := traceLines(tr, "voicemail")
	if len(vm) != 1 || vm[0]["saved"] != true {
		t.Fatalf("voicemail lines %v\n%s", vm, sipDump(tr))
	}
	if len(traceLines(tr, "error")) != 0 {
		t.Errorf("error lines in %s", sipDump(tr))
	}

	status, env = api(t, "GET", base+"/vmboxes/"+box+"/messages", s.Token, nil)
	msgs, _ := env["data"].([]any)
	if status != 200 || len(msgs) != 1 {
		t.Fatalf("messages: %d %v", status, env)
	}
	m := msgs[0].(map[string]any)
	length, _ := m["length"].(float64)
	if m["folder"] != "new" || m["caller_id_number"] != "+15555550101" || length < 2500 || length > 4500 {
		t.Errorf("message %v: want new, from +15555550101, about 4000 ms", m)
	}
	info, err := wavStats(getRecording(t, s, base+"/vmboxes/"+box+"/messages/"+m["media_id"].(string)+"/raw"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("message: %v, RMS %.1f dBFS, voiced %v, length field %v ms", info.Duration, info.RMSdB, info.Voiced, length)
	if info.RMSdB < -40 || info.Voiced < time.Second {
		t.Errorf("the message is near silence: RMS %.1f dBFS, voiced %v", info.RMSdB, info.Voiced)
	}
	if d := info.Duration.Milliseconds(); d < int64(length)-50 || d > int64(length)+50 {
		t.Errorf("audio lasts %v, the length field says %v ms", info.Duration, length)
	}

	// The configurator's test call runs the module too, and keeps nothing:
	// the box still has the one real message.
	status, env = api(t, "POST", base+"/simulate", s.Token, map[string]any{"data": map[string]any{"to": "1002", "inputs": []string{"#"}}})
	if status != 200 {
		t.Fatalf("simulate: %d %v", status, env)
	}
	trace, _ := env["data"].(map[string]any)["trace"].([]any)
	var simulated []map[string]any
	for _, l := range trace {
		simulated = append(simulated, l.(map[string]any))
	}
	if vm := traceLines(simulated, "voicemail"); len(vm) != 1 || vm[0]["saved"] != false || vm[0]["reason"] != "test_call" {
		t.Errorf("simulated call: voicemail lines %v in %s", vm, sipDump(simulated))
	}
	status, env = api(t, "GET", base+"/vmboxes/"+box+"/messages", s.Token, nil)
	if msgs, _ := env["data"].([]any); status != 200 || len(msgs) != 1 {
		t.Errorf("after the test call the box has %d messages (status %d), want the 1 real one: %v", len(msgs), status, msgs)
	}
}
