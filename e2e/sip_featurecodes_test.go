package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

// The feature codes, dialled from registered baresip phones: the default
// feature-code flows are applied with the CLI from deploy/featurecodes.json,
// as an admin would.

// applyFeatureCodes applies deploy/featurecodes.json to s's account with
// `switchboard callflow apply`.
func applyFeatureCodes(t *testing.T, s *sipServer) {
	t.Helper()
	file, err := filepath.Abs("../deploy/featurecodes.json")
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"SWITCHBOARD_SERVER=" + s.URL, "SWITCHBOARD_ADMIN_KEY=" + sipE2EKey}
	out, stderr, err := run(t, env, "", "callflow", "apply", "-f", file)
	if err != nil || strings.Count(out, "created ") != 8 {
		t.Fatalf("apply feature codes: %v %q %q", err, out, stderr)
	}
}

// userSetting reads obj.field of a users document through the API.
func userSetting(t *testing.T, s *sipServer, userID, obj, field string) any {
	t.Helper()
	st, env := api(t, "GET", s.URL+"/v2/accounts/"+s.Account+"/users/"+userID, s.Token, nil)
	if st != 200 {
		t.Fatalf("get user %s: %d %v", userID, st, env)
	}
	m, _ := env["data"].(map[string]any)[obj].(map[string]any)
	return m[field]
}

// dialCode has p dial a feature code: the server answers, speaks its
// confirmation and hangs up.
func dialCode(t *testing.T, p *baresip, code string) {
	t.Helper()
	n := p.count()
	p.command(t, "dial", code)
	n = p.await(t, "CALL_ESTABLISHED", n, 15*time.Second)
	p.await(t, "CALL_CLOSED", n, 30*time.Second)
}

// saw reports whether p had an event of type typ after the first from.
func (b *baresip) saw(typ string, from int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.events[from:] {
		if e["type"] == typ {
			return true
		}
	}
	return false
}

// recordings are the calls p recorded so far (baresip's dump files).
func recordings(p *baresip) map[string]bool {
	files, _ := filepath.Glob(filepath.Join(p.Rec, "dump-*-dec.wav"))
	out := map[string]bool{}
	for _, f := range files {
		out[f] = true
	}
	return out
}

// hearsNewCall waits until p has recorded half a second of a call not in
// before: the bridge is up and the caller's audio arrives, so the caller
// (sipp) is past its ACK and waits for the BYE.
func hearsNewCall(t *testing.T, p *baresip, before map[string]bool) {
	t.Helper()
	waitfor.True(t, 15*time.Second, "half a second of the caller heard", func() bool {
		for f := range recordings(p) {
			if st, err := os.Stat(f); err == nil && !before[f] && st.Size() > 44+8000 {
				return true
			}
		}
		return false
	})
}

// moduleNodes lists the nodes a trace entered.
func moduleNodes(tr []map[string]any) []string {
	var out []string
	for _, l := range traceLines(tr, "module") {
		out = append(out, fmt.Sprint(l["node"]))
	}
	return out
}

