package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

// TestCallLogSaysWhatCallerGot: a call whose flow ended it unanswered is
// logged with the refusal the caller got, not the flow's NORMAL_CLEARING
// as "completed": a user on do-not-disturb, a user whose phone is not
// registered, two users forwarding to each other (480, "no-answer"), and
// a flow that answers busy (486, "busy"). A call that was answered stays
// "completed". sipp is the caller and expects each code on the wire.
func TestCallLogSaysWhatCallerGot(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	base := s.URL + "/v2/accounts/" + s.Account
	user := func(name string, data map[string]any) string {
		t.Helper()
		data["first_name"], data["last_name"] = name, "Test"
		st, env := api(t, "PUT", base+"/users", s.Token, map[string]any{"data": data})
		if st != 201 {
			t.Fatalf("user %s: %d %v", name, st, env)
		}
		uid := env["data"].(map[string]any)["id"].(string)
		st, env = api(t, "PUT", base+"/devices", s.Token, map[string]any{"data": map[string]any{
			"name": name + " desk", "owner_id": uid, "sip": map[string]any{"username": strings.ToLower(name), "password": name + "-secret-pw"}}})
		if st != 201 {
			t.Fatalf("device %s: %d %v", name, st, env)
		}
		return uid
	}
	dnd := user("Dana", map[string]any{"do_not_disturb": map[string]any{"enabled": true}})
	away := user("Ari", map[string]any{})
	fwdA := user("Fay", map[string]any{"call_forward": map[string]any{"enabled": true, "number": "2402"}})
	fwdB := user("Gus", map[string]any{"call_forward": map[string]any{"enabled": true, "number": "2401"}})
	for number, id := range map[string]string{"2300": dnd, "2301": away, "2401": fwdA, "2402": fwdB} {
		s.flow(t, number, map[string]any{"module": "user", "data": map[string]any{"id": id, "timeout": 5}})
	}
	s.flow(t, "2310", map[string]any{"module": "response", "data": map[string]any{"code": 486, "message": "Busy Here"}})
	s.flow(t, "2320", map[string]any{"module": "tts", "data": map[string]any{"text": "Hello."}})

	tmpl, err := os.ReadFile("../testdata/sipp/uac_404.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, number, prefix string
		code                 int
		status, cause        string
	}{
		{"do-not-disturb", "2300", "dnd-", 480, "no-answer", "sip:480"},
		{"no phone registered", "2301", "away-", 480, "no-answer", "sip:480"},
		{"a forward loop", "2401", "loop-", 480, "no-answer", "sip:480"},
		{"a busy response", "2310", "busy-", 486, "busy", "sip:486"},
		{"answered", "2320", "answered-", 200, "completed", "NORMAL_CLEARING"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scenario, files := "uac_record.xml", map[string][]byte(nil)
			if tc.code != 200 {
				scenario = fmt.Sprintf("uac_%d.xml", tc.code)
				files = map[string][]byte{scenario: []byte(strings.ReplaceAll(string(tmpl), `response="404"`, fmt.Sprintf(`response="%d"`, tc.code)))}
			}
			if err := sippCmdFiles(t, files, scenario, s.SIP, "-s", tc.number, "-cid_str", tc.prefix+"%u-%p@%s",
				"-p", fmt.Sprint(sipFreePort(t)))().Wait(); err != nil {
				t.Fatalf("sipp expecting %d: %v", tc.code, err)
			}
			c := waitfor.Value(t, 20*time.Second, "the call in the log", func() (map[string]any, bool) {
				_, env := api(t, "GET", base+"/calls", s.Token, nil)
				calls, _ := env["data"].([]any)
				for _, c := range calls {
					c := c.(map[string]any)
					if id, _ := c["sip_call_id"].(string); strings.HasPrefix(id, tc.prefix) && c["ended"] != nil {
						return c, true
					}
				}
				return nil, false
			})
			if c["status"] != tc.status || c["hangup_cause"] != tc.cause || c["hangup_by"] != "switchboard" {
				t.Errorf("logged as %v / %v by %v, want %s / %s by switchboard: %v", c["status"], c["hangup_cause"], c["hangup_by"], tc.status, tc.cause, c)
			}
			if tc.code == 200 {
				return
			}
			// The refusals of a flow are not the calls no flow took.
			_, env := api(t, "GET", base+"/calls/refused", s.Token, nil)
			if strings.Contains(fmt.Sprint(env["data"]), tc.prefix) {
				t.Errorf("%s listed among the calls refused before any flow: %v", tc.prefix, env["data"])
			}
		})
	}
}