// TestFeatureCodeDoNotDisturb: alice's phone dials *78: her user's
// do_not_disturb is on in the API, and a call to her extension does not
// ring her phone but takes the flow's USER_BUSY child; *79 turns it off and
// the next call rings her phone again. A call from a trunk dialling *78
// changes nobody.
func TestFeatureCodeDoNotDisturb(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	applyFeatureCodes(t, s)
	alice := newPhone(t, s, "alice", "2200", 700)
	s.flow(t, "2200", map[string]any{"module": "user", "data": map[string]any{"id": alice.UserID, "timeout": 20},
		"children": map[string]any{
			"USER_BUSY": map[string]any{"module": "tts", "data": map[string]any{"text": "Alice does not take calls now."}},
		}})

	dialCode(t, alice.baresip, "*78")
	if got := userSetting(t, s, alice.UserID, "do_not_disturb", "enabled"); got != true {
		t.Fatalf("after *78: do_not_disturb.enabled = %v", got)
	}
	tr := s.traceOf(t, "")
	if set := traceLines(tr, "set"); len(set) != 1 || set[0]["key"] != "do_not_disturb.enabled" || set[0]["doc"] != "users/"+alice.UserID {
		t.Errorf("trace of *78: %s", sipDump(tr))
	}

	n := alice.count()
	if err := runSipp(t, s, "uac_record.xml", "2200", "dnd-"); err != nil {
		t.Fatal(err)
	}
	tr = s.traceOf(t, "dnd-")
	d := traceLines(tr, "dial")
	if len(d) != 1 || d[0]["status"] != "busy" || !strings.Contains(strings.Join(moduleNodes(tr), " "), "flow.children.USER_BUSY") {
		t.Errorf("a call to alice on do-not-disturb: %s", sipDump(tr))
	}
	if alice.saw("CALL_INCOMING", n) {
		t.Error("alice's phone rang while on do-not-disturb")
	}

	// A trunk caller dialling *78 (no phone, no owner) changes nothing.
	if err := runSipp(t, s, "uac_record.xml", "*79", "stranger-"); err != nil {
		t.Fatal(err)
	}
	tr = s.traceOf(t, "stranger-")
	if w := traceLines(tr, "warning"); len(w) != 1 || w[0]["code"] != "feature_unavailable" || len(traceLines(tr, "set")) != 0 {
		t.Errorf("*79 from a trunk: %s", sipDump(tr))
	}
	if got := userSetting(t, s, alice.UserID, "do_not_disturb", "enabled"); got != true {
		t.Fatalf("a trunk caller turned alice's do-not-disturb off: %v", got)
	}

	dialCode(t, alice.baresip, "*79")
	if got := userSetting(t, s, alice.UserID, "do_not_disturb", "enabled"); got != false {
		t.Fatalf("after *79: do_not_disturb.enabled = %v", got)
	}
	n, rec := alice.count(), recordings(alice.baresip)
	call := sippCmd(t, "uac_record.xml", s.SIP, "-s", "2200", "-cid_str", "back-%u-%p@%s", "-p", fmt.Sprint(sipFreePort(t)))()
	n = alice.await(t, "CALL_ESTABLISHED", n, 15*time.Second)
	hearsNewCall(t, alice.baresip, rec)
	alice.command(t, "hangup", "")
	alice.await(t, "CALL_CLOSED", n, 10*time.Second)
	if err := call.Wait(); err != nil {
		t.Fatal(err)
	}
	if d := traceLines(s.traceOf(t, "back-"), "dial"); len(d) != 1 || d[0]["status"] != "completed" {
		t.Errorf("a call to alice after *79: %v", d)
	}

	// Her own extension from her own phone does not ring it back
	// (can_call_self is off, as in Kazoo): the dial finds no phone.
	n = alice.count()
	alice.command(t, "dial", "2200")
	alice.await(t, "CALL_CLOSED", n, 15*time.Second)
	if alice.saw("CALL_INCOMING", n) {
		t.Error("alice's phone rang for her own call")
	}
	waitfor.True(t, 20*time.Second, "the self call in the log, not rung", func() bool {
		_, env := api(t, "GET", s.URL+"/v2/accounts/"+s.Account+"/calls", s.Token, nil)
		calls, _ := env["data"].([]any)
		if len(calls) == 0 || calls[0].(map[string]any)["ended"] == nil {
			return false
		}
		id := calls[0].(map[string]any)["call_id"].(string)
		_, env = api(t, "GET", s.URL+"/v2/accounts/"+s.Account+"/calls/"+id+"/trace", s.Token, nil)
		for _, l := range env["data"].([]any) {
			if l := l.(map[string]any); l["op"] == "dial" {
				return l["status"] == "failed" && l["cause"] == "USER_NOT_REGISTERED"
			}
		}
		return false
	})
}

// TestFeatureCodeCallForward: alice's phone dials *72 and a number: her
// call forwarding is on in the API, and a call to her extension goes to
// the number through the account's carrier (a sipp UAS that must press 1
// to take it, as require_keypress asks), her phone silent; *72 and bob's
// extension forwards to bob's registered phone; *73 turns forwarding off
// and her phone rings again.
func TestFeatureCodeCallForward(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	applyFeatureCodes(t, s)
	alice := newPhone(t, s, "alice", "2200", 700)
	bob := newPhone(t, s, "bob", "2201", 1100)
	s.flow(t, "2200", map[string]any{"module": "user", "data": map[string]any{"id": alice.UserID, "timeout": 20}})
	s.flow(t, "2201", map[string]any{"module": "user", "data": map[string]any{"id": bob.UserID, "timeout": 20}})
	port := sipFreePort(t)
	base := s.URL + "/v2/accounts/" + s.Account
	if st, env := api(t, "PUT", base+"/resources", s.Token, map[string]any{"data": map[string]any{
		"name": "sipp carrier", "weight_cost": 10, "rules": []string{`^1555\d{7}$`},
		"gateways": []map[string]any{{"server": "127.0.0.1", "port": port}},
	}}); st != 201 {
		t.Fatalf("create resource: %d %v", st, env)
	}

	// *72 with the number: forwarded out through the carrier.
	dialCode(t, alice.baresip, "*7215551230000")
	if en, num := userSetting(t, s, alice.UserID, "call_forward", "enabled"), userSetting(t, s, alice.UserID, "call_forward", "number"); en != true || num != "15551230000" {
		t.Fatalf("after *72: call_forward enabled %v, number %v", en, num)
	}
	carrier := sippCmd(t, "uas_forward_accept.xml", "-p", fmt.Sprint(port))()
	awaitUDPBound(t, port)
	na, nb := alice.count(), bob.count()
	if err := runSipp(t, s, "uac_record.xml", "2200", "fwd-"); err != nil {
		t.Fatal(err)
	}
	if err := carrier.Wait(); err != nil {
		t.Fatalf("forward target: %v", err)
	}
	tr := s.traceOf(t, "fwd-")
	if d := traceLines(tr, "dial"); len(d) != 1 || d[0]["status"] != "completed" || d[0]["duration"].(float64) < 2 {
		t.Errorf("the forwarded call: %s", sipDump(tr))
	}
	if alice.saw("CALL_INCOMING", na) || bob.saw("CALL_INCOMING", nb) {
		t.Error("a phone rang while alice's calls were forwarded out")
	}

	// *72 with bob's extension: forwarded to bob's phone.
	dialCode(t, alice.baresip, "*722201")
	if num := userSetting(t, s, alice.UserID, "call_forward", "number"); num != "2201" {
		t.Fatalf("after *722201: number %v", num)
	}
	na, nb, rec := alice.count(), bob.count(), recordings(bob.baresip)
	call := sippCmd(t, "uac_record.xml", s.SIP, "-s", "2200", "-cid_str", "int-%u-%p@%s", "-p", fmt.Sprint(sipFreePort(t)))()
	nb = bob.await(t, "CALL_ESTABLISHED", nb, 15*time.Second)
	hearsNewCall(t, bob.baresip, rec)
	bob.command(t, "hangup", "")
	bob.await(t, "CALL_CLOSED", nb, 10*time.Second)
	if err := call.Wait(); err != nil {
		t.Fatal(err)
	}
	if alice.saw("CALL_INCOMING", na) {
		t.Error("alice's phone rang while her calls were forwarded to bob")
	}

	// *73: off; the number is kept for next time.
	dialCode(t, alice.baresip, "*73")
	if en, num := userSetting(t, s, alice.UserID, "call_forward", "enabled"), userSetting(t, s, alice.UserID, "call_forward", "number"); en != false || num != "2201" {
		t.Fatalf("after *73: call_forward enabled %v, number %v", en, num)
	}
	na, nb, rec = alice.count(), bob.count(), recordings(alice.baresip)
	call = sippCmd(t, "uac_record.xml", s.SIP, "-s", "2200", "-cid_str", "back-%u-%p@%s", "-p", fmt.Sprint(sipFreePort(t)))()
	na = alice.await(t, "CALL_ESTABLISHED", na, 15*time.Second)
	hearsNewCall(t, alice.baresip, rec)
	alice.command(t, "hangup", "")
	alice.await(t, "CALL_CLOSED", na, 10*time.Second)
	if err := call.Wait(); err != nil {
		t.Fatal(err)
	}
	if bob.saw("CALL_INCOMING", nb) {
		t.Error("bob's phone rang after alice turned forwarding off")
	}
	if d := traceLines(s.traceOf(t, "back-"), "dial"); len(d) != 1 || d[0]["status"] != "completed" {
		t.Errorf("a call to alice after *73: %v", d)
	}
}
